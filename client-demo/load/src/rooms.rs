//! Rooms for the load tools: an HTTP(S) client trusting what the bots trust, opening
//! rooms on a server (`POST /rooms`) so a fleet spreads over them, and reading its room
//! listing (`GET /rooms`) for per-room figures.

use std::sync::Arc;
use std::time::Duration;

use tickwire_client::TlsTrust;
use tickwire_shared::join_token;
use tickwire_shared::stats::RoomListing;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::soak::server_process::http_base;

/// How long one request to the server may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client for `url` whose requests give up after `timeout`; `tls` is the trust
/// for an https URL (the system roots when `None`).
///
/// # Errors
/// The system roots cannot be read, or the client cannot be built.
pub fn http_client(
    url: &str,
    timeout: Duration,
    tls: Option<&TlsTrust>,
) -> Result<reqwest::Client, String> {
    let tls_config = match tls {
        Some(t) => (*t.config()).clone(),
        None if url.starts_with("https:") => {
            (*TlsTrust::system().map_err(|e| e.to_string())?.config()).clone()
        }
        // Plain http: a configuration that trusts nothing, never used.
        None => ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    };
    reqwest::Client::builder()
        .timeout(timeout)
        .use_preconfigured_tls(tls_config)
        .build()
        .map_err(|e| e.to_string())
}

/// The WebSocket URL `ws_url` asking for room `room`.
#[must_use]
pub fn room_url(ws_url: &str, room: u32) -> String {
    let sep = if ws_url.contains('?') { '&' } else { '?' };
    format!("{ws_url}{sep}room={room}")
}

fn base(ws_url: &str) -> Result<String, String> {
    http_base(ws_url).ok_or_else(|| format!("{ws_url} is not a ws:// or wss:// URL"))
}

/// Opens `count` new public rooms of type `kind` (`None`: the server's default) on the
/// server behind `ws_url`; their ids. With `auth_secret`, each request carries a join
/// token minted with it, as the server then asks.
///
/// # Errors
/// The server refused a room or could not be reached; the message says which and why.
pub async fn open_rooms(
    ws_url: &str,
    count: usize,
    kind: Option<&str>,
    auth_secret: Option<&str>,
    tls: Option<&TlsTrust>,
) -> Result<Vec<u32>, String> {
    let url = format!("{}/rooms", base(ws_url)?);
    let http = http_client(&url, TIMEOUT, tls)?;
    let body = match kind {
        Some(k) => serde_json::json!({ "type": k }),
        None => serde_json::json!({}),
    };
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let mut request = http.post(&url).json(&body);
        if let Some(secret) = auth_secret {
            let expires = join_token::unix_now() + 3600;
            let token = join_token::mint(secret, "bots", expires);
            request = request.bearer_auth(token);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("POST {url}: {status}: {}", text.trim()));
        }
        let created: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("POST {url} answered {text:?}: {e}"))?;
        let id = created["id"]
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| format!("POST {url} answered no room id: {text}"))?;
        ids.push(id);
    }
    Ok(ids)
}

/// A seat `POST /matchmake` reserved: where to connect to claim it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedSeat {
    /// The WebSocket URL that claims the seat (`ws://…/ws?seat=TOKEN`), on the server
    /// that holds the room.
    pub url: String,
    /// The room, by its id on that server.
    pub room: u32,
    /// That server's id in the cluster (none for a server that runs alone).
    pub node: Option<String>,
}

/// Matchmaking over HTTP (`POST /matchmake`) through one or more servers: each seat is
/// asked of the endpoints in turn, from a starting one, until one answers with a seat.
#[derive(Clone, Debug)]
pub struct Matchmaker {
    http: reqwest::Client,
    /// The `…/matchmake` URLs.
    endpoints: Vec<String>,
    /// The room type asked for (`None`: the server's default).
    kind: Option<String>,
    /// Mints each request's join token, for servers that need one.
    auth_secret: Option<Arc<str>>,
}

