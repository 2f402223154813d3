//! `summary.json`: everything a soak run measured and decided, in one serde document.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::series::Point;
use super::thresholds::{Thresholds, Verdict};
use crate::bots::BotsSummary;
use crate::rooms::RoomFigures;
use tickwire_shared::stats::RoomListing;

/// The whole result of a soak run, written as `summary.json` and rendered as `report.html`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoakSummary {
    /// The scenario the server ran (as requested, or as the server's `Welcome` said).
    pub scenario: String,
    /// The bots' behavior.
    pub behavior: String,
    /// Bots requested.
    pub bots: usize,
    /// Run length requested, seconds (ramp included).
    pub duration_s: f64,
    /// The WebSocket URL the bots used.
    pub url: String,
    /// The `/stats` URL sampled.
    pub stats_url: String,
    /// When the run started, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The whole-run figures.
    pub figures: Figures,
    /// The bots' own summary (connections, snapshot rates and gaps, RTT, bytes, desyncs).
    pub client: BotsSummary,
    /// The limits applied.
    pub thresholds: Thresholds,
    /// Each limit against its figure.
    pub verdicts: Vec<Verdict>,
    /// True when every verdict passed.
    pub passed: bool,
    /// One point per metrics sample.
    pub series: Vec<Point>,
    /// Per-room tick figures from the server's room listing at the end of the run.
    #[serde(default)]
    pub rooms: Option<RoomFigures>,
    /// That listing: each room's players and tick timing.
    #[serde(default)]
    pub room_list: Vec<RoomListing>,
    /// Threads the server process ran, at the last sample.
    #[serde(default)]
    pub server_threads: Option<u64>,
}

impl SoakSummary {
    /// The verdicts that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| !v.passed)
    }

    /// Serializes to pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Parses a `summary.json`.
    pub fn from_json(text: &str) -> Result<SoakSummary, serde_json::Error> {
        serde_json::from_str(text)
    }
}
