//! One client's session: the Hello handshake (`handshake`), then the live session
//! (`live`), then the departure, all in one task over one socket (`wire::Conn`).
//! Errors end this session only, with a Bye that says why; a dropped player is parked for
//! a resume.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::WebSocket;
use tickwire_shared::{ByeCode, PlayerId};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info, warn};

use crate::app::App;
use crate::guard::Guard;
use crate::handshake::{Admitted, handshake};
use crate::live::{self, Player};
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

/// Refuses a connection before any session starts, telling the client why.
pub async fn refuse(
    socket: WebSocket,
    peer: SocketAddr,
    app: Arc<App>,
    code: ByeCode,
    reason: &str,
) {
    app.metrics
        .connection_refused(End::Bye(code, String::new()).label());
    info!(%peer, cause = reason, "refusing connection");
    let mut conn = Conn::new(socket, Delay::default());
    conn.bye(code, reason).await;
    linger(&mut conn).await;
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
pub async fn run(
    socket: WebSocket,
    peer: SocketAddr,
    app: Arc<App>,
    permit: OwnedSemaphorePermit,
    ask: Ask,
) {
    let _permit = permit;
    let delay = Delay {
        latency: Duration::from_millis(app.config.sim_latency_ms),
        jitter: Duration::from_millis(app.config.sim_jitter_ms),
    };
    let mut conn = Conn::new(socket, delay);
    let end = match handshake(&mut conn, &app, &ask).await {
        Ok((Admitted::Spectator(spectator), mut repl, welcome)) => {
            let _counted = Counted::new(&app);
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
                &app, &room, player, &mut repl, &mut guard, &mut conn, welcome, &ended,
            )
            .await;
            info!(%peer, room = room.id, reason = end.label(), "spectator left");
            drop(spectator);
            end
        }
        Ok((Admitted::Player(who), repl, welcome)) => {
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
            let mut repl = repl;
            let mut guard = Guard::new(&room.config, Instant::now());
            let player = Player {
                id: who.player,
                name: &who.name,
                spectator: false,
            };
            let end = live::play(
                &app, &room, player, &mut repl, &mut guard, &mut conn, welcome, &replaced,
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
