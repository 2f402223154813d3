//! The server: binds the HTTP routes (`/ws`, `/rooms`, `/healthz`, `/metrics`,
//! `/schema`, the browser client at `/`) on one port, starts the tick pool and the
//! standing room of its default room type, and runs until the shutdown token fires, then
//! waits for every session to say goodbye.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::FutureExt as _;
use futures_util::future::Either;
use serde::Deserialize;
use thiserror::Error;
use tickwire_shared::schema::SchemaError;
use tickwire_shared::{ByeCode, Schema, Tick, WorldSnapshot};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::admission::{IpLimiter, IpSlot, origin_allowed};
use crate::cluster::Cluster;
use crate::config::{Config, ConfigError};
use crate::game::Game;
use crate::metrics::Metrics;
use crate::net_ids::NetIds;
use crate::placement::{ClusterAsk, Matched, Refused, refusal_status, reserve_here};
use crate::record::RecordError;
use crate::replay::{Playback, ReplayCommand, ReplayError, Served};
use crate::resume::ResumeBook;
use crate::room::{Room, RoomId};
use crate::rooms::{Ask, RoomTypes, Rooms, open_room};
use crate::session;
use crate::tick_loop::Source;
use crate::tls::{TlsError, TlsListener};
use crate::upgrade_deadline::{Deadlined, Pending};
use tickwire_shared::stats::RoomListing;

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
    /// A tick thread panicked (outside any room's game, whose panics end that room
    /// only).
    #[error("a tick thread panicked")]
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
    /// The room directory (`--redis-url`) cannot be used.
    #[error("the room directory: {0}")]
    Directory(String),
}

/// State shared by every session.
pub struct App {
    /// The server's configuration (its limits; each room runs with its type's).
    pub config: Config,
    /// The rooms and the tick pool.
    pub rooms: Rooms,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Fires when the server stops.
    pub shutdown: CancellationToken,
    /// Fires when the server starts draining: it takes no new matches, and stops once
    /// its rooms have emptied or `drain_secs` have passed (see `begin_drain`).
    pub draining: CancellationToken,
    /// One permit per session (the session cap).
    pub permits: Arc<Semaphore>,
    /// Tracks session tasks so shutdown can wait for their goodbyes.
    pub tracker: TaskTracker,
    /// Live resume tokens and parked players.
    pub resume: ResumeBook,
    /// Open connections per IP address.
    pub ips: Arc<IpLimiter>,
    /// Connections that have not yet become WebSocket sessions (they have a deadline).
    pub pending: Arc<Pending>,
    /// One permit per feed reader (event stream or long poll).
    pub feeds: Arc<Semaphore>,
    /// This process's place in a cluster (`--redis-url`); `None`: it runs alone.
    pub(crate) cluster: Option<Arc<Cluster>>,
    /// The base URL this process is reached at (`--public-url`, else its listen
    /// address).
    pub(crate) url: String,
}

/// Stops a running server (a handle that signal handlers and supervisors keep).
#[derive(Clone)]
pub struct Stopper {
    app: Arc<App>,
}

impl Stopper {
    /// Drains the server: no new matches; it stops once its sessions have ended or
    /// `drain_secs` have passed (at once when that is 0).
    pub fn drain(&self) {
        self.app.begin_drain();
    }

    /// Stops the server now: every session is told goodbye.
    pub fn stop(&self) {
        info!("shutting down: telling every client goodbye");
        self.app.shutdown.cancel();
    }
}

/// A running server.
pub struct Server {
    /// Where it listens.
    addr: SocketAddr,
    /// Shared state.
    app: Arc<App>,
    /// The standing room (the first one), which the inspection methods read.
    standing: Arc<Room>,
    /// The HTTP server task.
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts serving game `G` (with its settings `game`) on `listener`, as the one room
    /// type (named `G::NAME`), with `config` for the server and its rooms alike. Stops
    /// when `shutdown` is cancelled; `wait` then returns once everything has ended.
    pub fn start<G: Game>(
        listener: TcpListener,
        config: Config,
        game: G::Config,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        let types = RoomTypes::new().add::<G>(G::NAME, config.clone(), game);
        Server::start_rooms(listener, config, types, shutdown)
    }

