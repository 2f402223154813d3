//! Running a game as a process: the `main` of any Tickwire game binary. Parses the
//! engine's command line (or takes a config a launcher built), sets up logging, raises the
//! open-file limit, binds the port, prints where to connect, and serves until SIGINT or
//! SIGTERM.
//!
//! ```no_run
//! # use tickwire_server::game::Game;
//! # fn demo<MyGame: Game>() -> std::process::ExitCode {
//! tickwire_server::launch::main::<MyGame>()
//! # }
//! ```

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use tracing_subscriber::EnvFilter;

use crate::app::{Server, ServerError, Stopper};
use crate::cli::{Cli, Command, EngineArgs, ReplayArgs};
use crate::config::Config;
use crate::game::Game;
use crate::replay::{Playback, ReplayError};
use crate::rooms::RoomTypes;

/// The whole `main` of a game binary: the engine's flags (`tickwire_server::cli::Cli`),
/// the game's settings from the config file's `[game]` table and `--game-set`.
#[must_use]
pub fn main<G: Game>() -> ExitCode {
    let cli = Cli::parse();
    if let Some(command) = &cli.command {
        return run_command::<G>(command, &cli.engine);
    }
    let built = cli
        .engine
        .to_config()
        .map_err(ServerError::from)
        .and_then(|config| {
            let game = config.game_config::<G::Config>()?;
            Ok((config, game))
        });
    match built {
        Ok((config, game)) => exit(serve::<G>(config, game)),
        Err(e) => exit(Err(e)),
    }
}

/// Runs a subcommand (minting a join token, replaying a recording of game `G` with the
/// engine settings `engine`) and says how it went.
#[must_use]
pub fn run_command<G: Game>(command: &Command, engine: &EngineArgs) -> ExitCode {
    match command {
        Command::Token { secret, name, ttl } => {
            let expires = crate::auth::unix_now().saturating_add(ttl.as_secs());
            println!("{}", crate::auth::mint(secret, name, expires));
            ExitCode::SUCCESS
        }
        Command::Replay(args) => exit(
            engine
                .to_config()
                .map_err(ServerError::from)
                .and_then(|config| replay::<G>(config, args)),
        ),
    }
}

/// Replays a recording of game `G`: checks it headless (`--verify`, printing what it
/// found; an error when any tick differs), or serves it to viewers until a signal.
pub fn replay<G: Game>(config: Config, args: &ReplayArgs) -> Result<(), ServerError> {
    if args.verify {
        let v = crate::replay::verify::<G>(&args.file)?;
        println!(
            "replayed {} ticks ({} keyframes) of {} from {}",
            v.ticks,
            v.keyframes,
            v.game,
            args.file.display()
        );
        if let Some(first) = v.mismatches.first() {
            for m in &v.mismatches {
                println!("  tick {}: {}", m.tick.0, m.what);
            }
            return Err(ReplayError::Diverged {
                mismatched: v.mismatched,
                ticks: v.ticks,
                first: first.clone(),
            }
            .into());
        }
        println!("every tick equals the recording");
        return Ok(());
    }
    let playback = Playback::<G>::open(&args.file)?;
    let (first, last) = playback.span();
    let what = format!(
        "  replay:    {} ticks {}..{} at {} Hz; steer it at /replay",
        args.file.display(),
        first.0,
        last.0,
        playback.header().tick_hz
    );
    run(
        config,
        G::NAME,
        Some(what),
        move |listener, config, shutdown| Server::replay::<G>(listener, config, playback, shutdown),
    )
}

/// Prints an error the way every Tickwire binary does and picks the exit code.
#[must_use]
pub fn exit(result: Result<(), ServerError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickwire: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves game `G` with `config` and `game` until a signal: logging to stderr (`RUST_LOG`
/// filters it, `info` by default), the URLs on stdout.
pub fn serve<G: Game>(config: Config, game: G::Config) -> Result<(), ServerError> {
    let types = RoomTypes::new().add::<G>(G::NAME, config.clone(), game);
    serve_rooms(config, types, G::NAME)
}

/// Serves the room types `types` (`default` names the first) with `config` until a
/// signal, as `serve` does.
pub fn serve_rooms(config: Config, types: RoomTypes, default: &str) -> Result<(), ServerError> {
    let recording = config.record.as_ref().map(|dir| {
        format!(
            "  recording: every room's match, to a new file each in {}",
            dir.display()
        )
    });
    let names = types.names().join(", ");
    let rooms = format!(
        "  rooms:     {names} (list them at /rooms; join one with /ws?room=ID or /ws?type=NAME)"
    );
    let extra = Some(match recording {
        Some(r) => format!("{rooms}\n{r}"),
        None => rooms,
    });
    let default = default.to_owned();
    run(
        config,
        &default,
        extra,
        move |listener, config, shutdown| Server::start_rooms(listener, config, types, shutdown),
    )
}

/// Sets up logging and the runtime, binds, starts the server `start` makes, prints where
/// to connect (and `extra`), and serves until a signal.
fn run(
    config: Config,
    game: &str,
    extra: Option<String>,
    start: impl FnOnce(TcpListener, Config, CancellationToken) -> Result<Server, ServerError>,
) -> Result<(), ServerError> {
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
    raise_open_file_limit(config.max_sessions);
    let io = |context| move |source| ServerError::Io { context, source };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io("starting the async runtime"))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind((config.bind, config.port))
            .await
            .map_err(io("binding the listen address (is the port free?)"))?;
        let addr = listener
            .local_addr()
            .map_err(io("reading the listen address"))?;
        let shutdown = CancellationToken::new();
        let (tick_hz, tls, auth) = (
            config.tick_hz,
            config.tls_cert.is_some(),
            config.auth_secret.is_some(),
        );
        // Start first, so a bad certificate or setting fails before any URL is printed.
        let server = start(listener, config, shutdown.clone())?;
        println!("Tickwire ({game} game, {tick_hz} Hz) listening on {addr}");
        let (http, ws) = if tls {
            ("https", "wss")
        } else {
            ("http", "ws")
        };
        println!("  play:      {http}://{addr}/");
        println!("  websocket: {ws}://{addr}/ws");
        println!("  health:    {http}://{addr}/healthz   metrics: {http}://{addr}/metrics");
        println!("  schema:    {http}://{addr}/schema");
        if let Some(extra) = extra {
            println!("{extra}");
        }
        if auth {
            println!("  joining requires a signed token (mint one with `tickwire token`)");
        } else {
            println!("  open server: anyone may join (set --auth-secret to require join tokens)");
        }
        tokio::spawn(stop_on_signal(server.stopper()));
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

/// On the first SIGINT (Ctrl-C) or SIGTERM, drains (stops at once when `drain_secs` is
/// 0); on the second, stops at once.
async fn stop_on_signal(stopper: Stopper) {
    signalled().await;
    stopper.drain();
    signalled().await;
    info!("a second signal: stopping now");
    stopper.stop();
}

/// The next SIGINT or SIGTERM.
async fn signalled() {
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
}
