//! `floor`: what moving the arena's bytes costs with no engine, beside what Tickwire
//! costs, in the same run. `floor` runs the rounds; `floor serve` is the floor server it
//! starts (and that can be run by hand).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tickwire_load::bots::PlayArgs;
use tickwire_load::bots::runtime::{cancel_on_ctrl_c, load_runtime, raise_open_file_limit};
use tickwire_load::floor::{CompareConfig, FloorReport, Traffic, compare, server};

/// Measure Tickwire's server CPU against the floor: the same bytes, no engine.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    serve: Option<Serve>,
    /// Clients (bots for Tickwire, plain WebSocket clients for the floor).
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// How long each run lasts, ramp included.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Rounds (each one Tickwire run and one floor run); medians are reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The Tickwire server's scenario.
    #[arg(long, default_value = "arena")]
    scenario: String,
    /// Pin both servers to this CPU (with `taskset`); run this tool on another, e.g.
    /// `taskset -c 1 floor --server-cpu 0`.
    #[arg(long)]
    server_cpu: Option<usize>,
    /// The Tickwire server binary (default: `tickwire` next to this binary).
    #[arg(long, env = "TICKWIRE_SERVER_BIN")]
    server_bin: Option<PathBuf>,
    /// Directory for the servers' logs.
    #[arg(long, default_value = "floor-logs")]
    logs: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    play: PlayArgs,
}

#[derive(Debug, Subcommand)]
enum Serve {
    /// Run the floor server: every client gets one OUT_BYTES message OUT_HZ times a
    /// second; what clients send is read and dropped.
    Serve {
        /// Messages per second to each client.
        #[arg(long, default_value_t = 30.0)]
        out_hz: f64,
        /// Size of each message.
        #[arg(long, default_value_t = 3000)]
        out_bytes: usize,
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    tickwire_load::log_to_stderr();
    raise_open_file_limit(args.clients + 64);
    if let Some(Serve::Serve {
        out_hz,
        out_bytes,
        port,
    }) = args.serve
    {
        return serve(out_hz, out_bytes, port);
    }
    let runtime = load_runtime(args.play.threads).context("building the tokio runtime")?;
    let config = CompareConfig {
        scenario: args.scenario.clone(),
        server_bin: args.server_bin.clone(),
        floor_bin: std::env::current_exe().context("finding this binary")?,
        server_cpu: args.server_cpu,
        rounds: args.rounds,
        // Each round fills in its server's URL.
        fleet: args
            .play
            .fleet(String::new(), args.clients, args.duration)
            .context("--ca-cert")?,
        log_dir: args.logs.clone(),
    };
    let report = runtime.block_on(async { compare(&config, &cancel_on_ctrl_c()).await })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", to_text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the floor server until Ctrl-C or SIGTERM, printing its URL first.
fn serve(out_hz: f64, out_bytes: usize, port: u16) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("building the tokio runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{port}"))?;
        let addr = listener.local_addr()?;
        println!("floor server on ws://{addr}/ws ({out_bytes} B at {out_hz:.2} Hz to each client)");
        let traffic = Traffic {
            out_hz,
            out_bytes,
            in_hz: 0.0,
            in_bytes: 0,
        };
        let shutdown = cancel_on_ctrl_c();
        server::serve(listener, traffic, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The report as a terminal table: each round, then the medians.
fn to_text(r: &FloorReport) -> String {
    let pin = r
        .server_cpu
        .map_or("not pinned".to_owned(), |c| format!("pinned to CPU {c}"));
    let mut out = format!(
        "{} scenario, {} clients, servers {pin}\n",
        r.scenario, r.clients
    );
    out.push_str(
        "round  tickwire CPU  floor CPU  ratio  bytes/client/s  out msg/s  out B  in msg/s  in B  desyncs  slowest bot\n",
    );
    for (i, round) in r.rounds.iter().enumerate() {
        let t = &round.tickwire;
        out.push_str(&format!(
            "{:>5}  {:>10.4}    {:>8.4}  {:>5.2}  {:>14.0}  {:>9.1}  {:>5}  {:>8.1}  {:>4}  {:>7}  {}\n",
            i + 1,
            t.cpu_s_per_s,
            round.floor.cpu_s_per_s,
            round.cpu_ratio,
            t.bytes_per_client_s,
            t.traffic.out_hz,
            t.traffic.out_bytes,
            t.traffic.in_hz,
            t.traffic.in_bytes,
            round.desyncs,
            round
                .slowest_bot_snapshots_per_s
                .map_or("-".to_owned(), |s| format!("{s:.1} snapshots/s")),
        ));
    }
    out.push_str(&format!(
        "median: tickwire {:.4} s/s, floor {:.4} s/s, ratio {:.2}x; {:.0} B/client/s\n",
        r.median_tickwire_cpu,
        r.median_floor_cpu,
        r.median_cpu_ratio,
        r.median_tickwire_bytes_per_client_s
    ));
    out
}