    /// Starts serving the room types `types` on `listener` (the first is the default,
    /// and its standing room opens now); `config` holds the server's own limits.
    pub fn start_rooms(
        listener: TcpListener,
        config: Config,
        types: RoomTypes,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        Server::launch(listener, config, types, shutdown, |rooms| {
            rooms.open_standing()
        })
    }

    /// Serves a recorded match to viewers on `listener`: the same page and protocol, the
    /// playback steered over `/replay` (play, pause, seek, speed). The recording's tick
    /// rate and lag compensation replace `config`'s. Viewers see the whole world, and
    /// their player and entity ids lie far from every recorded player's, so no client
    /// takes a recorded player for itself. The replay is the server's one room.
    pub fn replay<G: Game>(
        listener: TcpListener,
        mut config: Config,
        playback: Playback<G>,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        config.tick_hz = playback.header().tick_hz;
        config.rewind_ms = playback.header().rewind_ms;
        config.record = None;
        let room_config = Arc::new(config.clone());
        Server::launch(listener, config, RoomTypes::new(), shutdown, move |rooms| {
            rooms.add_standing(
                |opening| {
                    let served = Served::new(playback);
                    let control = served.control.clone();
                    let source = Source::Replay {
                        served,
                        served_tick: Tick(0),
                    };
                    let (room, ticker) =
                        open_room(opening, source, NetIds::for_viewers(), Some(control))?;
                    Ok((room, Box::new(ticker)))
                },
                G::NAME,
                room_config,
            )
        })
    }

