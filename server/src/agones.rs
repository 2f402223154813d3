//! Running as an Agones game server (`--agones`): the server tells the Agones SDK
//! sidecar that it is Ready, pings Health while its tick pool makes progress, labels its
//! GameServer with its room and player counts, Allocates itself when its first room
//! fills, and asks for Shutdown once it is empty after that match (or when it starts
//! draining for any other reason, such as SIGTERM).
//!
//! The SDK sidecar must answer within `CONNECT_WINDOW`: a game server Agones cannot see
//! would sit there unmanaged (never Ready, never counted, never replaced), so if the
//! sidecar never answers the server logs an error and drains, and its process exits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agones::Sdk;
use tickwire_shared::stats::RoomListing;
use tokio::sync::mpsc::{Sender, error::TrySendError};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{error, info, warn};

use crate::app::App;

/// How long the SDK sidecar may take to answer at start-up before the server gives up
/// on it and drains.
const CONNECT_WINDOW: Duration = Duration::from_secs(10);

/// One connection attempt's share of the window (the SDK retries inside it every
/// 100 ms); a warning is logged after each one that fails.
const CONNECT_ATTEMPT: Duration = Duration::from_secs(2);

/// How often the rooms are looked at for a full room (Allocate) or an empty server
/// (Shutdown), so both follow the players within a quarter of a second.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// How long one SDK call may take before it counts as failed (the sidecar is local).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the Agones task and returns at once; the task ends when the server stops.
pub(crate) fn spawn(app: Arc<App>) {
    tokio::spawn(async move {
        let Some(mut sdk) = connect(&app).await else {
            return;
        };
        if let Some(cluster) = &app.cluster
            && app.config.public_url.is_none()
        {
            match gameserver_url(&mut sdk, app.config.tls_cert.is_some()).await {
                Ok(url) => cluster.set_url(url),
                Err(why) => {
                    error!(
                        cause = %why,
                        "agones: cannot tell this server's address from its GameServer, so the \
                         room directory cannot list it (set --public-url); draining"
                    );
                    app.begin_drain();
                    return;
                }
            }
        }
        Agent::new(app, sdk).run().await;
    });
}

