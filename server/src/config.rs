//! Engine configuration: one plain struct with documented defaults, loaded from a TOML
//! file (the shipped `assets/tickwire.toml` by default) and overridden by command-line
//! flags and `TICKWIRE_*` environment variables. Built once at start and passed down.
//! The file's `[game]` table is the game's own section, read into the game's config type.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::priority::TickPriority;

/// The built-in defaults, identical to `assets/tickwire.toml`, so the server runs the
/// same from any directory.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../assets/tickwire.toml");

/// Everything the server can be told. Field names match the TOML keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub bind: IpAddr,
    /// TCP port to listen on; 0 picks a free one (printed at start).
    pub port: u16,
    /// Simulation ticks (and snapshots) per second.
    pub tick_hz: u32,
    /// Interest radius in world units around each player's own entity (by the schema's
    /// position); 0 means every client sees everything.
    pub view_radius: u32,
    /// Most concurrent sessions; one more is told "server full".
    pub max_sessions: usize,
    /// Largest WebSocket message (and frame) a client may send, in bytes.
    pub max_message_bytes: usize,
    /// Time a new connection has to send its Hello, in milliseconds.
    pub hello_timeout_ms: u64,
    /// Snapshots may be sent this far (in milliseconds of ticks) ahead of the client's
    /// acks; past that the session waits and then sends one coalesced delta.
    pub send_window_ms: u64,
    /// Seconds between tick-timing summaries in the log.
    pub log_summary_secs: u64,
    /// Added one-way latency on every session, for testing netcode by hand (ms).
    pub sim_latency_ms: u64,
    /// Random extra latency of up to this many ms, on top of `sim_latency_ms`.
    pub sim_jitter_ms: u64,
    /// Longest chat line accepted, in characters.
    pub max_chat_chars: usize,
    /// Longest player name, in characters (longer ones are cut).
    pub max_name_chars: usize,
    /// Inputs per second a client may send on average (token bucket refill rate).
    pub input_rate_hz: u32,
    /// Inputs a client may send in a burst above the average.
    pub input_burst: u32,
    /// Chat lines a client may send per minute on average.
    pub chat_per_minute: u32,
    /// Chat lines a client may send in a burst.
    pub chat_burst: u32,
    /// A session that sends nothing (not even an ack) for this long is closed (ms).
    pub idle_timeout_ms: u64,
    /// Most simultaneous connections from one IP address.
    pub max_connections_per_ip: usize,
    /// Whether loopback addresses count against `max_connections_per_ip` (off by
    /// default, so local bots and a local reverse proxy are not capped).
    pub limit_loopback: bool,
    /// Web origins allowed to open a WebSocket (e.g. `https://game.example.com`), or `*`
    /// for any. Empty means: clients that send no Origin (native clients, bots) and pages
    /// served by this server itself.
    pub allowed_origins: Vec<String>,
    /// When set, Hello must carry a join token signed with this secret (HMAC-SHA256).
    pub auth_secret: Option<String>,
    /// Seconds a dropped player's avatar waits for the player to resume.
    pub resume_grace_secs: u64,
    /// PEM certificate chain; with `tls_key`, serve https and wss directly.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// A connection must become a WebSocket session (or finish its plain HTTP request)
    /// within this many ms of being accepted, or it is closed (ms).
    pub upgrade_timeout_ms: u64,
    /// Scheduling priority of the tick thread (best effort; the log says what it got).
    pub tick_priority: TickPriority,
    /// The game's own settings (the `[game]` table), read by `game_config`.
    pub game: toml::Table,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 7777,
            tick_hz: 30,
            view_radius: 0,
            max_sessions: 2000,
            max_message_bytes: 1024,
            hello_timeout_ms: 5000,
            send_window_ms: 500,
            log_summary_secs: 10,
            sim_latency_ms: 0,
            sim_jitter_ms: 0,
            max_chat_chars: 200,
            max_name_chars: 16,
            input_rate_hz: 60,
            input_burst: 30,
            chat_per_minute: 30,
            chat_burst: 5,
            idle_timeout_ms: 10_000,
            max_connections_per_ip: 16,
            limit_loopback: false,
            allowed_origins: Vec::new(),
            auth_secret: None,
            resume_grace_secs: 10,
            tls_cert: None,
            tls_key: None,
            upgrade_timeout_ms: 10_000,
            tick_priority: TickPriority::Realtime,
            game: toml::Table::new(),
        }
    }
}

