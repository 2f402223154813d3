//! NPC behaviour: the random walk of the `arena` scenario (also the demo's orbs), and the
//! sliding cubes of the `cubes` scenario.

use std::f32::consts::PI;

use hecs::World;
use rand::Rng;
use rand::rngs::SmallRng;

use super::components::{Body, Cube, Wanderer};
use super::rules::Rules;

/// Wraps an angle into (−π, π].
#[must_use]
pub fn wrap_angle(mut a: f32) -> f32 {
    if !a.is_finite() {
        return 0.0;
    }
    a %= 2.0 * PI;
    if a <= -PI {
        a += 2.0 * PI;
    } else if a > PI {
        a -= 2.0 * PI;
    }
    a
}

/// One random-walk step, exactly as DESIGN.md's `arena` scenario defines it: turn by
/// U(−0.25, 0.25), advance at 50 units/s, reflect off walls, wrap the angle.
pub fn walk(body: &mut Body, rules: &Rules, rng: &mut SmallRng) {
    body.angle += rng.random_range(-rules.npc_turn..rules.npc_turn);
    body.x += body.angle.cos() * rules.npc_speed * rules.dt;
    body.y += body.angle.sin() * rules.npc_speed * rules.dt;
    if body.x < 0.0 {
        body.x = -body.x;
        body.angle = PI - body.angle;
    } else if body.x > rules.width {
        body.x = 2.0 * rules.width - body.x;
        body.angle = PI - body.angle;
    }
    if body.y < 0.0 {
        body.y = -body.y;
        body.angle = -body.angle;
    } else if body.y > rules.height {
        body.y = 2.0 * rules.height - body.y;
        body.angle = -body.angle;
    }
    body.angle = wrap_angle(body.angle);
}

/// Advances every wanderer one tick.
pub fn wander(world: &mut World, rules: &Rules, rng: &mut SmallRng) {
    for (body, _) in world.query_mut::<(&mut Body, &Wanderer)>() {
        walk(body, rules, rng);
    }
}

/// Advances the cubes: moving ones slide and bounce; resting ones start moving so that the
/// moving share follows a slow wave between 10% and 20%.
pub fn slide_cubes(world: &mut World, rules: &Rules, rng: &mut SmallRng, time: f32) {
    let mut total = 0usize;
    let mut moving = 0usize;
    for (body, cube) in world.query_mut::<(&mut Body, &mut Cube)>() {
        total += 1;
        if cube.moving_for <= 0.0 {
            continue;
        }
        cube.moving_for -= rules.dt;
        body.x += cube.vx * rules.dt;
        body.y += cube.vy * rules.dt;
        if body.x < 0.0 || body.x > rules.width {
            cube.vx = -cube.vx;
            body.x = body.x.clamp(0.0, rules.width);
        }
        if body.y < 0.0 || body.y > rules.height {
            cube.vy = -cube.vy;
            body.y = body.y.clamp(0.0, rules.height);
        }
        if cube.moving_for > 0.0 {
            moving += 1;
        }
    }
    let share = 0.15 + 0.05 * (time * 0.4).sin();
    let want = (total as f32 * share) as usize;
    let mut to_start = want.saturating_sub(moving);
    if to_start == 0 {
        return;
    }
    for (body, cube) in world.query_mut::<(&mut Body, &mut Cube)>() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use rand::SeedableRng;

    #[test]
    fn walls_reflect_and_angles_stay_wrapped() {
        let rules = Rules::from_config(&Config::default());
        let mut rng = SmallRng::seed_from_u64(3);
        let mut body = Body {
            x: 0.5,
            y: 0.5,
            angle: -3.0,
        };
        for _ in 0..10_000 {
            walk(&mut body, &rules, &mut rng);
            assert!(
                (0.0..=rules.width).contains(&body.x) && (0.0..=rules.height).contains(&body.y)
            );
            assert!(body.angle > -PI && body.angle <= PI);
        }
    }

    #[test]
    fn wrap_angle_maps_into_the_half_open_range() {
        assert!((wrap_angle(PI) - PI).abs() < 1e-6);
        assert!((wrap_angle(-PI) - PI).abs() < 1e-6);
        assert!((wrap_angle(3.0 * PI) - PI).abs() < 1e-5);
        assert_eq!(wrap_angle(f32::NAN), 0.0);
    }
}
