//! Tick timing: each tick's duration and its start lateness against the ideal absolute
//! deadline, kept in HDR histograms for the periodic log line and the live gauges, and
//! fed to the Prometheus histograms.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::metrics::Metrics;

/// Percentiles of one window of ticks, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TickSummary {
    /// Ticks in the window.
    pub ticks: u64,
    /// Duration median.
    pub duration_p50_us: u64,
    /// Duration 99th percentile.
    pub duration_p99_us: u64,
    /// Longest duration.
    pub duration_max_us: u64,
    /// Lateness median.
    pub lateness_p50_us: u64,
    /// Lateness 99th percentile.
    pub lateness_p99_us: u64,
    /// Latest start.
    pub lateness_max_us: u64,
    /// Ticks that started more than one period late.
    pub overruns: u64,
}

/// A window of tick measurements.
#[derive(Debug)]
struct Window {
    duration: Histogram<u64>,
    lateness: Histogram<u64>,
    overruns: u64,
}

impl Window {
    fn new() -> Window {
        // 1 µs to 60 s at 3 significant digits; `saturating_record` clamps beyond.
        let h = || {
            Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("constant histogram bounds are valid")
        };
        Window {
            duration: h(),
            lateness: h(),
            overruns: 0,
        }
    }

    fn record(&mut self, duration_us: u64, lateness_us: u64, overrun: bool) {
        self.duration.saturating_record(duration_us.max(1));
        self.lateness.saturating_record(lateness_us.max(1));
        self.overruns += u64::from(overrun);
    }

    fn summary(&self) -> TickSummary {
        TickSummary {
            ticks: self.duration.len(),
            duration_p50_us: self.duration.value_at_quantile(0.5),
            duration_p99_us: self.duration.value_at_quantile(0.99),
            duration_max_us: self.duration.max(),
            lateness_p50_us: self.lateness.value_at_quantile(0.5),
            lateness_p99_us: self.lateness.value_at_quantile(0.99),
            lateness_max_us: self.lateness.max(),
            overruns: self.overruns,
        }
    }

    fn reset(&mut self) {
        self.duration.reset();
        self.lateness.reset();
        self.overruns = 0;
    }
}

/// Records tick timing; owned by the tick thread.
#[derive(Debug)]
pub struct TickTimer {
    /// One tick period.
    period: Duration,
    /// The short window behind the live gauges.
    gauge_window: Window,
    /// When the gauge window started.
    gauge_since: Instant,
    /// The long window behind the log line.
    log_window: Window,
    /// When the log window started.
    log_since: Instant,
    /// Log-line interval.
    log_every: Duration,
}

/// How long the live gauge window lasts.
const GAUGE_WINDOW: Duration = Duration::from_secs(1);

impl TickTimer {
    /// A timer for ticks of `period`, logging every `log_every`.
    #[must_use]
    pub fn new(period: Duration, log_every: Duration) -> TickTimer {
        let now = Instant::now();
        TickTimer {
            period,
            gauge_window: Window::new(),
            gauge_since: now,
            log_window: Window::new(),
            log_since: now,
            log_every,
        }
    }

    /// Records one tick that was due at `deadline`, started at `started` and took
    /// `duration`. Returns the log window's summary when it is time to log one.
    pub fn record(
        &mut self,
        deadline: Instant,
        started: Instant,
        duration: Duration,
        metrics: &Metrics,
    ) -> Option<TickSummary> {
        let lateness = started.saturating_duration_since(deadline);
        let overrun = lateness > self.period;
        let (d_us, l_us) = (duration.as_micros() as u64, lateness.as_micros() as u64);
        self.gauge_window.record(d_us, l_us, overrun);
        self.log_window.record(d_us, l_us, overrun);
        metrics.record_tick(duration, lateness, overrun);
        let now = started + duration;
        if now.duration_since(self.gauge_since) >= GAUGE_WINDOW {
            metrics.set_tick_window(&self.gauge_window.summary());
            self.gauge_window.reset();
            self.gauge_since = now;
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
    fn lateness_beyond_a_period_counts_as_an_overrun() {
        let mut w = Window::new();
        w.record(100, 10, false);
        w.record(200, 40_000, true);
        let s = w.summary();
        assert_eq!((s.ticks, s.overruns), (2, 1));
        assert!(s.duration_max_us >= 200 && s.lateness_max_us >= 39_000);
    }
}
