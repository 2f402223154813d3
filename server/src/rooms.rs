//! The room directory: the room types a server was given (each a game and its
//! settings, by name), the rooms open now, and matchmaking among them. A session asks
//! for a seat (quick match of a type, or a room by id and, if private, its code) and
//! gets one, or a clear refusal. Rooms are created on demand and disposed of once they
//! have been empty for `room_grace_secs`; the server's first room stands even when
//! empty, so a server always has a world to show.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use tickwire_shared::codec::encode_value;
use tickwire_shared::layout::decode_fields;
use tickwire_shared::{NetId, PlayerId, Schema};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::admission::IpSlot;
use crate::app::ServerError;
use crate::config::Config;
use crate::game::Game;
use crate::inputs::Inputs;
use crate::metrics::Metrics;
use crate::net_ids::NetIds;
use crate::record::{Header, Recorder};
use crate::replay::{ReplayControl, ReplayError};
use crate::room::{Opening, Room, RoomId, Seat, Watching};
use crate::roster::Roster;
use crate::sim::Sim;
use crate::tick_loop::{Source, TickLoop};
use crate::tick_output::{TickOutput, Views};
use crate::tick_pool::{TickPool, Ticker};
use tickwire_shared::stats::RoomListing;

/// Seconds between a recording's keyframes.
const KEYFRAME_SECS: u32 = 5;

/// With a full view, priority under a byte budget halves this far (world units) from
/// the client's own entity.
const FULL_VIEW_FALLOFF: f32 = 500.0;

/// The first player id of a replay's viewers, far past any recorded player's.
const VIEWER_PLAYERS: u32 = 1 << 30;

/// Letters of a private room's code: no 0/O or 1/I/L to misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Length of a private room's code.
const CODE_LEN: usize = 6;

/// The games a server runs, each under a room type's name, with its settings. The
/// first is the default: a client that asks for no type quick-matches into it.
///
/// ```no_run
/// # use tickwire_server::{Config, RoomTypes};
/// # use tickwire_server::games::demo::{Demo, DemoConfig};
/// let types = RoomTypes::new().add::<Demo>("demo", Config::default(), DemoConfig::default());
/// ```
#[derive(Default)]
pub struct RoomTypes {
    kinds: Vec<Arc<dyn RoomKind>>,
}

impl RoomTypes {
    /// No types yet.
    #[must_use]
    pub fn new() -> RoomTypes {
        RoomTypes::default()
    }

    /// Adds game `G` as the room type `name`, its rooms run with `config`'s tick rate,
    /// view, player cap and recording, and `game` as the game's settings. The server's
    /// own limits (sessions, messages, timeouts) come from the server's config.
    #[must_use]
    pub fn add<G: Game>(mut self, name: &str, config: Config, game: G::Config) -> RoomTypes {
        self.kinds.push(Arc::new(GameKind::<G> {
            name: name.into(),
            config: Arc::new(config),
            game,
        }));
        self
    }

    /// The type names, default first.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_string()).collect()
    }
}

/// A room type as the directory uses it.
pub(crate) trait RoomKind: Send + Sync {
    /// Its name.
    fn name(&self) -> &Arc<str>;
    /// The settings its rooms run with.
    fn config(&self) -> &Arc<Config>;
    /// Checks that its rooms can be opened at all (the settings, the schema, the input
    /// layout), before the server starts; its schema.
    fn check(&self) -> Result<Arc<Schema>, ServerError>;
    /// Opens a room of this type.
    fn open(&self, opening: Opening) -> Result<(Arc<Room>, Box<dyn Ticker>), ServerError>;
}

/// Game `G` under a type name.
struct GameKind<G: Game> {
    name: Arc<str>,
    config: Arc<Config>,
    game: G::Config,
}

impl<G: Game> RoomKind for GameKind<G> {
    fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn config(&self) -> &Arc<Config> {
        &self.config
    }

    fn check(&self) -> Result<Arc<Schema>, ServerError> {
        self.config.validate()?;
        let sim = Sim::<G>::new(&self.game, self.config.tick_hz)?;
        check_input::<G>(&sim)?;
        Ok(sim.schema().clone())
    }

