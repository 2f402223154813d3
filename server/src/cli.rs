//! The engine's command line: flags (each with a `TICKWIRE_*` environment variable)
//! layered over the config file over the built-in defaults. Any game's binary takes them
//! (`Cli`, or `EngineArgs` flattened into its own parser); `--game-set KEY=VALUE` sets a
//! key of the game's own `[game]` settings.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::config::{Config, ConfigError};

/// A Tickwire game server.
///
/// Settings come from the built-in defaults (assets/tickwire.toml), then --config FILE,
/// then the flags below. Every flag can also be given as an environment variable, e.g.
/// TICKWIRE_PORT=9000.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub struct Cli {
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The engine's settings.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The engine's flags, for any game's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// A TOML config file; keys it leaves out keep their defaults.
    #[arg(long, env = "TICKWIRE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).
    #[arg(long, env = "TICKWIRE_BIND")]
    pub bind: Option<IpAddr>,
    /// Port to listen on (default 7777); 0 picks a free port and prints it.
    #[arg(long, env = "TICKWIRE_PORT")]
    pub port: Option<u16>,
    /// Ticks (and snapshots) per second (default 30).
    #[arg(long, env = "TICKWIRE_TICK_HZ")]
    pub tick_hz: Option<u32>,
    /// Interest radius in world units around each player's entity; 0 (default) means
    /// everyone sees everything.
    #[arg(long, env = "TICKWIRE_VIEW_RADIUS")]
    pub view_radius: Option<u32>,
    /// Most concurrent sessions (default 2000); one more is told "server full".
    #[arg(long, env = "TICKWIRE_MAX_SESSIONS")]
    pub max_sessions: Option<usize>,
    /// Largest message a client may send, in bytes (default 1024).
    #[arg(long, env = "TICKWIRE_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Milliseconds a new connection has to send Hello (default 5000).
    #[arg(long, env = "TICKWIRE_HELLO_TIMEOUT_MS")]
    pub hello_timeout_ms: Option<u64>,
    /// How far ahead of a client's acks snapshots may run, in ms of ticks (default 500);
    /// beyond it the server waits and then sends one coalesced delta.
    #[arg(long, env = "TICKWIRE_SEND_WINDOW_MS")]
    pub send_window_ms: Option<u64>,
    /// Longest chat line in characters (default 200).
    #[arg(long, env = "TICKWIRE_MAX_CHAT_CHARS")]
    pub max_chat_chars: Option<usize>,
    /// Longest player name in characters (default 16).
    #[arg(long, env = "TICKWIRE_MAX_NAME_CHARS")]
    pub max_name_chars: Option<usize>,
    /// Seconds between tick-timing log lines (default 10; 0 = never).
    #[arg(long, env = "TICKWIRE_LOG_SUMMARY_SECS")]
    pub log_summary_secs: Option<u64>,
    /// Simulated one-way latency added to every session, in ms, for testing netcode by
    /// hand (default 0 = off).
    #[arg(long, env = "TICKWIRE_SIM_LATENCY_MS")]
    pub sim_latency_ms: Option<u64>,
    /// Random extra latency of up to this many ms on top of --sim-latency-ms (default 0).
    #[arg(long, env = "TICKWIRE_SIM_JITTER_MS")]
    pub sim_jitter_ms: Option<u64>,
    /// Inputs per second a client may send on average (default 60); excess is dropped,
    /// and a client that keeps flooding is disconnected.
    #[arg(long, env = "TICKWIRE_INPUT_RATE_HZ")]
    pub input_rate_hz: Option<u32>,
    /// Inputs a client may send in a burst above the average (default 30).
    #[arg(long, env = "TICKWIRE_INPUT_BURST")]
    pub input_burst: Option<u32>,
    /// Chat lines per minute per client on average (default 30).
    #[arg(long, env = "TICKWIRE_CHAT_PER_MINUTE")]
    pub chat_per_minute: Option<u32>,
    /// Chat lines a client may send in a burst (default 5).
    #[arg(long, env = "TICKWIRE_CHAT_BURST")]
    pub chat_burst: Option<u32>,
    /// Milliseconds without any message (not even an ack) before a session is closed
    /// (default 10000).
    #[arg(long, env = "TICKWIRE_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Milliseconds a connection has to become a WebSocket session or finish its plain
    /// HTTP request before it is closed (default 10000): half-sent requests never pile up.
    #[arg(long, env = "TICKWIRE_UPGRADE_TIMEOUT_MS")]
    pub upgrade_timeout_ms: Option<u64>,
    /// Most simultaneous connections from one IP address (default 16).
    #[arg(long, env = "TICKWIRE_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// Count loopback clients against --max-connections-per-ip too (by default they are
    /// exempt, so local bots and a local reverse proxy are not capped).
    #[arg(long, env = "TICKWIRE_LIMIT_LOOPBACK")]
    pub limit_loopback: Option<bool>,
    /// A web origin allowed to connect (repeatable), e.g. https://game.example.com, or *
    /// for any. Default: native clients (no Origin) and this server's own page.
    #[arg(
        long = "allow-origin",
        env = "TICKWIRE_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Require join tokens signed with this secret (HMAC-SHA256; at least 16
    /// characters). Mint tokens with `tickwire token`. Without it the server is open.
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Seconds a dropped player's avatar waits to be resumed (default 10).
    #[arg(long, env = "TICKWIRE_RESUME_GRACE_SECS")]
    pub resume_grace_secs: Option<u64>,
    /// PEM certificate chain: with --tls-key, serve https and wss directly.
    #[arg(long, env = "TICKWIRE_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// Scheduling priority of the tick thread: realtime (default; the lowest SCHED_FIFO
    /// level), high (a raised nice level) or normal. Best effort: without the privilege it
    /// falls back, and the log says what it got.
    #[arg(long, env = "TICKWIRE_TICK_PRIORITY", value_enum)]
    pub tick_priority: Option<crate::priority::TickPriority>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "TICKWIRE_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Sets one key of the game's own settings (the config file's [game] table), as a
    /// TOML value: --game-set width=800 --game-set name='"blue"' (repeatable).
    #[arg(
        long = "game-set",
        env = "TICKWIRE_GAME_SET",
        value_delimiter = ';',
        value_parser = parse_game_set,
        value_name = "KEY=VALUE"
    )]
    pub game_set: Vec<(String, toml::Value)>,
}

/// Subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Mint a join token for a server run with --auth-secret, and print it.
    Token {
        /// The server's auth secret (the same value as its --auth-secret).
        #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
        secret: String,
        /// The player name the token grants.
        #[arg(long)]
        name: String,
        /// How long the token is valid: seconds, or with a unit (90s, 30m, 12h, 7d).
        #[arg(long, default_value = "1h", value_parser = parse_duration_secs)]
        ttl: u64,
    },
}

/// Seconds from `90`, `90s`, `30m`, `12h` or `7d`.
pub fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 90s, 30m, 12h or 7d, got {s:?}"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use s, m, h or d)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| "duration too long".to_owned())
}

/// `KEY=VALUE` with a TOML value; a bare word that is not TOML is taken as a string.
fn parse_game_set(s: &str) -> Result<(String, toml::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("no key in {s:?}"));
    }
    let v = v.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(v.to_owned()));
    Ok((k.to_owned(), value))
}

/// `WIDTHxHEIGHT`, as two numbers.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let w = w
        .trim()
        .parse()
        .map_err(|e| format!("bad width {w:?}: {e}"))?;
    let h = h
        .trim()
        .parse()
        .map_err(|e| format!("bad height {h:?}: {e}"))?;
    Ok((w, h))
}

impl EngineArgs {
    /// The configuration file's settings (or the built-in defaults), before any flag.
    pub fn base_config(&self) -> Result<Config, ConfigError> {
        match &self.config {
            Some(path) => Config::from_file(path),
            None => Config::builtin(),
        }
    }

