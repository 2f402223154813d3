//! Tickwire against the floor, in the same run: a Tickwire server under bots, then the
//! floor server under the traffic that run measured, each its own process (optionally
//! pinned to one core), their CPU time read from `/proc` over the same steady window.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::driver::{self, Counts};
use super::server::Traffic;
use crate::bots::{BotsSummary, FleetConfig, Live, fleet};
use crate::soak::SoakError;
use crate::soak::figures::median;
use crate::soak::server_process::{SERVER_BIN, ServerError, ServerProcess, find_binary, http_base};
use crate::soak::stats_client::StatsClient;
use tickwire_shared::process::usage_of;
use tickwire_shared::stats::ServerStats;

/// How long a server may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The steady window starts this long after the last client has connected.
const SETTLE: Duration = Duration::from_secs(2);

/// And ends this long before the clients stop.
const TAIL: Duration = Duration::from_secs(1);

/// How one comparison runs.
#[derive(Clone, Debug)]
pub struct CompareConfig {
    /// The Tickwire server's scenario (`arena`, …).
    pub scenario: String,
    /// The Tickwire server binary; `None` finds `tickwire` beside this executable.
    pub server_bin: Option<PathBuf>,
    /// The floor server: this tool's own binary, run as `floor serve`.
    pub floor_bin: PathBuf,
    /// Pin both servers to this CPU (through `taskset`), so each has one core.
    pub server_cpu: Option<usize>,
    /// Rounds, each one Tickwire run and one floor run.
    pub rounds: usize,
    /// The bots for the Tickwire runs (`url` is filled in); their count and duration are
    /// the floor runs' too.
    pub fleet: FleetConfig,
    /// Where the servers' logs go.
    pub log_dir: PathBuf,
}

/// One server's figures over the steady window.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Measured {
    /// Seconds the window lasted.
    pub window_s: f64,
    /// Clients connected.
    pub clients: u64,
    /// Server CPU seconds (user + system) per second.
    pub cpu_s_per_s: f64,
    /// What each client was sent and sent back.
    pub traffic: Traffic,
    /// Payload bytes sent per client per second.
    pub bytes_per_client_s: f64,
}

/// One round: Tickwire, then the floor under the same traffic.
#[derive(Clone, Debug, Serialize)]
pub struct Round {
    /// The Tickwire server.
    pub tickwire: Measured,
    /// The floor server.
    pub floor: Measured,
    /// Tickwire's CPU over the floor's.
    pub cpu_ratio: f64,
    /// Desyncs the decoding bots saw.
    pub desyncs: u64,
    /// The slowest bot's snapshots per second.
    pub slowest_bot_snapshots_per_s: Option<f64>,
    /// Floor clients that failed to connect or were cut off.
    pub floor_failures: u64,
}

/// Every round, and the medians.
#[derive(Clone, Debug, Serialize)]
pub struct FloorReport {
    /// The scenario measured.
    pub scenario: String,
    /// Clients per run.
    pub clients: usize,
    /// Whether the servers were pinned, and to which CPU.
    pub server_cpu: Option<usize>,
    /// The rounds in order.
    pub rounds: Vec<Round>,
    /// Median CPU ratio.
    pub median_cpu_ratio: f64,
    /// Median Tickwire CPU, seconds per second.
    pub median_tickwire_cpu: f64,
    /// Median floor CPU, seconds per second.
    pub median_floor_cpu: f64,
    /// Median Tickwire bytes per client per second.
    pub median_tickwire_bytes_per_client_s: f64,
}

