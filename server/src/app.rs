//! The server: binds the HTTP routes (`/ws`, `/healthz`, `/metrics`, `/schema`, the
//! browser client at `/`) on one port, starts the tick thread for a game, and runs until
//! the shutdown token fires, then waits for every session to say goodbye.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use thiserror::Error;
use tickwire_shared::codec::encode_value;
use tickwire_shared::layout::decode_fields;
use tickwire_shared::schema::SchemaError;
use tickwire_shared::{ByeCode, Schema, Tick, WorldSnapshot};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::admission::{IpLimiter, origin_allowed};
use crate::budget::Priorities;
use crate::config::{Config, ConfigError};
use crate::game::Game;
use crate::inputs::Inputs;
use crate::metrics::Metrics;
use crate::net_ids::NetIds;
use crate::record::{Header, RecordError, Recorder};
use crate::replay::{Playback, ReplayCommand, ReplayControl, ReplayError, Served};
use crate::replication::BodyCache;
use crate::resume::ResumeBook;
use crate::roster::Roster;
use crate::session;
use crate::sim::Sim;
use crate::tick_loop::Source;
use crate::tick_loop::TickLoop;
use crate::tick_output::{History, TickOutput, Views};
use crate::tls::{TlsError, TlsListener};
use crate::upgrade_deadline::{Deadlined, Pending};

/// The first player id of a replay's viewers, far past any recorded player's.
const VIEWER_PLAYERS: u32 = 1 << 30;

/// Seconds between a recording's keyframes.
const KEYFRAME_SECS: u32 = 5;

/// With a full view, priority under a byte budget halves this far (world units) from
/// the client's own entity.
const FULL_VIEW_FALLOFF: f32 = 500.0;

