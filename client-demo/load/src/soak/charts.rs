//! Which charts a soak report shows, built from the run's time series and thresholds.

use super::plot::{Chart, Limit, Line};
use super::series::{Point, column};
use super::summary::SoakSummary;

/// One plotted line: its legend label and the field of each point it draws.
type Pick<'a> = (&'a str, fn(&Point) -> Option<f64>);

/// The report's charts, in display order.
#[must_use]
pub fn charts(s: &SoakSummary) -> Vec<Chart<'_>> {
    let chart =
        |title, y_label, lines: &[Pick<'static>], limit: Option<(&'static str, f64)>| Chart {
            title,
            y_label,
            lines: lines
                .iter()
                .map(|&(label, pick)| Line {
                    label,
                    points: column(&s.series, pick),
                })
                .collect(),
            limit: limit.map(|(label, value)| Limit { label, value }),
            duration_s: s.duration_s,
        };
    let limits = &s.thresholds;
    vec![
        chart(
            "Tick duration (server window)",
            "ms",
            // Max first, so p99 (often equal to the max over a short window) is drawn
            // on top of it and stays visible.
            &[
                ("max", |x| x.tick_max_ms),
                ("p99", |x| x.tick_p99_ms),
                ("p50", |x| x.tick_p50_ms),
            ],
            Some(("p99 limit", limits.max_tick_p99_ms)),
        ),
        chart(
            "Tick-start lateness p99 (server window)",
            "ms",
            &[("p99", |x| x.lateness_p99_ms)],
            Some(("p99 limit", limits.max_lateness_p99_ms)),
        ),
        chart(
            "Tick overruns since start",
            "ticks",
            &[("overruns", |x| x.overruns)],
            None,
        ),
        chart(
            "Connected clients",
            "clients",
            &[
                ("bots connected", |x| Some(x.bots_connected as f64)),
                ("server sessions", |x| x.sessions),
            ],
            None,
        ),
        chart(
            "Bytes sent per second per client",
            "KiB/s",
            &[("server → client", |x| {
                x.bytes_per_s_per_client.map(|b| b / 1024.0)
            })],
            None,
        ),
        chart(
            "Snapshots per second per bot (client side)",
            "snapshots/s",
            &[
                ("received", |x| x.snapshots_per_s_per_bot),
                ("server ticks/s", |x| x.ticks_per_s),
            ],
            None,
        ),
        chart(
            "Server resident memory",
            "MiB",
            &[("RSS", |x| x.rss_mib)],
            None,
        ),
        chart(
            "Server CPU",
            "% of one core",
            &[("CPU", |x| x.cpu_pct)],
            None,
        ),
    ]
}