/// The SDK port the `agones` crate connects to: `AGONES_SDK_GRPC_PORT`, else 9357
/// (read the same way the crate reads it, for the log).
fn sdk_port() -> u16 {
    std::env::var("AGONES_SDK_GRPC_PORT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(9357)
}

/// The base URL clients reach this server at, from its GameServer: the node's address
/// and the port Agones gave the port named `default` (else the first port).
async fn gameserver_url(sdk: &mut Sdk, tls: bool) -> Result<String, String> {
    let gs = tokio::time::timeout(CALL_TIMEOUT, sdk.get_gameserver())
        .await
        .map_err(|_| "GetGameServer timed out".to_owned())?
        .map_err(|e| describe(&e))?;
    let status = gs.status.ok_or("the GameServer has no status yet")?;
    let port = status
        .ports
        .iter()
        .find(|p| p.name == "default")
        .or_else(|| status.ports.first())
        .ok_or("the GameServer has no port")?
        .port;
    if status.address.is_empty() || port <= 0 {
        return Err(format!(
            "the GameServer's address is {:?}, port {port}",
            status.address
        ));
    }
    let scheme = if tls { "https" } else { "http" };
    let host = if status.address.contains(':') {
        format!("[{}]", status.address)
    } else {
        status.address
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// An SDK error with its causes (the crate's own messages are terse: "rpc failure").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Connects to the SDK sidecar, retrying for `CONNECT_WINDOW`; `None` when it never
/// answered (the server is then draining) or the server stopped meanwhile.
async fn connect(app: &App) -> Option<Sdk> {
    let port = sdk_port();
    info!(port, "agones: connecting to the SDK server on localhost");
    let deadline = Instant::now() + CONNECT_WINDOW;
    loop {
        let attempt = CONNECT_ATTEMPT.min(deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = app.shutdown.cancelled() => return None,
            outcome = tokio::time::timeout(attempt, Sdk::new(None, None)) => match outcome {
                Ok(Ok(sdk)) => {
                    info!(port, "agones: connected to the SDK server");
                    return Some(sdk);
                }
                Ok(Err(e)) => warn!(port, cause = %describe(&e), "agones: cannot reach the SDK server; retrying"),
                Err(_) => warn!(port, "agones: no answer from the SDK server yet; retrying"),
            },
        }
        if Instant::now() >= deadline {
            error!(
                port,
                window_secs = CONNECT_WINDOW.as_secs(),
                "agones: the SDK server never answered (is the sidecar running, and is \
                 AGONES_SDK_GRPC_PORT right?); draining, since Agones cannot manage this server"
            );
            app.begin_drain();
            return None;
        }
    }
}

/// Whether an SDK call (already run under `CALL_TIMEOUT`) succeeded; logs why not.
fn settled(
    what: &str,
    outcome: Result<agones::errors::Result<()>, tokio::time::error::Elapsed>,
) -> bool {
    match outcome {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            warn!(call = what, cause = %describe(&e), "agones: the SDK call failed");
            false
        }
        Err(_) => {
            warn!(
                call = what,
                timeout_secs = CALL_TIMEOUT.as_secs(),
                "agones: the SDK call timed out"
            );
            false
        }
    }
}

/// The first room whose seats are all taken, if any: the server's match has begun.
fn full_room(rooms: &[RoomListing]) -> Option<u32> {
    rooms
        .iter()
        .find(|r| r.max_players > 0 && r.players >= r.max_players)
        .map(|r| r.id)
}

/// Whether nobody is left: no seat taken in any room (parked players keep theirs for
/// their resume grace), no session open (spectators included), no seat reserved by
/// `POST /matchmake` and not yet claimed.
fn is_empty(rooms: &[RoomListing], sessions: usize, reserved: usize) -> bool {
    rooms.iter().all(|r| r.players == 0) && sessions == 0 && reserved == 0
}

/// What the tick pool had reached at the last look: each room's newest tick, and which
/// room stands.
#[derive(Default)]
struct Progress {
    /// Room id → its newest tick.
    ticks: HashMap<u32, u32>,
}

impl Progress {
    /// Whether the tick pool advanced since the last look: the standing room's tick
    /// moved (with no standing room, any room's). With no room at all there is nothing
    /// to stall, and the server counts as healthy. Remembers what it saw.
    fn advanced(&mut self, standing: Option<u32>, rooms: &[RoomListing]) -> bool {
        let judged: Vec<&RoomListing> = match standing {
            Some(id) => rooms.iter().filter(|r| r.id == id).collect(),
            None => rooms.iter().collect(),
        };
        let moved = judged.is_empty()
            || judged.iter().any(|r| match self.ticks.get(&r.id) {
                Some(&before) => before != r.tick,
                // A room not seen before counts once it has ticked at all.
                None => r.tick != 0,
            });
        self.ticks = rooms.iter().map(|r| (r.id, r.tick)).collect();
        moved
    }
}

/// The Agones side of one server: its SDK connection and what it has told Agones.
struct Agent {
    /// The server it speaks for.
    app: Arc<App>,
    /// The SDK client (cheap to clone: a gRPC channel).
    sdk: Sdk,
    /// The open Health stream: one `()` is one ping.
    health: Sender<()>,
    /// Whether Agones has been told Ready (retried each health period until it has).
    ready: bool,
    /// Whether this server has Allocated itself (its first room filled).
    allocated: bool,
    /// Whether Shutdown has been asked for (it is asked at most once).
    shutdown_asked: bool,
    /// The `rooms` and `players` labels last set, so each is sent only when it changes.
    labels: [Option<usize>; 2],
    /// Where the tick pool was at the last Health period.
    progress: Progress,
    /// Whether the last period withheld its ping (so a stall is logged once, and so is
    /// the recovery).
    stalled: bool,
}

impl Agent {
    /// An agent for `app` over a connected `sdk`, with its Health stream open.
    fn new(app: Arc<App>, sdk: Sdk) -> Agent {
        let health = sdk.health_check();
        Agent {
            app,
            sdk,
            health,
            ready: false,
            allocated: false,
            shutdown_asked: false,
            labels: [None; 2],
            progress: Progress::default(),
            stalled: false,
        }
    }

    /// Until the server stops: Ready, then Health, labels, Allocate and Shutdown as the
    /// server's state calls for them.
    async fn run(mut self) {
        let period = Duration::from_secs(self.app.config.agones_health_secs.max(1));
        self.mark_ready().await;
        // The server just proved it can take players: the first ping needs no progress.
        let rooms = self.app.rooms.list(None);
        let standing = self.app.rooms.standing().map(|r| r.id);
        self.progress.advanced(standing, &rooms);
        self.ping();
        let mut health = tokio::time::interval_at(Instant::now() + period, period);
        // After a freeze (SIGSTOP, a paused VM) the pings resume at their period, not in
        // a burst that would hide the gap.
        health.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut watch = tokio::time::interval(WATCH_EVERY);
        watch.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.app.shutdown.cancelled() => {
                    // Best effort: the process is on its way out, and Agones would also
                    // see the container end.
                    self.shut_down("the server is stopping").await;
                    return;
                }
                () = self.app.draining.cancelled(), if !self.shutdown_asked => {
                    self.shut_down("the server is draining").await;
                }
                _ = health.tick() => self.health_period().await,
                _ = watch.tick() => self.watch().await,
            }
        }
    }

    /// Tells Agones the server is Ready (once it succeeds).
    async fn mark_ready(&mut self) {
        if self.ready {
            return;
        }
        let mut sdk = self.sdk.clone();
        if settled(
            "Ready",
            tokio::time::timeout(CALL_TIMEOUT, sdk.ready()).await,
        ) {
            info!("agones: Ready");
            self.ready = true;
        }
    }

    /// One Health period: a ping if the tick pool made progress since the last one,
    /// the labels if they changed, and Ready again if it has not gone through yet.
    async fn health_period(&mut self) {
        let rooms = self.app.rooms.list(None);
        let standing = self.app.rooms.standing().map(|r| r.id);
        if self.progress.advanced(standing, &rooms) {
            if self.stalled {
                info!("agones: the tick pool is making progress again; Health pings resume");
                self.stalled = false;
            }
            self.ping();
        } else if !self.stalled {
            warn!(
                "agones: the tick pool made no progress over the last Health period; \
                 withholding Health pings until it does"
            );
            self.stalled = true;
        }
        self.mark_ready().await;
        self.label(&rooms).await;
    }

    /// Sends one Health ping, reopening the stream if it has ended.
    fn ping(&mut self) {
        match self.health.try_send(()) {
            Ok(()) => {}
            Err(TrySendError::Full(())) => {
                warn!("agones: the Health stream is not draining; this ping is dropped");
            }
            Err(TrySendError::Closed(())) => {
                warn!("agones: the Health stream ended; opening a new one");
                self.health = self.sdk.health_check();
                if self.health.try_send(()).is_err() {
                    warn!("agones: the new Health stream took no ping");
                }
            }
        }
    }

    /// Sets the `rooms` and `players` labels, each when it differs from the value
    /// last set (a failed one is sent again next period).
    async fn label(&mut self, rooms: &[RoomListing]) {
        let players = rooms.iter().map(|r| r.players).sum::<usize>();
        let counts = [("rooms", rooms.len()), ("players", players)];
        let mut changed = false;
        for ((key, n), last) in counts.into_iter().zip(&mut self.labels) {
            if *last == Some(n) {
                continue;
            }
            let mut sdk = self.sdk.clone();
            let set = tokio::time::timeout(CALL_TIMEOUT, sdk.set_label(key, n.to_string())).await;
            if settled("SetLabel", set) {
                *last = Some(n);
                changed = true;
            }
        }
        if changed {
            info!(rooms = rooms.len(), players, "agones: labels set");
        }
    }

    /// Allocates the server when a room first fills, and asks for Shutdown once it is
    /// empty again after that.
    async fn watch(&mut self) {
        if self.shutdown_asked {
            return;
        }
        let rooms = self.app.rooms.list(None);
        if !self.allocated {
            if let Some(room) = full_room(&rooms) {
                let mut sdk = self.sdk.clone();
                if settled(
                    "Allocate",
                    tokio::time::timeout(CALL_TIMEOUT, sdk.allocate()).await,
                ) {
                    info!(room, "agones: a room filled; Allocated");
                    self.allocated = true;
                }
            }
            return;
        }
        if is_empty(&rooms, self.app.sessions(), self.app.rooms.reserved()) {
            self.shut_down("the match is over: no player is left").await;
            self.app.begin_drain();
        }
    }

    /// Asks Agones to shut this server down, once.
    async fn shut_down(&mut self, why: &str) {
        if self.shutdown_asked {
            return;
        }
        self.shutdown_asked = true;
        let mut sdk = self.sdk.clone();
        if settled(
            "Shutdown",
            tokio::time::timeout(CALL_TIMEOUT, sdk.shutdown()).await,
        ) {
            info!(reason = why, "agones: Shutdown");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of room `id` at `tick` with `players` of `max` seats taken.
    fn room(id: u32, tick: u32, players: usize, max: usize) -> RoomListing {
        RoomListing {
            id,
            tick,
            players,
            max_players: max,
            ..RoomListing::default()
        }
    }

    #[test]
    fn the_standing_rooms_tick_decides_progress() {
        let mut progress = Progress::default();
        assert!(progress.advanced(Some(1), &[room(1, 5, 0, 2), room(2, 9, 0, 2)]));
        // Another room moving does not hide a stalled standing room.
        assert!(!progress.advanced(Some(1), &[room(1, 5, 0, 2), room(2, 12, 0, 2)]));
        assert!(progress.advanced(Some(1), &[room(1, 6, 0, 2), room(2, 12, 0, 2)]));
        assert!(!progress.advanced(Some(1), &[room(1, 6, 0, 2)]));
    }

    #[test]
    fn without_a_standing_room_any_room_moving_is_progress() {
        let mut progress = Progress::default();
        assert!(progress.advanced(None, &[room(2, 3, 0, 2), room(3, 4, 0, 2)]));
        assert!(!progress.advanced(None, &[room(2, 3, 0, 2), room(3, 4, 0, 2)]));
        assert!(progress.advanced(None, &[room(2, 3, 0, 2), room(3, 5, 0, 2)]));
        // A room not seen before counts once it has ticked.
        assert!(!progress.advanced(
            None,
            &[room(2, 3, 0, 2), room(3, 5, 0, 2), room(4, 0, 0, 2)]
        ));
        assert!(progress.advanced(None, &[room(4, 1, 0, 2)]));
        // Nothing to tick: nothing stalled.
        assert!(progress.advanced(None, &[]));
    }

    #[test]
    fn a_room_is_full_when_every_seat_is_taken() {
        assert_eq!(full_room(&[room(1, 0, 1, 2), room(2, 0, 0, 2)]), None);
        assert_eq!(full_room(&[room(1, 0, 1, 2), room(2, 0, 2, 2)]), Some(2));
        // No seats at all is not a full room.
        assert_eq!(full_room(&[room(1, 0, 0, 0)]), None);
    }

    #[test]
    fn empty_means_no_seat_no_session_and_no_reservation() {
        let idle = [room(1, 0, 0, 2), room(2, 0, 0, 2)];
        assert!(is_empty(&idle, 0, 0));
        assert!(!is_empty(&[room(1, 0, 0, 2), room(2, 0, 1, 2)], 0, 0));
        assert!(!is_empty(&idle, 1, 0), "a spectator is still there");
        assert!(!is_empty(&idle, 0, 1), "a matchmade player is on the way");
    }
}
