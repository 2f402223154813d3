//! The server clock as a client estimates it from pongs: the offset between the server's
//! wall clock and the client's, and the server's tick at any local instant.
//!
//! Each pong gives a round-trip time and a sample of the offset, `server_time + rtt/2 −
//! received`, which is exact when the two legs took equally long. Queueing only ever adds
//! delay, so the samples with the lowest round trip are the ones whose legs were most
//! nearly equal: the estimate is the mean offset of the fastest quarter of a recent
//! window, and moves toward a new value smoothly rather than jumping. The tick comes from
//! the same pongs: a pong names the newest tick the server had published when it answered,
//! so `server_time − tick·tick_ms` is never earlier than the moment the schedule's tick 0
//! would have been published, and the smallest such value in the window is that moment
//! (within the spread of the pongs' phases over a tick, about a millisecond with a
//! window's worth). The browser's `clock-sync.js` is the same estimator, line for line in
//! behaviour.

use std::collections::VecDeque;

use crate::ids::Tick;

/// Pongs kept (a ping every 250 ms covers four seconds).
pub const WINDOW: usize = 16;

/// How far each new offset estimate moves the smoothed one.
const SMOOTHING: f64 = 0.3;

/// One pong, reduced to what the estimate needs (milliseconds).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sample {
    /// Its round-trip time.
    rtt: f64,
    /// `server_time + rtt/2 − received`: server clock minus local clock.
    offset: f64,
    /// `server_time − server_tick · tick_ms`: when tick 0 would have been published.
    epoch: f64,
}

/// The client's estimate of the server's clock and tick.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerClock {
    /// Milliseconds per server tick.
    tick_ms: f64,
    /// The newest pongs, oldest first.
    samples: VecDeque<Sample>,
    /// Server clock minus local clock (smoothed); `None` before the first pong.
    offset: Option<f64>,
}

impl ServerClock {
    /// An estimator for a server ticking `tick_hz` times a second.
    #[must_use]
    pub fn new(tick_hz: u16) -> ServerClock {
        ServerClock {
            tick_ms: 1000.0 / f64::from(tick_hz.max(1)),
            samples: VecDeque::with_capacity(WINDOW),
            offset: None,
        }
    }

