//! One client's session: the Hello handshake (`handshake`), then the live session
//! (`live`), then the departure, all in one task over one socket (`wire::Conn`).
//! Errors end this session only, with a Bye that says why; a dropped player is parked for
//! a resume.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::WebSocket;
use tickwire_shared::{ByeCode, PlayerId};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info, warn};

use crate::app::App;
use crate::config::Config;
use crate::guard::Guard;
use crate::handshake::{Admitted, handshake};
use crate::live::{self, Player};
use crate::replication::Replicator;
use crate::resume::Parked;
use crate::room::Room;
use crate::rooms::Ask;
use crate::wire::{Conn, Delay, End, Event};

/// Takes the player out of the session when it ends, however it ends (a panic included):
/// parks them (seat and all) for a resume if the connection merely dropped, otherwise
/// removes their avatar and frees their seat. No avatar is ever left behind.
struct Departure {
    /// Shared server state.
    app: Arc<App>,
    /// Their room.
    room: Arc<Room>,
    /// Who departs.
    player: PlayerId,
    /// Their resume token.
    token: String,
    /// Set when the player should be parked rather than removed.
    park: Option<Parked>,
}

impl Drop for Departure {
    fn drop(&mut self) {
        self.app.resume.unregister(&self.token);
        match self.park.take() {
            Some(parked) if !self.app.shutdown.is_cancelled() && !self.room.stop.is_cancelled() => {
                self.room.roster.release(self.player);
                self.app
                    .resume
                    .park(std::mem::take(&mut self.token), parked);
            }
            _ => {
                self.room.forget_avatar(self.player);
                self.room.roster.leave(self.player);
            }
        }
        self.app.metrics.sessions.dec();
    }
}

/// Counts a spectator's session in the sessions gauge while it lives, however it ends.
struct Counted<'a>(&'a App);

impl<'a> Counted<'a> {
    fn new(app: &'a App) -> Counted<'a> {
        app.metrics.sessions.inc();
        Counted(app)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.metrics.sessions.dec();
    }
}

/// A new connection's socket, with the simulated latency the config asks for (none by
/// default).
pub fn connection(socket: WebSocket, config: &Config) -> Conn {
    let delay = Delay {
        latency: Duration::from_millis(config.sim_latency_ms),
        jitter: Duration::from_millis(config.sim_jitter_ms),
    };
    Conn::new(socket, delay)
}

/// Refuses a connection before any session starts, telling the client why.
pub fn refuse(
    mut conn: Conn,
    peer: SocketAddr,
    app: Arc<App>,
    code: ByeCode,
    reason: String,
) -> impl Future<Output = ()> + Send {
    app.metrics
        .connection_refused(End::Bye(code, String::new()).label());
    info!(%peer, cause = reason, "refusing connection");
    async move {
        conn.bye(code, &reason).await;
        linger(&mut conn).await;
    }
}

/// How long to wait for the client's answer to our close frame.
const LINGER: Duration = Duration::from_secs(1);

/// After our close frame: reads (and discards) until the client's close arrives, so
/// unread data at our end never makes the kernel reset the connection and discard the
/// Bye still on its way.
async fn linger(conn: &mut Conn) {
    let _ = tokio::time::timeout(LINGER, async {
        loop {
            match conn.next().await {
                Ok(Event::Drained) => {}
                Ok(Event::Inbound(Some(Ok(msg)))) => {
                    if matches!(msg, axum::extract::ws::Message::Close(_)) {
                        break;
                    }
                }
                Ok(Event::Inbound(_)) | Err(_) => break,
            }
        }
    })
    .await;
}

/// Runs a session to its end, seated as `ask` says. The permit counts it against the
/// session cap.
///
/// An async block rather than an async fn: an async fn's future keeps each argument
/// twice (as passed, and as the local it is moved into), and the connection is large.
#[allow(clippy::manual_async_fn)]
pub fn run(
    mut conn: Conn,
    peer: SocketAddr,
    app: Arc<App>,
    permit: OwnedSemaphorePermit,
    ask: Ask,
) -> impl Future<Output = ()> + Send {
    async move {
        let _permit = permit;
        // The handshake's future and its answer are boxed: they would otherwise keep their
        // space in this future (held by every connected client) for the whole session.
        let end = match Box::pin(handshake(&mut conn, &app, &ask)).await {
            Ok(admission) => serve(&mut conn, peer, &app, admission).await,
            Err(end) => end,
        };
        app.metrics.session_closed(end.label());
        match end {
            End::Bye(code, reason) => {
                // The server's own goodbyes (stopping, or relocating players as it drains)
                // are no fault of the client's.
                if !matches!(code, ByeCode::ServerShutdown | ByeCode::Relocate) {
                    warn!(%peer, cause = %reason, "closing session");
                }
                conn.bye(code, &reason).await;
                linger(&mut conn).await;
            }
            End::ClientGone => conn.close().await,
            End::Io(cause) => debug!(%peer, %cause, "session socket failed"),
        }
    }
}

/// Serves an admitted client until the session ends: plays, then parks or removes the
/// player. `admission` stays boxed until here so that `run`'s future holds a pointer,
/// not a second copy of what this one holds.
async fn serve(
    conn: &mut Conn,
    peer: SocketAddr,
    app: &Arc<App>,
    admission: Box<(Admitted, Replicator, Bytes)>,
) -> End {
    let (admitted, mut repl, welcome) = *admission;
    match admitted {
        Admitted::Spectator(spectator) => {
            let _counted = Counted::new(app);
            let room = spectator.watching.room().clone();
            info!(%peer, room = room.id, name = %spectator.name, "spectator joined");
            let mut guard = Guard::new(&room.config, Instant::now());
            let player = Player {
                id: PlayerId(0),
                name: &spectator.name,
                spectator: true,
            };
            // Nothing to park or remove: a spectator holds no entity and no seat.
            let ended = room.stop.child_token();
            let end = live::play(
                app, &room, player, &mut repl, &mut guard, conn, welcome, &ended,
            )
            .await;
            info!(%peer, room = room.id, reason = end.label(), "spectator left");
            drop(spectator);
            end
        }
        Admitted::Player(who) => {
            app.metrics.sessions.inc();
            let room = who.room().clone();
            // Fires when the player connects again elsewhere, and when the room ends.
            let replaced = room.stop.child_token();
            app.resume
                .register(&who.token, who.name.clone(), replaced.clone());
            let mut departure = Departure {
                app: app.clone(),
                room: room.clone(),
                player: who.player,
                token: who.token.clone(),
                park: None,
            };
            info!(%peer, room = room.id, player = %who.player, name = %who.name, "player joined");
            let mut guard = Guard::new(&room.config, Instant::now());
            let player = Player {
                id: who.player,
                name: &who.name,
                spectator: false,
            };
            let end = live::play(
                app, &room, player, &mut repl, &mut guard, conn, welcome, &replaced,
            )
            .await;
            // A drop (no normal closure) or a replacement parks the player (and their
            // seat) for a resume; a normal closure or a server-side Bye removes them.
            let (player, entity, name) = (who.player, who.entity, who.name.clone());
            if matches!(end, End::Io(_) | End::Bye(ByeCode::Replaced, _)) {
                departure.park = Some(Parked {
                    seat: who.seat,
                    player,
                    entity,
                    name,
                    written: repl.written(),
                    since: Instant::now(),
                });
            }
            info!(%peer, room = room.id, %player, reason = end.label(), "player left");
            drop(departure);
            end
        }
    }
}
