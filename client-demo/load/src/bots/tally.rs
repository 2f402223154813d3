//! What one bot measured over its whole life (all its sessions): snapshot inter-arrival
//! gaps and RTTs in HDR histograms, snapshot rate inputs, traffic and failure counts.
//!
//! Each bot task owns its `Tally`, so recording takes no lock; the fleet merges them when
//! the bots finish.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Highest value the histograms track, microseconds (a minute).
const MAX_MICROS: u64 = 60_000_000;

/// Significant figures kept: 2 is ±1%, small enough for a thousand bots each holding two.
const SIGFIG: u8 = 2;

/// A fresh microsecond histogram.
#[must_use]
pub fn micros_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 2 significant figures is always a valid configuration.
    Histogram::new_with_bounds(1, MAX_MICROS, SIGFIG).unwrap_or_else(|_| unreachable!())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros())
        .unwrap_or(MAX_MICROS)
        .clamp(1, MAX_MICROS)
}

/// One bot's measurements.
#[derive(Clone, Debug)]
pub struct Tally {
    /// Gaps between consecutive snapshots of one session, µs.
    pub gaps: Histogram<u64>,
    /// Ping round-trip times, µs.
    pub rtts: Histogram<u64>,
    /// Sessions that reached `Welcome`.
    pub connects: u64,
    /// Connection attempts that failed before `Welcome`.
    pub failed: u64,
    /// Sessions that ended without this bot asking (server close, error, desync).
    pub dropped: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// Snapshot gaps recorded (snapshots after the first of each session).
    pub intervals: u64,
    /// Time from the first to the last snapshot of each session, summed: the span the
    /// `intervals` cover, so `intervals / active` is the steady snapshot rate.
    pub active: Duration,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Time spent connected (Welcome to close), summed over sessions.
    pub connected_for: Duration,
    /// Snapshots that failed to apply or verify.
    pub desyncs: u64,
    /// Why sessions failed or dropped, by reason, counted.
    pub errors: BTreeMap<String, u64>,
    /// Sessions the server ended with `Relocate` (it drained), each followed by a new
    /// matchmaking.
    pub relocated: u64,
    /// The server's tick rate, from the last `Welcome`.
    pub tick_hz: Option<u16>,
    /// Whether this bot decoded and verified snapshots.
    pub decoding: bool,
    /// Gaps, rates and RTTs are recorded only from this moment on (the end of the ramp),
    /// so joins in progress do not blur the steady-state figures. `None`: from the start.
    pub measure_from: Option<Instant>,
    /// Arrival time of the newest snapshot of the current session.
    last_snapshot: Option<Instant>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            gaps: micros_histogram(),
            rtts: micros_histogram(),
            connects: 0,
            failed: 0,
            dropped: 0,
            snapshots: 0,
            intervals: 0,
            active: Duration::ZERO,
            bytes_received: 0,
            bytes_sent: 0,
            connected_for: Duration::ZERO,
            desyncs: 0,
            errors: BTreeMap::new(),
            relocated: 0,
            tick_hz: None,
            decoding: false,
            measure_from: None,
            last_snapshot: None,
        }
    }
}

impl Tally {
    /// A session began (Welcome received): gaps restart from its first snapshot.
    pub fn session_started(&mut self, tick_hz: u16) {
        self.connects += 1;
        self.tick_hz = Some(tick_hz);
        self.last_snapshot = None;
    }

    fn measuring(&self, at: Instant) -> bool {
        self.measure_from.is_none_or(|from| at >= from)
    }

    /// A snapshot arrived at `at`.
    pub fn snapshot(&mut self, at: Instant) {
        self.snapshots += 1;
        if let Some(prev) = self.last_snapshot.filter(|p| self.measuring(*p)) {
            let gap = at.saturating_duration_since(prev);
            self.gaps.saturating_record(micros(gap));
            self.intervals += 1;
            self.active += gap;
        }
        self.last_snapshot = Some(at);
    }

