//! Tick timing: each tick's duration and its start lateness against the ideal absolute
//! deadline. Each tick thread keeps HDR histograms (3 significant digits) of every tick
//! it runs, whatever the room: a window for the periodic log line, one for the last
//! second, and the whole run; once a second it publishes a `TickReport` to its slot
//! (merged over the threads behind `/stats` and the Prometheus histograms). Each room
//! keeps a light `RoomTimer` of its own ticks (2 significant digits, for `/rooms`).
//! Neither ever waits for a lock a request handler holds: a real-time thread blocked
//! behind an ordinary one would start its next tick late.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickwire_shared::stats::{Distribution, TickWindow};

use crate::metrics::Metrics;

/// An HDR histogram of microseconds (or bytes): 1 to 60 million at 3 significant digits;
/// `saturating_record` clamps beyond.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant histogram bounds are valid")
}

/// Every recorded value of `h` with its count, as a `Distribution`.
pub(crate) fn distribution(h: &Histogram<u64>) -> Distribution {
    Distribution::from_counts(
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect(),
    )
}

/// The summary of a window's durations and lateness (µs) and its overruns.
fn window_of<T: hdrhistogram::Counter>(
    duration: &Histogram<T>,
    lateness: &Histogram<T>,
    overruns: u64,
) -> TickWindow {
    TickWindow {
        ticks: duration.len(),
        duration_p50_us: duration.value_at_quantile(0.5),
        duration_p99_us: duration.value_at_quantile(0.99),
        duration_max_us: duration.max(),
        lateness_p50_us: lateness.value_at_quantile(0.5),
        lateness_p99_us: lateness.value_at_quantile(0.99),
        lateness_max_us: lateness.max(),
        overruns,
    }
}

/// A window of tick measurements.
#[derive(Debug)]
pub(crate) struct Window {
    /// Tick durations, µs.
    pub(crate) duration: Histogram<u64>,
    /// Tick start lateness, µs.
    pub(crate) lateness: Histogram<u64>,
    /// Ticks that started more than one period late.
    pub(crate) overruns: u64,
}

impl Window {
    pub(crate) fn new() -> Window {
        Window {
            duration: histogram(),
            lateness: histogram(),
            overruns: 0,
        }
    }

    pub(crate) fn record(&mut self, duration_us: u64, lateness_us: u64, overrun: bool) {
        self.duration.saturating_record(duration_us.max(1));
        self.lateness.saturating_record(lateness_us.max(1));
        self.overruns += u64::from(overrun);
    }

    pub(crate) fn summary(&self) -> TickWindow {
        window_of(&self.duration, &self.lateness, self.overruns)
    }

    fn reset(&mut self) {
        self.duration.reset();
        self.lateness.reset();
        self.overruns = 0;
    }
}

/// What the tick thread publishes once a second: the whole run's tick timing and the last
/// whole second's.
#[derive(Clone, Debug, Default)]
pub struct TickReport {
    /// Every tick's duration since the start, µs.
    pub duration_us: Distribution,
    /// Every tick's start lateness since the start, µs.
    pub lateness_us: Distribution,
    /// The last whole second.
    pub last_second: TickWindow,
    /// Ticks that started more than one period late, since the start.
    pub overruns: u64,
}

impl TickReport {
    /// Two rooms' reports as one: every tick of both; for the last second, the ticks
    /// and overruns of both and the worse of each percentile (a median of medians would
    /// hide the slow room).
    #[must_use]
    pub fn merge(&self, other: &TickReport) -> TickReport {
        let (a, b) = (&self.last_second, &other.last_second);
        TickReport {
            duration_us: self.duration_us.merge(&other.duration_us),
            lateness_us: self.lateness_us.merge(&other.lateness_us),
            last_second: TickWindow {
                ticks: a.ticks + b.ticks,
                duration_p50_us: a.duration_p50_us.max(b.duration_p50_us),
                duration_p99_us: a.duration_p99_us.max(b.duration_p99_us),
                duration_max_us: a.duration_max_us.max(b.duration_max_us),
                lateness_p50_us: a.lateness_p50_us.max(b.lateness_p50_us),
                lateness_p99_us: a.lateness_p99_us.max(b.lateness_p99_us),
                lateness_max_us: a.lateness_max_us.max(b.lateness_max_us),
                overruns: a.overruns + b.overruns,
            },
            overruns: self.overruns + other.overruns,
        }
    }
}

