//! The soak run's time series: one `Point` per metrics sample, with counters turned into
//! per-second rates between consecutive scrapes.

use serde::{Deserialize, Serialize};

use super::reading::Reading;

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
/// gauges are as read. `None` where the server did not expose the metric.
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
    /// Tick duration p50 over the server's last window, ms.
    pub tick_p50_ms: Option<f64>,
    /// Tick duration p99 over the server's last window, ms.
    pub tick_p99_ms: Option<f64>,
    /// Longest tick over the server's last window, ms.
    pub tick_max_ms: Option<f64>,
    /// Tick-start lateness p99 over the server's last window, ms.
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

fn ms(v: Option<f64>) -> Option<f64> {
    v.map(|s| s * 1000.0)
}

fn rate(now: Option<f64>, before: Option<f64>, dt: f64) -> Option<f64> {
    match (now, before) {
        (Some(n), Some(b)) if dt > 0.0 && n >= b => Some((n - b) / dt),
        _ => None,
    }
}

impl Point {
    /// Builds the point for `now` (taken at `t` seconds), given the previous sample
    /// (`prev`, taken `dt` seconds earlier) and the soak's first reading (`start`).
    #[must_use]
    pub fn new(
        t: f64,
        dt: f64,
        now: (&Reading, ClientSide),
        prev: (&Reading, ClientSide),
        start: &Reading,
    ) -> Point {
        let (r, c) = now;
        let (p, pc) = prev;
        let sessions = r.sessions.filter(|s| *s > 0.0);
        let per_client = |total: Option<f64>| total.zip(sessions).map(|(t, s)| t / s);
        let snaps = (dt > 0.0 && c.connected > 0 && c.snapshots >= pc.snapshots)
            .then(|| (c.snapshots - pc.snapshots) as f64 / dt / c.connected as f64);
        Point {
            t,
            bots_connected: c.connected,
            sessions: r.sessions,
            entities: r.entities,
            tick_p50_ms: ms(r.tick_p50),
            tick_p99_ms: ms(r.tick_p99),
            tick_max_ms: ms(r.tick_max),
            lateness_p99_ms: ms(r.lateness_p99),
            overruns: r
                .overruns
                .zip(start.overruns)
                .map(|(n, s)| (n - s).max(0.0)),
            ticks_per_s: rate(r.ticks, p.ticks, dt),
            bytes_per_s_per_client: per_client(rate(r.bytes_sent, p.bytes_sent, dt)),
            cpu_pct: rate(r.cpu_seconds, p.cpu_seconds, dt).map(|c| c * 100.0),
            rss_mib: r.rss.map(|b| b / (1024.0 * 1024.0)),
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
        let start = Reading {
            overruns: Some(5.0),
            ..Reading::default()
        };
        let prev = Reading {
            ticks: Some(300.0),
            bytes_sent: Some(1000.0),
            cpu_seconds: Some(1.0),
            overruns: Some(5.0),
            ..Reading::default()
        };
        let now = Reading {
            ticks: Some(360.0),
            bytes_sent: Some(41_000.0),
            cpu_seconds: Some(1.5),
            overruns: Some(7.0),
            sessions: Some(10.0),
            rss: Some(2.0 * 1024.0 * 1024.0),
            tick_p99: Some(0.0015),
            ..Reading::default()
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
        assert!(column(&[p], |p| p.entities).is_empty());
    }
}
