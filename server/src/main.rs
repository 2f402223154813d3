//! The `tickwire` binary: parses flags, sets up logging, binds the port and runs the
//! server until SIGINT or SIGTERM.

use anyhow::Context;
use clap::Parser;
use tickwire_server::cli::{Cli, Command};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    match serve() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Our error messages already quote their cause; add only causes not yet said.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1).map(ToString::to_string) {
                if !msg.contains(&cause) {
                    msg = format!("{msg}: {cause}");
                }
            }
            eprintln!("tickwire: error: {msg}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Parses the command line and serves until a signal (or mints a token and returns).
fn serve() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Token { secret, name, ttl }) = &cli.command {
        let expires = tickwire_server::auth::unix_now().saturating_add(*ttl);
        println!("{}", tickwire_server::auth::mint(secret, name, expires));
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // A panic in a session task ends that session only (its drop guard removes the
    // player); make sure it is logged like any other error, with the thread it hit.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        tracing::error!(thread = thread.name().unwrap_or("unnamed"), "panic: {info}");
    }));
    let config = cli.to_config()?;
    raise_open_file_limit(config.max_sessions);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind((config.bind, config.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", config.bind, config.port))?;
        let addr = listener
            .local_addr()
            .context("reading the listen address")?;
        let shutdown = CancellationToken::new();
        let (scenario, tick_hz, tls, auth) = (
            config.scenario.name(),
            config.tick_hz,
            config.tls_cert.is_some(),
            config.auth_secret.is_some(),
        );
        // Start first, so a bad certificate or setting fails before any URL is printed.
        let server = tickwire_server::Server::start(listener, config, shutdown.clone())?;
        println!("Tickwire ({scenario} scenario, {tick_hz} Hz) listening on {addr}");
        let (http, ws) = if tls {
            ("https", "wss")
        } else {
            ("http", "ws")
        };
        println!("  play:      {http}://{addr}/");
        println!("  websocket: {ws}://{addr}/ws");
        println!("  health:    {http}://{addr}/healthz   metrics: {http}://{addr}/metrics");
        if auth {
            println!("  joining requires a signed token (mint one with `tickwire token`)");
        } else {
            println!("  open server: anyone may join (set --auth-secret to require join tokens)");
        }
        tokio::spawn(stop_on_signal(shutdown));
        server.wait().await?;
        info!("stopped");
        Ok(())
    })
}

/// Descriptors the server needs besides one per session: listener, logs, connections
/// still upgrading, the runtime's own.
const FD_HEADROOM: u64 = 256;

/// Raises the soft open-file limit to the hard one (many systems start processes at
/// 1024, which would refuse connections long before `--max-sessions`), and warns if
/// even that is too low for `max_sessions`.
fn raise_open_file_limit(max_sessions: usize) {
    let needed = max_sessions as u64 + FD_HEADROOM;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed => warn!(
            limit,
            needed,
            "the open-file limit is below --max-sessions plus headroom: connections past it \
             fail with \"too many open files\"; raise the hard limit (ulimit -Hn) or lower \
             --max-sessions"
        ),
        Ok(limit) => debug!(limit, "open-file limit"),
        Err(e) => warn!("cannot read or raise the open-file limit: {e}"),
    }
}

/// Cancels `shutdown` on SIGINT (Ctrl-C) or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    info!("shutting down: telling every client goodbye");
    shutdown.cancel();
}