/// Records the timing of every tick one tick thread runs; owned by that thread.
#[derive(Debug)]
pub struct TickTimer {
    /// Every tick since the start.
    run: Window,
    /// A report not yet handed over (the handover never waits; it retries next tick).
    unpublished: Option<TickReport>,
    /// The last second's window (published to `/stats` when it is full).
    second_window: Window,
    /// When the second's window started.
    second_since: Instant,
    /// The long window behind the log line.
    log_window: Window,
    /// When the log window started.
    log_since: Instant,
    /// Log-line interval.
    log_every: Duration,
}

/// How long the window behind `/stats`'s `last_second` lasts.
const SECOND: Duration = Duration::from_secs(1);

impl TickTimer {
    /// A timer logging every `log_every`.
    #[must_use]
    pub fn new(log_every: Duration) -> TickTimer {
        let now = Instant::now();
        TickTimer {
            run: Window::new(),
            unpublished: None,
            second_window: Window::new(),
            second_since: now,
            log_window: Window::new(),
            log_since: now,
            log_every,
        }
    }

    /// Records one tick of a room ticking every `period` that was due at `deadline`,
    /// started at `started` and took `duration`; about once a second the report goes to
    /// `slot` (when no reader holds it). Returns the log window's summary when it is
    /// time to log one.
    pub fn record(
        &mut self,
        (deadline, period): (Instant, Duration),
        started: Instant,
        duration: Duration,
        metrics: &Metrics,
        slot: &Mutex<std::sync::Arc<TickReport>>,
    ) -> Option<TickWindow> {
        let lateness = started.saturating_duration_since(deadline);
        let overrun = lateness > period;
        let (d_us, l_us) = (duration.as_micros() as u64, lateness.as_micros() as u64);
        self.run.record(d_us, l_us, overrun);
        self.second_window.record(d_us, l_us, overrun);
        self.log_window.record(d_us, l_us, overrun);
        metrics.count_tick(overrun);
        let now = started + duration;
        if now.duration_since(self.second_since) >= SECOND {
            self.unpublished = Some(TickReport {
                duration_us: distribution(&self.run.duration),
                lateness_us: distribution(&self.run.lateness),
                last_second: self.second_window.summary(),
                overruns: self.run.overruns,
            });
            self.second_window.reset();
            self.second_since = now;
        }
        if let Some(report) = self.unpublished.take() {
            // Never waits: a reader holding the slot gets the report on the next tick.
            match slot.try_lock() {
                Ok(mut held) => *held = std::sync::Arc::new(report),
                Err(_) => self.unpublished = Some(report),
            }
        }
        if !self.log_every.is_zero() && now.duration_since(self.log_since) >= self.log_every {
            let s = self.log_window.summary();
            self.log_window.reset();
            self.log_since = now;
            return Some(s);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_timer_publishes_its_second_and_its_run() {
        let mut t = RoomTimer::new(Duration::from_millis(33));
        let slot = Mutex::new(RoomTicks::default());
        let t0 = Instant::now();
        let mut late = None;
        for i in 0..40u32 {
            let due = t0 + Duration::from_millis(33) * i;
            // Tick 10 starts 50 ms late (an overrun); every tick takes 200 µs.
            let started = due + Duration::from_millis(if i == 10 { 50 } else { 0 });
            late = late.or(t.record(due, started, Duration::from_micros(200), &slot));
        }
        let r = *slot.lock().expect("not poisoned");
        assert!(r.ticks >= 30, "{r:?}");
        assert_eq!(r.overruns, 1);
        assert!((198..=202).contains(&r.p99_us), "{r:?}");
        assert_eq!(
            late.map(|w| w.overruns),
            Some(1),
            "the second with the overrun is told"
        );
    }

    #[test]
    fn lateness_beyond_a_period_counts_as_an_overrun() {
        let mut w = Window::new();
        w.record(100, 10, false);
        w.record(200, 40_000, true);
        let s = w.summary();
        assert_eq!((s.ticks, s.overruns), (2, 1));
        assert!(s.duration_max_us >= 200 && s.lateness_max_us >= 39_000);
    }
}

/// Longest tick a room's timer resolves, µs (10 s; longer ones count as this).
const ROOM_MAX_US: u64 = 10_000_000;

/// A room's light histogram: 1 µs to 10 s at 2 significant digits (1%), 32-bit counts:
/// about 9 KiB, so a thousand rooms cost about 9 MiB each for these.
fn room_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, ROOM_MAX_US, 2).expect("constant histogram bounds are valid")
}