    fn launch(
        listener: TcpListener,
        config: Config,
        types: RoomTypes,
        shutdown: CancellationToken,
        first_room: impl FnOnce(&Rooms) -> Result<Arc<Room>, ServerError>,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        // Before any thread starts, so a bad certificate leaves nothing running.
        let tls = crate::tls::load_from_config(&config)?;
        let addr = listener.local_addr().map_err(|source| ServerError::Io {
            context: "reading the listen address",
            source,
        })?;
        let metrics = Arc::new(Metrics::new());
        let rooms = Rooms::new(types, &config, metrics.clone(), shutdown.clone())?;
        let standing = match first_room(&rooms) {
            Ok(room) => room,
            Err(e) => {
                rooms.stop();
                return Err(e);
            }
        };
        info!(threads = rooms.tick_threads(), "tick pool started");
        let url = crate::cluster::public_url(&config, addr);
        let cluster = match &config.redis_url {
            Some(_) => match Cluster::new(&config, url.clone()) {
                Ok(c) => Some(Arc::new(c)),
                Err(e) => {
                    rooms.stop();
                    return Err(ServerError::Directory(e));
                }
            },
            None => None,
        };
        let config_feeds = config.max_feeds;
        let app = Arc::new(App {
            permits: Arc::new(Semaphore::new(config.max_sessions)),
            config,
            rooms,
            metrics,
            shutdown: shutdown.clone(),
            draining: CancellationToken::new(),
            tracker: TaskTracker::new(),
            resume: ResumeBook::default(),
            ips: Arc::new(IpLimiter::default()),
            pending: Arc::new(Pending::default()),
            feeds: Arc::new(Semaphore::new(config_feeds)),
            cluster,
            url,
        });
        if let Some(cluster) = &app.cluster {
            info!(node = cluster.node(), "joining the room directory");
            // Tracked, so a clean stop waits for the entry to leave the directory.
            app.tracker.spawn(cluster.clone().heartbeat(app.clone()));
        }
        tokio::spawn(sweep(app.clone()));
        tokio::spawn(drain(app.clone()));
        #[cfg(feature = "agones")]
        if app.config.agones {
            crate::agones::spawn(app.clone());
        }
        let router = Router::new()
            .route("/ws", get(ws_handler))
            .route("/rooms", get(rooms_list).post(rooms_create))
            .route("/matchmake", axum::routing::post(matchmake))
            .route("/cluster", get(cluster_list))
            .route("/cluster/reserve", axum::routing::post(cluster_reserve))
            .route("/rooms/{id}/events", get(crate::feed_http::room_events))
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
            standing,
            serve,
        })
    }

    /// What stops this server: by draining it, or at once.
    #[must_use]
    pub fn stopper(&self) -> Stopper {
        Stopper {
            app: self.app.clone(),
        }
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The standing room's newest snapshot.
    #[must_use]
    pub fn latest_snapshot(&self) -> Arc<WorldSnapshot> {
        self.standing_room().latest_snapshot()
    }

    /// The standing room's snapshot of `tick`, if it is among the last `history_ticks`
    /// the room keeps.
    #[must_use]
    pub fn snapshot_at(&self, tick: Tick) -> Option<Arc<WorldSnapshot>> {
        self.standing_room().history.at(tick)
    }

    /// The default type's schema (what its rooms' clients are sent in Welcome).
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        &self.standing.schema
    }

    /// The standing room: the default type's room that is always open (the first one,
    /// or the one opened in its place if its game failed).
    #[must_use]
    pub fn standing_room(&self) -> Arc<Room> {
        self.app
            .rooms
            .standing()
            .unwrap_or_else(|| self.standing.clone())
    }

    /// The open room `id`.
    #[must_use]
    pub fn room(&self, id: RoomId) -> Option<Arc<Room>> {
        self.app.rooms.get(id)
    }

    /// Every open room, as `GET /rooms` lists them.
    #[must_use]
    pub fn rooms(&self) -> Vec<RoomListing> {
        self.app.rooms.list(None)
    }

    /// The server's metrics, rendered as Prometheus text (as `/metrics` serves them).
    #[must_use]
    pub fn metrics_text(&self) -> String {
        metrics_text(&self.app)
    }

    /// Waits until the server has stopped: the HTTP server has closed, every session has
    /// said goodbye (or `DRAIN_TIMEOUT` passed) and the tick threads have ended.
    pub async fn wait(mut self) -> Result<(), ServerError> {
        // The HTTP server ends once every connection has; one that never lets go (a feed
        // reader whose socket stopped draining) is cut off after the drain time.
        let shutdown = self.app.shutdown.clone();
        let served = tokio::select! {
            served = &mut self.serve => served,
            () = async {
                shutdown.cancelled().await;
                tokio::time::sleep(DRAIN_TIMEOUT * 2).await;
            } => {
                warn!("connections did not close in time; closing them");
                self.serve.abort();
                match (&mut self.serve).await {
                    Err(e) if e.is_cancelled() => Ok(Ok(())),
                    other => other,
                }
            }
        };
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
        let app = self.app.clone();
        let joined = tokio::task::spawn_blocking(move || app.rooms.stop()).await;
        let tick_ok = matches!(joined, Ok(true));
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

/// What `/ws` may be asked in its query: a room by id (with its code, if private), or
/// a quick match of a type (none of these: a quick match of the default type).
#[derive(Debug, Default, Deserialize)]
struct WsQuery {
    /// A room by id.
    room: Option<String>,
    /// A private room's code.
    code: Option<String>,
    /// A room type to quick-match into.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// A seat `POST /matchmake` reserved (its token).
    seat: Option<String>,
    /// Watch the room instead of playing (`1` or `true`).
    spectate: Option<String>,
    /// The player a spectator follows.
    follow: Option<u32>,
}

impl WsQuery {
    /// The seat asked for, or why the query makes no sense.
    fn ask(self) -> Result<Ask, String> {
        if let Some(seat) = self.seat {
            if self.room.is_some()
                || self.kind.is_some()
                || self.code.is_some()
                || self.spectate.is_some()
            {
                return Err(
                    "a seat token says the room itself: give it alone (seat=TOKEN)".to_owned(),
                );
            }
            return Ok(Ask::Seat(seat));
        }
        let spectate = match self.spectate.as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true" | "") => true,
            Some(other) => return Err(format!("spectate is 1 or 0, not {other:?}")),
        };
        if spectate {
            let Some(room) = self.room else {
                return Err("spectating needs a room (room=ID&spectate=1)".to_owned());
            };
            let id = room
                .parse::<RoomId>()
                .map_err(|_| format!("room ids are numbers, not {room:?}"))?;
            if self.kind.is_some() {
                return Err("ask for a room or a type, not both".to_owned());
            }
            return Ok(Ask::Watch {
                id,
                code: self.code,
                follow: self.follow.map(tickwire_shared::PlayerId),
            });
        }
        if self.follow.is_some() {
            return Err("follow is for spectators (room=ID&spectate=1&follow=PLAYER)".to_owned());
        }
        match (self.room, self.kind) {
            (Some(_), Some(_)) => Err("ask for a room or a type, not both".to_owned()),
            (Some(room), None) => match room.parse::<RoomId>() {
                Ok(id) => Ok(Ask::Room {
                    id,
                    code: self.code,
                }),
                Err(_) => Err(format!("room ids are numbers, not {room:?}")),
            },
            (None, kind) if self.code.is_none() => Ok(Ask::Quick(kind)),
            (None, _) => Err("a code is for joining a room by id (room=ID&code=CODE)".to_owned()),
        }
    }
}

