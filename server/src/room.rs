//! One room: one instance of a game, with its own world, tick schedule, players and
//! published frames. Sessions talk to the room they were seated in; the tick pool
//! (`tick_pool`) steps it; the directory (`rooms`) creates, lists and disposes of rooms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tickwire_shared::stats::{RoomListing, TickWindow};
use tickwire_shared::{NetId, PlayerId, Schema, Tick, WorldSnapshot};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::admission::IpSlot;
use crate::budget::Priorities;
use crate::config::Config;
use crate::feed::Feed;
use crate::metrics::Metrics;
use crate::net_ids::NetIds;
use crate::replay::ReplayControl;
use crate::replication::BodyCache;
use crate::roster::Roster;
use crate::tick_output::{History, TickOutput, Views};
use crate::timing::RoomTicks;

/// A room's id: small, unique in the process, never reused while it runs.
pub type RoomId = u32;

/// Everything sessions share about one room.
pub struct Room {
    /// Its id.
    pub id: RoomId,
    /// Its type's name (`demo`, `arena`, a game's own).
    pub kind: Arc<str>,
    /// The join code of a private room (quick match never seats anyone in one).
    pub code: Option<String>,
    /// The engine settings it runs with (its type's tick rate, view and game table).
    pub config: Arc<Config>,
    /// Most players at once (seated, joining or parked for a resume).
    pub max_players: usize,
    /// Most spectators at once.
    pub max_spectators: usize,
    /// Whether the directory keeps it when it is empty (the server's first room).
    pub standing: bool,
    /// When it opened.
    pub opened: Instant,
    /// Player ids, input slots and the join/leave queue.
    pub roster: Arc<Roster>,
    /// The game's schema, sent in every Welcome.
    pub schema: Arc<Schema>,
    /// How every client sees the world.
    pub views: Views,
    /// The game's base priorities under a byte budget.
    pub priorities: Arc<Priorities>,
    /// The distance (position steps) at which a waiting entity's priority is halved.
    pub falloff: i32,
    /// The newest frame.
    pub frames: watch::Receiver<Arc<TickOutput>>,
    /// Chat and events, encoded once, for everyone in the room.
    pub broadcast: broadcast::Sender<Bytes>,
    /// Shared encodings of full-view delta bodies.
    pub cache: BodyCache,
    /// Net id allocator (avatars get theirs at Hello).
    pub ids: NetIds,
    /// Recent snapshots, for tests and tools.
    pub history: Arc<History>,
    /// Its live event feed (joins, leaves, chat, game events, scoreboards).
    pub feed: Feed,
    /// The controls of a served replay (`None` when the game is live).
    pub replay: Option<Arc<ReplayControl>>,
    /// Fires when the room ends (disposed, failed, or the server stops).
    pub stop: CancellationToken,
    /// Set when its game panicked (its sessions are told so).
    failed: AtomicBool,
    /// Set when the directory disposed of it.
    disposed: AtomicBool,
    /// Set once it has left the rooms and entities gauges.
    counted_out: AtomicBool,
    /// Seats taken: players playing, joining, or parked for a resume.
    seats: AtomicUsize,
    /// Spectators watching.
    spectators: AtomicUsize,
    /// Each seated player's avatar (for spectators who follow one).
    avatars: Mutex<HashMap<PlayerId, NetId>>,
    /// The connection slot of whoever opened the room, until its first seat is taken.
    opener: Mutex<Option<IpSlot>>,
    /// Its tick timing, published by the tick pool about once a second (the pool only
    /// ever `try_lock`s this, so a reader never delays a tick).
    pub(crate) ticks: Mutex<RoomTicks>,
    /// Entities in its world at the last tick (its share of the entities gauge).
    entities: AtomicI64,
    /// The server's metrics.
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("seats", &self.seats())
            .finish_non_exhaustive()
    }
}

/// What a room is opened with, besides its game.
pub(crate) struct Opening {
    /// Its id.
    pub id: RoomId,
    /// Its type's name.
    pub kind: Arc<str>,
    /// Its join code, for a private room.
    pub code: Option<String>,
    /// Its settings.
    pub config: Arc<Config>,
    /// Whether it stands when empty.
    pub standing: bool,
    /// Ends it with the server.
    pub shutdown: CancellationToken,
    /// The server's metrics.
    pub metrics: Arc<Metrics>,
}

/// A room's parts that only its tick loop holds.
pub(crate) struct RoomParts {
    /// Where the frames go.
    pub frames: watch::Sender<Arc<TickOutput>>,
}

