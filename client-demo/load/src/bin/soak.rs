//! `soak`: load a Tickwire server with bots for a while, sample its metrics, write
//! DIR/summary.json and DIR/report.html, and exit non-zero naming every threshold missed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tickwire_load::bots::PlayArgs;
use tickwire_load::bots::runtime::{cancel_on_ctrl_c, load_runtime, raise_open_file_limit};
use tickwire_load::soak::{self, SoakConfig, Target, Thresholds};

/// Soak-test a Tickwire server and report tick stability, bandwidth and memory.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How many bots.
    #[arg(long, default_value_t = 500)]
    bots: usize,
    /// How long to run, ramp included (e.g. 60s, 10m).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Scenario to start the server with (demo, arena, crowd, cubes).
    #[arg(long, default_value = "arena")]
    scenario: String,
    /// Measure RSS growth from this point on (default: the later of 20% of the run and
    /// the end of the ramp).
    #[arg(long, value_parser = humantime::parse_duration)]
    warmup: Option<Duration>,
    /// Directory for summary.json, report.html and server.log.
    #[arg(long, default_value = "soak-report")]
    report: PathBuf,
    /// The server binary to start (default: `tickwire` next to this binary).
    #[arg(long, env = "TICKWIRE_SERVER_BIN")]
    server_bin: Option<PathBuf>,
    /// Server tick rate (passed as --tick-hz; default: the scenario's).
    #[arg(long)]
    tick_hz: Option<u32>,
    /// NPC count (passed as --npcs; default: the scenario's).
    #[arg(long)]
    npcs: Option<u32>,
    /// Server seed (passed as --seed).
    #[arg(long)]
    server_seed: Option<u64>,
    /// Extra server argument (repeatable), e.g. --server-arg=--max-sessions --server-arg=2000.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// Target a running server at this WebSocket URL instead of starting one.
    #[arg(long, requires = "stats_url")]
    url: Option<String>,
    /// The running server's `/stats` URL (with --url), e.g. http://host:7777/stats.
    #[arg(long, requires = "url")]
    stats_url: Option<String>,
    /// Fail if the run's tick duration p99 exceeds this many milliseconds.
    #[arg(long, default_value_t = Thresholds::default().max_tick_p99_ms)]
    max_tick_p99_ms: f64,
    /// Fail if the run's tick-start lateness p99 exceeds this many milliseconds.
    #[arg(long, default_value_t = Thresholds::default().max_lateness_p99_ms)]
    max_lateness_p99_ms: f64,
    /// Fail if more ticks than this overran their period.
    #[arg(long, default_value_t = Thresholds::default().max_overruns)]
    max_overruns: u64,
    /// Fail if server RSS grew more than this percentage from warm-up to the end.
    #[arg(long, default_value_t = Thresholds::default().max_rss_growth_pct)]
    max_rss_growth_pct: f64,
    /// Fail if the decoding bots saw more desyncs than this.
    #[arg(long, default_value_t = Thresholds::default().max_desyncs)]
    max_desyncs: u64,
    /// Fail if more bot connection attempts than this failed.
    #[arg(long, default_value_t = Thresholds::default().max_failed_connects)]
    max_failed_connects: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    play: PlayArgs,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    tickwire_load::log_to_stderr();
    let target = match (args.url, args.stats_url) {
        (Some(url), Some(stats_url)) => Target::Running { url, stats_url },
        _ => Target::Spawn {
            server_bin: args.server_bin,
            extra_args: args.server_args,
            tick_hz: args.tick_hz,
            npcs: args.npcs,
            seed: args.server_seed,
        },
    };
    let config = SoakConfig {
        bots: args.bots,
        duration: args.duration,
        scenario: args.scenario,
        behavior: args.play.behavior,
        input_hz: args.play.input_hz,
        decode: args.play.decode,
        ramp: args.play.ramp,
        warmup: args.warmup,
        report_dir: args.report,
        target,
        thresholds: Thresholds {
            max_tick_p99_ms: args.max_tick_p99_ms,
            max_lateness_p99_ms: args.max_lateness_p99_ms,
            max_overruns: args.max_overruns,
            max_rss_growth_pct: args.max_rss_growth_pct,
            max_desyncs: args.max_desyncs,
            max_failed_connects: args.max_failed_connects,
        },
        seed: args.play.seed,
        progress: !args.quiet,
        tls: args.play.access.trust().context("--ca-cert")?,
        auth_secret: args.play.access.auth_secret,
        rooms: args.play.rooms,
        room_type: args.play.room_type,
        ..SoakConfig::default()
    };
    // One socket per bot, the scrapes, the server's pipes, and a margin.
    raise_open_file_limit(config.bots + 64);
    let runtime = load_runtime(args.play.threads).context("building the tokio runtime")?;

    let summary = runtime.block_on(async {
        let shutdown = cancel_on_ctrl_c();
        soak::run::run(&config, shutdown).await
    })?;

    print!("{}", soak::table::to_text(&summary));
    println!(
        "report: {}",
        config.report_dir.join("report.html").display()
    );
    if summary.passed {
        return Ok(ExitCode::SUCCESS);
    }
    // A missed threshold is a verdict, not a crash: name each one, exit 1, no backtrace.
    eprintln!("soak failed:");
    for v in summary.failures() {
        eprintln!("  {}", v.detail);
    }
    Ok(ExitCode::FAILURE)
}