async fn ws_handler(
    ws: WebSocketUpgrade,
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<WsQuery>,
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
    let ask = match query.ask() {
        Ok(ask) => ask,
        Err(why) => {
            refusal.get_or_insert((ByeCode::NoSuchRoom, why));
            Ask::Quick(None)
        }
    };
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
    ws.on_upgrade(move |socket| {
        // The session's future is made here, with the socket already in its connection,
        // so the task holds one connection (and no second copy in a wrapping future).
        let conn = session::connection(socket, &app.config);
        let session = match (refusal, permit) {
            (Some((code, reason)), _) => {
                Either::Left(session::refuse(conn, peer, app, code, reason))
            }
            (None, Some(permit)) => Either::Right(session::run(conn, peer, app, permit, ask)),
            (None, None) => Either::Left(session::refuse(
                conn,
                peer,
                app,
                ByeCode::ServerFull,
                "server full".to_owned(),
            )),
        };
        // A map, not an async block: awaiting `session` in a block would move it into a
        // second slot of the block's future.
        session.map(move |()| drop((track, ip_slot)))
    })
}

impl App {
    /// Starts draining (again: nothing more): no new matches here; the server stops once
    /// no session is left, or `drain_secs` after now, whichever comes first. With
    /// `drain_secs` 0 it stops at once.
    pub fn begin_drain(&self) {
        if self.config.drain_secs == 0 {
            self.shutdown.cancel();
            return;
        }
        self.rooms.close_to_new();
        if !self.draining.is_cancelled() {
            info!(
                deadline_secs = self.config.drain_secs,
                "draining: no new matches; stopping when the rooms empty or at the deadline"
            );
        }
        self.draining.cancel();
    }

    /// Whether the server is draining (or stopping).
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.is_cancelled() || self.shutdown.is_cancelled()
    }

    /// The goodbye every session is sent when the server stops: in a cluster (a room
    /// directory, or Agones), `Relocate`, which sends the client to matchmake again on
    /// another server; alone, `ServerShutdown`.
    pub(crate) fn farewell(&self) -> crate::wire::End {
        if self.is_clustered() {
            crate::wire::End::Bye(
                ByeCode::Relocate,
                "this server is stopping: matchmake again to play on another".into(),
            )
        } else {
            crate::wire::End::Bye(ByeCode::ServerShutdown, "server shutting down".into())
        }
    }

    /// Whether this process is one of a cluster (a room directory, or Agones), where a
    /// player it cannot keep can play on another.
    pub(crate) fn is_clustered(&self) -> bool {
        self.config.redis_url.is_some() || self.config.agones
    }

    /// Sessions open now (players and spectators).
    #[must_use]
    pub fn sessions(&self) -> usize {
        self.config.max_sessions - self.permits.available_permits()
    }
}

/// Once draining starts: stops the server when no session is left or `drain_secs` have
/// passed.
async fn drain(app: Arc<App>) {
    tokio::select! {
        () = app.shutdown.cancelled() => return,
        () = app.draining.cancelled() => {}
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(app.config.drain_secs);
    let mut every = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            () = tokio::time::sleep_until(deadline) => {
                info!(sessions = app.sessions(), "drain deadline reached; saying goodbye");
                break;
            }
            _ = every.tick() => {
                if app.sessions() == 0 && app.rooms.reserved() == 0 {
                    info!("drained: no session left");
                    break;
                }
            }
        }
    }
    app.shutdown.cancel();
}

