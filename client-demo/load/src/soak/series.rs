//! The soak run's time series: one `Point` per `/stats` sample, with counters turned into
//! per-second rates between consecutive samples.

use serde::{Deserialize, Serialize};
use tickwire_shared::stats::ServerStats;

/// What the bots side knew at the moment of a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientSide {
    /// Bots connected (welcomed and not yet gone).
    pub connected: u64,
    /// Desyncs seen by decoding bots so far.
    pub desyncs: u64,
    /// Snapshots received by all bots so far.
    pub snapshots: u64,
}

/// One point of the time series. Rates cover the interval since the previous point;
/// gauges are as read. `None` where there is no figure (no interval yet, no sessions, or
/// a system that does not report process memory and CPU).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Seconds since the soak started.
    pub t: f64,
    /// Bots connected, as the bots saw it.
    pub bots_connected: u64,
    /// Sessions, as the server saw it.
    pub sessions: Option<f64>,
    /// Entities in the server's world.
    pub entities: Option<f64>,
    /// Tick duration p50 over the server's last whole second, ms.
    pub tick_p50_ms: Option<f64>,
    /// Tick duration p99 over the server's last whole second, ms.
    pub tick_p99_ms: Option<f64>,
    /// Longest tick over the server's last whole second, ms.
    pub tick_max_ms: Option<f64>,
    /// Tick-start lateness p99 over the server's last whole second, ms.
    pub lateness_p99_ms: Option<f64>,
    /// Overruns since the soak started (cumulative).
    pub overruns: Option<f64>,
    /// Ticks per second over the interval.
    pub ticks_per_s: Option<f64>,
    /// Bytes sent per second per connected session over the interval.
    pub bytes_per_s_per_client: Option<f64>,
    /// Server CPU over the interval, percent of one core.
    pub cpu_pct: Option<f64>,
    /// Server resident memory, MiB.
    pub rss_mib: Option<f64>,
    /// Snapshots received per second per connected bot over the interval.
    pub snapshots_per_s_per_bot: Option<f64>,
    /// Desyncs seen by the bots since the start (cumulative).
    pub desyncs: u64,
}

fn rate(now: u64, before: u64, dt: f64) -> Option<f64> {
    (dt > 0.0 && now >= before).then(|| (now - before) as f64 / dt)
}

impl Point {
    /// Builds the point for `now` (taken at `t` seconds), given the previous sample
    /// (`prev`, taken `dt` seconds earlier) and the soak's first reading (`start`).
    #[must_use]
    pub fn new(
        t: f64,
        dt: f64,
        now: (&ServerStats, ClientSide),
        prev: (&ServerStats, ClientSide),
        start: &ServerStats,
    ) -> Point {
        let (r, c) = now;
        let (p, pc) = prev;
        let sessions = (r.sessions > 0).then_some(r.sessions as f64);
        let per_client = |total: Option<f64>| total.zip(sessions).map(|(t, s)| t / s);
        let snaps = (dt > 0.0 && c.connected > 0 && c.snapshots >= pc.snapshots)
            .then(|| (c.snapshots - pc.snapshots) as f64 / dt / c.connected as f64);
        let ms = |us: u64| Some(us as f64 / 1000.0);
        let second = &r.last_second;
        let cpu = r.process.zip(p.process).and_then(|(n, b)| {
            (dt > 0.0 && n.cpu_seconds >= b.cpu_seconds)
                .then(|| (n.cpu_seconds - b.cpu_seconds) / dt * 100.0)
        });
        Point {
            t,
            bots_connected: c.connected,
            sessions: Some(r.sessions as f64),
            entities: Some(r.entities as f64),
            tick_p50_ms: ms(second.duration_p50_us),
            tick_p99_ms: ms(second.duration_p99_us),
            tick_max_ms: ms(second.duration_max_us),
            lateness_p99_ms: ms(second.lateness_p99_us),
            overruns: Some(r.overruns.saturating_sub(start.overruns) as f64),
            ticks_per_s: rate(r.ticks, p.ticks, dt),
            bytes_per_s_per_client: per_client(rate(r.bytes_sent, p.bytes_sent, dt)),
            cpu_pct: cpu,
            rss_mib: r.process.map(|u| u.rss_bytes as f64 / (1024.0 * 1024.0)),
            snapshots_per_s_per_bot: snaps,
            desyncs: c.desyncs,
        }
    }
}

/// Picks one field of every point as `(t, value)` pairs, skipping gaps (for plotting).
pub fn column(points: &[Point], f: impl Fn(&Point) -> Option<f64>) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter_map(|p| f(p).filter(|v| v.is_finite()).map(|v| (p.t, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_and_per_client() {
        use tickwire_shared::stats::{ProcessUsage, TickWindow};
        let start = ServerStats {
            overruns: 5,
            ..ServerStats::default()
        };
        let prev = ServerStats {
            ticks: 300,
            bytes_sent: 1000,
            overruns: 5,
            process: Some(ProcessUsage {
                rss_bytes: 0,
                cpu_seconds: 1.0,
                ..ProcessUsage::default()
            }),
            ..ServerStats::default()
        };
        let now = ServerStats {
            ticks: 360,
            bytes_sent: 41_000,
            overruns: 7,
            sessions: 10,
            process: Some(ProcessUsage {
                rss_bytes: 2 * 1024 * 1024,
                cpu_seconds: 1.5,
                ..ProcessUsage::default()
            }),
            last_second: TickWindow {
                duration_p99_us: 1500,
                ..TickWindow::default()
            },
            ..ServerStats::default()
        };
        let c0 = ClientSide {
            connected: 10,
            desyncs: 0,
            snapshots: 0,
        };
        let c1 = ClientSide {
            snapshots: 600,
            ..c0
        };
        let p = Point::new(3.0, 2.0, (&now, c1), (&prev, c0), &start);
        assert_eq!(p.ticks_per_s, Some(30.0));
        assert_eq!(p.bytes_per_s_per_client, Some(2000.0));
        assert_eq!(p.cpu_pct, Some(25.0));
        assert_eq!(p.overruns, Some(2.0));
        assert_eq!(p.rss_mib, Some(2.0));
        assert_eq!(p.tick_p99_ms, Some(1.5));
        assert_eq!(p.snapshots_per_s_per_bot, Some(30.0));
        assert_eq!(
            column(std::slice::from_ref(&p), |p| p.ticks_per_s),
            vec![(3.0, 30.0)]
        );
        let idle = Point::new(3.0, 2.0, (&start, c0), (&start, c0), &start);
        assert!(column(&[idle], |p| p.bytes_per_s_per_client).is_empty());
    }
}
