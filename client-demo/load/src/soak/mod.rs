//! The soak tool: runs a bot fleet against a server for minutes or hours, samples the
//! server's `/stats` every second, and proves (or disproves) that the tick held steady:
//! `summary.json`, `report.html` with SVG charts, and thresholds that fail the run.

pub mod charts;
pub mod config;
pub mod error;
pub mod figures;
pub mod plot;
pub mod report_html;
pub mod run;
pub mod series;
pub mod server_process;
pub mod stats_client;
pub mod summary;
pub mod table;
pub mod thresholds;

pub use config::{SoakConfig, Target};
pub use error::SoakError;
pub use summary::SoakSummary;
pub use thresholds::Thresholds;