    /// A pong measured `rtt`, arriving now.
    pub fn rtt(&mut self, rtt: Duration) {
        if !self.measuring(Instant::now()) {
            return;
        }
        self.rtts.saturating_record(micros(rtt));
    }

    /// Counts an error under its reason.
    pub fn error(&mut self, reason: impl Into<String>) {
        *self.errors.entry(reason.into()).or_insert(0) += 1;
    }

    /// The steady snapshot rate of this bot (per second), if it saw two snapshots.
    #[must_use]
    pub fn snapshot_rate(&self) -> Option<f64> {
        let secs = self.active.as_secs_f64();
        (self.intervals > 0 && secs > 0.0).then(|| self.intervals as f64 / secs)
    }

    /// Adds `other` into `self` (histograms merge, counters add).
    pub fn merge(&mut self, other: &Tally) {
        // Both histograms share bounds and precision, so adding cannot fail.
        let _ = self.gaps.add(&other.gaps);
        let _ = self.rtts.add(&other.rtts);
        self.connects += other.connects;
        self.failed += other.failed;
        self.dropped += other.dropped;
        self.snapshots += other.snapshots;
        self.intervals += other.intervals;
        self.active += other.active;
        self.bytes_received += other.bytes_received;
        self.bytes_sent += other.bytes_sent;
        self.connected_for += other.connected_for;
        self.desyncs += other.desyncs;
        self.relocated += other.relocated;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_insert(0) += v;
        }
        self.tick_hz = self.tick_hz.or(other.tick_hz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_restart_per_session_and_rate_uses_only_steady_intervals() {
        let t0 = Instant::now();
        let mut t = Tally::default();
        t.session_started(30);
        for i in 0..31 {
            t.snapshot(t0 + Duration::from_micros(33_333 * i));
        }
        // A reconnect much later must not record the time in between as a gap.
        t.session_started(30);
        t.snapshot(t0 + Duration::from_secs(100));
        t.snapshot(t0 + Duration::from_secs(100) + Duration::from_micros(33_333));
        assert_eq!(t.snapshots, 33);
        assert_eq!(t.intervals, 31);
        assert!(t.gaps.max() < 34_000);
        let rate = t.snapshot_rate().unwrap();
        assert!((rate - 30.0).abs() < 0.01, "{rate}");
    }

    #[test]
    fn nothing_before_the_measuring_point_is_recorded() {
        let t0 = Instant::now();
        let mut t = Tally {
            measure_from: Some(t0 + Duration::from_secs(10)),
            ..Tally::default()
        };
        t.session_started(30);
        // A slow ramp: one snapshot a second, then steady 30 Hz from t0 + 10 s.
        for i in 0..10 {
            t.snapshot(t0 + Duration::from_secs(i));
        }
        for i in 0..=30 {
            t.snapshot(t0 + Duration::from_secs(10) + Duration::from_micros(33_333 * i));
        }
        assert_eq!(t.snapshots, 41);
        assert_eq!(t.intervals, 30);
        let rate = t.snapshot_rate().unwrap();
        assert!((rate - 30.0).abs() < 0.01, "{rate}");
        t.rtt(Duration::from_millis(5));
        assert_eq!(
            t.rtts.len(),
            0,
            "a pong before the measuring point is ignored"
        );
    }

    #[test]
    fn merging_adds_counts_histograms_and_errors() {
        let mut a = Tally::default();
        a.rtt(Duration::from_millis(1));
        a.error("refused");
        let mut b = Tally::default();
        b.rtt(Duration::from_millis(3));
        b.error("refused");
        b.failed = 2;
        a.merge(&b);
        assert_eq!(a.rtts.len(), 2);
        assert_eq!(a.failed, 2);
        assert_eq!(a.errors.get("refused"), Some(&2));
        assert!(Tally::default().snapshot_rate().is_none());
    }
}
