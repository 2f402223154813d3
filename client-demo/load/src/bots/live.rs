//! Live counters the bots bump as they go, for progress lines and the soak's time series.
//!
//! Relaxed atomics: readers want a recent figure, not a consistent snapshot, and a bot
//! must never wait on a lock to count a message.

use std::sync::atomic::{AtomicU64, Ordering};

/// Fleet-wide running totals, shared by every bot task.
#[derive(Debug, Default)]
pub struct Live {
    /// Bots connected right now.
    connected: AtomicU64,
    /// Sessions that reached Welcome.
    connects: AtomicU64,
    /// Connection attempts that failed.
    failed: AtomicU64,
    /// Sessions the server (or an error) ended.
    dropped: AtomicU64,
    /// Snapshots received.
    snapshots: AtomicU64,
    /// Payload bytes received.
    bytes_received: AtomicU64,
    /// Desyncs seen.
    desyncs: AtomicU64,
}

/// A copy of the live counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    /// Bots connected right now.
    pub connected: u64,
    /// Sessions that reached Welcome.
    pub connects: u64,
    /// Connection attempts that failed.
    pub failed: u64,
    /// Sessions the server (or an error) ended.
    pub dropped: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Desyncs seen.
    pub desyncs: u64,
}

impl Live {
    /// A bot finished its handshake.
    pub fn connected(&self) {
        self.connected.fetch_add(1, Ordering::Relaxed);
        self.connects.fetch_add(1, Ordering::Relaxed);
    }

    /// A connected bot's session ended (`dropped` when the bot did not ask for it).
    pub fn disconnected(&self, dropped: bool) {
        self.connected.fetch_sub(1, Ordering::Relaxed);
        if dropped {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A connection attempt failed.
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot of `bytes` arrived.
    pub fn snapshot(&self, bytes: usize) {
        self.snapshots.fetch_add(1, Ordering::Relaxed);
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A desync was detected.
    pub fn desync(&self) {
        self.desyncs.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    #[must_use]
    pub fn read(&self) -> LiveSnapshot {
        LiveSnapshot {
            connected: self.connected.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            snapshots: self.snapshots.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            desyncs: self.desyncs.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_track_connections_and_traffic() {
        let live = Live::default();
        live.connected();
        live.connected();
        live.disconnected(true);
        live.failed();
        live.snapshot(100);
        live.desync();
        let s = live.read();
        assert_eq!(
            s,
            LiveSnapshot {
                connected: 1,
                connects: 2,
                failed: 1,
                dropped: 1,
                snapshots: 1,
                bytes_received: 100,
                desyncs: 1,
            }
        );
    }
}