/// What a room's timer publishes about once a second: the last whole second and the
/// room's ticks since it opened.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RoomTicks {
    /// The last whole second.
    pub last_second: TickWindow,
    /// Ticks since it opened.
    pub ticks: u64,
    /// Tick duration p99 since it opened, µs.
    pub p99_us: u64,
    /// Longest tick since it opened, µs.
    pub max_us: u64,
    /// Ticks that started more than a period late since it opened.
    pub overruns: u64,
}

/// One room's tick timing, cheap enough for a thousand rooms: the last second's
/// durations and lateness, and the run's durations, at 1%.
#[derive(Debug)]
pub struct RoomTimer {
    /// One tick period.
    period: Duration,
    /// This second's durations, µs.
    duration: Histogram<u32>,
    /// This second's lateness, µs.
    lateness: Histogram<u32>,
    /// This second's overruns.
    second_overruns: u64,
    /// When this second started.
    since: Instant,
    /// Every duration since the start, µs.
    run: Histogram<u32>,
    /// Every overrun since the start.
    overruns: u64,
    /// A report not yet handed over.
    unpublished: Option<RoomTicks>,
}

impl RoomTimer {
    /// A timer for a room ticking every `period`.
    #[must_use]
    pub fn new(period: Duration) -> RoomTimer {
        RoomTimer {
            period,
            duration: room_histogram(),
            lateness: room_histogram(),
            second_overruns: 0,
            since: Instant::now(),
            run: room_histogram(),
            overruns: 0,
            unpublished: None,
        }
    }

    /// Counts ticks skipped when the room fell too far behind, as overruns.
    pub fn skipped(&mut self, ticks: u64) {
        self.second_overruns += ticks;
        self.overruns += ticks;
    }

    /// Records one tick (as `TickTimer::record`); about once a second the room's figures
    /// go to `slot` when no reader holds it. Returns the second's summary when it had
    /// overruns (worth a log line).
    pub fn record(
        &mut self,
        deadline: Instant,
        started: Instant,
        duration: Duration,
        slot: &Mutex<RoomTicks>,
    ) -> Option<TickWindow> {
        let lateness = started.saturating_duration_since(deadline);
        let overrun = lateness > self.period;
        let clamp = |d: Duration| (d.as_micros() as u64).clamp(1, ROOM_MAX_US);
        self.duration.saturating_record(clamp(duration));
        self.lateness.saturating_record(clamp(lateness));
        self.run.saturating_record(clamp(duration));
        self.second_overruns += u64::from(overrun);
        self.overruns += u64::from(overrun);
        let now = started + duration;
        let mut late = None;
        if now.duration_since(self.since) >= SECOND {
            let second = window_of(&self.duration, &self.lateness, self.second_overruns);
            self.unpublished = Some(RoomTicks {
                last_second: second,
                ticks: self.run.len(),
                p99_us: self.run.value_at_quantile(0.99),
                max_us: self.run.max(),
                overruns: self.overruns,
            });
            if self.second_overruns > 0 {
                late = Some(second);
            }
            self.duration.reset();
            self.lateness.reset();
            self.second_overruns = 0;
            self.since = now;
        }
        if let Some(report) = self.unpublished.take() {
            match slot.try_lock() {
                Ok(mut held) => *held = report,
                Err(_) => self.unpublished = Some(report),
            }
        }
        late
    }
}