impl Room {
    /// Assembles a room whose first frame is `first` (published before its first tick).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        opening: Opening,
        roster: Arc<Roster>,
        schema: Arc<Schema>,
        views: Views,
        priorities: Arc<Priorities>,
        falloff: i32,
        first: Arc<TickOutput>,
        ids: NetIds,
        replay: Option<Arc<ReplayControl>>,
    ) -> (Arc<Room>, RoomParts) {
        let (frames_tx, frames) = watch::channel(first.clone());
        let (broadcast, _) = broadcast::channel(256);
        let history = Arc::new(History::new(opening.config.history_ticks));
        // The first frame is served before the first tick; keep it too, so every
        // snapshot a client can receive is one the history can answer for.
        history.push(first.snapshot.clone());
        let max_players = match opening.config.room_players {
            0 => opening.config.max_sessions,
            n => n,
        };
        opening.metrics.room_opened();
        let room = Arc::new(Room {
            id: opening.id,
            kind: opening.kind,
            code: opening.code,
            max_players,
            max_spectators: opening.config.room_spectators,
            standing: opening.standing,
            opened: Instant::now(),
            roster,
            cache: BodyCache::new(schema.clone()),
            schema,
            views,
            priorities,
            falloff,
            frames,
            broadcast,
            ids,
            history,
            feed: Feed::new(opening.config.feed_events),
            replay,
            stop: opening.shutdown.child_token(),
            config: opening.config,
            failed: AtomicBool::new(false),
            disposed: AtomicBool::new(false),
            counted_out: AtomicBool::new(false),
            seats: AtomicUsize::new(0),
            spectators: AtomicUsize::new(0),
            avatars: Mutex::default(),
            opener: Mutex::default(),
            ticks: Mutex::new(RoomTicks::default()),
            entities: AtomicI64::new(0),
            metrics: opening.metrics,
        });
        (room, RoomParts { frames: frames_tx })
    }

    /// Seats taken (players playing, joining, or parked).
    #[must_use]
    pub fn seats(&self) -> usize {
        self.seats.load(Ordering::Acquire)
    }

    /// Takes a seat if one is free and the room still runs. The directory calls this
    /// under its lock, so no room is disposed of between a check and a seat.
    pub(crate) fn try_seat(self: &Arc<Room>) -> Option<Seat> {
        if self.stop.is_cancelled() {
            return None;
        }
        let seat = self
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_players).then_some(n + 1)
            })
            .ok()
            .map(|_| Seat { room: self.clone() });
        if seat.is_some() {
            lock(&self.opener).take();
        }
        seat
    }

    /// Holds its opener's connection slot until the first seat is taken.
    pub(crate) fn hold_opener(&self, slot: Option<IpSlot>) {
        *lock(&self.opener) = slot;
    }

    /// Spectators watching.
    #[must_use]
    pub fn spectators(&self) -> usize {
        self.spectators.load(Ordering::Acquire)
    }

    /// A spectator's place, if the cap allows one more and the room still runs.
    pub(crate) fn try_watch(self: &Arc<Room>) -> Option<Watching> {
        if self.stop.is_cancelled() {
            return None;
        }
        self.spectators
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_spectators).then_some(n + 1)
            })
            .ok()
            .map(|_| Watching { room: self.clone() })
    }

    /// Notes a seated player's avatar (at their join or resume).
    pub(crate) fn set_avatar(&self, player: PlayerId, entity: NetId) {
        lock(&self.avatars).insert(player, entity);
    }

    /// Forgets a player who left for good.
    pub(crate) fn forget_avatar(&self, player: PlayerId) {
        lock(&self.avatars).remove(&player);
    }

    /// The avatar of player `player`, if they are in the room.
    #[must_use]
    pub fn avatar(&self, player: PlayerId) -> Option<NetId> {
        lock(&self.avatars).get(&player).copied()
    }

    /// The newest frame's tick.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.frames.borrow().tick()
    }

    /// The newest snapshot.
    #[must_use]
    pub fn latest_snapshot(&self) -> Arc<WorldSnapshot> {
        self.frames.borrow().snapshot.clone()
    }

    /// Counts the entities of its newest tick in the server's entities gauge.
    pub(crate) fn count_entities(&self, n: usize) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let before = self.entities.swap(n, Ordering::AcqRel);
        self.metrics.entities.inc_by(n - before);
    }

    /// Ends the room because its game panicked: its sessions are told, and the
    /// directory lets it go.
    pub(crate) fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        self.stop.cancel();
    }

    /// Ends the room because it stayed empty for its grace.
    pub(crate) fn dispose(&self) {
        self.disposed.store(true, Ordering::Release);
        self.stop.cancel();
    }

    /// Whether the directory disposed of it.
    #[must_use]
    pub fn disposed(&self) -> bool {
        self.disposed.load(Ordering::Acquire)
    }

    /// Takes the room out of the rooms and entities gauges, once (when its game stops;
    /// sessions or readers may hold the room a while longer).
    pub(crate) fn count_out(&self) {
        if !self.counted_out.swap(true, Ordering::AcqRel) {
            self.metrics
                .room_closed(self.entities.load(Ordering::Acquire));
        }
    }

    /// Whether its game panicked.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Its tick timing over the last whole second.
    #[must_use]
    pub fn last_second(&self) -> TickWindow {
        lock(&self.ticks).last_second
    }

    /// One line of the room listing.
    #[must_use]
    pub fn listing(&self) -> RoomListing {
        let report = *lock(&self.ticks);
        let second = report.last_second;
        RoomListing {
            id: self.id,
            kind: self.kind.to_string(),
            private: self.code.is_some(),
            players: self.seats(),
            max_players: self.max_players,
            spectators: self.spectators(),
            tick_hz: self.config.tick_hz,
            tick: self.tick().0,
            age_s: self.opened.elapsed().as_secs_f64(),
            tick_p50_ms: second.duration_p50_us as f64 / 1000.0,
            tick_p99_ms: second.duration_p99_us as f64 / 1000.0,
            run_ticks: report.ticks,
            run_tick_p99_ms: report.p99_us as f64 / 1000.0,
            run_tick_max_ms: report.max_us as f64 / 1000.0,
            overruns: report.overruns,
        }
    }

    /// One tick's period.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.config.tick_period()
    }
}

/// One seat in a room, held from matchmaking until the player is gone for good (a
/// parked player keeps theirs for the resume grace). Dropping it frees the seat.
#[derive(Debug)]
pub struct Seat {
    /// The room.
    room: Arc<Room>,
}

impl Seat {
    /// The room this seat is in.
    #[must_use]
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.room.seats.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.count_out();
    }
}

/// A spectator's place in a room, held while they watch; dropping it frees it.
#[derive(Debug)]
pub struct Watching {
    /// The room.
    room: Arc<Room>,
}

impl Watching {
    /// The room watched.
    #[must_use]
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.room.spectators.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Locks `m`, carrying on past a panic elsewhere.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
