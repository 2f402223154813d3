//! Pass/fail limits of a soak run, and the verdict of each against the measured figures.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use crate::rooms::RoomFigures;

/// The limits a soak run must stay within. Defaults are the project's targets for the
/// `arena` scenario on a 2-core machine shared by server and bots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Tick duration p99 over the run, ms (`--max-tick-p99-ms`).
    pub max_tick_p99_ms: f64,
    /// Tick-start lateness p99 over the run, ms (`--max-lateness-p99-ms`).
    pub max_lateness_p99_ms: f64,
    /// Overruns during the run (`--max-overruns`).
    pub max_overruns: u64,
    /// Server RSS growth from the warm-up point to the end, percent
    /// (`--max-rss-growth-pct`).
    pub max_rss_growth_pct: f64,
    /// Desyncs seen by the decoding bots (`--max-desyncs`).
    pub max_desyncs: u64,
    /// Bot connection attempts that failed (`--max-failed-connects`).
    pub max_failed_connects: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_tick_p99_ms: 2.0,
            max_lateness_p99_ms: 1.0,
            max_overruns: 0,
            max_rss_growth_pct: 5.0,
            max_desyncs: 0,
            max_failed_connects: 0,
        }
    }
}

/// One threshold checked against the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The command-line flag that sets this threshold.
    pub flag: String,
    /// The limit.
    pub limit: f64,
    /// What was measured; `None` if the server did not expose it.
    pub actual: Option<f64>,
    /// Whether the run stayed within the limit (a figure that could not be measured
    /// fails: an unmeasured run proves nothing).
    pub passed: bool,
    /// A sentence for people: the figure against the limit, and by how much it failed.
    pub detail: String,
}

/// Checks one figure; `decimals` is how precisely to print it (0 for counts).
fn check(flag: &str, unit: &str, decimals: usize, limit: f64, actual: Option<f64>) -> Verdict {
    let d = decimals;
    let (passed, detail) = match actual {
        None => (false, format!("{flag}: not measured (no figure)")),
        Some(a) if a <= limit => (true, format!("{flag}: {a:.d$}{unit} <= {limit}{unit}")),
        Some(a) => {
            let over = a - limit;
            let pct = if limit > 0.0 {
                format!(" ({:.0}% over)", over / limit * 100.0)
            } else {
                String::new()
            };
            (
                false,
                format!("{flag}: {a:.d$}{unit} exceeds {limit}{unit} by {over:.d$}{unit}{pct}"),
            )
        }
    };
    Verdict {
        flag: flag.to_owned(),
        limit,
        actual,
        passed,
        detail,
    }
}

impl Thresholds {
    /// Checks every threshold against the run's figures, in a fixed order.
    #[must_use]
    pub fn evaluate(&self, f: &Figures, rooms: Option<&RoomFigures>) -> Vec<Verdict> {
        let mut verdicts = vec![
            check(
                "--max-tick-p99-ms",
                " ms",
                3,
                self.max_tick_p99_ms,
                f.tick_p99_ms,
            ),
            check(
                "--max-lateness-p99-ms",
                " ms",
                3,
                self.max_lateness_p99_ms,
                f.lateness_p99_ms,
            ),
            check(
                "--max-overruns",
                "",
                0,
                self.max_overruns as f64,
                f.overruns,
            ),
            check(
                "--max-rss-growth-pct",
                "%",
                2,
                self.max_rss_growth_pct,
                f.rss_growth_pct,
            ),
            check(
                "--max-desyncs",
                "",
                0,
                self.max_desyncs as f64,
                Some(f.desyncs as f64),
            ),
            check(
                "--max-failed-connects",
                "",
                0,
                self.max_failed_connects as f64,
                Some(f.failed_connects as f64),
            ),
        ];
        // With several rooms, the tick limit holds for the worst room too (the merged
        // figure would hide one slow room among many quick ones).
        if let Some(r) = rooms.filter(|r| r.occupied > 1) {
            verdicts.insert(
                1,
                check(
                    "--max-tick-p99-ms (worst room)",
                    " ms",
                    3,
                    self.max_tick_p99_ms,
                    Some(r.worst_tick_p99_ms),
                ),
            );
        }
        verdicts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_passes_fails_or_is_unmeasured() {
        let f = Figures {
            tick_p99_ms: Some(3.0),
            lateness_p99_ms: Some(0.5),
            overruns: Some(0.0),
            rss_growth_pct: None,
            desyncs: 2,
            ..Figures::default()
        };
        let v = Thresholds::default().evaluate(&f, None);
        let by = |flag: &str| v.iter().find(|v| v.flag == flag).unwrap().clone();
        let tick = by("--max-tick-p99-ms");
        assert!(!tick.passed);
        assert_eq!(
            tick.detail,
            "--max-tick-p99-ms: 3.000 ms exceeds 2 ms by 1.000 ms (50% over)"
        );
        assert!(by("--max-lateness-p99-ms").passed);
        assert!(by("--max-overruns").passed);
        assert!(!by("--max-rss-growth-pct").passed);
        assert!(by("--max-rss-growth-pct").detail.contains("not measured"));
        let desync = by("--max-desyncs");
        assert!(!desync.passed);
        assert_eq!(desync.detail, "--max-desyncs: 2 exceeds 0 by 2");
        assert!(by("--max-failed-connects").passed);
    }
}
