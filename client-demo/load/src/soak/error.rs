//! Why a soak run could not produce a report (a run that produces one but misses its
//! thresholds is not an error: its summary says `passed: false`).

use std::path::PathBuf;

use thiserror::Error;

use super::plot::PlotError;
use super::server_process::ServerError;

/// A soak run that could not be carried out or recorded.
#[derive(Debug, Error)]
pub enum SoakError {
    /// The server could not be found or started.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The server exited during the run.
    #[error("the server exited during the run (see {log})")]
    ServerExited {
        /// Its log file.
        log: PathBuf,
    },
    /// `/stats` could not be fetched or did not parse.
    #[error("reading {url}: {message}")]
    Stats {
        /// The stats URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The report could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The summary could not be serialized.
    #[error("serializing summary.json: {0}")]
    Json(#[from] serde_json::Error),
}