/// Until shutdown, four times a second: removes parked players whose grace has passed,
/// and disposes of rooms that have been empty for theirs (or whose game failed).
async fn sweep(app: Arc<App>) {
    let grace = Duration::from_secs(app.config.resume_grace_secs);
    let room_grace = Duration::from_secs(app.config.room_grace_secs);
    let mut every = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = every.tick() => {
                let now = std::time::Instant::now();
                for parked in app.resume.expire(now, grace) {
                    let room = parked.seat.room();
                    info!(player = %parked.player, room = room.id, "resume grace over; removing the player");
                    room.forget_avatar(parked.player);
                    room.roster.leave(parked.player);
                }
                app.rooms.sweep(now, room_grace);
                // A standing room whose game failed is replaced: a server always has its
                // default world to show (a replay's one room is not: it has no type).
                if app.rooms.standing().is_none() && !app.rooms.type_names().is_empty() {
                    match app.rooms.open_standing() {
                        Ok(room) => warn!(room = room.id, "the standing room's game failed; a new standing room is open"),
                        Err(e) => error!(cause = %e, "cannot open a new standing room"),
                    }
                }
            }
        }
    }
}

/// `GET /healthz`: `ok` (200) with the standing room's tick and the room count, or 503
/// with `draining` once the server drains (`starting` while a cluster's process waits
/// to learn its address).
async fn healthz(State(app): State<Arc<App>>) -> Response {
    let tick = app.rooms.standing().map_or(Tick(0), |r| r.tick());
    // A draining server still runs its rooms but wants no new traffic: 503 takes it out
    // of load balancers (a Kubernetes Service's endpoints) while its players finish.
    let (status, word) = if app.is_draining() {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else if app.cluster.as_ref().is_some_and(|c| !c.is_listed()) {
        // Under Agones, until the GameServer's address is known and listed.
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
    } else {
        (axum::http::StatusCode::OK, "ok")
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{word} tick={tick} rooms={}\n", app.rooms.len()),
    )
        .into_response()
}

/// `GET /rooms` (`?type=NAME` for one type's): every open room as JSON.
#[derive(Debug, Default, Deserialize)]
struct RoomsQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn rooms_list(State(app): State<Arc<App>>, Query(q): Query<RoomsQuery>) -> Response {
    axum::Json(app.rooms.list(q.kind.as_deref())).into_response()
}

/// What `POST /rooms` takes: the type (default: the server's default type) and whether
/// the room is private.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoom {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    private: bool,
}

/// What `POST /rooms` answers: the room, and its code when private.
#[derive(Debug, serde::Serialize)]
struct Created {
    id: RoomId,
    #[serde(rename = "type")]
    kind: String,
    code: Option<String>,
}

/// `POST /rooms` with `{"type": "demo", "private": true}`: opens a room and says its id
/// (and code). Refused from a web origin the server does not allow, and, when joining
/// needs a token, without one.
async fn rooms_create(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use axum::http::StatusCode;
    // A room nobody has joined yet counts as one of its opener's connections, so one
    // address cannot fill the server with empty rooms.
    let slot = match admit_request(&app, peer, &headers, "open rooms") {
        Ok(slot) => slot,
        Err(refused) => return *refused,
    };
    let ask: CreateRoom = if body.is_empty() {
        CreateRoom::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(a) => a,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("a new room is asked for as JSON such as {{\"type\": \"demo\", \"private\": true}}: {e}\n"),
                )
                    .into_response();
            }
        }
    };
    match app.rooms.create(ask.kind.as_deref(), ask.private, slot) {
        Ok(room) => (
            StatusCode::CREATED,
            axum::Json(Created {
                id: room.id,
                kind: room.kind.to_string(),
                code: room.code.clone(),
            }),
        )
            .into_response(),
        Err(why) => (refusal_status(&why), format!("{why}\n")).into_response(),
    }
}

/// What `POST /matchmake` takes: a room by id (with its code if private; in a cluster,
/// with the process that holds it), or a type to quick-match into (neither: the
/// default type).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchmakeAsk {
    room: Option<RoomId>,
    code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    node: Option<String>,
}