    /// Takes one pong: its ping left at local time `sent_ms` and the pong arrived at
    /// `received_ms` (both on the client's own monotonic clock, in milliseconds), carrying
    /// the server's newest tick and wall clock. A pong that arrived before it was sent is
    /// ignored.
    pub fn on_pong(
        &mut self,
        sent_ms: f64,
        received_ms: f64,
        server_tick: Tick,
        server_time_ms: u64,
    ) {
        let rtt = received_ms - sent_ms;
        if !(rtt >= 0.0 && rtt.is_finite()) {
            return;
        }
        // Exact as f64 for 285,000 years of Unix milliseconds.
        let server_time = server_time_ms as f64;
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            rtt,
            offset: server_time + rtt / 2.0 - received_ms,
            epoch: server_time - f64::from(server_tick.0) * self.tick_ms,
        });
        let target = self.fastest_offset();
        self.offset = Some(match self.offset {
            None => target,
            Some(now) => now + (target - now) * SMOOTHING,
        });
    }

    /// The mean offset of the fastest quarter of the window (at least one sample).
    fn fastest_offset(&self) -> f64 {
        let mut by_rtt: Vec<Sample> = self.samples.iter().copied().collect();
        by_rtt.sort_by(|a, b| a.rtt.total_cmp(&b.rtt));
        let n = (by_rtt.len() / 4).max(1);
        by_rtt[..n].iter().map(|s| s.offset).sum::<f64>() / n as f64
    }

    /// Pongs taken so far (up to the window).
    #[must_use]
    pub fn samples(&self) -> usize {
        self.samples.len()
    }

    /// Server wall clock minus the client's clock, in milliseconds; `None` before the
    /// first pong.
    #[must_use]
    pub fn offset_ms(&self) -> Option<f64> {
        self.offset
    }

    /// The lowest round-trip time in the window (the network's own, without queueing).
    #[must_use]
    pub fn min_rtt_ms(&self) -> Option<f64> {
        self.samples.iter().map(|s| s.rtt).min_by(f64::total_cmp)
    }

    /// The server's wall clock (Unix milliseconds) at local time `local_ms`.
    #[must_use]
    pub fn server_time_ms(&self, local_ms: f64) -> Option<f64> {
        self.offset.map(|o| local_ms + o)
    }

    /// The server's tick at local time `local_ms`, fractional: its whole part is the
    /// newest tick the server has published by then. `None` before the first pong.
    #[must_use]
    pub fn tick_at(&self, local_ms: f64) -> Option<f64> {
        let epoch = self
            .samples
            .iter()
            .map(|s| s.epoch)
            .min_by(f64::total_cmp)?;
        Some((self.server_time_ms(local_ms)? - epoch) / self.tick_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server ticking at 30 Hz whose tick 0 was published at Unix ms `epoch` and whose
    /// wall clock runs `skew` ms ahead of the client's; pings every 250 ms over links of
    /// `one_way` ± `jitter` ms each way. Returns the clock and the worst error of the
    /// estimated tick once the window has filled, probed every 7 ms.
    fn simulate(one_way: f64, jitter: f64, seed: u64) -> (ServerClock, f64) {
        let tick_ms = 1000.0 / 30.0;
        let epoch = 1.7e12 + 12.3;
        let skew = 1.7e12 - 5_000.0;
        let server_now = |local: f64| local + skew;
        let true_tick = |local: f64| ((server_now(local) - epoch) / tick_ms).floor();
        // xorshift64*: uniform in [-jitter, jitter] without a dependency.
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut leg = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let unit =
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            one_way + jitter * (2.0 * unit - 1.0)
        };
        let mut clock = ServerClock::new(30);
        let mut worst: f64 = 0.0;
        for i in 0..80 {
            let sent = 5_000.0 + f64::from(i) * 250.0;
            let at_server = sent + leg();
            let received = at_server + leg();
            let server_time = server_now(at_server).floor() as u64;
            let server_tick = Tick(true_tick(at_server) as u32);
            clock.on_pong(sent, received, server_tick, server_time);
            if i >= 16 {
                let mut probe = received;
                while probe < received + 250.0 {
                    let estimate = clock.tick_at(probe).unwrap();
                    worst = worst.max((estimate.floor() - true_tick(probe)).abs());
                    probe += 7.0;
                }
            }
        }
        (clock, worst)
    }

    #[test]
    fn at_100_ms_plus_or_minus_20_the_tick_estimate_is_within_one_tick() {
        for seed in 0..20 {
            let (clock, worst) = simulate(100.0, 20.0, seed);
            assert!(worst <= 1.0, "seed {seed}: off by {worst} ticks");
            let offset = clock.offset_ms().unwrap();
            let skew = 1.7e12 - 5_000.0;
            assert!((offset - skew).abs() < 12.0, "seed {seed}: offset {offset}");
        }
    }

    #[test]
    fn jitter_far_beyond_what_the_window_sees_through_shows() {
        // The check above can fail: ±300 ms each way throws the estimate off.
        let worst = (1..4)
            .map(|seed| simulate(400.0, 300.0, seed).1)
            .fold(0.0, f64::max);
        assert!(worst > 1.0, "worst {worst}");
    }

    #[test]
    fn on_a_steady_link_the_offset_is_exact_to_the_millisecond() {
        let (clock, worst) = simulate(40.0, 0.0, 1);
        assert!(worst <= 1.0, "off by {worst} ticks");
        let offset = clock.offset_ms().unwrap();
        assert!(
            (offset - (1.7e12 - 5_000.0)).abs() <= 1.0,
            "offset {offset}"
        );
    }

    #[test]
    fn nothing_is_estimated_before_a_pong_and_impossible_pongs_are_ignored() {
        let mut clock = ServerClock::new(30);
        assert_eq!(clock.tick_at(0.0), None);
        clock.on_pong(10.0, 5.0, Tick(3), 1_000);
        clock.on_pong(f64::NAN, 5.0, Tick(3), 1_000);
        assert_eq!(clock.samples(), 0);
        clock.on_pong(10.0, 30.0, Tick(3), 1_000);
        assert_eq!(clock.min_rtt_ms(), Some(20.0));
        assert_eq!(clock.offset_ms(), Some(1_000.0 + 10.0 - 30.0));
    }
}
