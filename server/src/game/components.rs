//! The ECS components of the simulation. Plain data; the systems in sibling modules
//! give them behaviour.

use std::sync::Arc;

use tickwire_shared::{EntityKind, NetId, PlayerId};

/// Where an entity is and which way it faces, in world units and radians.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Body {
    /// X, world units, 0 at the left wall.
    pub x: f32,
    /// Y, world units, 0 at the top wall.
    pub y: f32,
    /// Facing in radians, in (−π, π].
    pub angle: f32,
}

/// The replication identity: every replicated entity has one; nothing else does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// The stable id clients know the entity by.
    pub id: NetId,
    /// What clients draw it as.
    pub kind: EntityKind,
}

/// The controls a player holds, as last received (latest wins) plus a latched shot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Controls {
    /// `buttons::*` bits held.
    pub buttons: u8,
    /// Aim in radians.
    pub aim: f32,
    /// A FIRE press seen since the last tick, so a tap between ticks is never lost.
    pub fire_latched: bool,
}

/// A player's avatar.
#[derive(Clone, Debug)]
pub struct Avatar {
    /// Whose avatar this is.
    pub player: PlayerId,
    /// Display name.
    pub name: Arc<str>,
    /// Points scored.
    pub score: i32,
    /// Hit points left.
    pub hp: u8,
    /// Seconds until the next shot is allowed.
    pub cooldown: f32,
    /// Seconds of spawn protection left (shots pass through).
    pub shielded: f32,
    /// Current controls.
    pub controls: Controls,
}

/// A random-walking NPC (the demo's orbs and the benchmark scenarios' NPCs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wanderer {
    /// Hit points (demo orbs can be shot).
    pub hp: u8,
}

/// A projectile in flight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shot {
    /// Who fired it (scores the hit, cannot be hit by it).
    pub owner: PlayerId,
    /// Velocity x, units per second.
    pub vx: f32,
    /// Velocity y, units per second.
    pub vy: f32,
    /// Seconds left before it fizzles.
    pub ttl: f32,
}

/// A box of the `cubes` scenario: at rest, or sliding for a while.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cube {
    /// Velocity x while moving.
    pub vx: f32,
    /// Velocity y while moving.
    pub vy: f32,
    /// Seconds of movement left; 0 = at rest.
    pub moving_for: f32,
}