/// Each WebSocket's read buffer. A playing client's messages are tens of bytes (an
/// input carrying its ack), so 512 bytes holds many; a larger one (a Hello, a chat line,
/// up to `max_message_bytes`) grows the buffer for itself. tungstenite keeps this buffer
/// per connection and zeroes its free part before every read, so its size is both
/// resident memory per client (4 KiB cost 3.7 KiB more per client than this, at 1000
/// clients) and work per message.
const READ_BUFFER_BYTES: usize = 512;

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
    /// The TLS certificate or key could not be used (the message names the file).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The game's replication declaration is invalid.
    #[error("the game's schema is invalid: {0}")]
    Schema(#[from] SchemaError),
    /// The game's declared input layout does not read its input type's bytes.
    #[error("the game's input layout does not match its input type: {0}")]
    InputLayout(String),
    /// The recording could not be started.
    #[error("recording: {0}")]
    Record(#[from] RecordError),
    /// The recording could not be replayed.
    #[error("replaying: {0}")]
    Replay(#[from] ReplayError),
}

/// State shared by every session.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Player ids, input slots and the join/leave queue.
    pub roster: Arc<Roster>,
    /// The game's schema, sent in every Welcome and on `/schema`.
    pub schema: Arc<Schema>,
    /// How every client sees the world (the game's views, or the `view_radius` setting).
    pub views: Views,
    /// The game's base priorities, for clients whose byte budget makes changes wait.
    pub priorities: Arc<Priorities>,
    /// The distance (position steps) at which a waiting entity's priority is halved:
    /// the view's reach, or 500 world units with a full view.
    pub falloff: i32,
    /// The newest frame.
    pub frames: watch::Receiver<Arc<TickOutput>>,
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
    /// Live resume tokens and parked players.
    pub resume: ResumeBook,
    /// Open connections per IP address.
    pub ips: Arc<IpLimiter>,
    /// Connections that have not yet become WebSocket sessions (they have a deadline).
    pub pending: Arc<Pending>,
    /// The controls of a served replay (`None` when the game is live).
    pub replay: Option<Arc<ReplayControl>>,
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
    /// Starts serving game `G` (with its settings `game`) on `listener`: spawns the tick
    /// thread and the HTTP server (and, with `record` set, the recorder). Stops when
    /// `shutdown` is cancelled; `wait` then returns once everything has ended.
    pub fn start<G: Game>(
        listener: TcpListener,
        config: Config,
        game: G::Config,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let ids = NetIds::default();
        let sim = Sim::<G>::with_ids(&game, config.tick_hz, ids.clone())?
            .with_rewind_ms(config.rewind_ms);
        let recorder = match &config.record {
            Some(dir) => {
                let header = Header {
                    game: G::NAME.to_owned(),
                    game_config: toml::to_string(&game).map_err(|e| {
                        ReplayError::Settings(format!("the game's settings as TOML: {e}"))
                    })?,
                    tick_hz: config.tick_hz,
                    rewind_ms: config.rewind_ms,
                    keyframe_every: KEYFRAME_SECS * config.tick_hz,
                    started_unix_ms: crate::auth::unix_now() * 1000,
                };
                let recorder = Recorder::create(dir, &header)?;
                info!(path = %recorder.path().display(), "recording the match");
                Some(recorder)
            }
            None => None,
        };
        Server::launch(
            listener,
            config,
            Source::Live { sim, recorder },
            ids,
            None,
            shutdown,
        )
    }

    /// Serves a recorded match to viewers on `listener`: the same page and protocol, the
    /// playback steered over `/replay` (play, pause, seek, speed). The recording's tick
    /// rate and lag compensation replace `config`'s. Viewers see the whole world, and
    /// their player and entity ids lie far from every recorded player's, so no client
    /// takes a recorded player for itself.
    pub fn replay<G: Game>(
        listener: TcpListener,
        mut config: Config,
        playback: Playback<G>,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        config.tick_hz = playback.header().tick_hz;
        config.rewind_ms = playback.header().rewind_ms;
        config.record = None;
        config.validate()?;
        let served = Served::new(playback);
        let control = served.control.clone();
        let source = Source::Replay {
            served,
            served_tick: Tick(0),
        };
        Server::launch(
            listener,
            config,
            source,
            NetIds::for_viewers(),
            Some(control),
            shutdown,
        )
    }

    fn launch<G: Game>(
        listener: TcpListener,
        config: Config,
        source: Source<G>,
        ids: NetIds,
        replay: Option<Arc<ReplayControl>>,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        let sim = source.sim();
        let schema = sim.schema().clone();
        // A layout that cannot read the real input's bytes would make every browser input
        // malformed: refuse to start instead.
        decode_fields(&schema.def().input, &encode_value(&G::Input::default()))
            .map_err(|e| ServerError::InputLayout(e.to_string()))?;
        // Before any thread starts, so a bad certificate leaves nothing running.
        let tls = crate::tls::load_from_config(&config)?;
        let addr = listener.local_addr().map_err(|source| ServerError::Io {
            context: "reading the listen address",
            source,
        })?;
        let inputs = Arc::new(match &source {
            Source::Live {
                recorder: Some(_), ..
            } => Inputs::<G>::recording(),
            _ => Inputs::<G>::default(),
        });
        let first_player = if replay.is_some() { VIEWER_PLAYERS } else { 1 };
        let (roster, commands) = Roster::new(config.max_sessions, inputs.clone(), first_player);
        let roster = Arc::new(roster);
        let views = match &replay {
            // A viewer has no entity to centre a view on.
            Some(_) => Views::default(),
            None => Views::new(&schema, sim.views(), config.view_radius),
        };
        let priorities = sim.priorities().clone();
        let falloff = match views.grid_cell() {
            0 => schema.position_steps(FULL_VIEW_FALLOFF),
            reach => reach,
        };
        let first = Arc::new(TickOutput::new(
            &schema,
            Arc::new(sim.capture()),
            Vec::new(),
            &views,
        ));
        let (frames_tx, frames_rx) = watch::channel(first.clone());
        let (broadcast, _) = broadcast::channel(256);
        let metrics = Arc::new(Metrics::new());
        let history = Arc::new(History::new(config.history_ticks));
        // The first frame is served before the tick thread's first tick; keep it too, so
        // every snapshot a client can receive is one the history can answer for.
        history.push(first.snapshot.clone());
        let tick_loop = TickLoop {
            source,
            inputs,
            commands,
            frames: frames_tx,
            views,
            history: history.clone(),
            broadcast: broadcast.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
            period: config.tick_period(),
            log_every: Duration::from_secs(config.log_summary_secs),
            priority: config.tick_priority,
        };
        let tick_thread = tick_loop.spawn().map_err(|source| ServerError::Io {
            context: "starting the tick thread",
            source,
        })?;
        let app = Arc::new(App {
            permits: Arc::new(Semaphore::new(config.max_sessions)),
            config,
            roster,
            cache: BodyCache::new(schema.clone()),
            schema,
            views,
            priorities,
            falloff,
            frames: frames_rx,
            broadcast,
            metrics,
            shutdown: shutdown.clone(),
            tracker: TaskTracker::new(),
            ids,
            resume: ResumeBook::default(),
            ips: Arc::new(IpLimiter::default()),
            pending: Arc::new(Pending::default()),
            replay,
        });
        tokio::spawn(expire_parked(app.clone()));
        let router = Router::new()
            .route("/ws", get(ws_handler))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics_handler))
            .route("/stats", get(stats_handler))
            .route("/schema", get(schema_handler))
            .route("/replay", get(replay_status).post(replay_command))
            .with_state(app.clone())
            .merge(crate::web::router());
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        // Every connection must become a WebSocket session (or finish its plain HTTP
        // request) within the upgrade deadline; see `upgrade_deadline`.
        let deadline = Duration::from_millis(app.config.upgrade_timeout_ms);
        // The pending cap only guards file descriptors: a storm of connections is still
        // upgraded and told "server full" one by one, so it is well above the session cap.
        let max_pending = app.config.max_sessions.saturating_mul(4).max(4096);
        let pending = app.pending.clone();
        fn keep<T>(_: &mut T) {}
        let serve = match tls {
            // https/wss: the listener runs the handshakes in tasks of its own, so axum only
            // ever sees finished TLS streams (it sets Nagle off too).
            Some(tls) => {
                let metrics = app.metrics.clone();
                tokio::spawn(async move {
                    let listener = TlsListener::new(listener, tls, metrics, &shutdown)?;
                    let listener = Deadlined::new(listener, pending, deadline, max_pending);
                    let listener = axum::serve::ListenerExt::tap_io(listener, keep as fn(&mut _));
                    axum::serve(listener, service)
                        .with_graceful_shutdown(shutdown.cancelled_owned())
                        .await
                })
            }
            None => tokio::spawn(async move {
                // Nagle off: snapshots are small and latency-critical, and a Bye held back
                // by Nagle is lost if the socket is reset right after it.
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let listener = Deadlined::new(listener, pending, deadline, max_pending);
                let listener = axum::serve::ListenerExt::tap_io(listener, keep as fn(&mut _));
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown.cancelled_owned())
                    .await
            }),
        };
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

    /// The snapshot of `tick`, if it is among the last `history_ticks` the server keeps.
    #[must_use]
    pub fn snapshot_at(&self, tick: Tick) -> Option<Arc<WorldSnapshot>> {
        self.history.at(tick)
    }

    /// The game's schema (what clients are sent in Welcome).
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        &self.app.schema
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

