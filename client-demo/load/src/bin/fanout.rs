//! `fanout`: chat broadcast to many clients. Starts a Tickwire server, connects the
//! clients, lets a few of them chat at a fixed rate, and reports deliveries per second,
//! deliveries lost, and send-to-delivery latency.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use tickwire_load::bots::runtime::{load_runtime, raise_open_file_limit};
use tickwire_load::fanout::{FanoutConfig, FanoutReport, run};
use tickwire_load::floor::compare::pinned;
use tickwire_load::soak::server_process::{SERVER_BIN, ServerProcess, find_binary};

/// Measure chat fan-out: every line to every connected client.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Connected clients, senders included; each receives every line.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// How many clients send.
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Chat lines per second, all senders together.
    #[arg(long, default_value_t = 50.0)]
    lines_per_s: f64,
    /// How long the senders send.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// The server's scenario (its snapshots keep flowing during the run).
    #[arg(long, default_value = "arena")]
    scenario: String,
    /// Pin the server to this CPU (with `taskset`); run this tool on another, e.g.
    /// `taskset -c 1 fanout --server-cpu 0`.
    #[arg(long)]
    server_cpu: Option<usize>,
    /// The Tickwire server binary (default: `tickwire` next to this binary).
    #[arg(long, env = "TICKWIRE_SERVER_BIN")]
    server_bin: Option<PathBuf>,
    /// Extra server argument (repeatable), e.g. `--server-arg=--tick-hz --server-arg=20`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// The server's log.
    #[arg(long, default_value = "fanout-server.log")]
    log: PathBuf,
    /// Runtime worker threads for the clients.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tickwire_load::log_to_stderr();
    if args.senders == 0 || args.senders > args.clients || args.lines_per_s <= 0.0 {
        bail!("need 1 to --clients senders and a positive --lines-per-s");
    }
    raise_open_file_limit(args.clients + 64);
    let runtime = load_runtime(args.threads).context("building the tokio runtime")?;
    let report = runtime.block_on(bench(&args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&args, &report);
    }
    if report.lost > 0 {
        bail!(
            "{} of {} deliveries were lost",
            report.lost,
            report.expected
        );
    }
    Ok(())
}

async fn bench(args: &Args) -> anyhow::Result<FanoutReport> {
    let bin = find_binary(SERVER_BIN, args.server_bin.as_deref())?;
    // Each sender's own chat limit, with room to spare: the benchmark measures delivery,
    // not the rate limit.
    let per_sender_per_min = (args.lines_per_s / args.senders as f64 * 60.0 * 2.0).ceil();
    let server_args = [
        "--port",
        "0",
        "--scenario",
        &args.scenario,
        "--max-sessions",
        &(args.clients + 16).to_string(),
        "--chat-per-minute",
        &format!("{per_sender_per_min}"),
        "--chat-burst",
        "10",
    ]
    .map(str::to_owned);
    let mut server_args = server_args.to_vec();
    server_args.extend(args.server_args.iter().cloned());
    let (program, server_args) = pinned(args.server_cpu, &bin, server_args);
    let server = ServerProcess::start(
        &program,
        &server_args,
        &[],
        &args.log,
        Duration::from_secs(20),
    )
    .await?;
    let config = FanoutConfig {
        url: server.ws_url.clone(),
        clients: args.clients,
        senders: args.senders,
        lines_per_s: args.lines_per_s,
        duration: args.duration,
    };
    let report = run(&config).await;
    server.stop(Duration::from_secs(5)).await;
    report.map_err(anyhow::Error::msg)
}

fn print(args: &Args, r: &FanoutReport) {
    println!(
        "chat fan-out: {} clients ({} sending {} lines/s), {} scenario, {:.0} s",
        r.clients,
        args.senders,
        args.lines_per_s,
        args.scenario,
        args.duration.as_secs_f64()
    );
    println!(
        "  lines sent {}  deliveries {} of {} ({} lost)",
        r.lines_sent, r.delivered, r.expected, r.lost
    );
    println!("  deliveries/s {:.0}", r.deliveries_per_s);
    println!(
        "  latency p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms",
        r.latency_p50_ms, r.latency_p99_ms, r.latency_p999_ms, r.latency_max_ms
    );
}
