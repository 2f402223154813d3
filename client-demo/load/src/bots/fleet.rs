//! The fleet: plans every bot (ramp slot, decode or count, seed), runs them all as tasks
//! on the current runtime, and folds their tallies into a `BotsSummary`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::behavior::Behavior;
use super::bot::{self, BotPlan};
use super::live::Live;
use super::summary::BotsSummary;
use super::tally::Tally;
use crate::rooms::Matchmaker;
use tickwire_client::{Mode, TlsTrust};
use tickwire_shared::process;

/// How to run a fleet of bots.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// The server's WebSocket URL, e.g. `ws://127.0.0.1:7777/ws`.
    pub url: String,
    /// Rooms to spread the bots over (bot i in room i mod N); empty: quick match.
    pub rooms: Vec<u32>,
    /// How many bots.
    pub count: usize,
    /// How long the whole run lasts, ramp included.
    pub duration: Duration,
    /// How the bots play.
    pub behavior: Behavior,
    /// Inputs per second per bot.
    pub input_hz: f64,
    /// How many bots fully decode and verify snapshots; the rest only count them.
    pub decode: usize,
    /// Time over which the bots' first connects are spread evenly.
    pub ramp: Duration,
    /// Time between pings of one bot (RTT samples).
    pub ping_period: Duration,
    /// How long one connect may take.
    pub connect_timeout: Duration,
    /// Seed for every bot's RNG (bot `i` uses `seed + i`), so runs can be repeated.
    pub seed: u64,
    /// The server's auth secret: each bot mints its own join token with it (for servers
    /// started with `--auth-secret`).
    pub auth_secret: Option<Arc<str>>,
    /// Whom to trust on `wss://` URLs; `None` trusts the system's CA certificates.
    pub tls: Option<TlsTrust>,
    /// Matchmake every session over HTTP (and connect where the seat is) instead of
    /// joining `url`.
    pub matchmaker: Option<Matchmaker>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            url: "ws://127.0.0.1:7777/ws".into(),
            rooms: Vec::new(),
            count: 10,
            duration: Duration::from_secs(60),
            behavior: Behavior::Arena,
            input_hz: 20.0,
            decode: 10,
            ramp: Duration::from_secs(1),
            ping_period: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            seed: 1,
            auth_secret: None,
            tls: None,
            matchmaker: None,
        }
    }
}

impl FleetConfig {
    /// The default ramp for `count` bots: 5 ms per bot (200 connects per second), so a
    /// thousand bots join over five seconds instead of in one burst.
    #[must_use]
    pub fn default_ramp(count: usize) -> Duration {
        Duration::from_millis(5 * count as u64)
    }

    /// When steady-state measurement starts, counted from the start: a second after the
    /// ramp, but never later than halfway through the run.
    #[must_use]
    pub fn measure_from(&self) -> Duration {
        (self.ramp + Duration::from_secs(1)).min(self.duration / 2)
    }

    /// The plan of bot `index`, for a run that starts at `t0`.
    #[must_use]
    pub fn plan(&self, index: usize, t0: Instant, url: &Arc<str>) -> BotPlan {
        let slot = if self.count > 1 {
            self.ramp.mul_f64(index as f64 / self.count as f64)
        } else {
            Duration::ZERO
        };
        let hz = if self.input_hz > 0.0 {
            self.input_hz
        } else {
            20.0
        };
        BotPlan {
            index,
            url: Arc::clone(url),
            behavior: self.behavior,
            mode: if index < self.decode {
                Mode::Mirror
            } else {
                Mode::CountOnly
            },
            input_period: Duration::from_secs_f64(1.0 / hz),
            ping_period: self.ping_period,
            start_at: t0 + slot,
            end_at: t0 + self.duration,
            measure_from: t0 + self.measure_from(),
            seed: self.seed.wrapping_add(index as u64),
            connect_timeout: self.connect_timeout,
            auth_secret: self.auth_secret.clone(),
            tls: self.tls.clone(),
            matchmaker: self.matchmaker.clone(),
        }
    }
}

/// Runs the fleet to its end (or `shutdown`) on the current tokio runtime, counting live
/// progress into `live`, and returns the summary.
pub async fn run(
    config: &FleetConfig,
    live: Arc<Live>,
    shutdown: CancellationToken,
) -> BotsSummary {
    let t0 = Instant::now();
    let cpu0 = process::usage().map(|u| u.cpu_seconds);
    let load0 = process::load_average();
    let urls: Vec<Arc<str>> = match config.rooms.as_slice() {
        [] => vec![Arc::from(config.url.as_str())],
        rooms => rooms
            .iter()
            .map(|&r| Arc::from(crate::rooms::room_url(&config.url, r).as_str()))
            .collect(),
    };
    let mut tasks = JoinSet::new();
    for index in 0..config.count {
        let plan = config.plan(index, t0, &urls[index % urls.len()]);
        tasks.spawn(bot::run(plan, Arc::clone(&live), shutdown.clone()));
    }
    let mut tallies = Vec::with_capacity(config.count);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(tally) => tallies.push(tally),
            Err(e) => {
                // A bot task panicked: count it as a failure rather than losing the run.
                let mut t = Tally::default();
                t.failed = 1;
                t.error(format!("bot task failed: {e}"));
                tallies.push(t);
            }
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut summary = BotsSummary::from_tallies(config.behavior.name(), &tallies, elapsed);
    summary.load_generator_cpu_pct = cpu0
        .zip(process::usage().map(|u| u.cpu_seconds))
        .filter(|_| elapsed > 0.0)
        .map(|(a, b)| (b - a) / elapsed * 100.0);
    summary.load_average = (load0, process::load_average());
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_spread_the_ramp_and_decode_only_the_first_bots() {
        let config = FleetConfig {
            count: 4,
            decode: 1,
            ramp: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            input_hz: 20.0,
            ..FleetConfig::default()
        };
        let t0 = Instant::now();
        let url: Arc<str> = Arc::from("ws://x/ws");
        let plans: Vec<BotPlan> = (0..4).map(|i| config.plan(i, t0, &url)).collect();
        assert_eq!(plans[0].mode, Mode::Mirror);
        assert!(plans[1..].iter().all(|p| p.mode == Mode::CountOnly));
        assert_eq!(plans[2].start_at - t0, Duration::from_secs(1));
        assert_eq!(plans[3].end_at - t0, Duration::from_secs(10));
        assert_eq!(plans[0].input_period, Duration::from_millis(50));
        assert_ne!(plans[0].seed, plans[1].seed);
        assert_eq!(FleetConfig::default_ramp(1000), Duration::from_secs(5));
        assert_eq!(plans[0].measure_from - t0, Duration::from_secs(3));
    }
}