impl Matchmaker {
    /// Matchmaking through `servers` (each an `http(s)://` base URL or a `ws(s)://…/ws`
    /// URL), for rooms of type `kind`.
    ///
    /// # Errors
    /// None given, one that is not such a URL, or no HTTP client could be built.
    pub fn new(
        servers: &[String],
        kind: Option<String>,
        auth_secret: Option<Arc<str>>,
        tls: Option<&TlsTrust>,
    ) -> Result<Matchmaker, String> {
        if servers.is_empty() {
            return Err("no matchmaking server given".to_owned());
        }
        let endpoints = servers
            .iter()
            .map(|s| {
                let base = if s.starts_with("http://") || s.starts_with("https://") {
                    s.trim_end_matches('/').to_owned()
                } else {
                    base(s)?
                };
                Ok(format!("{base}/matchmake"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let http = http_client(&endpoints[0], TIMEOUT, tls)?;
        Ok(Matchmaker {
            http,
            endpoints,
            kind,
            auth_secret,
        })
    }

    /// A seat, asked of the endpoints from the `first`-th (modulo their number) on until
    /// one gives it; each one's refusal is in the error.
    ///
    /// # Errors
    /// Every endpoint refused or could not be reached.
    pub async fn seat(&self, first: usize) -> Result<MatchedSeat, String> {
        let body = match &self.kind {
            Some(k) => serde_json::json!({ "type": k }),
            None => serde_json::json!({}),
        };
        let mut failures = Vec::new();
        for i in 0..self.endpoints.len() {
            let url = &self.endpoints[(first + i) % self.endpoints.len()];
            let mut request = self.http.post(url).json(&body);
            if let Some(secret) = &self.auth_secret {
                let expires = join_token::unix_now() + 3600;
                request = request.bearer_auth(join_token::mint(secret, "bots", expires));
            }
            let answer = match request.send().await {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{url}: {}", short_http_error(&e)));
                    continue;
                }
            };
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            if !status.is_success() {
                failures.push(format!("{url}: {status}: {}", text.trim()));
                continue;
            }
            let seat: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{url} answered {text:?}: {e}"))?;
            let (Some(ws), Some(room)) = (
                seat["url"].as_str(),
                seat["room"].as_u64().and_then(|r| u32::try_from(r).ok()),
            ) else {
                return Err(format!("{url} answered no seat: {text}"));
            };
            return Ok(MatchedSeat {
                url: ws.to_owned(),
                room,
                node: seat["node"].as_str().map(str::to_owned),
            });
        }
        Err(failures.join("; "))
    }
}

/// A request's failure in a few words (connect refused, timed out), without the URL.
fn short_http_error(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    }
}

/// The server's room listing.
///
/// # Errors
/// The server could not be reached or answered something else than a listing.
pub async fn list_rooms(ws_url: &str, tls: Option<&TlsTrust>) -> Result<Vec<RoomListing>, String> {
    let url = format!("{}/rooms", base(ws_url)?);
    let http = http_client(&url, TIMEOUT, tls)?;
    http.get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("GET {url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {url}: {e}"))
}

/// Per-room tick figures of a listing: the rooms that ticked, and the worst room.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomFigures {
    /// Rooms open.
    pub rooms: usize,
    /// Rooms with players.
    pub occupied: usize,
    /// The room with the highest tick p99 since it opened.
    pub worst_room: Option<u32>,
    /// That room's tick p99, ms.
    pub worst_tick_p99_ms: f64,
    /// The median over occupied rooms of their tick p99, ms.
    pub median_tick_p99_ms: f64,
    /// The longest tick of any room, ms.
    pub tick_max_ms: f64,
    /// Ticks that started more than a period late, over every room.
    pub overruns: u64,
}

impl RoomFigures {
    /// The figures of `listing`.
    #[must_use]
    pub fn of(listing: &[RoomListing]) -> RoomFigures {
        let occupied: Vec<&RoomListing> = listing.iter().filter(|r| r.players > 0).collect();
        let worst = listing
            .iter()
            .max_by(|a, b| a.run_tick_p99_ms.total_cmp(&b.run_tick_p99_ms));
        let mut p99s: Vec<f64> = occupied.iter().map(|r| r.run_tick_p99_ms).collect();
        p99s.sort_by(f64::total_cmp);
        RoomFigures {
            rooms: listing.len(),
            occupied: occupied.len(),
            worst_room: worst.map(|r| r.id),
            worst_tick_p99_ms: worst.map_or(0.0, |r| r.run_tick_p99_ms),
            median_tick_p99_ms: p99s.get(p99s.len() / 2).copied().unwrap_or(0.0),
            tick_max_ms: listing
                .iter()
                .map(|r| r.run_tick_max_ms)
                .fold(0.0, f64::max),
            overruns: listing.iter().map(|r| r.overruns).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_room_and_the_median_of_occupied_ones() {
        let room = |id, players, p99, overruns| RoomListing {
            id,
            players,
            run_tick_p99_ms: p99,
            run_tick_max_ms: p99 * 2.0,
            overruns,
            ..RoomListing::default()
        };
        let f = RoomFigures::of(&[
            room(1, 0, 0.1, 0),
            room(2, 3, 0.9, 1),
            room(3, 2, 0.4, 0),
            room(4, 1, 0.5, 2),
        ]);
        assert_eq!((f.rooms, f.occupied, f.worst_room), (4, 3, Some(2)));
        assert!((f.worst_tick_p99_ms - 0.9).abs() < 1e-9);
        assert!((f.median_tick_p99_ms - 0.5).abs() < 1e-9);
        assert!((f.tick_max_ms - 1.8).abs() < 1e-9);
        assert_eq!(f.overruns, 3);
        assert_eq!(room_url("ws://h/ws", 7), "ws://h/ws?room=7");
        assert_eq!(room_url("ws://h/ws?x=1", 7), "ws://h/ws?x=1&room=7");
    }
}
