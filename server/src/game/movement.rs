//! Player movement: the held direction keys move the avatar at constant speed, clamped
//! to the world.

use hecs::World;
use tickwire_shared::buttons;

use super::components::{Avatar, Body};
use super::rules::Rules;
use crate::config::Scenario;

/// The unit direction of a key bitmask: the normalised bit vector, (0, 0) for none.
#[must_use]
pub fn direction(bits: u8) -> (f32, f32) {
    let mut dx = 0.0f32;
    let mut dy = 0.0f32;
    if bits & buttons::UP != 0 {
        dy -= 1.0;
    }
    if bits & buttons::DOWN != 0 {
        dy += 1.0;
    }
    if bits & buttons::LEFT != 0 {
        dx -= 1.0;
    }
    if bits & buttons::RIGHT != 0 {
        dx += 1.0;
    }
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        (0.0, 0.0)
    } else {
        (dx / len, dy / len)
    }
}

/// Moves every avatar one tick along its held direction. In the demo the avatar faces its
/// aim; in the benchmark scenarios it faces where it moves (`atan2(dy, dx)`).
pub fn move_players(world: &mut World, rules: &Rules) {
    for (body, avatar) in world.query_mut::<(&mut Body, &Avatar)>() {
        let (dx, dy) = direction(avatar.controls.buttons);
        if dx != 0.0 || dy != 0.0 {
            let step = rules.player_speed * rules.dt;
            body.x = (body.x + dx * step).clamp(0.0, rules.width);
            body.y = (body.y + dy * step).clamp(0.0, rules.height);
            if rules.scenario != Scenario::Demo {
                body.angle = dy.atan2(dx);
            }
        }
        if rules.scenario == Scenario::Demo {
            body.angle = avatar.controls.aim;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonals_are_normalised_and_opposites_cancel() {
        let (dx, dy) = direction(buttons::DOWN | buttons::RIGHT);
        assert!((dx - dy).abs() < 1e-6 && (dx * dx + dy * dy - 1.0).abs() < 1e-6);
        assert_eq!(direction(buttons::LEFT | buttons::RIGHT), (0.0, 0.0));
        assert_eq!(direction(0), (0.0, 0.0));
        assert_eq!(direction(buttons::UP), (0.0, -1.0));
    }
}