/// Runs game `G` on `listener` until `shutdown` fires and everything has stopped.
pub async fn run<G: Game>(
    listener: TcpListener,
    config: Config,
    game: G::Config,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    Server::start::<G>(listener, config, game, shutdown)?
        .wait()
        .await
}

async fn ws_handler(
    ws: WebSocketUpgrade,
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let cfg = &app.config;
    let max = cfg.max_message_bytes;
    // Client messages are at most `max` bytes (1 KiB by default), so a small read buffer
    // will do; tungstenite's default allocates 128 KiB up front per connection, which a
    // 2000-connection storm turned into ~200 MiB of resident memory (the hostile suite).
    let ws = ws
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER_BYTES);
    let track = app.tracker.token();
    // From here the session's own deadlines (Hello, idle) apply.
    app.pending.promote(peer);
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // Every refusal still upgrades, so the client is told why in a Bye and a close frame.
    let mut refusal = None;
    if !origin_allowed(origin.as_deref(), host, &cfg.allowed_origins) {
        let reason = format!(
            "web origin {} may not connect to this server",
            origin.unwrap_or_default()
        );
        refusal = Some((ByeCode::OriginRefused, reason));
    }
    let mut ip_slot = None;
    if refusal.is_none() {
        match app
            .ips
            .admit(peer.ip(), cfg.max_connections_per_ip, cfg.limit_loopback)
        {
            Some(slot) => ip_slot = slot,
            None => {
                let reason = format!(
                    "too many connections from your address (limit {})",
                    cfg.max_connections_per_ip
                );
                refusal = Some((ByeCode::RateLimited, reason));
            }
        }
    }
    let permit = match refusal {
        Some(_) => None,
        None => app.permits.clone().try_acquire_owned().ok(),
    };
    ws.on_upgrade(move |socket| async move {
        let _track = track;
        let _ip_slot = ip_slot;
        match (refusal, permit) {
            (Some((code, reason)), _) => session::refuse(socket, peer, app, code, &reason).await,
            (None, Some(permit)) => session::run(socket, peer, app, permit).await,
            (None, None) => {
                session::refuse(socket, peer, app, ByeCode::ServerFull, "server full").await
            }
        }
    })
}