    fn open(&self, opening: Opening) -> Result<(Arc<Room>, Box<dyn Ticker>), ServerError> {
        let config = &opening.config;
        let ids = NetIds::default();
        let sim = Sim::<G>::with_ids(&self.game, config.tick_hz, ids.clone())?
            .with_rewind_ms(config.rewind_ms);
        let recorder = match &config.record {
            Some(dir) => {
                let header = Header {
                    game: G::NAME.to_owned(),
                    game_config: toml::to_string(&self.game).map_err(|e| {
                        ReplayError::Settings(format!("the game's settings as TOML: {e}"))
                    })?,
                    tick_hz: config.tick_hz,
                    rewind_ms: config.rewind_ms,
                    keyframe_every: KEYFRAME_SECS * config.tick_hz,
                    started_unix_ms: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                };
                let recorder = Recorder::create(dir, &header, opening.id)?;
                info!(room = opening.id, path = %recorder.path().display(), "recording the match");
                Some(recorder)
            }
            None => None,
        };
        let (room, ticker) = open_room(opening, Source::Live { sim, recorder }, ids, None)?;
        Ok((room, Box::new(ticker)))
    }
}

/// A layout that cannot read the real input's bytes would make every browser input
/// malformed: such a game is refused at start.
fn check_input<G: Game>(sim: &Sim<G>) -> Result<(), ServerError> {
    decode_fields(
        &sim.schema().def().input,
        &encode_value(&G::Input::default()),
    )
    .map(|_| ())
    .map_err(|e| ServerError::InputLayout(e.to_string()))
}

/// Assembles a room around `source` (a live game or a served replay) and the tick loop
/// that runs it.
pub(crate) fn open_room<G: Game>(
    opening: Opening,
    source: Source<G>,
    ids: NetIds,
    replay: Option<Arc<ReplayControl>>,
) -> Result<(Arc<Room>, TickLoop<G>), ServerError> {
    let config = opening.config.clone();
    let sim = source.sim();
    check_input::<G>(sim)?;
    let schema = sim.schema().clone();
    let inputs = Arc::new(match &source {
        Source::Live {
            recorder: Some(_), ..
        } => Inputs::<G>::recording(),
        _ => Inputs::<G>::default(),
    });
    let first_player = if replay.is_some() { VIEWER_PLAYERS } else { 1 };
    let (roster, commands) = Roster::new(config.max_sessions, inputs.clone(), first_player);
    let views = match &replay {
        // A viewer has no entity to centre a view on.
        Some(_) => Views::default(),
        None => Views::new(&schema, sim.views(), config.view_radius),
    };
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
    let priorities = sim.priorities().clone();
    let (room, parts) = Room::new(
        opening,
        Arc::new(roster),
        schema,
        views,
        priorities,
        falloff,
        first,
        ids,
        replay,
    );
    let tick_loop = TickLoop {
        source,
        inputs,
        commands,
        frames: parts.frames,
        room: room.clone(),
    };
    Ok((room, tick_loop))
}

/// What a client asks to be seated in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// The fullest public room of a type that has a seat free, or a new one (`None`:
    /// the default type).
    Quick(Option<String>),
    /// A room by id, with its code if it is private.
    Room {
        /// Which room.
        id: RoomId,
        /// Its join code.
        code: Option<String>,
    },
    /// The seat a `POST /matchmake` reserved, by its signed token.
    Seat(String),
    /// To watch a room by id (with its code if it is private): the whole room, or
    /// following one of its players.
    Watch {
        /// Which room.
        id: RoomId,
        /// Its join code.
        code: Option<String>,
        /// The player to follow.
        follow: Option<PlayerId>,
    },
}

/// Why no seat was given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No room type of that name.
    #[error("there is no room type {0:?} (this server runs {1})")]
    UnknownType(String, String),
    /// No open room of that id.
    #[error("there is no room {0}")]
    UnknownRoom(RoomId),
    /// A private room, and no code or the wrong one.
    #[error("room {0} is private and that is not its code")]
    WrongCode(RoomId),
    /// The room has no seat free.
    #[error("room {0} is full ({1} players)")]
    Full(RoomId, usize),
    /// The room has as many spectators as it takes.
    #[error("room {0} has as many spectators as it takes ({1})")]
    SpectatorsFull(RoomId, usize),
    /// The player to follow is not in the room.
    #[error("there is no player {1} in room {0} to follow")]
    NoSuchPlayer(RoomId, PlayerId),
    /// A seat token that is forged, expired, or already used.
    #[error("no seat for this reservation: {0}")]
    NoSeat(String),
    /// The server runs as many rooms as it may.
    #[error("the server runs as many rooms as it may ({0})")]
    TooManyRooms(usize),
    /// The room could not be opened.
    #[error("the room could not be opened: {0}")]
    Open(String),
    /// The server is draining: it takes no new players (matchmake again).
    #[error("this server is draining and takes no new players: matchmake again")]
    Draining,
}