/// Why a configuration could not be loaded or is unusable.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this struct.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file (or "built-in defaults").
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("invalid setting {field}: {message}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Why it is refused.
        message: String,
    },
}

impl Config {
    /// The built-in defaults (`assets/tickwire.toml`, compiled in).
    pub fn builtin() -> Result<Config, ConfigError> {
        Config::from_toml(DEFAULT_CONFIG_TOML, "built-in defaults")
    }

    /// Parses a TOML document; missing keys take `Config::default()`'s values.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Checks every value is in range, so the server never starts half-configured.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn bad(field: &'static str, message: &str) -> Result<(), ConfigError> {
            Err(ConfigError::Invalid {
                field,
                message: message.to_owned(),
            })
        }
        if !(1..=240).contains(&self.tick_hz) {
            return bad("tick_hz", "must be between 1 and 240");
        }
        if self.max_sessions == 0 {
            return bad("max_sessions", "must be at least 1");
        }
        if !(64..=tickwire_shared::codec::CLIENT_DECODE_LIMIT).contains(&self.max_message_bytes) {
            return bad(
                "max_message_bytes",
                "must be between 64 and the codec limit, 4096",
            );
        }
        if self.input_rate_hz == 0 || self.input_burst == 0 || self.chat_burst == 0 {
            return bad("input_rate_hz/input_burst/chat_burst", "must be at least 1");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return bad(
                "tls_cert/tls_key",
                "give both the certificate and the key, or neither",
            );
        }
        if self.auth_secret.as_deref().is_some_and(|s| s.len() < 16) {
            return bad("auth_secret", "must be at least 16 characters");
        }
        if self.max_name_chars == 0 || self.max_chat_chars == 0 {
            return bad("max_name_chars/max_chat_chars", "must be at least 1");
        }
        Ok(())
    }

    /// The game's settings, read from the `[game]` table into the game's config type
    /// (keys it leaves out keep that type's defaults; unknown keys are refused if the
    /// type says so).
    pub fn game_config<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.game
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: "[game] table".to_owned(),
                message: e.to_string(),
            })
    }

    /// One tick's duration.
    #[must_use]
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.tick_hz.max(1)))
    }

    /// How many snapshots may be in flight unacked (at least 2).
    #[must_use]
    pub fn send_window_ticks(&self) -> u32 {
        let ticks = (self.send_window_ms as f64 * f64::from(self.tick_hz) / 1000.0).ceil() as u32;
        ticks.max(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_asset_matches_the_struct_defaults() {
        assert_eq!(Config::builtin().unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let err = Config::from_toml("tick_hz = 30\ntickhz = 5\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("tickhz"), "{err}");
        let c = Config {
            tick_hz: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_game_table_is_read_into_the_games_type() {
        #[derive(Deserialize, Default, Debug, PartialEq)]
        #[serde(default, deny_unknown_fields)]
        struct G {
            width: u32,
            seed: u64,
        }
        let c = Config::from_toml("tick_hz = 20\n[game]\nwidth = 640\n", "x.toml").unwrap();
        assert_eq!(
            c.game_config::<G>().unwrap(),
            G {
                width: 640,
                seed: 0
            }
        );
        let c = Config::from_toml("[game]\nwidht = 1\n", "x.toml").unwrap();
        let err = c.game_config::<G>().unwrap_err().to_string();
        assert!(err.contains("widht"), "{err}");
        assert_eq!(Config::default().send_window_ticks(), 15);
    }
}
