//! Traffic and health counters of one client, cheap to keep and to add up across bots.

use std::ops::AddAssign;

/// Counters of one client since it connected. Plain integers updated in place: a bot
/// fleet copies them out and sums them with `+=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// WebSocket payload bytes received in binary messages.
    pub bytes_received: u64,
    /// WebSocket payload bytes sent in binary messages.
    pub bytes_sent: u64,
    /// Binary messages received.
    pub messages_received: u64,
    /// Binary messages sent (Hello, inputs, acks, pings, chat).
    pub messages_sent: u64,
    /// Snapshots received (and acked).
    pub snapshots: u64,
    /// Snapshots that could not be applied or failed the checksum.
    pub desyncs: u64,
}

impl AddAssign for ClientStats {
    fn add_assign(&mut self, rhs: ClientStats) {
        self.bytes_received += rhs.bytes_received;
        self.bytes_sent += rhs.bytes_sent;
        self.messages_received += rhs.messages_received;
        self.messages_sent += rhs.messages_sent;
        self.snapshots += rhs.snapshots;
        self.desyncs += rhs.desyncs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_add_up_field_by_field() {
        let mut a = ClientStats {
            bytes_received: 1,
            bytes_sent: 2,
            messages_received: 3,
            messages_sent: 4,
            snapshots: 5,
            desyncs: 6,
        };
        a += a;
        assert_eq!(
            a,
            ClientStats {
                bytes_received: 2,
                bytes_sent: 4,
                messages_received: 6,
                messages_sent: 8,
                snapshots: 10,
                desyncs: 12,
            }
        );
    }
}
