//! The server: binds the HTTP routes (`/ws`, `/healthz`, `/metrics`, the browser demo at
//! `/`) on one port, starts the tick thread, and runs until the shutdown token fires,
//! then waits for every session to say goodbye.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use thiserror::Error;
use tickwire_shared::{ArenaInfo, ByeCode, Tick, WorldSnapshot};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use crate::config::{Config, ConfigError};
use crate::frame::{Frame, History};
use crate::game::Game;
use crate::lobby::Lobby;
use crate::metrics::Metrics;
use crate::net_ids::NetIds;
use crate::replication::BodyCache;
use crate::session;
use crate::tick_loop::TickLoop;

/// How long `wait` gives sessions to send their goodbyes after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(1500);

/// Why the server could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A socket or thread operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The tick thread panicked.
    #[error("the tick thread panicked")]
    TickThreadPanicked,
}

/// State shared by every session.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Input slots and the join/leave queue.
    pub lobby: Arc<Lobby>,
    /// The newest frame.
    pub frames: watch::Receiver<Arc<Frame>>,
    /// Chat and events, encoded once, for every session.
    pub broadcast: broadcast::Sender<Bytes>,
    /// Shared encodings of full-view delta bodies.
    pub cache: BodyCache,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Fires when the server stops.
    pub shutdown: CancellationToken,
    /// One permit per session (the session cap).
    pub permits: Arc<Semaphore>,
    /// Tracks session tasks so shutdown can wait for their goodbyes.
    pub tracker: TaskTracker,
    /// Net id allocator (avatars get theirs at Hello).
    pub ids: NetIds,
    /// What Welcome tells clients about the arena.
    pub arena: ArenaInfo,
}

/// A running server.
pub struct Server {
    /// Where it listens.
    addr: SocketAddr,
    /// Shared state.
    app: Arc<App>,
    /// Recent snapshots.
    history: Arc<History>,
    /// The HTTP server task.
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The tick thread.
    tick_thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts serving on `listener`: spawns the tick thread and the HTTP server. Stops
    /// when `shutdown` is cancelled; `wait` then returns once everything has ended.
    pub fn start(
        listener: TcpListener,
        config: Config,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let addr = listener.local_addr().map_err(|source| ServerError::Io {
            context: "reading the listen address",
            source,
        })?;
        let ids = NetIds::default();
        let game = Game::new(&config, ids.clone());
        let rules = game.rules().clone();
        let (lobby, commands) = Lobby::new(config.max_sessions);
        let lobby = Arc::new(lobby);
        let first = Arc::new(Frame {
            snapshot: Arc::new(game.capture()),
            input_acks: Vec::new(),
        });
        let (frames_tx, frames_rx) = watch::channel(first);
        let (broadcast, _) = broadcast::channel(256);
        let metrics = Arc::new(Metrics::new());
        let history = Arc::new(History::new(config.tick_hz as usize * 2));
        let tick_loop = TickLoop {
            game,
            lobby: lobby.clone(),
            commands,
            frames: frames_tx,
            history: history.clone(),
            broadcast: broadcast.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
            period: config.tick_period(),
            log_every: Duration::from_secs(config.log_summary_secs),
        };
        let tick_thread = tick_loop.spawn().map_err(|source| ServerError::Io {
            context: "starting the tick thread",
            source,
        })?;
        let arena = ArenaInfo {
            scenario: config.scenario.name().to_owned(),
            width: config.arena_width,
            height: config.arena_height,
            player_speed: rules.player_speed as u32,
            player_radius: rules.player_radius as u32,
            view_radius: config.view_radius,
        };
        let app = Arc::new(App {
            permits: Arc::new(Semaphore::new(config.max_sessions)),
            config,
            lobby,
            frames: frames_rx,
            broadcast,
            cache: BodyCache::default(),
            metrics,
            shutdown: shutdown.clone(),
            tracker: TaskTracker::new(),
            ids,
            arena,
        });
        let router = Router::new()
            .route("/ws", get(ws_handler))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics_handler))
            .with_state(app.clone())
            .merge(crate::web::router());
        let serve = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
        });
        Ok(Server {
            addr,
            app,
            history,
            serve,
            tick_thread: Some(tick_thread),
        })
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The newest snapshot.
    #[must_use]
    pub fn latest_snapshot(&self) -> Arc<WorldSnapshot> {
        self.app.frames.borrow().snapshot.clone()
    }

    /// The snapshot of `tick`, if it is among the last two seconds' worth.
    #[must_use]
    pub fn snapshot_at(&self, tick: Tick) -> Option<Arc<WorldSnapshot>> {
        self.history.at(tick)
    }

    /// The server's metrics, rendered as Prometheus text.
    #[must_use]
    pub fn metrics_text(&self) -> String {
        self.app.metrics.render()
    }

    /// Waits until the server has stopped: the HTTP server has closed, every session has
    /// said goodbye (or `DRAIN_TIMEOUT` passed) and the tick thread has ended.
    pub async fn wait(mut self) -> Result<(), ServerError> {
        let served = (&mut self.serve).await;
        self.app.tracker.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.app.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = self.app.tracker.len(),
                "sessions did not close in time; dropping them"
            );
        }
        let tick = self.tick_thread.take();
        let joined = tokio::task::spawn_blocking(move || tick.map(|t| t.join())).await;
        let tick_ok = matches!(joined, Ok(None | Some(Ok(()))));
        match served {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                return Err(ServerError::Io {
                    context: "serving HTTP",
                    source,
                });
            }
            Err(e) => error!(cause = %e, "the HTTP server task failed"),
        }
        if tick_ok {
            Ok(())
        } else {
            Err(ServerError::TickThreadPanicked)
        }
    }
}

/// Runs a server on `listener` until `shutdown` fires and everything has stopped.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    Server::start(listener, config, shutdown)?.wait().await
}

async fn ws_handler(
    ws: WebSocketUpgrade,
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let max = app.config.max_message_bytes;
    let ws = ws.max_message_size(max).max_frame_size(max);
    let permit = app.permits.clone().try_acquire_owned().ok();
    let track = app.tracker.token();
    ws.on_upgrade(move |socket| async move {
        let _track = track;
        match permit {
            Some(permit) => session::run(socket, peer, app, permit).await,
            None => session::refuse(socket, peer, app, ByeCode::ServerFull, "server full").await,
        }
    })
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let tick = app.frames.borrow().tick();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("ok tick={tick}\n"),
    )
        .into_response()
}

async fn metrics_handler(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}
