//! The input the built-in games share: held keys as a bitmask plus an aim, and the moves
//! they make (players steered by keys, NPCs on a random walk with reflecting walls).

use std::f32::consts::{PI, TAU};

use rand::Rng;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};

use super::components::{Body, wrap_angle};
use crate::shared::Prim;

/// Move up (−y).
pub const UP: u8 = 1;
/// Move down (+y).
pub const DOWN: u8 = 2;
/// Move left (−x).
pub const LEFT: u8 = 4;
/// Move right (+x).
pub const RIGHT: u8 = 8;
/// Fire along the aim (the demo). A press between two ticks is latched, never lost.
pub const FIRE: u8 = 16;
/// Every defined bit; `validate` clears the rest.
pub const ALL: u8 = UP | DOWN | LEFT | RIGHT | FIRE;

/// Steps per turn of `Controls::aim`.
pub const AIM_STEPS: f32 = 65_536.0;

/// What a player holds: the built-in games' input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controls {
    /// Key bits held (`UP`, `DOWN`, `LEFT`, `RIGHT`, `FIRE`).
    pub buttons: u8,
    /// Aim direction, 65536 steps per turn, 0 = +x, toward +y.
    pub aim: u16,
    /// Not sent: whether an input folded into this one (by `merge`) pressed FIRE.
    #[serde(skip)]
    pub tapped: bool,
}

impl Controls {
    /// Holding `buttons`, aiming at `aim`.
    #[must_use]
    pub const fn new(buttons: u8, aim: u16) -> Controls {
        Controls {
            buttons,
            aim,
            tapped: false,
        }
    }

    /// The input layout clients are sent (the fields above, in order).
    pub const LAYOUT: &'static [(&'static str, Prim)] =
        &[("buttons", Prim::U8), ("aim", Prim::U16)];

    /// Clears undefined key bits.
    #[must_use]
    pub fn cleaned(self) -> Controls {
        Controls {
            buttons: self.buttons & ALL,
            ..self
        }
    }

    /// The aim in radians, in (−π, π].
    #[must_use]
    pub fn aim_radians(self) -> f32 {
        let r = f32::from(self.aim) / AIM_STEPS * TAU;
        if r > PI { r - TAU } else { r }
    }

    /// Folds a newer input into this one, not yet consumed: the newer keys and aim, and
    /// `tapped` remembers a FIRE press in any input folded in, so a tap between two ticks
    /// still fires.
    pub fn merge(&mut self, newer: Controls) {
        let tapped = self.fired();
        *self = newer;
        self.tapped |= tapped;
    }

    /// Whether this input (or one folded into it) pressed FIRE.
    #[must_use]
    pub fn fired(self) -> bool {
        self.tapped || self.buttons & FIRE != 0
    }
}

/// The unit direction of a key bitmask: the normalised bit vector, (0, 0) for none.
#[must_use]
pub fn direction(bits: u8) -> (f32, f32) {
    let mut dx = 0.0f32;
    let mut dy = 0.0f32;
    if bits & UP != 0 {
        dy -= 1.0;
    }
    if bits & DOWN != 0 {
        dy += 1.0;
    }
    if bits & LEFT != 0 {
        dx -= 1.0;
    }
    if bits & RIGHT != 0 {
        dx += 1.0;
    }
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        (0.0, 0.0)
    } else {
        (dx / len, dy / len)
    }
}

/// Moves `body` one tick of `dt` along the held keys at `speed`, clamped to a `w`×`h`
/// world; returns the direction moved ((0, 0) when no key is held).
pub fn steer(body: &mut Body, keys: u8, speed: f32, dt: f32, (w, h): (f32, f32)) -> (f32, f32) {
    let (dx, dy) = direction(keys);
    if dx != 0.0 || dy != 0.0 {
        body.x = (body.x + dx * speed * dt).clamp(0.0, w);
        body.y = (body.y + dy * speed * dt).clamp(0.0, h);
    }
    (dx, dy)
}

/// One tick of an NPC's random walk in a `w`×`h` world: turn by U(−turn, turn), step at
/// `speed`, reflect off the walls, wrap the angle into (−π, π].
pub fn walk(
    body: &mut Body,
    speed: f32,
    turn: f32,
    dt: f32,
    (w, h): (f32, f32),
    rng: &mut SmallRng,
) {
    body.angle += rng.random_range(-turn..turn);
    body.x += body.angle.cos() * speed * dt;
    body.y += body.angle.sin() * speed * dt;
    if body.x < 0.0 {
        body.x = -body.x;
        body.angle = PI - body.angle;
    } else if body.x > w {
        body.x = 2.0 * w - body.x;
        body.angle = PI - body.angle;
    }
    if body.y < 0.0 {
        body.y = -body.y;
        body.angle = -body.angle;
    } else if body.y > h {
        body.y = 2.0 * h - body.y;
        body.angle = -body.angle;
    }
    body.angle = wrap_angle(body.angle);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn diagonals_are_normalised_and_opposites_cancel() {
        let (dx, dy) = direction(DOWN | RIGHT);
        assert!((dx - dy).abs() < 1e-6 && (dx * dx + dy * dy - 1.0).abs() < 1e-6);
        assert_eq!(direction(LEFT | RIGHT), (0.0, 0.0));
        assert_eq!(direction(0), (0.0, 0.0));
        assert_eq!(direction(UP), (0.0, -1.0));
    }

    #[test]
    fn walls_reflect_and_angles_stay_wrapped() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut body = Body {
            x: 0.5,
            y: 0.5,
            angle: -3.0,
        };
        for _ in 0..10_000 {
            walk(&mut body, 50.0, 0.25, 1.0 / 30.0, (300.0, 200.0), &mut rng);
            assert!((0.0..=300.0).contains(&body.x) && (0.0..=200.0).contains(&body.y));
            assert!(body.angle > -PI && body.angle <= PI);
        }
    }

    #[test]
    fn a_fire_tap_survives_a_newer_input_and_undefined_bits_are_cleared() {
        let keys = |buttons, aim| Controls {
            buttons,
            aim,
            tapped: false,
        };
        let mut pending = keys(FIRE | UP, 1);
        pending.merge(keys(0, 9));
        assert_eq!((pending.buttons, pending.aim), (0, 9));
        assert!(pending.fired(), "the tap survives");
        pending.merge(keys(LEFT, 2));
        assert!(pending.fired());
        assert_eq!(keys(0xFF, 0).cleaned().buttons, ALL);
        assert!((keys(0, 16_384).aim_radians() - PI / 2.0).abs() < 1e-4);
    }
}
