//! The soak run itself: start (or find) the server, ramp the bots up in-process, sample
//! `/stats` every second into a time series, then judge and write the report.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::config::{SoakConfig, Target};
use super::error::SoakError;
use super::figures::{Figures, Moments};
use super::report_html;
use super::series::{ClientSide, Point};
use super::server_process::{SERVER_BIN, ServerProcess, find_binary, http_base};
use super::stats_client::StatsClient;
use super::summary::SoakSummary;
use crate::bots::{BotsSummary, FleetConfig, Live, fleet};
use crate::rooms::RoomFigures;
use tickwire_shared::stats::ServerStats;

/// How long the server may take to print its address and answer `/stats`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one `/stats` request may take.
const STATS_TIMEOUT: Duration = Duration::from_secs(3);

/// Consecutive failed `/stats` requests after which the run is abandoned.
const MAX_STATS_FAILURES: u32 = 5;

/// Runs a soak as configured, writes `summary.json` and `report.html` (and `server.log`
/// when it started the server) into the report directory, and returns the summary.
/// Thresholds missed are reported in the summary (`passed: false`), not as an error.
pub async fn run(
    config: &SoakConfig,
    shutdown: CancellationToken,
) -> Result<SoakSummary, SoakError> {
    let dir = &config.report_dir;
    std::fs::create_dir_all(dir).map_err(|source| SoakError::Write {
        path: dir.clone(),
        source,
    })?;
    let log = dir.join("server.log");
    let (mut server, url, stats_url) = match &config.target {
        Target::Spawn { server_bin, .. } => {
            let bin = find_binary(SERVER_BIN, server_bin.as_deref())?;
            let server = ServerProcess::start(
                &bin,
                &config.server_args(),
                &config.server_env(),
                &log,
                STARTUP_TIMEOUT,
            )
            .await?;
            let url = server.ws_url.clone();
            let stats = format!("{}/stats", http_base(&url).unwrap_or_default());
            (Some(server), url, stats)
        }
        Target::Running { url, stats_url } => (None, url.clone(), stats_url.clone()),
    };
    let measured = match StatsClient::new(&stats_url, STATS_TIMEOUT, config.tls.as_ref()) {
        Ok(stats) => measure(config, &url, &stats, server.as_mut(), &log, shutdown).await,
        Err(e) => Err(e),
    };
    if let Some(server) = server {
        server.stop(Duration::from_secs(5)).await;
    }
    let summary = measured?;
    write_report(&summary, dir)?;
    Ok(summary)
}

/// Writes `summary.json` and `report.html` into `dir`.
pub fn write_report(summary: &SoakSummary, dir: &Path) -> Result<(), SoakError> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| SoakError::Write { path, source })
    };
    write("summary.json", summary.to_json()?)?;
    write("report.html", report_html::render(summary)?)?;
    Ok(())
}

