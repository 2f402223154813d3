//! Fixed-point quantization of positions and angles.
//!
//! The server quantizes state before diffing, so float jitter below one quantum never
//! produces a diff, and field deltas are small integers that encode in one byte.

use std::f32::consts::{PI, TAU};

/// Fixed-point steps per world unit for positions (1/16 unit resolution).
pub const POS_SCALE: f32 = 16.0;

/// Steps per full turn for entity angles on the wire (8 bits).
pub const ANGLE_STEPS: u32 = 256;

/// Steps per full turn for a client's aim (16 bits: aiming wants more precision than
/// drawing a facing does).
pub const AIM_STEPS: u32 = 65_536;

/// World units → fixed point. Values beyond the i32 range saturate (they never occur in
/// a bounded arena, and saturating keeps a bug from becoming a panic).
#[must_use]
pub fn pos_to_fixed(v: f32) -> i32 {
    let q = (v * POS_SCALE).round();
    if q.is_nan() { 0 } else { q as i32 }
}

/// Fixed point → world units.
#[must_use]
pub fn fixed_to_pos(q: i32) -> f32 {
    q as f32 / POS_SCALE
}

/// Radians (any value) → an 8-bit angle, 0 = +x, increasing counter-clockwise in math
/// convention (toward +y).
#[must_use]
pub fn angle_to_u8(rad: f32) -> u8 {
    if !rad.is_finite() {
        return 0;
    }
    let turns = rad / TAU;
    let steps = (turns * ANGLE_STEPS as f32).round() as i64;
    steps.rem_euclid(ANGLE_STEPS as i64) as u8
}

/// An 8-bit angle → radians in (−π, π].
#[must_use]
pub fn u8_to_angle(q: u8) -> f32 {
    let r = q as f32 / ANGLE_STEPS as f32 * TAU;
    if r > PI { r - TAU } else { r }
}

/// Radians → 16-bit aim.
#[must_use]
pub fn angle_to_aim(rad: f32) -> u16 {
    if !rad.is_finite() {
        return 0;
    }
    let steps = ((rad / TAU) * AIM_STEPS as f32).round() as i64;
    steps.rem_euclid(AIM_STEPS as i64) as u16
}

/// A 16-bit aim → radians in (−π, π].
#[must_use]
pub fn aim_to_angle(q: u16) -> f32 {
    let r = q as f32 / AIM_STEPS as f32 * TAU;
    if r > PI { r - TAU } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn jitter_below_a_quantum_is_invisible() {
        assert_eq!(pos_to_fixed(10.0), pos_to_fixed(10.0 + 0.01));
        assert_eq!(angle_to_u8(1.0), angle_to_u8(1.0 + 0.001));
    }

    #[test]
    fn non_finite_values_do_not_panic() {
        assert_eq!(pos_to_fixed(f32::NAN), 0);
        assert_eq!(pos_to_fixed(f32::INFINITY), i32::MAX);
        assert_eq!(angle_to_u8(f32::NAN), 0);
        assert_eq!(angle_to_aim(f32::NEG_INFINITY), 0);
    }

    proptest! {
        #[test]
        fn position_round_trip_within_half_a_quantum(v in -100_000.0f32..100_000.0) {
            let back = fixed_to_pos(pos_to_fixed(v));
            prop_assert!((back - v).abs() <= 0.5 / POS_SCALE + v.abs() * 1e-6);
        }

        #[test]
        fn angle_round_trip_within_half_a_step(a in -PI..PI) {
            let back = u8_to_angle(angle_to_u8(a));
            let mut d = (back - a).abs();
            if d > PI { d = TAU - d; }
            prop_assert!(d <= TAU / ANGLE_STEPS as f32 / 2.0 + 1e-4);
        }
    }
}
