//! How to run a soak: the load, the server (spawned or already running), the report
//! directory and the thresholds.

use std::path::PathBuf;
use std::time::Duration;

use super::thresholds::Thresholds;
use crate::bots::Behavior;
use tickwire_client::TlsTrust;

/// Which server the soak measures.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Start the server binary as a child process on a free port.
    Spawn {
        /// The binary; `None` finds `tickwire` next to the running executable.
        server_bin: Option<PathBuf>,
        /// Extra arguments appended to the server's command line.
        extra_args: Vec<String>,
        /// Passed as `--tick-hz` when set.
        tick_hz: Option<u32>,
        /// Passed as `--npcs` when set.
        npcs: Option<u32>,
        /// Passed as `--seed` when set.
        seed: Option<u64>,
    },
    /// Measure a server that is already running.
    Running {
        /// Its WebSocket URL.
        url: String,
        /// Its `/stats` URL.
        stats_url: String,
    },
}

/// Everything a soak run needs.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// Bots to run.
    pub bots: usize,
    /// Length of the run, ramp included.
    pub duration: Duration,
    /// The scenario to start the server with (and to name in the report).
    pub scenario: String,
    /// How the bots play.
    pub behavior: Behavior,
    /// Inputs per second per bot.
    pub input_hz: f64,
    /// Bots that fully decode and verify snapshots.
    pub decode: usize,
    /// Ramp over which the bots connect; `None` picks 5 ms per bot.
    pub ramp: Option<Duration>,
    /// The point from which RSS growth is measured; `None` picks the later of 20% into
    /// the run and the end of the ramp.
    pub warmup: Option<Duration>,
    /// Time between metrics samples.
    pub sample_period: Duration,
    /// Where summary.json, report.html and server.log go.
    pub report_dir: PathBuf,
    /// The server to measure.
    pub target: Target,
    /// Pass/fail limits.
    pub thresholds: Thresholds,
    /// Seed of the bots' RNGs.
    pub seed: u64,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
    /// The server's auth secret: the bots mint their join tokens with it, and a spawned
    /// server is started with it.
    pub auth_secret: Option<String>,
    /// Whom the bots and the metrics scraper trust on `wss://` and `https://`; `None`
    /// trusts the system's CA certificates.
    pub tls: Option<TlsTrust>,
    /// Rooms to open and spread the bots over (0: every bot quick-matches).
    pub rooms: usize,
    /// The type of those rooms (`None`: the server's default).
    pub room_type: Option<String>,
}

impl Default for SoakConfig {
    fn default() -> Self {
        SoakConfig {
            bots: 50,
            duration: Duration::from_secs(60),
            scenario: "arena".into(),
            behavior: Behavior::Arena,
            input_hz: 20.0,
            decode: 10,
            ramp: None,
            warmup: None,
            sample_period: Duration::from_secs(1),
            report_dir: PathBuf::from("soak-report"),
            target: Target::Spawn {
                server_bin: None,
                extra_args: Vec::new(),
                tick_hz: None,
                npcs: None,
                seed: None,
            },
            thresholds: Thresholds::default(),
            seed: 1,
            progress: true,
            auth_secret: None,
            tls: None,
            rooms: 0,
            room_type: None,
        }
    }
}

impl SoakConfig {
    /// The ramp in force.
    #[must_use]
    pub fn ramp(&self) -> Duration {
        self.ramp
            .unwrap_or_else(|| crate::bots::FleetConfig::default_ramp(self.bots))
            .min(self.duration / 2)
    }

    /// The warm-up point in force, seconds into the run.
    #[must_use]
    pub fn warmup_s(&self) -> f64 {
        match self.warmup {
            Some(w) => w.as_secs_f64(),
            None => (self.duration.as_secs_f64() * 0.2).max(self.ramp().as_secs_f64()),
        }
    }

    /// Environment variables for a spawned server: the auth secret goes there rather than
    /// on the command line, where any user of the machine could read it.
    #[must_use]
    pub fn server_env(&self) -> Vec<(String, String)> {
        self.auth_secret
            .iter()
            .map(|s| ("TICKWIRE_AUTH_SECRET".to_owned(), s.clone()))
            .collect()
    }

    /// The server's command line for `Target::Spawn`.
    #[must_use]
    pub fn server_args(&self) -> Vec<String> {
        let mut args = vec![
            "--port".to_owned(),
            "0".to_owned(),
            "--scenario".to_owned(),
            self.scenario.clone(),
        ];
        if let Target::Spawn {
            extra_args,
            tick_hz,
            npcs,
            seed,
            ..
        } = &self.target
        {
            let mut push = |flag: &str, v: Option<String>| {
                if let Some(v) = v {
                    args.push(flag.to_owned());
                    args.push(v);
                }
            };
            push("--tick-hz", tick_hz.map(|v| v.to_string()));
            push("--npcs", npcs.map(|v| v.to_string()));
            push("--seed", seed.map(|v| v.to_string()));
            args.extend(extra_args.iter().cloned());
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_is_a_fifth_of_the_run_or_the_ramp_whichever_is_later() {
        let ten_min = SoakConfig {
            bots: 200,
            duration: Duration::from_secs(600),
            ..SoakConfig::default()
        };
        assert_eq!(ten_min.warmup_s(), 120.0);
        let short = SoakConfig {
            bots: 1000,
            duration: Duration::from_secs(15),
            ..SoakConfig::default()
        };
        // A 5 s ramp outlasts 20% of 15 s.
        assert_eq!(short.ramp(), Duration::from_secs(5));
        assert_eq!(short.warmup_s(), 5.0);
    }

    #[test]
    fn server_args_forward_the_scenario_settings() {
        let c = SoakConfig {
            scenario: "crowd".into(),
            target: Target::Spawn {
                server_bin: None,
                extra_args: vec!["--max-sessions".into(), "2000".into()],
                tick_hz: Some(60),
                npcs: None,
                seed: Some(3),
            },
            ..SoakConfig::default()
        };
        assert_eq!(
            c.server_args(),
            [
                "--port",
                "0",
                "--scenario",
                "crowd",
                "--tick-hz",
                "60",
                "--seed",
                "3",
                "--max-sessions",
                "2000"
            ]
        );
    }
}