/// Reads `/stats` until the server answers (it may still be binding), up to
/// `STARTUP_TIMEOUT`.
async fn stats_when_ready(stats: &StatsClient) -> Result<ServerStats, SoakError> {
    let give_up = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match stats.get().await {
            Ok(r) => return Ok(r),
            Err(e) if Instant::now() >= give_up => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn progress_bar(config: &SoakConfig) -> ProgressBar {
    if !config.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(config.duration.as_secs().max(1));
    let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn progress_message(p: &Point, bots: usize) -> String {
    let f = |v: Option<f64>, d: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.d$}"));
    format!(
        "bots {}/{bots} | tick p99 {} ms | late p99 {} ms | overruns {} | RSS {} MiB | CPU {}% | desyncs {}",
        p.bots_connected,
        f(p.tick_p99_ms, 2),
        f(p.lateness_p99_ms, 2),
        f(p.overruns, 0),
        f(p.rss_mib, 1),
        f(p.cpu_pct, 0),
        p.desyncs
    )
}

async fn measure(
    config: &SoakConfig,
    url: &str,
    stats: &StatsClient,
    mut server: Option<&mut ServerProcess>,
    log: &Path,
    shutdown: CancellationToken,
) -> Result<SoakSummary, SoakError> {
    let start = stats_when_ready(stats).await?;
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));

    let live = Arc::new(Live::default());
    let rooms = match config.rooms {
        0 => Vec::new(),
        n => crate::rooms::open_rooms(
            url,
            n,
            config.room_type.as_deref(),
            config.auth_secret.as_deref(),
            config.tls.as_ref(),
        )
        .await
        .map_err(|message| SoakError::Stats {
            url: url.to_owned(),
            message: format!("opening {n} rooms: {message}"),
        })?,
    };
    let fleet_config = FleetConfig {
        rooms,
        url: url.to_owned(),
        count: config.bots,
        duration: config.duration,
        behavior: config.behavior,
        input_hz: config.input_hz,
        decode: config.decode,
        ramp: config.ramp(),
        seed: config.seed,
        auth_secret: config.auth_secret.as_deref().map(Arc::from),
        tls: config.tls.clone(),
        ..FleetConfig::default()
    };
    let stop_bots = shutdown.child_token();
    let fleet_live = Arc::clone(&live);
    let fleet_stop = stop_bots.clone();
    let mut fleet =
        tokio::spawn(async move { fleet::run(&fleet_config, fleet_live, fleet_stop).await });

    let t0 = Instant::now();
    let bar = progress_bar(config);
    let period = config.sample_period;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // The last sample is taken before the bots start leaving, so "the end" is under load.
    let last_sample_at = config.duration.saturating_sub(period / 2);
    let warmup_s = config.warmup_s();
    let mut points: Vec<Point> = Vec::new();
    let mut prev = (start.clone(), ClientSide::default(), 0.0_f64);
    let mut failures = 0;
    let mut rooms: Option<RoomFigures> = None;
    let mut room_list = Vec::new();

    let client: BotsSummary = loop {
        tokio::select! {
            done = &mut fleet => {
                break done.unwrap_or_else(|e| BotsSummary {
                    errors: vec![(format!("bot fleet failed: {e}"), 1)],
                    failed: config.bots as u64,
                    ..BotsSummary::default()
                });
            }
            _ = ticker.tick() => {}
        }
        if server.as_mut().is_some_and(|s| s.has_exited()) {
            stop_bots.cancel();
            return Err(SoakError::ServerExited {
                log: log.to_owned(),
            });
        }
        let elapsed = t0.elapsed();
        if elapsed > last_sample_at {
            continue;
        }
        let reading = match stats.get().await {
            Ok(r) => {
                failures = 0;
                r
            }
            Err(e) => {
                failures += 1;
                if failures >= MAX_STATS_FAILURES {
                    stop_bots.cancel();
                    return Err(e);
                }
                continue;
            }
        };
        // Each room's own timing since it opened, read once, at the last sample (while
        // the bots still play).
        if elapsed + period > last_sample_at
            && let Ok(listing) = crate::rooms::list_rooms(url, config.tls.as_ref()).await
        {
            rooms = Some(RoomFigures::of(&listing));
            room_list = listing;
        }
        let t = t0.elapsed().as_secs_f64();
        let l = live.read();
        let side = ClientSide {
            connected: l.connected,
            desyncs: l.desyncs,
            snapshots: l.snapshots,
        };
        let point = Point::new(t, t - prev.2, (&reading, side), (&prev.0, prev.1), &start);
        bar.set_position(elapsed.as_secs());
        bar.set_message(progress_message(&point, config.bots));
        points.push(point);
        prev = (reading, side, t);
    };
    bar.finish_and_clear();

    let (end, measured_s) = (&prev.0, prev.2);
    let figures = Figures::compute(
        Moments { start: &start, end },
        measured_s,
        warmup_s,
        &points,
        client.desyncs,
        client.failed,
    );
    let verdicts = config.thresholds.evaluate(&figures, rooms.as_ref());
    let server_threads = end.process.map(|p| p.threads).filter(|&t| t > 0);
    Ok(SoakSummary {
        scenario: config.scenario.clone(),
        behavior: config.behavior.name().to_owned(),
        bots: config.bots,
        duration_s: config.duration.as_secs_f64(),
        url: url.to_owned(),
        stats_url: stats.url().to_owned(),
        started_unix_ms,
        passed: verdicts.iter().all(|v| v.passed),
        figures,
        client,
        thresholds: config.thresholds.clone(),
        verdicts,
        series: points,
        rooms,
        room_list,
        server_threads,
    })
}
