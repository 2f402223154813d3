//! The whole-run figures of a soak: exact tick timing quantiles of the run (the server's
//! distributions at the end minus those at the start), overruns, memory growth, CPU and
//! bandwidth, and the client side's desyncs.

use serde::{Deserialize, Serialize};
use tickwire_shared::stats::{Distribution, ServerStats};

use super::series::Point;

/// Whole-run results, the input of the thresholds and the headline of the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Seconds between the first and the last metrics sample.
    pub measured_s: f64,
    /// Ticks run during the measurement.
    pub ticks: Option<f64>,
    /// Ticks per second over the measurement.
    pub tick_rate_hz: Option<f64>,
    /// Tick duration p50 over the run, ms.
    pub tick_p50_ms: Option<f64>,
    /// Tick duration p99 over the run (the thresholded figure), ms.
    pub tick_p99_ms: Option<f64>,
    /// Tick duration p99.9 over the run, ms.
    pub tick_p999_ms: Option<f64>,
    /// The worst p99 of any sampled second, ms.
    pub tick_p99_worst_window_ms: Option<f64>,
    /// The longest tick of the run, ms.
    pub tick_max_ms: Option<f64>,
    /// Mean tick duration over the run, ms.
    pub tick_mean_ms: Option<f64>,
    /// Tick-start lateness p50 over the run, ms.
    pub lateness_p50_ms: Option<f64>,
    /// Tick-start lateness p99 over the run (thresholded), ms.
    pub lateness_p99_ms: Option<f64>,
    /// The worst lateness p99 of any sampled second, ms.
    pub lateness_p99_worst_window_ms: Option<f64>,
    /// Ticks that started more than one period late, during the run.
    pub overruns: Option<f64>,
    /// Seconds into the run at which memory growth starts being measured.
    pub warmup_s: f64,
    /// RSS at the warm-up point (median of the first samples after it), MiB.
    pub rss_warmup_mib: Option<f64>,
    /// RSS at the end (median of the last samples), MiB.
    pub rss_end_mib: Option<f64>,
    /// Highest RSS sampled, MiB.
    pub rss_peak_mib: Option<f64>,
    /// RSS growth from the warm-up point to the end, percent.
    pub rss_growth_pct: Option<f64>,
    /// What each connected client costs: the RSS growth from the reading before any bot
    /// to the last one, over the sessions connected at the last one, KiB.
    pub rss_per_client_kib: Option<f64>,
    /// Server CPU over the run, percent of one core.
    pub cpu_avg_pct: Option<f64>,
    /// Mean bytes per second sent per client after the warm-up point.
    pub bytes_per_s_per_client: Option<f64>,
    /// Mean snapshot message size over the run, bytes.
    pub snapshot_bytes_mean: Option<f64>,
    /// Snapshot message size p99 over the run, bytes.
    pub snapshot_bytes_p99: Option<f64>,
    /// Desyncs the decoding bots saw.
    pub desyncs: u64,
    /// Bot connection attempts that failed.
    pub failed_connects: u64,
}

/// Microseconds as milliseconds, `None` for an empty distribution.
fn ms(d: &Distribution, us: u64) -> Option<f64> {
    (d.count > 0).then(|| us as f64 / 1000.0)
}

fn max_of(points: &[Point], f: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
    points.iter().filter_map(f).reduce(f64::max)
}

/// The middle value (the upper one of two), `None` for no values.
pub(crate) fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The soak's first and last readings, between which the whole-run figures are taken.
#[derive(Clone, Copy, Debug)]
pub struct Moments<'a> {
    /// The first sample (before or as the bots start).
    pub start: &'a ServerStats,
    /// The last sample.
    pub end: &'a ServerStats,
}

