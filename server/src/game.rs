//! The game boundary: the trait a game implements to run on Tickwire.
//!
//! A game owns its rules and state; the engine owns the `hecs::World` it plays in, the
//! tick loop that calls it, and everything about players' connections. Each tick the
//! engine applies joins and leaves, hands each player's newest input to the game, steps
//! it, then captures the world's replicated components (those the game registered in
//! its `Replicate`) into a snapshot and sends every client its delta.
//!
//! An entity is replicated when it carries a `NetId` component (from `Ctx::new_id`, or
//! the one `PlayerInfo::entity` names for a player's avatar) plus registered components.

use std::fmt::Debug;
use std::sync::Arc;

use hecs::World;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tickwire_shared::{NetId, PlayerId, Replicated, Tick};

use crate::net_ids::NetIds;
use crate::replicate::Replicate;
use crate::rewind::Rewind;

/// A game that runs on Tickwire. See the guide (`server/docs/guide.md`) for a whole one.
pub trait Game: Send + Sized + 'static {
    /// The game's own settings: the `[game]` table of the config file, every key
    /// optional (missing keys take `Default`'s values).
    type Config: DeserializeOwned + Serialize + Default + Clone + Debug + Send + Sync + 'static;

    /// What a player sends each time their controls change. Its bincode encoding must
    /// match the layout `replicate` declares (`Replicate::input`); the engine checks the
    /// default value against it at start. `Default` means "nothing held": it is what a
    /// dropped player's avatar gets, so it stops and waits.
    type Input: Serialize + DeserializeOwned + Default + Clone + Debug + Send + Sync + 'static;

    /// Something that happened, for every client (kill feeds, scores). Encoded by the
    /// layout `Replicate::events` declares.
    type Event: Serialize + Clone + Debug + Send + 'static;

    /// The game's name, as clients see it in the schema.
    const NAME: &'static str;

    /// What the game replicates and how: components and their encodings, the input and
    /// event layouts, named parameters for clients (world size, speeds).
    fn replicate(config: &Self::Config) -> Replicate;

    /// A new game: sets up its state and spawns its starting entities into `world`.
    fn new(config: &Self::Config, world: &mut World, ctx: &mut Ctx<'_, Self::Event>) -> Self;

    /// Checks (and may clean) an input before it reaches the game; `Err` drops it with a
    /// reason for the metrics. Runs on the network side, never on the tick thread.
    fn validate(input: Self::Input) -> Result<Self::Input, &'static str> {
        Ok(input)
    }

    /// Folds a newer input into one the tick has not consumed yet. The default keeps the
    /// newer one; a game with discrete actions (a shot, a jump) carries them over here so
    /// a press between two ticks is never lost.
    fn coalesce(pending: &mut Self::Input, newer: Self::Input) {
        *pending = newer;
    }

    /// A player joins (or comes back after their grace period ran out): spawn their
    /// avatar with `player.entity` as its `NetId`, the id Welcome already named.
    fn join(&mut self, world: &mut World, ctx: &mut Ctx<'_, Self::Event>, player: &PlayerInfo);

    /// A player left for good: remove what is theirs.
    fn leave(&mut self, world: &mut World, ctx: &mut Ctx<'_, Self::Event>, player: PlayerId);

    /// The player's newest input (coalesced since the last tick), before this tick's
    /// `step`. Called only when an input arrived.
    fn input(
        &mut self,
        world: &mut World,
        ctx: &mut Ctx<'_, Self::Event>,
        player: PlayerId,
        input: Self::Input,
    );

    /// Advances the world by one tick (`ctx.dt` seconds).
    fn step(&mut self, world: &mut World, ctx: &mut Ctx<'_, Self::Event>);

    /// A present player's score, for the room's scoreboard (the event feed sends one
    /// each second). The default keeps no score.
    fn score(&self, world: &World, player: PlayerId) -> Option<i64> {
        let _ = (world, player);
        None
    }
}

/// A joining player, as the engine admitted them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerInfo {
    /// The player's id (stable across a resume).
    pub id: PlayerId,
    /// Their display name, cleaned and capped by the engine.
    pub name: Arc<str>,
    /// The net id their avatar must carry: the client was told it in Welcome.
    pub entity: NetId,
}

/// What a game's hooks may use besides the world: the tick, the time step, net ids for
/// new entities, and a place to raise events.
pub struct Ctx<'a, E> {
    /// The tick being run (the tick `step` produces).
    pub tick: Tick,
    /// Seconds per tick.
    pub dt: f32,
    /// The net id allocator.
    ids: &'a NetIds,
    /// Events raised this tick.
    events: &'a mut Vec<E>,
    /// The recent past, for lag compensation.
    rewind: &'a Rewind,
}

impl<'a, E> Ctx<'a, E> {
    /// A context for `tick`, used by the engine's tick loop and by game tests.
    pub fn new(
        tick: Tick,
        dt: f32,
        ids: &'a NetIds,
        events: &'a mut Vec<E>,
        rewind: &'a Rewind,
    ) -> Ctx<'a, E> {
        Ctx {
            tick,
            dt,
            ids,
            events,
            rewind,
        }
    }

    /// The tick `player` was looking at when they made their newest input (lag
    /// compensation): what the input said, clamped to at most the engine's `rewind_ms`
    /// back and never after this tick; this tick when they never said. Judge their
    /// aimed actions against the world at that tick (`rewound`).
    #[must_use]
    pub fn view_tick(&self, player: PlayerId) -> Tick {
        self.rewind.view_tick(player, self.tick)
    }

    /// Component `C` of entity `id` as every client received it at an earlier `tick`
    /// (within the lag compensation cap): where a target was when a player saw it.
    /// `None` for this tick (read the live world), for a tick out of reach, or if the
    /// entity did not have it then.
    #[must_use]
    pub fn rewound<C: Replicated>(&self, id: NetId, tick: Tick) -> Option<C> {
        self.rewind.component(id, tick)
    }

    /// A fresh net id for a new replicated entity (spawn it with this as a component).
    #[must_use]
    pub fn new_id(&self) -> NetId {
        self.ids.game()
    }

    /// Raises an event for every client.
    pub fn emit(&mut self, event: E) {
        self.events.push(event);
    }
}
