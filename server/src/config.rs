//! Engine configuration, defined once: each setting is one field of `Config`, whose doc
//! comment is both its documentation and its `--help` text. Its default lives in
//! `assets/tickwire.toml` (compiled in), a `--config FILE` overrides keys of it, and every
//! field is also a command-line flag (`--tick-hz`) and an environment variable
//! (`TICKWIRE_TICK_HZ`), derived from the field's name (`cli.rs` layers those). The
//! file's `[game]` table is the game's own section, read into the game's config type.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::thread_priority::TickPriority;

/// The built-in defaults: `assets/tickwire.toml`, which names every setting.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../assets/tickwire.toml");

/// Everything the server can be told. Field names are the TOML keys; the flags and
/// environment variables are derived from them (`max_sessions`: `--max-sessions`,
/// `TICKWIRE_MAX_SESSIONS`). To add a setting, add a field here and its default to
/// `assets/tickwire.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (0.0.0.0 for every interface).
    #[arg(long)]
    pub bind: IpAddr,
    /// TCP port to listen on; 0 picks a free one (printed at start).
    #[arg(long)]
    pub port: u16,
    /// Simulation ticks (and snapshots) per second.
    #[arg(long)]
    pub tick_hz: u32,
    /// Interest radius in world units around each player's own entity (by the schema's
    /// position), replacing the game's own view; 0 keeps the game's view (everything,
    /// unless the game declares an area).
    #[arg(long)]
    pub view_radius: u32,
    /// Most snapshot bytes per second each client is sent (0 = no limit). When a delta
    /// would cost more than one tick's share, the changed entities go by accumulated
    /// priority (the game's base priority, nearness, time waited) and the rest wait.
    #[arg(long)]
    pub budget_bytes_per_sec: u32,
    /// Most concurrent sessions; one more is told "server full".
    #[arg(long)]
    pub max_sessions: usize,
    /// Largest WebSocket message (and frame) a client may send, in bytes.
    #[arg(long)]
    pub max_message_bytes: usize,
    /// Time a new connection has to send its Hello, in milliseconds.
    #[arg(long)]
    pub hello_timeout_ms: u64,
    /// Snapshots may be sent this far (in milliseconds of ticks) ahead of the client's
    /// acks; past that the session waits and then sends one coalesced delta.
    #[arg(long)]
    pub send_window_ms: u64,
    /// Recent world snapshots the server keeps so `Server::snapshot_at` can answer for
    /// them (audits that compare a client's mirror with the server, as the tests do).
    /// Each costs about one world's state in memory; 0 keeps none.
    #[arg(long)]
    pub history_ticks: usize,
    /// How far back lag compensation may reach, in milliseconds: a player's input names
    /// the tick they were looking at, and the game judges their shots against the world
    /// then, but never further back than this (0 turns it off).
    #[arg(long)]
    pub rewind_ms: u32,
    /// Record every match to a new file in this directory (created if missing): each
    /// tick's joins, leaves and inputs, its snapshot's checksum, and a keyframe every
    /// 5 s, for `replay`. Unset: no recording.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Seconds between tick-timing summaries in the log (0 = never).
    #[arg(long)]
    pub log_summary_secs: u64,
    /// Added one-way latency on every session, for testing netcode by hand (ms).
    #[arg(long)]
    pub sim_latency_ms: u64,
    /// Random extra latency of up to this many ms, on top of `sim_latency_ms`.
    #[arg(long)]
    pub sim_jitter_ms: u64,
    /// Longest chat line accepted, in characters.
    #[arg(long)]
    pub max_chat_chars: usize,
    /// Longest player name, in characters (longer ones are cut).
    #[arg(long)]
    pub max_name_chars: usize,
    /// Inputs per second a client may send on average (token bucket refill rate); excess
    /// is dropped, and a client that keeps flooding is disconnected.
    #[arg(long)]
    pub input_rate_hz: u32,
    /// Inputs a client may send in a burst above the average.
    #[arg(long)]
    pub input_burst: u32,
    /// Chat lines a client may send per minute on average.
    #[arg(long)]
    pub chat_per_minute: u32,
    /// Chat lines a client may send in a burst.
    #[arg(long)]
    pub chat_burst: u32,
    /// A session that sends nothing (not even an ack) for this long is closed (ms).
    #[arg(long)]
    pub idle_timeout_ms: u64,
    /// Most simultaneous connections from one IP address.
    #[arg(long)]
    pub max_connections_per_ip: usize,
    /// Whether loopback addresses count against `max_connections_per_ip` (off by
    /// default, so local bots and a local reverse proxy are not capped).
    #[arg(long, action = clap::ArgAction::Set)]
    pub limit_loopback: bool,
    /// Web origins allowed to open a WebSocket (e.g. `https://game.example.com`, comma
    /// separated or repeated), or `*` for any. Empty means: clients that send no Origin
    /// (native clients, bots) and pages served by this server itself.
    #[arg(long = "allow-origin", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// When set, Hello must carry a join token signed with this secret (HMAC-SHA256; at
    /// least 16 characters). Mint tokens with `tickwire token`.
    #[arg(long, hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Seconds a dropped player's avatar waits for the player to resume.
    #[arg(long)]
    pub resume_grace_secs: u64,
    /// PEM certificate chain; with `tls_key`, serve https and wss directly.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// A connection must become a WebSocket session (or finish its plain HTTP request)
    /// within this many ms of being accepted, or it is closed: half-sent requests never
    /// pile up.
    #[arg(long)]
    pub upgrade_timeout_ms: u64,
    /// Most players in one room (seated, joining or parked for a resume); quick match
    /// opens another room past it. 0: as many as `max_sessions`.
    #[arg(long)]
    pub room_players: usize,
    /// How long a seat reserved by `POST /matchmake` waits for its client to connect,
    /// in seconds; unclaimed, it is freed.
    #[arg(long)]
    pub seat_reservation_secs: u64,
    /// Rooms given series of their own on `/metrics` (the busiest), so the series stay
    /// bounded however many rooms run.
    #[arg(long)]
    pub metrics_rooms: usize,
    /// Most spectators watching one room at once.
    #[arg(long)]
    pub room_spectators: usize,
    /// Events each room's feed keeps for readers that reconnect (`Last-Event-ID`).
    #[arg(long)]
    pub feed_events: usize,
    /// Longest a long poll of a room's feed waits for a new event, in seconds.
    #[arg(long)]
    pub feed_poll_secs: u64,
    /// Most feed readers (event streams and long polls) at once, over every room.
    #[arg(long)]
    pub max_feeds: usize,
    /// A room that has been empty this many seconds is disposed of (the server's first,
    /// standing room excepted).
    #[arg(long)]
    pub room_grace_secs: u64,
    /// Most rooms open at once; past it, asking for a new room is refused.
    #[arg(long)]
    pub max_rooms: usize,
    /// Threads that tick the rooms (each room on its own deadlines, on whichever thread
    /// is free); 0: one per core.
    #[arg(long)]
    pub tick_threads: usize,
    /// After SIGTERM (or Ctrl-C), how long running rooms may go on, in seconds: the
    /// server takes no new matches, closes rooms as they empty, and at the end says
    /// goodbye to whoever is left (in a cluster, with a Bye that sends them to matchmake
    /// again). 0: stop at once. A second signal always stops at once.
    #[arg(long)]
    pub drain_secs: u64,
    /// The room directory on Redis (`redis://host:6379/0`): this process registers
    /// itself and its rooms there, and `POST /matchmake` on any process of the cluster
    /// places players on the least loaded one. Unset: one process, no directory.
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// The base URL other processes and clients reach this one at
    /// (`http://10.0.0.7:7777`), as the directory lists it. Unset: the listen address
    /// (loopback when listening on every interface).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// A process's entry in the directory (and its rooms') lapses this many seconds
    /// after its last heartbeat (heartbeats go at a third of it), so a process that died
    /// drops out within this long.
    #[arg(long)]
    pub directory_ttl_secs: u64,
    /// Run as an Agones game server: Ready once it can take players, a Health ping every
    /// `agones_health_secs` while its rooms tick, labels with its room and player
    /// counts, Allocated when its first room fills, Shutdown once it is empty after its
    /// last match. Needs a build with the `agones` feature. `--agones` alone means
    /// `--agones true`.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub agones: bool,
    /// Seconds between Agones Health pings (keep it under the Fleet's
    /// `health.periodSeconds`).
    #[arg(long)]
    pub agones_health_secs: u64,
    /// Scheduling priority of the tick thread: realtime (the lowest SCHED_FIFO level),
    /// high (a raised nice level) or normal. Best effort: without the privilege it falls
    /// back, and the log says what it got.
    #[arg(long, value_enum)]
    pub tick_priority: TickPriority,
    /// The game's own settings (the `[game]` table), read by `game_config`; set from the
    /// command line with `--game-set KEY=VALUE`.
    #[arg(skip)]
    #[serde(default)]
    pub game: toml::Table,
}