impl Figures {
    /// Computes the figures from the readings at start, warm-up and end, the time series,
    /// and the bots' counts. `measured_s` is the time between the start and end readings.
    #[must_use]
    pub fn compute(
        at: Moments<'_>,
        measured_s: f64,
        warmup_s: f64,
        points: &[Point],
        desyncs: u64,
        failed_connects: u64,
    ) -> Figures {
        let Moments { start, end } = at;
        let tick = end.tick_duration_us.since(&start.tick_duration_us);
        let late = end.tick_lateness_us.since(&start.tick_lateness_us);
        let snap = end.snapshot_bytes.since(&start.snapshot_bytes);

        let tick_worst = max_of(points, |p| p.tick_p99_ms);
        let late_worst = max_of(points, |p| p.lateness_p99_ms);
        let ticks = Some(end.ticks.saturating_sub(start.ticks) as f64);
        let warm_points: Vec<&Point> = points.iter().filter(|p| p.t >= warmup_s).collect();
        let bw: Vec<f64> = warm_points
            .iter()
            .filter_map(|p| p.bytes_per_s_per_client)
            .collect();
        // RSS wobbles by a few pages from sample to sample; compare the median of the
        // first samples after warm-up with the median of the last ones (1 to 30 samples
        // each, 5% of the run), not two single readings.
        let n = (points.len() / 20).clamp(1, 30);
        let rss_warmup_mib = median(
            points
                .iter()
                .filter(|p| p.t >= warmup_s)
                .filter_map(|p| p.rss_mib)
                .take(n)
                .collect(),
        );
        let rss_end_mib = median(
            points
                .iter()
                .rev()
                .filter_map(|p| p.rss_mib)
                .take(n)
                .collect(),
        );
        let rss_growth_pct = rss_warmup_mib
            .zip(rss_end_mib)
            .filter(|(w, _)| *w > 0.0)
            .map(|(w, e)| (e - w) / w * 100.0);
        let rss_per_client_kib = end
            .process
            .zip(start.process)
            .filter(|_| end.sessions > 0)
            .map(|(e, s)| (e.rss_bytes as f64 - s.rss_bytes as f64) / 1024.0 / end.sessions as f64);
        let per_s = |v: Option<f64>| v.filter(|_| measured_s > 0.0).map(|v| v / measured_s);

        Figures {
            measured_s,
            ticks,
            tick_rate_hz: per_s(ticks),
            tick_p50_ms: ms(&tick, tick.p50),
            tick_p99_ms: ms(&tick, tick.p99),
            tick_p999_ms: ms(&tick, tick.p99_9),
            tick_p99_worst_window_ms: tick_worst,
            tick_max_ms: ms(&tick, tick.max),
            tick_mean_ms: (tick.count > 0).then(|| tick.mean / 1000.0),
            lateness_p50_ms: ms(&late, late.p50),
            lateness_p99_ms: ms(&late, late.p99),
            lateness_p99_worst_window_ms: late_worst,
            overruns: Some(end.overruns.saturating_sub(start.overruns) as f64),
            warmup_s,
            rss_warmup_mib,
            rss_end_mib,
            rss_peak_mib: max_of(points, |p| p.rss_mib),
            rss_growth_pct,
            rss_per_client_kib,
            cpu_avg_pct: per_s(
                end.process
                    .zip(start.process)
                    .map(|(e, s)| (e.cpu_seconds - s.cpu_seconds).max(0.0)),
            )
            .map(|c| c * 100.0),
            bytes_per_s_per_client: (!bw.is_empty())
                .then(|| bw.iter().sum::<f64>() / bw.len() as f64),
            snapshot_bytes_mean: (snap.count > 0).then_some(snap.mean),
            snapshot_bytes_p99: (snap.count > 0).then_some(snap.p99 as f64),
            desyncs,
            failed_connects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::stats::ProcessUsage;

    fn stats(ticks: u64, cpu_seconds: f64, counts: Vec<(u64, u64)>) -> ServerStats {
        ServerStats {
            ticks,
            overruns: 1,
            sessions: ticks / 100,
            process: Some(ProcessUsage {
                rss_bytes: ticks * 1024 * 1024,
                cpu_seconds,
                ..ProcessUsage::default()
            }),
            tick_duration_us: Distribution::from_counts(counts),
            ..ServerStats::default()
        }
    }

    #[test]
    fn whole_run_figures_are_the_difference_of_two_readings_and_growth_from_warmup() {
        // 100 ticks before the run (at 5 ms, outside it), then 300 in it: 200 at 0.8 ms
        // and 100 at 1.6 ms.
        let start = stats(100, 10.0, vec![(800, 0), (5000, 100)]);
        let end = stats(400, 15.0, vec![(800, 200), (1600, 100), (5000, 100)]);
        let points = vec![
            Point {
                t: 1.0,
                rss_mib: Some(50.0),
                tick_p99_ms: Some(1.9),
                bytes_per_s_per_client: Some(999.0),
                ..Point::default()
            },
            Point {
                t: 5.0,
                rss_mib: Some(100.0),
                tick_p99_ms: Some(1.2),
                bytes_per_s_per_client: Some(100.0),
                ..Point::default()
            },
            Point {
                t: 9.0,
                rss_mib: Some(104.0),
                bytes_per_s_per_client: Some(300.0),
                ..Point::default()
            },
        ];
        let at = Moments {
            start: &start,
            end: &end,
        };
        let f = Figures::compute(at, 10.0, 2.0, &points, 0, 0);
        assert_eq!(f.ticks, Some(300.0));
        assert_eq!(f.tick_rate_hz, Some(30.0));
        assert_eq!(f.overruns, Some(0.0));
        assert_eq!(f.cpu_avg_pct, Some(50.0));
        // One sample per window (3 points): 100 MiB after warm-up, 104 at the end.
        assert_eq!(f.rss_warmup_mib, Some(100.0));
        assert_eq!(f.rss_peak_mib, Some(104.0));
        assert!((f.rss_growth_pct.unwrap() - 4.0).abs() < 1e-9);
        // 100 MiB before the bots, 400 MiB with 4 sessions at the end: 75 MiB each.
        assert_eq!(f.rss_per_client_kib, Some(75.0 * 1024.0));
        assert_eq!((f.tick_p50_ms, f.tick_p99_ms), (Some(0.8), Some(1.6)));
        // The 5 ms ticks before the start are not the run's.
        assert_eq!(f.tick_max_ms, Some(1.6));
        assert_eq!(f.tick_p99_worst_window_ms, Some(1.9));
        assert_eq!(f.bytes_per_s_per_client, Some(200.0));
        // No lateness recorded: no figure.
        assert_eq!(f.lateness_p99_ms, None);
    }
}
