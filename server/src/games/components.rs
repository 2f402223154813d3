//! The components the built-in games share: what they replicate (a body, a player's
//! card, orbs, shots, cubes) and the server-only state beside it. Each replicated one
//! implements `Replicated`, so clients read it back with `Mirror::get`.

use std::f32::consts::PI;
use std::sync::Arc;

use crate::shared::{Encoding, FieldDef, FieldReader, FieldWriter, PlayerId, Replicated};

/// Fixed-point steps per world unit for positions (1/16 unit).
pub const POS_SCALE: f32 = 16.0;

/// Bits per turn of a replicated facing.
pub const ANGLE_BITS: u8 = 8;

/// Where an entity is and which way it faces, in world units and radians.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Body {
    /// X, world units, 0 at the left wall.
    pub x: f32,
    /// Y, world units, 0 at the top wall; +y is down on screen.
    pub y: f32,
    /// Facing in radians, in (−π, π].
    pub angle: f32,
}

impl Replicated for Body {
    const NAME: &'static str = "Body";

    fn fields() -> Vec<FieldDef> {
        let pos = Encoding::fixed(POS_SCALE, -100_000.0, 100_000.0);
        vec![
            FieldDef::new("x", pos.clone()),
            FieldDef::new("y", pos),
            FieldDef::new("angle", Encoding::angle(ANGLE_BITS)),
        ]
    }

    fn write(&self, w: &mut FieldWriter<'_>) {
        w.f32(self.x);
        w.f32(self.y);
        w.f32(self.angle);
    }

    fn read(r: &mut FieldReader<'_>) -> Body {
        Body {
            x: r.f32(),
            y: r.f32(),
            angle: r.f32(),
        }
    }
}

/// A player's avatar, as every client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    /// Whose avatar this is.
    pub owner: PlayerId,
    /// Display name (shared, so capture never copies it).
    pub name: Arc<str>,
    /// Points scored.
    pub score: i32,
    /// Hit points left.
    pub hp: i32,
}

impl Replicated for Player {
    const NAME: &'static str = "Player";

    fn fields() -> Vec<FieldDef> {
        vec![
            FieldDef::new("owner", Encoding::Player),
            FieldDef::new("name", Encoding::string(64)),
            FieldDef::new("score", Encoding::int(i32::MIN, i32::MAX)),
            FieldDef::new("hp", Encoding::int(0, 255)),
        ]
    }

    fn write(&self, w: &mut FieldWriter<'_>) {
        w.player(Some(self.owner));
        w.str(&self.name);
        w.int(i64::from(self.score));
        w.int(i64::from(self.hp));
    }

    fn read(r: &mut FieldReader<'_>) -> Player {
        Player {
            owner: r.player().unwrap_or(PlayerId(0)),
            name: r.str(),
            score: r.int() as i32,
            hp: r.int() as i32,
        }
    }
}

/// A random-walking NPC (the demo's targets, the benchmark scenarios' NPCs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Orb {
    /// Hit points (demo orbs can be shot).
    pub hp: i32,
}

impl Replicated for Orb {
    const NAME: &'static str = "Orb";

    fn fields() -> Vec<FieldDef> {
        vec![FieldDef::new("hp", Encoding::int(0, 255))]
    }

    fn write(&self, w: &mut FieldWriter<'_>) {
        w.int(i64::from(self.hp));
    }

    fn read(r: &mut FieldReader<'_>) -> Orb {
        Orb { hp: r.int() as i32 }
    }
}

/// A projectile, as clients see it: who fired it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shot {
    /// Who fired it (scores the hit, cannot be hit by it).
    pub owner: PlayerId,
}

impl Replicated for Shot {
    const NAME: &'static str = "Shot";

    fn fields() -> Vec<FieldDef> {
        vec![FieldDef::new("owner", Encoding::Player)]
    }

    fn write(&self, w: &mut FieldWriter<'_>) {
        w.player(Some(self.owner));
    }

    fn read(r: &mut FieldReader<'_>) -> Shot {
        Shot {
            owner: r.player().unwrap_or(PlayerId(0)),
        }
    }
}

/// A box of the `cubes` scenario (a marker: its body is all there is to see).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cube;

impl Replicated for Cube {
    const NAME: &'static str = "Cube";

    fn fields() -> Vec<FieldDef> {
        Vec::new()
    }

    fn write(&self, _: &mut FieldWriter<'_>) {}

    fn read(_: &mut FieldReader<'_>) -> Cube {
        Cube
    }
}

/// Server-only: a projectile's flight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flight {
    /// Velocity x, units per second.
    pub vx: f32,
    /// Velocity y, units per second.
    pub vy: f32,
    /// Seconds left before it fizzles.
    pub ttl: f32,
    /// How many ticks behind the present its shooter saw the world when firing (lag
    /// compensation): it flies in their time, so it meets targets where they were that
    /// many ticks ago.
    pub lag: u32,
}

/// Server-only: a cube's slide (at rest when `moving_for` is 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slide {
    /// Velocity x while moving.
    pub vx: f32,
    /// Velocity y while moving.
    pub vy: f32,
    /// Seconds of movement left; 0 = at rest.
    pub moving_for: f32,
}

/// Wraps an angle into (−π, π] (non-finite becomes 0).
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