/// Removes parked players whose grace period has passed, until shutdown.
async fn expire_parked(app: Arc<App>) {
    let grace = Duration::from_secs(app.config.resume_grace_secs);
    let mut every = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => {
                for parked in app.resume.expire(std::time::Instant::now(), grace) {
                    tracing::info!(player = %parked.player, "resume grace over; removing the player");
                    app.roster.leave(parked.player);
                }
            }
        }
    }
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

/// Whole-run tick timing, traffic and process figures as JSON (`ServerStats`).
async fn stats_handler(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.metrics.stats()).into_response()
}

/// The game's schema as JSON: what a client needs to decode its snapshots, encode its
/// inputs and read its events (the same schema every Welcome carries).
/// `GET /replay`: where a served replay stands; 204 (no content, and no error in a
/// browser's console) when the game is live.
async fn replay_status(State(app): State<Arc<App>>) -> Response {
    match &app.replay {
        Some(control) => axum::Json(control.status()).into_response(),
        None => axum::http::StatusCode::NO_CONTENT.into_response(),
    }
}

/// `POST /replay` with a JSON command (`{"playing": false}`, `{"seek": 900}`,
/// `{"speed": 2}`, or several at once): queued for the next tick. Refused from a web
/// origin the server does not allow, as WebSockets are, and, when joining needs a
/// token, without one (`Authorization: Bearer <token>`).
async fn replay_command(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    use axum::http::StatusCode;
    let Some(control) = &app.replay else {
        return not_a_replay();
    };
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !origin_allowed(origin, host, &app.config.allowed_origins) {
        return (
            StatusCode::FORBIDDEN,
            "this web origin may not steer the replay\n",
        )
            .into_response();
    }
    let command: ReplayCommand = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("a replay command is JSON such as {{\"playing\": true, \"seek\": 900, \"speed\": 2}}: {e}\n"),
            )
                .into_response();
        }
    };
    match control.command(command) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(why) => (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    }
}

fn not_a_replay() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        "this server plays a live game, not a replay\n",
    )
        .into_response()
}

async fn schema_handler(State(app): State<Arc<App>>) -> Response {
    match serde_json::to_string_pretty(&*app.schema) {
        Ok(json) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json,
        )
            .into_response(),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot render the schema: {e}"),
        )
            .into_response(),
    }
}
