//! The soak's headline figures as `(label, value)` rows, printed as a terminal table and
//! rendered into the HTML report.

use std::fmt::Write as _;

use super::summary::SoakSummary;

fn opt(v: Option<f64>, decimals: usize, unit: &str) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}{unit}"))
}

/// The server-side rows: tick timing, overruns, memory, CPU, bandwidth.
#[must_use]
pub fn server_rows(s: &SoakSummary) -> Vec<(&'static str, String)> {
    let f = &s.figures;
    vec![
        (
            "run",
            format!(
                "{} scenario, {} {} bots, {:.0} s measured",
                s.scenario, s.bots, s.behavior, f.measured_s
            ),
        ),
        (
            "ticks",
            format!(
                "{} at {}",
                opt(f.ticks, 0, ""),
                opt(f.tick_rate_hz, 2, " Hz")
            ),
        ),
        (
            "tick duration",
            format!(
                "p50 {}  p99 {}  p99.9 {}  max {}  mean {}",
                opt(f.tick_p50_ms, 3, ""),
                opt(f.tick_p99_ms, 3, ""),
                opt(f.tick_p999_ms, 3, ""),
                opt(f.tick_max_ms, 3, ""),
                opt(f.tick_mean_ms, 3, " ms"),
            ),
        ),
        (
            "worst second's tick p99",
            opt(f.tick_p99_worst_window_ms, 3, " ms"),
        ),
        (
            "tick-start lateness",
            format!(
                "p50 {}  p99 {}  (worst second's p99 {})",
                opt(f.lateness_p50_ms, 3, ""),
                opt(f.lateness_p99_ms, 3, " ms"),
                opt(f.lateness_p99_worst_window_ms, 3, " ms"),
            ),
        ),
        ("overruns", opt(f.overruns, 0, "")),
        (
            "server RSS",
            format!(
                "{} at {:.0} s -> {} at end ({} growth), peak {}",
                opt(f.rss_warmup_mib, 1, " MiB"),
                f.warmup_s,
                opt(f.rss_end_mib, 1, " MiB"),
                opt(f.rss_growth_pct, 2, "%"),
                opt(f.rss_peak_mib, 1, " MiB"),
            ),
        ),
        (
            "server RSS per client",
            opt(
                f.rss_per_client_kib,
                2,
                " KiB (growth from before the bots, over the sessions at the end)",
            ),
        ),
        ("server CPU", opt(f.cpu_avg_pct, 1, "% of one core")),
        (
            "server threads",
            s.server_threads.map_or_else(|| "-".to_owned(), |t| t.to_string()),
        ),
        (
            "rooms",
            s.rooms.as_ref().map_or_else(
                || "-".to_owned(),
                |r| {
                    format!(
                        "{} open ({} with players); tick p99 by room: worst {:.3} ms (room {}), median {:.3} ms; longest tick {:.3} ms; overruns {}",
                        r.rooms,
                        r.occupied,
                        r.worst_tick_p99_ms,
                        r.worst_room.map_or_else(|| "-".to_owned(), |id| id.to_string()),
                        r.median_tick_p99_ms,
                        r.tick_max_ms,
                        r.overruns
                    )
                },
            ),
        ),
        (
            "sent per client",
            format!(
                "{}  (snapshot mean {}, p99 {})",
                opt(f.bytes_per_s_per_client.map(|b| b / 1024.0), 2, " KiB/s"),
                opt(f.snapshot_bytes_mean, 0, " B"),
                opt(f.snapshot_bytes_p99, 0, " B"),
            ),
        ),
    ]
}

/// The whole summary as a plain-text table with the verdicts, for the terminal.
#[must_use]
pub fn to_text(s: &SoakSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "server ({})", s.stats_url);
    for (k, v) in server_rows(s) {
        let _ = writeln!(out, "  {k:<28} {v}");
    }
    let _ = writeln!(out, "bots ({})", s.url);
    out.push_str(&s.client.to_text());
    let _ = writeln!(out, "thresholds");
    for v in &s.verdicts {
        let mark = if v.passed { "pass" } else { "FAIL" };
        let _ = writeln!(out, "  {mark}  {}", v.detail);
    }
    let _ = writeln!(out, "{}", if s.passed { "PASSED" } else { "FAILED" });
    out
}