    /// Builds the configuration: defaults, then the file, then the flags.
    pub fn to_config(&self) -> Result<Config, ConfigError> {
        self.apply(self.base_config()?)
    }

    /// Applies the flags on top of `c` (a base config a launcher may have adjusted) and
    /// validates the result.
    pub fn apply(&self, mut c: Config) -> Result<Config, ConfigError> {
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { c.$field = v; } )* };
        }
        set!(
            bind,
            port,
            tick_hz,
            view_radius,
            max_sessions,
            max_message_bytes,
            hello_timeout_ms
        );
        set!(
            send_window_ms,
            max_chat_chars,
            max_name_chars,
            log_summary_secs,
            sim_latency_ms,
            sim_jitter_ms
        );
        set!(
            input_rate_hz,
            input_burst,
            chat_per_minute,
            chat_burst,
            idle_timeout_ms,
            max_connections_per_ip,
            limit_loopback,
            resume_grace_secs,
            tick_priority,
            upgrade_timeout_ms
        );
        if !self.allowed_origins.is_empty() {
            c.allowed_origins.clone_from(&self.allowed_origins);
        }
        if self.auth_secret.is_some() {
            c.auth_secret.clone_from(&self.auth_secret);
        }
        for (k, v) in &self.game_set {
            c.game.insert(k.clone(), v.clone());
        }
        // The flags replace the file's certificate and key as a pair, so one flag alone
        // fails validation instead of pairing with the other half from the file.
        if self.tls_cert.is_some() || self.tls_key.is_some() {
            c.tls_cert.clone_from(&self.tls_cert);
            c.tls_key.clone_from(&self.tls_key);
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_defaults_and_game_keys_reach_the_game_table() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "--tick-hz",
            "20",
            "--game-set",
            "width=300",
            "--game-set",
            "label=blue",
        ])
        .unwrap();
        let c = cli.engine.to_config().unwrap();
        assert_eq!(c.tick_hz, 20);
        assert_eq!(c.game.get("width"), Some(&toml::Value::Integer(300)));
        assert_eq!(
            c.game.get("label"),
            Some(&toml::Value::String("blue".into()))
        );
        assert!(Cli::try_parse_from(["tickwire", "--game-set", "novalue"]).is_err());
        let bad = Cli::try_parse_from(["tickwire", "--tick-hz", "0"]).unwrap();
        assert!(bad.engine.to_config().is_err());
        assert_eq!(parse_size("300x200"), Ok((300, 200)));
        assert!(parse_size("big").is_err());
    }

    #[test]
    fn every_hardening_flag_reaches_the_config() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "--input-rate-hz=11",
            "--input-burst=12",
            "--chat-per-minute=13",
            "--chat-burst=14",
            "--idle-timeout-ms=15",
            "--max-connections-per-ip=16",
            "--limit-loopback=true",
            "--resume-grace-secs=17",
            "--allow-origin=https://a.example,https://b.example",
            "--auth-secret=0123456789abcdef0123",
        ])
        .unwrap();
        let c = cli.engine.to_config().unwrap();
        assert_eq!(
            (
                c.input_rate_hz,
                c.input_burst,
                c.chat_per_minute,
                c.chat_burst,
                c.idle_timeout_ms
            ),
            (11, 12, 13, 14, 15)
        );
        assert_eq!(
            (
                c.max_connections_per_ip,
                c.limit_loopback,
                c.resume_grace_secs
            ),
            (16, true, 17)
        );
        assert_eq!(
            c.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.auth_secret.as_deref(), Some("0123456789abcdef0123"));
    }

    #[test]
    fn token_subcommand_and_durations_parse() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "token",
            "--secret",
            "0123456789abcdef",
            "--name",
            "ann",
            "--ttl",
            "30m",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Token { ttl: 1800, .. })
        ));
        assert_eq!(parse_duration_secs("7d"), Ok(604_800));
        assert!(parse_duration_secs("5 parsecs").is_err());
    }
}
