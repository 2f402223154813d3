//! A game running headless: the game, its world, the net id allocator, the tick counter
//! and the capture, with no sockets. The tick thread drives one; so can a game's own
//! tests and benchmarks (join players, feed inputs, step, look at the snapshot).
//!
//! ```
//! # use tickwire_server::sim::Sim;
//! # use tickwire_server::games::demo::{Demo, DemoConfig};
//! let mut sim = Sim::<Demo>::new(&DemoConfig::default(), 30).unwrap();
//! let ann = sim.join_new("ann");
//! let snapshot = sim.step();
//! assert!(snapshot.get(ann).is_some());
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use hecs::World;
use tickwire_shared::schema::SchemaError;
use tickwire_shared::{NetId, PlayerId, Schema, Tick, WorldSnapshot};

use crate::budget::Priorities;
use crate::game::{Ctx, Game, PlayerInfo};
use crate::net_ids::NetIds;
use crate::replicate::{Capture, GameViews};
use crate::rewind::Rewind;

/// How far back lag compensation reaches in a `Sim` made by `new` (the engine's
/// `rewind_ms` default).
pub const DEFAULT_REWIND_MS: u32 = 250;

/// One game instance and everything needed to step it.
pub struct Sim<G: Game> {
    /// The game's rules and state.
    game: G,
    /// The world it plays in.
    world: World,
    /// Reads the world into snapshots.
    capture: Capture,
    /// Net ids (shared with sessions, which name an avatar's id before it spawns).
    ids: NetIds,
    /// Seconds per tick.
    dt: f32,
    /// The tick most recently completed.
    tick: Tick,
    /// Present players and their names.
    players: HashMap<PlayerId, Arc<str>>,
    /// Events raised since the last drain.
    events: Vec<G::Event>,
    /// The last few snapshots and each player's view tick (lag compensation).
    rewind: Rewind,
    /// Ticks per second.
    tick_hz: u32,
}

impl<G: Game> Sim<G> {
    /// A new game at `tick_hz` with its own net id allocator.
    pub fn new(config: &G::Config, tick_hz: u32) -> Result<Sim<G>, SchemaError> {
        Sim::with_ids(config, tick_hz, NetIds::default())
    }

    /// A new game at `tick_hz` allocating net ids from `ids`.
    pub fn with_ids(config: &G::Config, tick_hz: u32, ids: NetIds) -> Result<Sim<G>, SchemaError> {
        let capture = G::replicate(config).build(G::NAME)?;
        let tick_hz = tick_hz.max(1);
        let dt = 1.0 / tick_hz as f32;
        let mut world = World::new();
        let mut events = Vec::new();
        let rewind = Rewind::new(
            capture.schema().clone(),
            rewind_ticks(DEFAULT_REWIND_MS, tick_hz),
        );
        let game = G::new(
            config,
            &mut world,
            &mut Ctx::new(Tick(0), dt, &ids, &mut events, &rewind),
        );
        Ok(Sim {
            rewind,
            tick_hz,
            game,
            world,
            capture,
            ids,
            dt,
            tick: Tick(0),
            players: HashMap::new(),
            events,
        })
    }

    /// Sets how far back lag compensation reaches, in milliseconds (0 turns it off):
    /// the whole ticks that fit in it.
    #[must_use]
    pub fn with_rewind_ms(mut self, ms: u32) -> Sim<G> {
        self.rewind = Rewind::new(self.schema().clone(), rewind_ticks(ms, self.tick_hz));
        self
    }

    /// The lag compensation history.
    #[must_use]
    pub fn rewind(&self) -> &Rewind {
        &self.rewind
    }