/// The rooms open now.
struct Directory {
    /// By id.
    rooms: BTreeMap<RoomId, Arc<Room>>,
    /// The next room id.
    next: RoomId,
    /// Since when each empty room has been empty.
    empty_since: HashMap<RoomId, Instant>,
}

/// A seat `POST /matchmake` reserved: which room, the signed token that claims it at
/// Hello (`/ws?seat=TOKEN`), and how long it is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The room.
    pub room: RoomId,
    /// Its type.
    pub kind: String,
    /// The token.
    pub token: String,
    /// How long the seat waits for its client.
    pub expires_in: Duration,
}

/// A reserved seat waiting for its client.
struct Reserved {
    seat: Seat,
    /// When it lapses.
    until: Instant,
    /// The reserver's connection slot, held meanwhile.
    _slot: Option<IpSlot>,
}

/// The directory and the tick pool that steps its rooms.
pub struct Rooms {
    /// Signs seat reservations (random per process).
    seat_secret: String,
    /// Seats reserved and not yet claimed, by the token's nonce.
    reserved: Mutex<HashMap<String, Reserved>>,
    /// How long a reserved seat waits.
    reservation: Duration,
    kinds: Vec<Arc<dyn RoomKind>>,
    /// Each type's schema, by name.
    schemas: HashMap<Arc<str>, Arc<Schema>>,
    dir: Mutex<Directory>,
    pool: TickPool,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    max_rooms: usize,
    /// Set once the server drains: no new players, and empty rooms close at once.
    closed: AtomicBool,
}

