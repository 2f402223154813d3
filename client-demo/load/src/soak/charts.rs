//! Which charts a soak report shows, built from the run's time series and thresholds.

use super::plot::{Chart, Limit, Line};
use super::series::column;
use super::summary::SoakSummary;

/// The report's charts, in display order.
#[must_use]
pub fn charts(s: &SoakSummary) -> Vec<Chart<'_>> {
    let p = &s.series;
    let d = s.duration_s;
    vec![
        Chart {
            title: "Tick duration (server window)",
            y_label: "ms",
            lines: vec![
                // Drawn max first so p99 (often equal to the max over a short window)
                // stays visible on top of it.
                Line {
                    label: "max",
                    points: column(p, |x| x.tick_max_ms),
                },
                Line {
                    label: "p99",
                    points: column(p, |x| x.tick_p99_ms),
                },
                Line {
                    label: "p50",
                    points: column(p, |x| x.tick_p50_ms),
                },
            ],
            limit: Some(Limit {
                label: "p99 limit",
                value: s.thresholds.max_tick_p99_ms,
            }),
            duration_s: d,
        },
        Chart {
            title: "Tick-start lateness p99 (server window)",
            y_label: "ms",
            lines: vec![Line {
                label: "p99",
                points: column(p, |x| x.lateness_p99_ms),
            }],
            limit: Some(Limit {
                label: "p99 limit",
                value: s.thresholds.max_lateness_p99_ms,
            }),
            duration_s: d,
        },
        Chart {
            title: "Tick overruns since start",
            y_label: "ticks",
            lines: vec![Line {
                label: "overruns",
                points: column(p, |x| x.overruns),
            }],
            limit: None,
            duration_s: d,
        },
        Chart {
            title: "Connected clients",
            y_label: "clients",
            lines: vec![
                Line {
                    label: "bots connected",
                    points: column(p, |x| Some(x.bots_connected as f64)),
                },
                Line {
                    label: "server sessions",
                    points: column(p, |x| x.sessions),
                },
            ],
            limit: None,
            duration_s: d,
        },
        Chart {
            title: "Bytes sent per second per client",
            y_label: "KiB/s",
            lines: vec![Line {
                label: "server → client",
                points: column(p, |x| x.bytes_per_s_per_client.map(|b| b / 1024.0)),
            }],
            limit: None,
            duration_s: d,
        },
        Chart {
            title: "Snapshots per second per bot (client side)",
            y_label: "snapshots/s",
            lines: vec![
                Line {
                    label: "received",
                    points: column(p, |x| x.snapshots_per_s_per_bot),
                },
                Line {
                    label: "server ticks/s",
                    points: column(p, |x| x.ticks_per_s),
                },
            ],
            limit: None,
            duration_s: d,
        },
        Chart {
            title: "Server resident memory",
            y_label: "MiB",
            lines: vec![Line {
                label: "RSS",
                points: column(p, |x| x.rss_mib),
            }],
            limit: None,
            duration_s: d,
        },
        Chart {
            title: "Server CPU",
            y_label: "% of one core",
            lines: vec![Line {
                label: "CPU",
                points: column(p, |x| x.cpu_pct),
            }],
            limit: None,
            duration_s: d,
        },
    ]
}