    /// The game's schema.
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        self.capture.schema()
    }

    /// How the game's clients see its world, as it declared it.
    #[must_use]
    pub fn views(&self) -> GameViews {
        self.capture.views()
    }

    /// The game's base priorities per component (`Replicate::priority`).
    pub(crate) fn priorities(&self) -> &Arc<Priorities> {
        self.capture.priorities()
    }

    /// The game.
    #[must_use]
    pub fn game(&self) -> &G {
        &self.game
    }

    /// The world.
    #[must_use]
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The tick most recently completed.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// How many players are present.
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.players.len()
    }

    /// Admits a player (their avatar carries `player.entity`); false if already present.
    pub fn join(&mut self, player: &PlayerInfo) -> bool {
        if self.players.contains_key(&player.id) {
            return false;
        }
        let (game, world, mut ctx) = self.parts(self.tick.next());
        game.join(world, &mut ctx, player);
        self.players.insert(player.id, player.name.clone());
        true
    }

    /// Admits a new player named `name` with fresh ids (for tests and tools); returns the
    /// avatar's net id.
    pub fn join_new(&mut self, name: &str) -> NetId {
        let id = PlayerId(self.players.keys().map(|p| p.0).max().unwrap_or(0) + 1);
        let entity = self.ids.avatar();
        self.join(&PlayerInfo {
            id,
            name: name.into(),
            entity,
        });
        entity
    }

    /// Removes a player; their name, or `None` if they were not present.
    pub fn leave(&mut self, player: PlayerId) -> Option<Arc<str>> {
        let name = self.players.remove(&player)?;
        self.rewind.forget(player);
        let (game, world, mut ctx) = self.parts(self.tick.next());
        game.leave(world, &mut ctx, player);
        Some(name)
    }

    /// Hands a player's input to the game (before the next `step`), saying no view tick.
    pub fn input(&mut self, player: PlayerId, input: G::Input) {
        self.input_seen(player, input, None);
    }

    /// Hands a player's input to the game (before the next `step`), made while they
    /// looked at tick `view` (see `Ctx::view_tick`; `None`: not said, the last one
    /// said stands).
    pub fn input_seen(&mut self, player: PlayerId, input: G::Input, view: Option<Tick>) {
        if !self.players.contains_key(&player) {
            return;
        }
        if let Some(view) = view {
            self.rewind.saw(player, view);
        }
        let (game, world, mut ctx) = self.parts(self.tick.next());
        game.input(world, &mut ctx, player, input);
    }

    /// Runs one tick and returns its snapshot (kept for lag compensation too).
    pub fn step(&mut self) -> Arc<WorldSnapshot> {
        let tick = self.tick.next();
        let (game, world, mut ctx) = self.parts(tick);
        game.step(world, &mut ctx);
        self.tick = tick;
        let snapshot = Arc::new(self.capture());
        self.rewind.push(snapshot.clone());
        snapshot
    }

    /// The game, its world and a context for a hook run at `tick`, borrowed apart.
    fn parts(&mut self, tick: Tick) -> (&mut G, &mut World, Ctx<'_, G::Event>) {
        let ctx = Ctx::new(tick, self.dt, &self.ids, &mut self.events, &self.rewind);
        (&mut self.game, &mut self.world, ctx)
    }

    /// The snapshot of the current tick.
    #[must_use]
    pub fn capture(&self) -> WorldSnapshot {
        self.capture.capture(&self.world, self.tick)
    }

    /// Every present player with their score, by player id (`Game::score`).
    #[must_use]
    pub fn scoreboard(&self) -> Scoreboard {
        let mut players: Vec<ScoreLine> = self
            .players
            .iter()
            .map(|(&player, name)| ScoreLine {
                player,
                name: name.to_string(),
                score: self.game.score(&self.world, player),
            })
            .collect();
        players.sort_by_key(|l| l.player);
        Scoreboard {
            tick: self.tick,
            players,
        }
    }

    /// Takes the events raised since the last call.
    pub fn drain_events(&mut self) -> Vec<G::Event> {
        std::mem::take(&mut self.events)
    }
}

/// Who is in a game and their scores, at a tick (the event feed's `scoreboard`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Scoreboard {
    /// The tick.
    pub tick: Tick,
    /// Every present player, by id.
    pub players: Vec<ScoreLine>,
}

/// One player on a scoreboard.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScoreLine {
    /// The player.
    pub player: PlayerId,
    /// Their name.
    pub name: String,
    /// Their score, if the game keeps one.
    pub score: Option<i64>,
}

/// The whole ticks in `ms` milliseconds at `tick_hz`.
fn rewind_ticks(ms: u32, tick_hz: u32) -> u32 {
    u32::try_from(u64::from(ms) * u64::from(tick_hz) / 1000).unwrap_or(u32::MAX)
}