impl Rooms {
    /// A directory over `kinds` (checked here), its pool started by `config`'s
    /// `tick_threads` and `tick_priority`.
    pub(crate) fn new(
        kinds: RoomTypes,
        config: &Config,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Result<Rooms, ServerError> {
        let mut schemas = HashMap::new();
        for kind in &kinds.kinds {
            if schemas.insert(kind.name().clone(), kind.check()?).is_some() {
                return Err(ServerError::Config(crate::config::ConfigError::Invalid {
                    field: "room types",
                    message: format!("two room types are named {:?}", kind.name()),
                }));
            }
        }
        let pool = TickPool::start(
            config.tick_threads,
            config.tick_priority,
            metrics.clone(),
            Duration::from_secs(config.log_summary_secs),
            shutdown.clone(),
        )
        .map_err(|source| ServerError::Io {
            context: "starting the tick threads",
            source,
        })?;
        Ok(Rooms {
            seat_secret: random_hex(32),
            reserved: Mutex::new(HashMap::new()),
            reservation: Duration::from_secs(config.seat_reservation_secs.max(1)),
            kinds: kinds.kinds,
            schemas,
            dir: Mutex::new(Directory {
                rooms: BTreeMap::new(),
                next: 1,
                empty_since: HashMap::new(),
            }),
            pool,
            shutdown,
            metrics,
            max_rooms: config.max_rooms,
            closed: AtomicBool::new(false),
        })
    }

    /// Takes no new players from now on (the server drains): asking for a seat, a
    /// reserved seat's claim and opening a room are refused with `Refusal::Draining`;
    /// resumes and spectators still come in, and empty rooms close at the next sweep.
    /// Seats reserved and not yet claimed are freed at once: their claims would be
    /// refused, and holding them would keep the draining server waiting for nobody.
    pub fn close_to_new(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let freed: Vec<Reserved> = self
            .reserved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, r)| r)
            .collect();
        // Dropped outside the reservations' lock: a seat's drop takes the room's count.
        drop(freed);
    }

    /// Whether the directory takes new players.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    fn open_to_new(&self) -> Result<(), Refusal> {
        if self.is_closed() {
            return Err(Refusal::Draining);
        }
        Ok(())
    }

    fn dir(&self) -> MutexGuard<'_, Directory> {
        self.dir.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tick pool's thread count.
    #[must_use]
    pub fn tick_threads(&self) -> usize {
        self.pool.threads()
    }

    /// The schema of room type `kind`.
    #[must_use]
    pub fn schema(&self, kind: &str) -> Option<Arc<Schema>> {
        self.schemas.get(kind).cloned()
    }

    /// The type names, default first.
    #[must_use]
    pub fn type_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_string()).collect()
    }

    fn kind(&self, name: Option<&str>) -> Result<&Arc<dyn RoomKind>, Refusal> {
        let found = match name {
            None => self.kinds.first(),
            Some(n) => self.kinds.iter().find(|k| &**k.name() == n),
        };
        found.ok_or_else(|| {
            Refusal::UnknownType(
                name.unwrap_or_default().to_owned(),
                match self.type_names().join(", ") {
                    s if s.is_empty() => "no room types: it serves a replay".to_owned(),
                    s => s,
                },
            )
        })
    }

    /// Opens the standing room: the default type's first room (the server's world
    /// before anyone asks for another).
    pub(crate) fn open_standing(&self) -> Result<Arc<Room>, ServerError> {
        let Some(kind) = self.kinds.first().cloned() else {
            return Err(ServerError::Config(crate::config::ConfigError::Invalid {
                field: "room types",
                message: "a server needs at least one room type".into(),
            }));
        };
        let mut dir = self.dir();
        self.open_in(&mut dir, &kind, None, true)
    }

    /// Adds a room opened elsewhere (a served replay) as the standing room.
    pub(crate) fn add_standing(
        &self,
        build: impl FnOnce(Opening) -> Result<(Arc<Room>, Box<dyn Ticker>), ServerError>,
        kind: &str,
        config: Arc<Config>,
    ) -> Result<Arc<Room>, ServerError> {
        let mut dir = self.dir();
        let opening = self.opening(&mut dir, kind.into(), None, config, true);
        let (room, ticker) = build(opening)?;
        self.pool.add(ticker);
        dir.rooms.insert(room.id, room.clone());
        Ok(room)
    }

    fn opening(
        &self,
        dir: &mut Directory,
        kind: Arc<str>,
        code: Option<String>,
        config: Arc<Config>,
        standing: bool,
    ) -> Opening {
        let id = dir.next;
        dir.next = dir.next.wrapping_add(1).max(1);
        Opening {
            id,
            kind,
            code,
            config,
            standing,
            shutdown: self.shutdown.clone(),
            metrics: self.metrics.clone(),
        }
    }

    fn open_in(
        &self,
        dir: &mut Directory,
        kind: &Arc<dyn RoomKind>,
        code: Option<String>,
        standing: bool,
    ) -> Result<Arc<Room>, ServerError> {
        let opening = self.opening(
            dir,
            kind.name().clone(),
            code,
            kind.config().clone(),
            standing,
        );
        let (room, ticker) = kind.open(opening)?;
        self.pool.add(ticker);
        dir.rooms.insert(room.id, room.clone());
        dir.empty_since.insert(room.id, Instant::now());
        info!(room = room.id, kind = %room.kind, private = room.code.is_some(), "room opened");
        Ok(room)
    }

    /// Opens a new room of type `kind` (`None`: the default), private (with a fresh
    /// join code) if asked; it holds its opener's connection `slot` until its first
    /// player takes a seat. It is disposed of if nobody joins within the grace.
    pub fn create(
        &self,
        kind: Option<&str>,
        private: bool,
        slot: Option<IpSlot>,
    ) -> Result<Arc<Room>, Refusal> {
        self.open_to_new()?;
        let kind = self.kind(kind)?.clone();
        let mut dir = self.dir();
        self.room_allowed(&dir)?;
        let code = private.then(new_code);
        let room = self
            .open_in(&mut dir, &kind, code, false)
            .map_err(|e| Refusal::Open(e.to_string()))?;
        room.hold_opener(slot);
        Ok(room)
    }

    fn room_allowed(&self, dir: &Directory) -> Result<(), Refusal> {
        if dir.rooms.len() >= self.max_rooms {
            return Err(Refusal::TooManyRooms(self.max_rooms));
        }
        Ok(())
    }

    /// The open room `id`, if `code` opens it.
    fn find_room<'d>(
        dir: &'d Directory,
        id: RoomId,
        code: Option<&String>,
    ) -> Result<&'d Arc<Room>, Refusal> {
        let room = dir
            .rooms
            .get(&id)
            .filter(|r| !r.stop.is_cancelled())
            .ok_or(Refusal::UnknownRoom(id))?;
        if room.code.is_some() && room.code.as_ref() != code {
            return Err(Refusal::WrongCode(id));
        }
        Ok(room)
    }

    /// A spectator's place in room `id` (opened by `code` if private), following
    /// player `follow` if asked; with the entity to centre on (`NetId(0)`: none).
    pub fn watch(
        &self,
        id: RoomId,
        code: Option<&String>,
        follow: Option<PlayerId>,
    ) -> Result<(Watching, NetId), Refusal> {
        let dir = self.dir();
        let room = Rooms::find_room(&dir, id, code)?;
        let centre = match follow {
            Some(player) => room
                .avatar(player)
                .ok_or(Refusal::NoSuchPlayer(id, player))?,
            None => NetId(0),
        };
        let watching = room
            .try_watch()
            .ok_or(Refusal::SpectatorsFull(id, room.max_spectators))?;
        Ok((watching, centre))
    }

    /// Reserves a seat as `ask` asks (for a client that matchmade over HTTP and will
    /// connect with the token), held for `seat_reservation_secs`.
    pub fn reserve(&self, ask: &Ask, slot: Option<IpSlot>) -> Result<Reservation, Refusal> {
        let seat = self.seat(ask)?;
        let room = seat.room().clone();
        let nonce = random_hex(16);
        let expires_in = self.reservation;
        let expires = crate::auth::unix_now() + expires_in.as_secs() + 1;
        let token = crate::auth::mint(
            &self.seat_secret,
            &format!("seat.{}.{nonce}", room.id),
            expires,
        );
        {
            let mut reserved = self.reserved.lock().unwrap_or_else(PoisonError::into_inner);
            // Checked again under the lock `close_to_new` empties: a reservation made as
            // the drain began must not outlive it.
            if self.is_closed() {
                drop(reserved);
                drop(seat);
                return Err(Refusal::Draining);
            }
            reserved.insert(
                nonce,
                Reserved {
                    seat,
                    until: Instant::now() + expires_in,
                    _slot: slot,
                },
            );
        }
        Ok(Reservation {
            room: room.id,
            kind: room.kind.to_string(),
            token,
            expires_in,
        })
    }

    /// The seat reserved under `token`, taken out of the reservations.
    fn claim(&self, token: &str) -> Result<Seat, Refusal> {
        let name = crate::auth::verify(&self.seat_secret, Some(token), crate::auth::unix_now())
            .map_err(|e| {
                Refusal::NoSeat(match e {
                    crate::auth::AuthError::Expired { .. } => "its reservation ran out".to_owned(),
                    _ => "the seat token is not one this server signed".to_owned(),
                })
            })?;
        let nonce = name.rsplit('.').next().unwrap_or_default();
        self.reserved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(nonce)
            .map(|r| r.seat)
            .filter(|seat| !seat.room().stop.is_cancelled())
            .ok_or_else(|| {
                Refusal::NoSeat("it was already taken, or its reservation ran out".to_owned())
            })
    }

    /// A seat as `ask` asks, or why not (for a `Watch`, the seat of a player in that
    /// room: spectators go through `watch` instead).
    pub fn seat(&self, ask: &Ask) -> Result<Seat, Refusal> {
        self.open_to_new()?;
        match ask {
            Ask::Seat(token) => self.claim(token),
            Ask::Room { id, code } | Ask::Watch { id, code, .. } => {
                let dir = self.dir();
                let room = Rooms::find_room(&dir, *id, code.as_ref())?;
                room.try_seat().ok_or(Refusal::Full(*id, room.max_players))
            }
            Ask::Quick(kind) => {
                let mut dir = self.dir();
                // A served replay has no types: its one room is the only match.
                let opener = match (kind, self.kinds.is_empty()) {
                    (None, true) => None,
                    _ => Some(self.kind(kind.as_deref())?.clone()),
                };
                let name = match &opener {
                    Some(k) => k.name().clone(),
                    None => match dir.rooms.values().find(|r| r.standing) {
                        Some(r) => r.kind.clone(),
                        None => return Err(Refusal::UnknownRoom(1)),
                    },
                };
                // The fullest public room of the type with a seat free; the oldest of
                // equally full ones.
                let mut best: Option<&Arc<Room>> = None;
                for room in dir.rooms.values() {
                    let fits = room.kind == name
                        && room.code.is_none()
                        && !room.stop.is_cancelled()
                        && room.seats() < room.max_players;
                    if fits && best.is_none_or(|b| room.seats() > b.seats()) {
                        best = Some(room);
                    }
                }
                if let Some(seat) = best.and_then(Room::try_seat) {
                    return Ok(seat);
                }
                let Some(kind) = opener else {
                    let max = dir.rooms.values().next().map_or(0, |r| r.max_players);
                    return Err(Refusal::Full(1, max));
                };
                self.room_allowed(&dir)?;
                let room = self
                    .open_in(&mut dir, &kind, None, false)
                    .map_err(|e| Refusal::Open(e.to_string()))?;
                room.try_seat()
                    .ok_or(Refusal::Full(room.id, room.max_players))
            }
        }
    }

    /// The open room `id`.
    #[must_use]
    pub fn get(&self, id: RoomId) -> Option<Arc<Room>> {
        self.dir().rooms.get(&id).cloned()
    }

    /// The standing room (the first one opened), if it still runs.
    #[must_use]
    pub fn standing(&self) -> Option<Arc<Room>> {
        self.dir().rooms.values().find(|r| r.standing).cloned()
    }

    /// Every open room (of type `kind`, if given), by id.
    #[must_use]
    pub fn list(&self, kind: Option<&str>) -> Vec<RoomListing> {
        let rooms: Vec<Arc<Room>> = self
            .dir()
            .rooms
            .values()
            .filter(|r| kind.is_none_or(|k| &*r.kind == k))
            .cloned()
            .collect();
        rooms.iter().map(|r| r.listing()).collect()
    }

    /// Seats reserved by `POST /matchmake` and not yet claimed (nor lapsed).
    #[must_use]
    pub fn reserved(&self) -> usize {
        self.reserved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// How many rooms are open.
    #[must_use]
    pub fn len(&self) -> usize {
        self.dir().rooms.len()
    }

    /// Whether no room is open.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lets go of rooms that ended (their game failed) and of rooms empty for `grace`
    /// (but the standing room); returns the ids let go.
    pub fn sweep(&self, now: Instant, grace: Duration) -> Vec<RoomId> {
        let grace = if self.is_closed() {
            Duration::ZERO
        } else {
            grace
        };
        // Seats reserved but never claimed go back first (their rooms may then be empty).
        let lapsed: Vec<Seat> = {
            let mut reserved = self.reserved.lock().unwrap_or_else(PoisonError::into_inner);
            let gone: Vec<String> = reserved
                .iter()
                .filter(|(_, r)| r.until <= now)
                .map(|(nonce, _)| nonce.clone())
                .collect();
            gone.iter()
                .filter_map(|n| reserved.remove(n))
                .map(|r| r.seat)
                .collect()
        };
        for seat in &lapsed {
            info!(
                room = seat.room().id,
                "a reserved seat was not claimed in time; it is free again"
            );
        }
        drop(lapsed);
        let mut dir = self.dir();
        let mut gone = Vec::new();
        let Directory {
            rooms, empty_since, ..
        } = &mut *dir;
        rooms.retain(|&id, room| {
            if room.stop.is_cancelled() {
                gone.push(id);
                empty_since.remove(&id);
                return false;
            }
            if room.seats() > 0 || room.standing {
                empty_since.remove(&id);
                return true;
            }
            let since = *empty_since.entry(id).or_insert(now);
            if now.saturating_duration_since(since) >= grace {
                info!(room = id, kind = %room.kind, "room empty for its grace; disposing of it");
                room.dispose();
                gone.push(id);
                empty_since.remove(&id);
                return false;
            }
            true
        });
        gone
    }

    /// Stops the tick pool (every room's game ends) and waits for its threads; false
    /// if one panicked outside a room's tick.
    pub(crate) fn stop(&self) -> bool {
        self.pool.stop();
        self.pool.join()
    }
}

/// `bytes` random bytes as hex.
/// `bytes` random bytes, as hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh private room code.
fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// A demo room of at most `max_players`, not ticking, for unit tests.
#[cfg(test)]
pub(crate) fn test_room(max_players: usize) -> Arc<Room> {
    let config = Config {
        room_players: max_players,
        ..Config::default()
    };
    let kind = GameKind::<crate::games::demo::Demo> {
        name: "demo".into(),
        config: Arc::new(config.clone()),
        game: crate::games::demo::DemoConfig::default(),
    };
    let opening = Opening {
        id: 1,
        kind: "demo".into(),
        code: None,
        config: Arc::new(config),
        standing: false,
        shutdown: CancellationToken::new(),
        metrics: Arc::new(Metrics::new()),
    };
    kind.open(opening).expect("the demo opens").0
}
