//! The `cubes` bandwidth benchmark: a grid of boxes, 10–20% of them sliding at any time,
//! the rest at rest (and so costing nothing on the wire).

use std::f32::consts::PI;

use hecs::World;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::avatars::{self, Avatars};
use super::components::{Body, Cube, Player, Slide};
use super::controls::Controls;
use crate::game::{Ctx, Game, PlayerInfo};
use crate::replicate::Replicate;
use crate::shared::PlayerId;

/// The cubes' settings: the `[game]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CubesConfig {
    /// World width in units.
    pub width: u32,
    /// World height in units.
    pub height: u32,
    /// How many cubes.
    pub npcs: u32,
    /// Seed of the game's random numbers.
    pub seed: u64,
}

impl Default for CubesConfig {
    fn default() -> CubesConfig {
        CubesConfig {
            width: 1000,
            height: 1000,
            npcs: 901,
            seed: 1,
        }
    }
}

/// Cubes per grid row.
const COLUMNS: u32 = 30;

/// Player speed, units per second.
const PLAYER_SPEED: f32 = 100.0;

/// The cubes game: players steer avatars among the cubes.
pub struct Cubes {
    /// Each present player's avatar.
    avatars: Avatars,
    /// World size in units.
    size: (f32, f32),
    /// The game's only source of randomness.
    rng: SmallRng,
    /// Simulated seconds since start (the moving share breathes with it).
    time: f32,
}

impl Game for Cubes {
    type Config = CubesConfig;
    type Input = Controls;
    type Event = ();
    const NAME: &'static str = "cubes";

    fn replicate(config: &CubesConfig) -> Replicate {
        Replicate::new()
            .component::<Body>()
            .component::<Player>()
            .component::<Cube>()
            .position::<Body>("x", "y")
            .input(Controls::LAYOUT)
            .param("width", f64::from(config.width))
            .param("height", f64::from(config.height))
            .param("player_speed", f64::from(PLAYER_SPEED))
    }

    fn new(config: &CubesConfig, world: &mut World, ctx: &mut Ctx<'_, ()>) -> Cubes {
        let (w, h) = (config.width as f32, config.height as f32);
        for n in 0..config.npcs {
            let (cx, cy) = (n % COLUMNS, (n / COLUMNS) % COLUMNS);
            let body = Body {
                x: (cx as f32 + 0.5) * w / COLUMNS as f32,
                y: (cy as f32 + 0.5) * h / COLUMNS as f32,
                angle: 0.0,
            };
            let slide = Slide {
                vx: 0.0,
                vy: 0.0,
                moving_for: 0.0,
            };
            world.spawn((ctx.new_id(), body, Cube, slide));
        }
        Cubes {
            avatars: Avatars::default(),
            size: (w, h),
            rng: SmallRng::seed_from_u64(config.seed),
            time: 0.0,
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
        let (w, h) = self.size;
        let dt = ctx.dt;
        let mut total = 0usize;
        let mut moving = 0usize;
        for (body, cube) in world.query_mut::<(&mut Body, &mut Slide)>() {
            total += 1;
            if cube.moving_for <= 0.0 {
                continue;
            }
            cube.moving_for -= dt;
            body.x += cube.vx * dt;
            body.y += cube.vy * dt;
            if body.x < 0.0 || body.x > w {
                cube.vx = -cube.vx;
                body.x = body.x.clamp(0.0, w);
            }
            if body.y < 0.0 || body.y > h {
                cube.vy = -cube.vy;
                body.y = body.y.clamp(0.0, h);
            }
            if cube.moving_for > 0.0 {
                moving += 1;
            }
        }
        self.time += dt;
        let share = 0.15 + 0.05 * (self.time * 0.4).sin();
        let want = (total as f32 * share) as usize;
        let mut to_start = want.saturating_sub(moving);
        if to_start == 0 {
            return;
        }
        for (body, cube) in world.query_mut::<(&mut Body, &mut Slide)>() {
            if to_start == 0 {
                break;
            }
            if cube.moving_for > 0.0 || !self.rng.random_bool(0.05) {
                continue;
            }
            let heading = self.rng.random_range(-PI..PI);
            let speed = self.rng.random_range(40.0..120.0);
            cube.vx = heading.cos() * speed;
            cube.vy = heading.sin() * speed;
            cube.moving_for = self.rng.random_range(0.5..2.5);
            body.angle = heading;
            to_start -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::{View, diff};
    use crate::sim::Sim;

    /// Most cubes rest, and a resting cube costs nothing: it is in no update.
    #[test]
    fn resting_cubes_cost_nothing() {
        let mut sim = Sim::<Cubes>::new(&CubesConfig::default(), 60).unwrap();
        let schema = sim.schema().clone();
        let mut prev = sim.step();
        assert_eq!(prev.entities.len(), 901);
        for _ in 0..60 {
            let next = sim.step();
            let body = diff(&schema, Some((&prev, View::All)), &next, View::All);
            let resting = next.entities.len() - body.updates.len();
            assert!(resting > 700, "most cubes rest ({resting})");
            let moving: std::collections::HashSet<_> = body.updates.ids().collect();
            for e in &next.entities {
                if !moving.contains(&e.id) {
                    assert_eq!(
                        prev.get(e.id),
                        Some(e),
                        "a resting cube changed without an update"
                    );
                }
            }
            prev = next;
        }
    }
}
