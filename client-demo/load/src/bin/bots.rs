//! `bots`: run a fleet of headless Tickwire clients against a server and summarise what
//! they saw (connections, snapshot rates and gaps, RTT, bandwidth, desyncs). Exits
//! non-zero when no bot could connect or any desync was seen.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tickwire_load::bots::runtime::{cancel_on_ctrl_c, load_runtime, raise_open_file_limit};
use tickwire_load::bots::{Live, PlayArgs, fleet, progress};
use tokio_util::sync::CancellationToken;

/// Run headless bots against a Tickwire server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The server's WebSocket URL.
    #[arg(long, env = "TICKWIRE_URL", default_value = "ws://127.0.0.1:7777/ws")]
    url: String,
    /// How many bots.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// How long to run, ramp included (e.g. 30s, 10m).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Seconds between progress lines (0 for none).
    #[arg(long, default_value_t = 5)]
    progress_every: u64,
    /// Print the summary as JSON on stdout (progress still goes to stderr).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    play: PlayArgs,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    tickwire_load::log_to_stderr();
    // One socket per bot, plus stdio, the runtime's own and a margin.
    raise_open_file_limit(args.count + 64);
    let runtime = load_runtime(args.play.threads).context("building the tokio runtime")?;

    let mut config = args
        .play
        .fleet(args.url.clone(), args.count, args.duration)
        .context("--ca-cert")?;
    runtime
        .block_on(args.play.open_rooms(&args.url, &mut config))
        .map_err(anyhow::Error::msg)
        .context("--rooms")?;
    if !config.rooms.is_empty() {
        eprintln!("bots: spread over rooms {:?}", config.rooms);
    }
    let summary = runtime.block_on(async {
        let shutdown = cancel_on_ctrl_c();
        let live = Arc::new(Live::default());
        let stop_progress = CancellationToken::new();
        if args.progress_every > 0 {
            tokio::spawn(progress::print_every(
                Arc::clone(&live),
                args.count,
                Duration::from_secs(args.progress_every),
                stop_progress.clone(),
            ));
        }
        let summary = fleet::run(&config, live, shutdown).await;
        stop_progress.cancel();
        summary
    });

    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("bots summary ({})", args.url);
        print!("{}", summary.to_text());
    }
    if summary.bots_connected == 0 && summary.bots > 0 {
        eprintln!("no bot could connect to {}", args.url);
        return Ok(ExitCode::FAILURE);
    }
    if summary.desyncs > 0 {
        eprintln!(
            "{} desyncs: a mirrored view disagreed with the server",
            summary.desyncs
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
