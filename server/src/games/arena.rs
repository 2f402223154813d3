//! The `arena` benchmark (and `crowd`, the same rules in a bigger world with interest
//! management): NPCs on a random walk, players steered by a key bitmask, exactly as the
//! design's cross-framework scenario defines them, so other servers can run the same work.

use std::f32::consts::PI;

use hecs::World;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::avatars::{self, Avatars};
use super::components::{Body, Orb, Player};
use super::controls::{self, Controls};
use crate::game::{Ctx, Game, PlayerInfo};
use crate::replicate::Replicate;
use crate::shared::PlayerId;

/// Player speed, units per second.
pub const PLAYER_SPEED: f32 = 100.0;
/// NPC speed, units per second.
pub const NPC_SPEED: f32 = 50.0;
/// NPC turn per tick: uniform in ±this many radians.
pub const NPC_TURN: f32 = 0.25;

/// The arena's settings: the `[game]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArenaConfig {
    /// World width in units.
    pub width: u32,
    /// World height in units.
    pub height: u32,
    /// NPCs (K).
    pub npcs: u32,
    /// Seed of the game's random numbers.
    pub seed: u64,
}

impl Default for ArenaConfig {
    fn default() -> ArenaConfig {
        ArenaConfig {
            width: 1000,
            height: 1000,
            npcs: 500,
            seed: 1,
        }
    }
}

/// The arena game (no events: nothing happens but movement).
pub struct Arena {
    /// World size in units.
    size: (f32, f32),
    /// The game's only source of randomness.
    rng: SmallRng,
    /// Each present player's avatar.
    avatars: Avatars,
}

impl Game for Arena {
    type Config = ArenaConfig;
    type Input = Controls;
    type Event = ();
    const NAME: &'static str = "arena";

    fn replicate(config: &ArenaConfig) -> Replicate {
        Replicate::new()
            .component::<Body>()
            .component::<Player>()
            .component::<Orb>()
            .position::<Body>("x", "y")
            .input(Controls::LAYOUT)
            .param("width", f64::from(config.width))
            .param("height", f64::from(config.height))
            .param("player_speed", f64::from(PLAYER_SPEED))
    }

    fn new(config: &ArenaConfig, world: &mut World, ctx: &mut Ctx<'_, ()>) -> Arena {
        let size = (config.width as f32, config.height as f32);
        let mut rng = SmallRng::seed_from_u64(config.seed);
        for _ in 0..config.npcs {
            let body = Body {
                x: rng.random_range(0.0..size.0),
                y: rng.random_range(0.0..size.1),
                angle: rng.random_range(-PI..PI),
            };
            world.spawn((ctx.new_id(), body, Orb { hp: 1 }));
        }
        Arena {
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
        for (body, _) in world.query_mut::<(&mut Body, &Orb)>() {
            controls::walk(body, NPC_SPEED, NPC_TURN, ctx.dt, self.size, &mut self.rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::codec::encode_body;
    use crate::shared::{View, diff};
    use crate::sim::Sim;

    /// Bandwidth, as sizes: every field of every NPC changes every tick, and a moving
    /// entity still costs at most 6 bytes per update on average.
    #[test]
    fn a_moving_entity_costs_at_most_six_bytes() {
        let mut sim = Sim::<Arena>::new(&ArenaConfig::default(), 30).unwrap();
        for p in 0..8 {
            sim.join_new(&format!("bot{p}"));
        }
        let schema = sim.schema().clone();
        let mut prev = sim.step();
        let (mut bytes, mut moved) = (0usize, 0usize);
        for t in 0..90u32 {
            for p in 1..=8u32 {
                let buttons = [1, 2, 4, 8, 5, 9, 6, 10][((t / 10 + p) % 8) as usize];
                sim.input(
                    PlayerId(p),
                    Controls {
                        buttons,
                        ..Controls::default()
                    },
                );
            }
            let next = sim.step();
            let body = diff(&schema, Some((&prev, View::All)), &next, View::All);
            assert!(body.spawns.is_empty() && body.despawns.is_empty());
            moved += body.updates.len();
            // Fixed per-message overhead (three list lengths, the checksum) is not the
            // entities' cost; it is at most 3 + 5 bytes.
            bytes += encode_body(&body).len() - 8;
            prev = next;
        }
        let per_entity = bytes as f64 / moved as f64;
        assert!(moved >= 90 * 500, "every NPC moves every tick ({moved})");
        assert!(
            per_entity <= 6.0,
            "a moving entity costs {per_entity:.2} bytes per update"
        );
    }

    #[test]
    fn players_move_by_keys_and_face_where_they_go() {
        let mut sim = Sim::<Arena>::new(
            &ArenaConfig {
                npcs: 3,
                ..ArenaConfig::default()
            },
            30,
        )
        .unwrap();
        let me = sim.join_new("ann");
        let schema = sim.schema().clone();
        let first = sim.step();
        let before: Body =
            crate::shared::component::read_component(&schema, first.get(me).unwrap()).unwrap();
        sim.input(
            PlayerId(1),
            Controls {
                buttons: controls::DOWN,
                ..Controls::default()
            },
        );
        let snap = (0..30).map(|_| sim.step()).last().unwrap();
        let after: Body =
            crate::shared::component::read_component(&schema, snap.get(me).unwrap()).unwrap();
        let moved = after.y - before.y;
        assert!(
            (moved - 100.0).abs() < 1.0 || after.y >= 999.0,
            "moved {moved}"
        );
        assert!((after.angle - PI / 2.0).abs() < 0.03);
        assert_eq!(snap.entities.len(), 4);
    }
}
