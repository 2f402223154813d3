//! The `arena` benchmark (and `crowd`, the same rules in a bigger world with interest
//! management): NPCs on a random walk, players steered by a key bitmask, exactly as the
//! design's cross-framework scenario defines them, so other servers can run the same work.

use std::f32::consts::PI;

use hecs::World;
use rand::Rng;
use rand::rngs::SmallRng;

use super::components::{Body, Orb};
use super::controls;
use super::field::{Field, Npcs};
use crate::game::Ctx;
use crate::replicate::Replicate;

/// NPC speed, units per second.
pub const NPC_SPEED: f32 = 50.0;
/// NPC turn per tick: uniform in ±this many radians.
pub const NPC_TURN: f32 = 0.25;

/// The arena game.
pub type Arena = Field<Walkers>;

/// The arena's NPCs: orbs on a random walk, each turning by up to `NPC_TURN` a tick.
pub struct Walkers;

impl Npcs for Walkers {
    const NAME: &'static str = "arena";
    const COUNT: u32 = 500;

    fn replicate(r: Replicate) -> Replicate {
        r.component::<Orb>()
    }

    fn spawn(
        count: u32,
        size: (f32, f32),
        world: &mut World,
        ctx: &mut Ctx<'_, ()>,
        rng: &mut SmallRng,
    ) -> Walkers {
        for _ in 0..count {
            let body = Body {
                x: rng.random_range(0.0..size.0),
                y: rng.random_range(0.0..size.1),
                angle: rng.random_range(-PI..PI),
            };
            world.spawn((ctx.new_id(), body, Orb { hp: 1 }));
        }
        Walkers
    }

    fn step(&mut self, world: &mut World, dt: f32, size: (f32, f32), rng: &mut SmallRng) {
        for (body, _) in world.query_mut::<(&mut Body, &Orb)>() {
            controls::walk(body, NPC_SPEED, NPC_TURN, dt, size, rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::controls::Controls;
    use crate::games::field::FieldConfig;
    use crate::shared::PlayerId;
    use crate::shared::codec::encode_body;
    use crate::shared::{View, diff};
    use crate::sim::Sim;

    /// Bandwidth, as sizes: every field of every NPC changes every tick, and a moving
    /// entity still costs at most 4 bytes per update on average.
    #[test]
    fn a_moving_entity_costs_at_most_four_bytes() {
        let mut sim = Sim::<Arena>::new(&FieldConfig::default(), 30).unwrap();
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
            per_entity <= 4.0,
            "a moving entity costs {per_entity:.2} bytes per update"
        );
    }

    #[test]
    fn players_move_by_keys_and_face_where_they_go() {
        let mut sim = Sim::<Arena>::new(
            &FieldConfig {
                npcs: Some(3),
                ..FieldConfig::default()
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