/// Why a comparison could not be made.
#[derive(Debug, Error)]
pub enum FloorError {
    /// A server could not be found or started.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The Tickwire server's `/stats` could not be read.
    #[error(transparent)]
    Stats(#[from] SoakError),
    /// The log directory could not be made.
    #[error("creating {dir}: {source}")]
    Logs {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A server's CPU time could not be read from `/proc`.
    #[error("cannot read the {0} server's CPU time from /proc")]
    NoUsage(&'static str),
    /// The run is too short to have a steady window after the ramp.
    #[error("the run is too short: {duration:?} leaves no steady window after a {ramp:?} ramp")]
    TooShort {
        /// The run's length.
        duration: Duration,
        /// The ramp.
        ramp: Duration,
    },
    /// A run measured no traffic.
    #[error("the {0} run measured no traffic (no client connected?)")]
    NoTraffic(&'static str),
}

/// Runs `config.rounds` rounds and reports them with their medians.
///
/// # Errors
/// A server not starting, `/stats` or `/proc` unreadable, a run too short to measure.
pub async fn compare(
    config: &CompareConfig,
    shutdown: &CancellationToken,
) -> Result<FloorReport, FloorError> {
    let f = &config.fleet;
    if f.duration <= f.ramp + SETTLE + TAIL + Duration::from_secs(1) {
        return Err(FloorError::TooShort {
            duration: f.duration,
            ramp: f.ramp,
        });
    }
    std::fs::create_dir_all(&config.log_dir).map_err(|source| FloorError::Logs {
        dir: config.log_dir.clone(),
        source,
    })?;
    let mut rounds = Vec::new();
    for round in 0..config.rounds.max(1) {
        if shutdown.is_cancelled() {
            break;
        }
        let (tickwire, bots) = tickwire_run(config, round, shutdown).await?;
        let (floor, floor_failures) = floor_run(config, round, tickwire.traffic, shutdown).await?;
        rounds.push(Round {
            cpu_ratio: tickwire.cpu_s_per_s / floor.cpu_s_per_s.max(1e-9),
            tickwire,
            floor,
            desyncs: bots.desyncs,
            slowest_bot_snapshots_per_s: bots.snapshots_per_s.min,
            floor_failures,
        });
    }
    let median =
        |pick: fn(&Round) -> f64| median(rounds.iter().map(pick).collect()).unwrap_or(f64::NAN);
    Ok(FloorReport {
        scenario: config.scenario.clone(),
        clients: f.count,
        server_cpu: config.server_cpu,
        median_cpu_ratio: median(|r| r.cpu_ratio),
        median_tickwire_cpu: median(|r| r.tickwire.cpu_s_per_s),
        median_floor_cpu: median(|r| r.floor.cpu_s_per_s),
        median_tickwire_bytes_per_client_s: median(|r| r.tickwire.bytes_per_client_s),
        rounds,
    })
}

/// `bin args…`, under `taskset -c cpu` when pinned.
pub fn pinned(cpu: Option<usize>, bin: &Path, args: Vec<String>) -> (PathBuf, Vec<String>) {
    match cpu {
        None => (bin.to_owned(), args),
        Some(cpu) => {
            let mut all = vec!["-c".to_owned(), cpu.to_string(), bin.display().to_string()];
            all.extend(args);
            (PathBuf::from("taskset"), all)
        }
    }
}

/// When the steady window opens and closes, from the clients' start.
fn window(f: &FleetConfig, t0: Instant) -> (Instant, Instant) {
    (t0 + f.ramp + SETTLE, t0 + f.duration - TAIL)
}

/// A CPU reading of `pid`, with its time.
fn cpu_now(pid: u32, which: &'static str) -> Result<(Instant, f64), FloorError> {
    let usage = usage_of(pid).ok_or(FloorError::NoUsage(which))?;
    Ok((Instant::now(), usage.cpu_seconds))
}

/// One Tickwire run: its server under the bots, measured over the steady window.
async fn tickwire_run(
    config: &CompareConfig,
    round: usize,
    shutdown: &CancellationToken,
) -> Result<(Measured, BotsSummary), FloorError> {
    let bin = find_binary(SERVER_BIN, config.server_bin.as_deref())?;
    let args = ["--port", "0", "--scenario", &config.scenario].map(str::to_owned);
    let (program, args) = pinned(config.server_cpu, &bin, args.to_vec());
    let log = config.log_dir.join(format!("tickwire-{round}.log"));
    let server = ServerProcess::start(&program, &args, &[], &log, STARTUP_TIMEOUT).await?;
    let pid = server.pid().ok_or(FloorError::NoUsage("tickwire"))?;
    let stats_url = format!("{}/stats", http_base(&server.ws_url).unwrap_or_default());
    let stats = StatsClient::new(
        &stats_url,
        Duration::from_secs(3),
        config.fleet.tls.as_ref(),
    )?;
    let fleet_config = FleetConfig {
        url: server.ws_url.clone(),
        ..config.fleet.clone()
    };
    let t0 = Instant::now();
    let (open, close) = window(&fleet_config, t0);
    let stop = shutdown.child_token();
    let bots = tokio::spawn({
        let stop = stop.clone();
        async move { fleet::run(&fleet_config, Arc::new(Live::default()), stop).await }
    });
    let measured = async {
        tokio::time::sleep_until(open).await;
        let (ta, cpu_a) = cpu_now(pid, "tickwire")?;
        let a = stats.get().await?;
        tokio::time::sleep_until(close).await;
        let (tb, cpu_b) = cpu_now(pid, "tickwire")?;
        let b = stats.get().await?;
        tickwire_figures(&a, &b, (tb - ta).as_secs_f64(), cpu_b - cpu_a)
    }
    .await;
    if measured.is_err() {
        stop.cancel();
    }
    let bots = bots
        .await
        .unwrap_or_else(|e| panic!("the bot fleet panicked: {e}"));
    server.stop(Duration::from_secs(5)).await;
    Ok((measured?, bots))
}

/// Tickwire's figures from two `/stats` readings `secs` apart and its CPU seconds.
fn tickwire_figures(
    a: &ServerStats,
    b: &ServerStats,
    secs: f64,
    cpu: f64,
) -> Result<Measured, FloorError> {
    let clients = b.sessions;
    let per_client_s = |d: u64| d as f64 / secs / clients.max(1) as f64;
    let mean = |bytes: u64, msgs: u64| (bytes as f64 / msgs.max(1) as f64).round() as usize;
    let (out_msgs, out_bytes) = (
        b.messages_sent - a.messages_sent,
        b.bytes_sent - a.bytes_sent,
    );
    let (in_msgs, in_bytes) = (
        b.messages_received - a.messages_received,
        b.bytes_received - a.bytes_received,
    );
    if clients == 0 || out_msgs == 0 {
        return Err(FloorError::NoTraffic("tickwire"));
    }
    Ok(Measured {
        window_s: secs,
        clients,
        cpu_s_per_s: cpu / secs,
        traffic: Traffic {
            out_hz: per_client_s(out_msgs),
            out_bytes: mean(out_bytes, out_msgs),
            in_hz: per_client_s(in_msgs),
            in_bytes: mean(in_bytes, in_msgs),
        },
        bytes_per_client_s: per_client_s(out_bytes),
    })
}

/// One floor run under `traffic`, with as many clients and as long as the Tickwire run.
async fn floor_run(
    config: &CompareConfig,
    round: usize,
    traffic: Traffic,
    shutdown: &CancellationToken,
) -> Result<(Measured, u64), FloorError> {
    let args = vec![
        "serve".to_owned(),
        "--out-hz".to_owned(),
        traffic.out_hz.to_string(),
        "--out-bytes".to_owned(),
        traffic.out_bytes.to_string(),
    ];
    let (program, args) = pinned(config.server_cpu, &config.floor_bin, args);
    let log = config.log_dir.join(format!("floor-{round}.log"));
    let server = ServerProcess::start(&program, &args, &[], &log, STARTUP_TIMEOUT).await?;
    let pid = server.pid().ok_or(FloorError::NoUsage("floor"))?;
    let f = &config.fleet;
    let counts = Arc::new(Counts::default());
    let stop = shutdown.child_token();
    let t0 = Instant::now();
    let (open, close) = window(f, t0);
    let clients = tokio::spawn(driver::run(
        server.ws_url.clone(),
        f.count,
        f.ramp,
        traffic,
        counts.clone(),
        stop.clone(),
    ));
    let measured = async {
        tokio::time::sleep_until(open).await;
        let (ta, cpu_a) = cpu_now(pid, "floor")?;
        let bytes_a = Counts::get(&counts.received_bytes);
        let (msgs_a, sent_a) = (Counts::get(&counts.received), Counts::get(&counts.sent));
        tokio::time::sleep_until(close).await;
        let (tb, cpu_b) = cpu_now(pid, "floor")?;
        let secs = (tb - ta).as_secs_f64();
        let connected = Counts::get(&counts.connected);
        let per_client_s = |d: u64| d as f64 / secs / connected.max(1) as f64;
        let (msgs, bytes) = (
            Counts::get(&counts.received) - msgs_a,
            Counts::get(&counts.received_bytes) - bytes_a,
        );
        if connected == 0 || msgs == 0 {
            return Err(FloorError::NoTraffic("floor"));
        }
        Ok(Measured {
            window_s: secs,
            clients: connected,
            cpu_s_per_s: (cpu_b - cpu_a) / secs,
            traffic: Traffic {
                out_hz: per_client_s(msgs),
                out_bytes: (bytes as f64 / msgs as f64).round() as usize,
                in_hz: per_client_s(Counts::get(&counts.sent) - sent_a),
                in_bytes: traffic.in_bytes,
            },
            bytes_per_client_s: per_client_s(bytes),
        })
    }
    .await;
    tokio::time::sleep_until(t0 + f.duration).await;
    stop.cancel();
    let _ = clients.await;
    server.stop(Duration::from_secs(5)).await;
    Ok((measured?, Counts::get(&counts.failed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_server_runs_under_taskset_and_an_unpinned_one_as_it_is() {
        let args = vec!["--port".to_owned(), "0".to_owned()];
        let (program, all) = pinned(Some(0), Path::new("/bin/tickwire"), args.clone());
        assert_eq!(program, PathBuf::from("taskset"));
        assert_eq!(all, ["-c", "0", "/bin/tickwire", "--port", "0"]);
        let (program, all) = pinned(None, Path::new("/bin/tickwire"), args.clone());
        assert_eq!((program, all), (PathBuf::from("/bin/tickwire"), args));
    }
}