impl Default for Config {
    /// The built-in defaults, `assets/tickwire.toml` (a test keeps that file complete).
    fn default() -> Config {
        Config::builtin().expect("the compiled-in assets/tickwire.toml is a complete config")
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

    /// Parses a TOML document over the built-in defaults: keys it names replace theirs
    /// (its `[game]` keys join the default `[game]` table), keys it leaves out keep them.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let parse = |text: &str, origin: &str| {
            toml::from_str::<toml::Table>(text).map_err(|e| ConfigError::Parse {
                path: origin.to_owned(),
                message: e.to_string(),
            })
        };
        let mut merged = parse(DEFAULT_CONFIG_TOML, "built-in defaults")?;
        for (key, value) in parse(text, origin)? {
            match (merged.get_mut(&key), value) {
                (Some(toml::Value::Table(base)), toml::Value::Table(over)) if key == "game" => {
                    base.extend(over);
                }
                (_, value) => {
                    merged.insert(key, value);
                }
            }
        }
        merged
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
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
        if self.max_rooms == 0 {
            return bad("max_rooms", "must be at least 1");
        }
        if self.directory_ttl_secs < 2 {
            return bad(
                "directory_ttl_secs",
                "must be at least 2 (heartbeats go at a third of it)",
            );
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://"))
        {
            return bad(
                "redis_url",
                "must be a redis:// (or rediss://) URL, such as redis://127.0.0.1:6379/0",
            );
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad(
                "public_url",
                "must be an http:// or https:// base URL, such as http://10.0.0.7:7777",
            );
        }
        if self.agones && !cfg!(feature = "agones") {
            return bad(
                "agones",
                "this tickwire was built without Agones support: build it with \
                 `cargo build --release --features agones` (which needs protoc, Debian's \
                 protobuf-compiler)",
            );
        }
        if self.agones && self.agones_health_secs == 0 {
            return bad("agones_health_secs", "must be at least 1");
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
    fn the_shipped_asset_names_every_setting() {
        // Deserialized alone, with no defaults behind it: a setting missing from the file
        // (other than the optional ones) fails here.
        let alone: Config = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(alone, Config::default());
        let over = Config::from_toml("port = 9\n[game]\nwidth = 5\n", "x.toml").unwrap();
        assert_eq!((over.port, over.tick_hz), (9, alone.tick_hz));
        assert_eq!(over.game.get("width"), Some(&toml::Value::Integer(5)));
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
