//! The benchmark games' shared shape: players steer avatars (by the `Controls` key
//! bitmask, at `PLAYER_SPEED`) over a bounded field of NPCs that move by rules of their
//! own. `Field<N>` is the game; an `Npcs` kind says what its NPCs are and how they move
//! (`arena`'s random walkers, `cubes`' sliding boxes).

use hecs::World;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};

use super::avatars::{self, Avatars};
use super::components::{Body, Player};
use super::controls::Controls;
use crate::game::{Ctx, Game, PlayerInfo};
use crate::replicate::Replicate;
use crate::shared::PlayerId;

/// Player speed, units per second.
pub const PLAYER_SPEED: f32 = 100.0;

/// A field game's settings: the `[game]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldConfig {
    /// World width in units.
    pub width: u32,
    /// World height in units.
    pub height: u32,
    /// How many NPCs; absent, the game's own number (`Npcs::COUNT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npcs: Option<u32>,
    /// Seed of the game's random numbers.
    pub seed: u64,
}

impl Default for FieldConfig {
    fn default() -> FieldConfig {
        FieldConfig {
            width: 1000,
            height: 1000,
            npcs: None,
            seed: 1,
        }
    }
}

/// What a field's NPCs are and how they move.
pub trait Npcs: Send + Sized + 'static {
    /// The game's name.
    const NAME: &'static str;
    /// How many NPCs the game has unless its settings say otherwise.
    const COUNT: u32;

    /// Declares the NPCs' own components (after the avatars' `Body` and `Player`).
    fn replicate(r: Replicate) -> Replicate;

    /// Spawns `count` NPCs into a field of `size`.
    fn spawn(
        count: u32,
        size: (f32, f32),
        world: &mut World,
        ctx: &mut Ctx<'_, ()>,
        rng: &mut SmallRng,
    ) -> Self;

    /// Moves the NPCs by one tick of `dt` seconds.
    fn step(&mut self, world: &mut World, dt: f32, size: (f32, f32), rng: &mut SmallRng);
}

/// A field game with NPCs of kind `N` (no events: nothing happens but movement).
pub struct Field<N> {
    /// The NPCs' own state.
    npcs: N,
    /// World size in units.
    size: (f32, f32),
    /// The game's only source of randomness.
    rng: SmallRng,
    /// Each present player's avatar.
    avatars: Avatars,
}

impl<N: Npcs> Game for Field<N> {
    type Config = FieldConfig;
    type Input = Controls;
    type Event = ();
    const NAME: &'static str = N::NAME;

    fn replicate(config: &FieldConfig) -> Replicate {
        N::replicate(Replicate::new().component::<Body>().component::<Player>())
            .position::<Body>("x", "y")
            .input(Controls::LAYOUT)
            .param("width", f64::from(config.width))
            .param("height", f64::from(config.height))
            .param("player_speed", f64::from(PLAYER_SPEED))
    }

    fn new(config: &FieldConfig, world: &mut World, ctx: &mut Ctx<'_, ()>) -> Field<N> {
        let size = (config.width as f32, config.height as f32);
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let count = config.npcs.unwrap_or(N::COUNT);
        Field {
            npcs: N::spawn(count, size, world, ctx, &mut rng),
            size,
            rng,
            avatars: Avatars::default(),
        }
    }

    fn validate(input: Controls) -> Result<Controls, &'static str> {
        Ok(input.cleaned())
    }

    fn join(&mut self, world: &mut World, _: &mut Ctx<'_, ()>, player: &PlayerInfo) {
        let body = avatars::spawn_point(self.size, &mut self.rng);
        self.avatars.spawn(world, player, body, 0, ());
    }

    fn leave(&mut self, world: &mut World, _: &mut Ctx<'_, ()>, player: PlayerId) {
        self.avatars.despawn(world, player);
    }

    fn input(&mut self, world: &mut World, _: &mut Ctx<'_, ()>, player: PlayerId, input: Controls) {
        self.avatars.hold(world, player, input);
    }

    fn step(&mut self, world: &mut World, ctx: &mut Ctx<'_, ()>) {
        avatars::steer_all(world, PLAYER_SPEED, ctx.dt, self.size, true);
        self.npcs.step(world, ctx.dt, self.size, &mut self.rng);
    }
}