/// `POST /matchmake` with `{"type": "demo"}`, `{"room": 3}` or `{"room": 3, "code":
/// "K7MQ2X"}` (empty: quick match of the default type; in a cluster, `{"node": ID,
/// "room": 3}` for a room of another process): reserves a seat as asked and answers
/// the signed token that claims it and the URL to connect to (`/ws?seat=…`), on the
/// process that holds the room. In a cluster a quick match takes the fullest room with
/// a seat free on any process, or opens one on the least loaded. The seat is held for
/// `seat_reservation_secs`, then freed. Refused from a web origin the server does not
/// allow, and without a join token when joining needs one.
async fn matchmake(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use axum::http::StatusCode;
    if let Some(refused) = refuse_request(&app, &headers, "reserve seats") {
        return refused;
    }
    let bad = |why: String| (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
    let asked: MatchmakeAsk = if body.is_empty() {
        MatchmakeAsk::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(a) => a,
            Err(e) => {
                return bad(format!(
                    "matchmaking is asked as JSON such as {{\"type\": \"demo\"}} or {{\"room\": 3, \"code\": \"K7MQ2X\"}}: {e}"
                ));
            }
        }
    };
    if asked.code.is_some() && asked.room.is_none() {
        return bad("a code is for a room by id ({\"room\": 3, \"code\": ...})".to_owned());
    }
    if asked.room.is_some() && asked.kind.is_some() {
        return bad("ask for a room or a type, not both".to_owned());
    }
    let matched: Result<Matched, Refused> = match (&app.cluster, asked.node) {
        (Some(cluster), node) => {
            let ask = match (asked.room, node) {
                // A room by id alone is one of this process's.
                (Some(id), node) => ClusterAsk::Room {
                    node: node.unwrap_or_else(|| cluster.node().to_owned()),
                    id,
                    code: asked.code,
                },
                (None, Some(_)) => {
                    return bad(
                        "a node is asked for with one of its rooms ({\"node\": ID, \"room\": 3})"
                            .to_owned(),
                    );
                }
                (None, None) => ClusterAsk::Quick(asked.kind),
            };
            cluster.matchmake(&app, ask, peer.ip()).await
        }
        (None, Some(_)) => {
            return bad(
                "this server runs alone (no --redis-url): there are no other nodes".to_owned(),
            );
        }
        (None, None) => {
            let ask = match asked.room {
                Some(id) => Ask::Room {
                    id,
                    code: asked.code,
                },
                None => Ask::Quick(asked.kind),
            };
            // Alone, the seat's URL names this server as the client reached it.
            let scheme = if app.config.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            let base = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| app.url.clone(), |host| format!("{scheme}://{host}"));
            reserve_here(&app, &ask, peer.ip(), &base)
        }
    };
    match matched {
        Ok(m) => axum::Json(m).into_response(),
        Err(Refused { status, why }) => (status, format!("{why}\n")).into_response(),
    }
}

/// `GET /cluster`: every process of the cluster as the room directory lists it, with
/// its rooms (this one as it stands now).
async fn cluster_list(State(app): State<Arc<App>>) -> Response {
    use axum::http::StatusCode;
    let Some(cluster) = &app.cluster else {
        return (
            StatusCode::NOT_FOUND,
            "this server runs alone (start it with --redis-url to join a cluster)\n",
        )
            .into_response();
    };
    match cluster.nodes(&app).await {
        Ok(nodes) => axum::Json(nodes).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the room directory is out of reach: {e}\n"),
        )
            .into_response(),
    }
}

/// `POST /cluster/reserve`: another process of the cluster asks this one for a seat
/// (signed with the cluster's shared secret) on behalf of a player it matchmade.
async fn cluster_reserve(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    use axum::http::StatusCode;
    let Some(cluster) = &app.cluster else {
        return (StatusCode::NOT_FOUND, "this server runs alone\n").into_response();
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ask = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    match cluster.answer_peer(&app, token, ask).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(Refused { status, why }) => (status, format!("{why}\n")).into_response(),
    }
}

/// An address past its cap of connections (sessions, feed readers, reserved seats and
/// unjoined rooms): answered 429.
#[derive(Debug)]
pub(crate) struct TooMany(usize);

