//! Command-line flags shared by `bots` and `soak`: how the bots play (`PlayArgs`), and
//! within it how they get into a locked-down server (`AccessArgs`: the auth secret they
//! mint their join tokens with, and the CA file to trust on `wss://`/`https://`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::behavior::Behavior;
use super::fleet::FleetConfig;
use tickwire_client::{TlsTrust, TlsTrustError};

/// How the bots play and run.
#[derive(Clone, Debug, clap::Args)]
pub struct PlayArgs {
    /// How the bots play: arena, wander, chase, idle or churn.
    #[arg(long, default_value = "arena")]
    pub behavior: Behavior,
    /// Inputs per second per bot.
    #[arg(long, default_value_t = 20.0)]
    pub input_hz: f64,
    /// How many bots fully decode and verify snapshots (the rest count bytes and
    /// arrival times only, so the load generator stays cheap).
    #[arg(long, default_value_t = 10)]
    pub decode: usize,
    /// Spread the bots' first connects over this long (default: 5 ms per bot).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub ramp: Option<Duration>,
    /// Seed of the bots' random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Runtime worker threads for the bots; 1 keeps the load generator on one core.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Open this many new rooms on the server (`POST /rooms`) and spread the bots over
    /// them, bot i in room i mod N; 0: every bot quick-matches.
    #[arg(long, default_value_t = 0)]
    pub rooms: usize,
    /// The type of the rooms `--rooms` opens, or `--matchmake` asks for (default: the
    /// server's default type).
    #[arg(long, value_name = "TYPE")]
    pub room_type: Option<String>,
    /// Matchmake every session through these servers' `POST /matchmake` (http(s)://
    /// base URLs, comma separated; each bot starts at a different one and tries the
    /// next when one fails) and connect where the seat is, instead of joining the URL:
    /// a cluster's bots land on whichever process holds their room, and matchmake
    /// again when a session drops or a draining server relocates them.
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub matchmake: Vec<String>,
    /// How the bots get in: the server's auth secret and the CA to trust.
    #[command(flatten)]
    pub access: AccessArgs,
}

impl PlayArgs {
    /// The fleet these flags describe: `count` bots playing on `url` for `duration`,
    /// ramped over `--ramp` (default: 5 ms per bot, at most half the run).
    ///
    /// # Errors
    /// `--ca-cert` naming a file that is not a PEM of certificates.
    pub fn fleet(
        &self,
        url: String,
        count: usize,
        duration: Duration,
    ) -> Result<FleetConfig, TlsTrustError> {
        Ok(FleetConfig {
            url,
            count,
            duration,
            behavior: self.behavior,
            input_hz: self.input_hz,
            decode: self.decode,
            ramp: self
                .ramp
                .unwrap_or_else(|| FleetConfig::default_ramp(count))
                .min(duration / 2),
            seed: self.seed,
            auth_secret: self.access.auth_secret.as_deref().map(Arc::from),
            tls: self.access.trust()?,
            ..FleetConfig::default()
        })
    }

    /// Opens the rooms `--rooms` asks for on the server behind `url` (none when it is 0)
    /// and gives them to `fleet`.
    ///
    /// # Errors
    /// The server refused a room or could not be reached.
    pub async fn open_rooms(&self, url: &str, fleet: &mut FleetConfig) -> Result<(), String> {
        if !self.matchmake.is_empty() {
            if self.rooms > 0 {
                return Err(
                    "--rooms and --matchmake: give one (matchmaking picks the rooms)".to_owned(),
                );
            }
            fleet.matchmaker = Some(crate::rooms::Matchmaker::new(
                &self.matchmake,
                self.room_type.clone(),
                self.access.auth_secret.as_deref().map(Arc::from),
                fleet.tls.as_ref(),
            )?);
            return Ok(());
        }
        if self.rooms == 0 {
            return Ok(());
        }
        fleet.rooms = crate::rooms::open_rooms(
            url,
            self.rooms,
            self.room_type.as_deref(),
            self.access.auth_secret.as_deref(),
            fleet.tls.as_ref(),
        )
        .await?;
        Ok(())
    }
}

/// `--auth-secret` and `--ca-cert`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AccessArgs {
    /// The server's auth secret, for a server run with --auth-secret: each bot mints its
    /// own join token (for its name, bot-N) with it.
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// A PEM file of CA certificates to trust for wss:// and https:// URLs, besides the
    /// system's: a private CA, or a self-signed server's own certificate.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
}

impl AccessArgs {
    /// The trust `--ca-cert` asks for; `None` (the system's CA certificates) without it.
    pub fn trust(&self) -> Result<Option<TlsTrust>, TlsTrustError> {
        self.ca_cert
            .as_deref()
            .map(TlsTrust::with_ca_file)
            .transpose()
    }
}
