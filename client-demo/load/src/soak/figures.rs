//! The whole-run figures of a soak: tick timing quantiles from the server's histograms,
//! overruns, memory growth, CPU and bandwidth, and the client side's desyncs.

use serde::{Deserialize, Serialize};

use super::reading::Reading;
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
    /// Tick duration p50 over the run (histogram estimate), ms.
    pub tick_p50_ms: Option<f64>,
    /// Tick duration p99 over the run (histogram estimate; the thresholded figure), ms.
    /// Falls back to the worst window p99 when the server has no histogram.
    pub tick_p99_ms: Option<f64>,
    /// Tick duration p99.9 over the run (histogram estimate), ms.
    pub tick_p999_ms: Option<f64>,
    /// Upper bound of the histogram bucket holding the run's tick p99, ms.
    pub tick_p99_bucket_ms: Option<f64>,
    /// The worst of the server's windowed tick p99 gauges, ms.
    pub tick_p99_worst_window_ms: Option<f64>,
    /// The longest tick seen in any sampled window, ms (windows are sampled once a
    /// second, so this can miss a window; the histogram quantiles are capped at it).
    pub tick_max_ms: Option<f64>,
    /// Mean tick duration over the run, ms.
    pub tick_mean_ms: Option<f64>,
    /// Tick-start lateness p50 over the run, ms.
    pub lateness_p50_ms: Option<f64>,
    /// Tick-start lateness p99 over the run (thresholded), ms; falls back like the tick p99.
    pub lateness_p99_ms: Option<f64>,
    /// Upper bound of the bucket holding the run's lateness p99, ms.
    pub lateness_p99_bucket_ms: Option<f64>,
    /// The worst windowed lateness p99 gauge, ms.
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
    /// Server CPU over the run, percent of one core.
    pub cpu_avg_pct: Option<f64>,
    /// Mean bytes per second sent per client after the warm-up point.
    pub bytes_per_s_per_client: Option<f64>,
    /// Mean snapshot message size over the run, bytes.
    pub snapshot_bytes_mean: Option<f64>,
    /// Snapshot message size p99 over the run (histogram estimate), bytes.
    pub snapshot_bytes_p99: Option<f64>,
    /// Desyncs the decoding bots saw.
    pub desyncs: u64,
    /// Bot connection attempts that failed.
    pub failed_connects: u64,
}

fn ms(v: Option<f64>) -> Option<f64> {
    v.map(|s| s * 1000.0)
}

fn max_of(points: &[Point], f: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
    points.iter().filter_map(f).reduce(f64::max)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn diff(end: Option<f64>, start: Option<f64>) -> Option<f64> {
    end.zip(start).map(|(e, s)| (e - s).max(0.0))
}

/// The soak's first and last readings, between which the whole-run figures are taken.
#[derive(Clone, Copy, Debug)]
pub struct Moments<'a> {
    /// The first sample (before or as the bots start).
    pub start: &'a Reading,
    /// The last sample.
    pub end: &'a Reading,
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
        let window = |e: &Option<_>, s: &Option<_>| match (e, s) {
            (Some(e), Some(s)) => Some(super::prometheus::Histogram::since(e, s)),
            (Some(e), None) => Some(Clone::clone(e)),
            _ => None,
        };
        let tick = window(&end.tick_duration, &start.tick_duration);
        let late = window(&end.tick_lateness, &start.tick_lateness);
        let snap = window(&end.snapshot_bytes, &start.snapshot_bytes);
        let q = |h: &Option<super::prometheus::Histogram>, q: f64| h.as_ref()?.quantile(q);
        let qb =
            |h: &Option<super::prometheus::Histogram>, q: f64| h.as_ref()?.quantile_upper_bound(q);

        let tick_worst = max_of(points, |p| p.tick_p99_ms);
        let late_worst = max_of(points, |p| p.lateness_p99_ms);
        let ticks = diff(end.ticks, start.ticks);
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
        let per_s = |v: Option<f64>| v.filter(|_| measured_s > 0.0).map(|v| v / measured_s);

        // Interpolating inside a wide top bucket can put a high quantile above the longest
        // tick any window saw; no quantile exceeds the maximum, so cap it there.
        let tick_max = max_of(points, |p| p.tick_max_ms);
        let capped = |v: Option<f64>| match (v, tick_max) {
            (Some(v), Some(m)) => Some(v.min(m)),
            (v, _) => v,
        };
        Figures {
            measured_s,
            ticks,
            tick_rate_hz: per_s(ticks),
            tick_p50_ms: capped(ms(q(&tick, 0.5))),
            tick_p99_ms: capped(ms(q(&tick, 0.99))).or(tick_worst),
            tick_p999_ms: capped(ms(q(&tick, 0.999))),
            tick_p99_bucket_ms: ms(qb(&tick, 0.99)),
            tick_p99_worst_window_ms: tick_worst,
            tick_max_ms: tick_max,
            tick_mean_ms: ms(tick.as_ref().and_then(|h| h.mean())),
            lateness_p50_ms: ms(q(&late, 0.5)),
            lateness_p99_ms: ms(q(&late, 0.99)).or(late_worst),
            lateness_p99_bucket_ms: ms(qb(&late, 0.99)),
            lateness_p99_worst_window_ms: late_worst,
            overruns: diff(end.overruns, start.overruns),
            warmup_s,
            rss_warmup_mib,
            rss_end_mib,
            rss_peak_mib: max_of(points, |p| p.rss_mib),
            rss_growth_pct,
            cpu_avg_pct: per_s(diff(end.cpu_seconds, start.cpu_seconds)).map(|c| c * 100.0),
            bytes_per_s_per_client: (!bw.is_empty())
                .then(|| bw.iter().sum::<f64>() / bw.len() as f64),
            snapshot_bytes_mean: snap.as_ref().and_then(|h| h.mean()),
            snapshot_bytes_p99: q(&snap, 0.99),
            desyncs,
            failed_connects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::prometheus::Histogram;

    fn hist(counts: [f64; 3]) -> Histogram {
        Histogram {
            buckets: vec![
                (0.001, counts[0]),
                (0.002, counts[1]),
                (f64::INFINITY, counts[2]),
            ],
            sum: counts[2] * 0.001,
            count: counts[2],
        }
    }

    #[test]
    fn whole_run_figures_come_from_histogram_deltas_and_growth_from_warmup() {
        let start = Reading {
            ticks: Some(100.0),
            overruns: Some(1.0),
            cpu_seconds: Some(10.0),
            tick_duration: Some(hist([100.0, 100.0, 100.0])),
            ..Reading::default()
        };
        let end = Reading {
            ticks: Some(400.0),
            overruns: Some(1.0),
            cpu_seconds: Some(15.0),
            // 300 new ticks: 200 under 1 ms, 100 in (1, 2] ms.
            tick_duration: Some(hist([300.0, 400.0, 400.0])),
            ..Reading::default()
        };
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
                tick_max_ms: Some(4.0),
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
        assert!((f.tick_p99_ms.unwrap() - 1.97).abs() < 1e-9);
        assert_eq!(f.tick_p99_bucket_ms, Some(2.0));
        assert_eq!(f.tick_p99_worst_window_ms, Some(1.9));
        assert_eq!(f.tick_max_ms, Some(4.0));
        assert_eq!(f.bytes_per_s_per_client, Some(200.0));
        // No lateness histogram: the figure falls back to the worst window (none here).
        assert_eq!(f.lateness_p99_ms, None);
    }
}