impl IntoResponse for TooMany {
    fn into_response(self) -> Response {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many connections, reserved seats and unjoined rooms from your address (limit {})\n",
                self.0
            ),
        )
            .into_response()
    }
}

/// One of `peer`'s connections under the per-address cap (`None`: not counted, a
/// loopback peer), or why not.
pub(crate) fn ip_slot(app: &App, peer: SocketAddr) -> Result<Option<IpSlot>, TooMany> {
    let cfg = &app.config;
    app.ips
        .admit(peer.ip(), cfg.max_connections_per_ip, cfg.limit_loopback)
        .ok_or(TooMany(cfg.max_connections_per_ip))
}

/// A request that opens something for `peer` (`what` says what): refused as
/// `refuse_request` says, or past the address's cap; else the connection slot it holds.
fn admit_request(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<Option<IpSlot>, Box<Response>> {
    if let Some(refused) = refuse_request(app, headers, what) {
        return Err(Box::new(refused));
    }
    ip_slot(app, peer).map_err(|e| Box::new(e.into_response()))
}

/// Refuses a request that changes something from a web origin the server does not
/// allow (as WebSockets are), or without a valid join token when joining needs one
/// (`Authorization: Bearer <token>`); `what` says what it would have done.
fn refuse_request(app: &App, headers: &HeaderMap, what: &str) -> Option<Response> {
    use axum::http::StatusCode;
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !origin_allowed(origin, host, &app.config.allowed_origins) {
        return Some(
            (
                StatusCode::FORBIDDEN,
                format!("this web origin may not {what}\n"),
            )
                .into_response(),
        );
    }
    if let Some(secret) = &app.config.auth_secret {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Err(e) = crate::auth::verify(secret, token, crate::auth::unix_now()) {
            return Some(
                (
                    StatusCode::UNAUTHORIZED,
                    format!("a join token is needed to {what}: {e}\n"),
                )
                    .into_response(),
            );
        }
    }
    None
}

async fn metrics_handler(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics_text(&app),
    )
        .into_response()
}

/// The metrics, with per-room series for the `metrics_rooms` busiest rooms (most
/// players, then lowest id): bounded, however many rooms run.
fn metrics_text(app: &App) -> String {
    let mut rooms = app.rooms.list(None);
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for r in &rooms {
        match kinds.iter_mut().find(|(k, _)| *k == r.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((r.kind.clone(), 1)),
        }
    }
    rooms.sort_by(|a, b| b.players.cmp(&a.players).then(a.id.cmp(&b.id)));
    rooms.truncate(app.config.metrics_rooms);
    app.metrics.render_with_rooms(&rooms, &kinds)
}

/// Whole-run tick timing, traffic and process figures as JSON (`ServerStats`).
async fn stats_handler(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.metrics.stats()).into_response()
}

/// `GET /replay`: where a served replay stands; 204 (no content, and no error in a
/// browser's console) when the game is live.
async fn replay_status(State(app): State<Arc<App>>) -> Response {
    match &replay_control(&app) {
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
    let Some(control) = replay_control(&app) else {
        return not_a_replay();
    };
    if let Some(refused) = refuse_request(&app, &headers, "steer the replay") {
        return refused;
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

/// The controls of the replay the server serves, if it serves one.
fn replay_control(app: &App) -> Option<Arc<crate::replay::ReplayControl>> {
    app.rooms.standing().and_then(|r| r.replay.clone())
}

fn not_a_replay() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        "this server plays a live game, not a replay\n",
    )
        .into_response()
}

/// `GET /schema` (`?type=NAME` for another room type's): the game's schema as JSON,
/// what a client needs to decode its snapshots, encode its inputs and read its events
/// (the same schema every Welcome carries).
async fn schema_handler(State(app): State<Arc<App>>, Query(q): Query<RoomsQuery>) -> Response {
    let schema = match q.kind.as_deref() {
        Some(kind) => app.rooms.schema(kind),
        None => app.rooms.standing().map(|r| r.schema.clone()),
    };
    let Some(schema) = schema else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "there is no room type {:?} (this server runs {})\n",
                q.kind.unwrap_or_default(),
                app.rooms.type_names().join(", ")
            ),
        )
            .into_response();
    };
    match serde_json::to_string_pretty(&*schema) {
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
