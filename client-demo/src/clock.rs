//! The ping clock: stamps outgoing pings and turns echoed stamps into round-trip times.

use std::time::{Duration, Instant};

/// Microseconds since the client connected, used as `Ping::client_time`. Only this client
/// ever reads the value back, so a local monotonic clock is all it needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PingClock {
    /// When the client started; every stamp is relative to it.
    epoch: Instant,
}

impl PingClock {
    /// A clock whose zero is now.
    pub(crate) fn start() -> PingClock {
        PingClock {
            epoch: Instant::now(),
        }
    }

    /// The stamp for a ping sent now.
    pub(crate) fn stamp(&self) -> u64 {
        micros(self.epoch.elapsed())
    }

    /// Now on this clock, in milliseconds (the server clock estimate's local time).
    pub(crate) fn now_ms(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64() * 1000.0
    }

    /// The round-trip time of a ping stamped `sent`, answered now.
    pub(crate) fn rtt(&self, sent: u64) -> Option<Duration> {
        rtt_between(self.stamp(), sent)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The time from `sent` to `now` (both stamps); `None` when `sent` lies in the future,
/// i.e. the echoed value cannot be one of ours.
pub(crate) fn rtt_between(now: u64, sent: u64) -> Option<Duration> {
    now.checked_sub(sent).map(Duration::from_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_is_the_stamp_difference_and_refuses_future_stamps() {
        assert_eq!(rtt_between(1_500, 1_000), Some(Duration::from_micros(500)));
        assert_eq!(rtt_between(7, 7), Some(Duration::ZERO));
        assert_eq!(rtt_between(1_000, 1_001), None);
    }

    #[test]
    fn a_fresh_stamp_gives_a_small_rtt() {
        let clock = PingClock::start();
        let sent = clock.stamp();
        let rtt = clock.rtt(sent).unwrap();
        assert!(rtt < Duration::from_secs(5));
    }
}
