//! Reads the server's `/stats` document (`ServerStats`, defined in `tickwire-shared`) over
//! HTTP or HTTPS with reqwest, trusting the same certificates as the bots.

use std::time::Duration;

use tickwire_client::TlsTrust;
use tickwire_shared::stats::ServerStats;

use super::error::SoakError;

/// A client for one server's `/stats`.
#[derive(Clone, Debug)]
pub struct StatsClient {
    http: reqwest::Client,
    url: String,
}

impl StatsClient {
    /// A client for `url` whose requests give up after `timeout`; `tls` is the trust for
    /// an https URL (the system roots when `None`).
    pub fn new(url: &str, timeout: Duration, tls: Option<&TlsTrust>) -> Result<Self, SoakError> {
        let failed = |message: String| SoakError::Stats {
            url: url.to_owned(),
            message,
        };
        let http = crate::rooms::http_client(url, timeout, tls).map_err(failed)?;
        Ok(StatsClient {
            http,
            url: url.to_owned(),
        })
    }

    /// The URL read.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Fetches and parses one reading.
    pub async fn get(&self) -> Result<ServerStats, SoakError> {
        let failed = |e: reqwest::Error| SoakError::Stats {
            url: self.url.clone(),
            message: e.to_string(),
        };
        self.http
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(failed)?
            .json::<ServerStats>()
            .await
            .map_err(failed)
    }
}
