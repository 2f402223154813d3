//! The `cubes` bandwidth benchmark: a grid of boxes, 10–20% of them sliding at any time,
//! the rest at rest (and so costing nothing on the wire).

use std::f32::consts::PI;

use hecs::World;
use rand::Rng;
use rand::rngs::SmallRng;

use super::components::{Body, Cube, Slide};
use super::field::{Field, Npcs};
use crate::game::Ctx;
use crate::replicate::Replicate;

/// Cubes per grid row.
const COLUMNS: u32 = 30;

/// The cubes game.
pub type Cubes = Field<Sliders>;

/// The cubes: a grid of boxes at rest, a breathing share of them sliding at a time.
pub struct Sliders {
    /// Simulated seconds since start (the moving share breathes with it).
    time: f32,
}

impl Npcs for Sliders {
    const NAME: &'static str = "cubes";
    const COUNT: u32 = 901;

    fn replicate(r: Replicate) -> Replicate {
        r.component::<Cube>()
    }

    fn spawn(
        count: u32,
        size: (f32, f32),
        world: &mut World,
        ctx: &mut Ctx<'_, ()>,
        _: &mut SmallRng,
    ) -> Sliders {
        let (w, h) = size;
        for n in 0..count {
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
        Sliders { time: 0.0 }
    }

    fn step(&mut self, world: &mut World, dt: f32, size: (f32, f32), rng: &mut SmallRng) {
        let (w, h) = size;
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
            if cube.moving_for > 0.0 || !rng.random_bool(0.05) {
                continue;
            }
            let heading = rng.random_range(-PI..PI);
            let speed = rng.random_range(40.0..120.0);
            cube.vx = heading.cos() * speed;
            cube.vy = heading.sin() * speed;
            cube.moving_for = rng.random_range(0.5..2.5);
            body.angle = heading;
            to_start -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::field::FieldConfig;
    use crate::shared::{View, diff};
    use crate::sim::Sim;

    /// Most cubes rest, and a resting cube costs nothing: it is in no update.
    #[test]
    fn resting_cubes_cost_nothing() {
        let mut sim = Sim::<Cubes>::new(&FieldConfig::default(), 60).unwrap();
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
