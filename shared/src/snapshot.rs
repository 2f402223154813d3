//! The snapshot model: an immutable, quantized picture of the world at one tick.
//!
//! The server captures one `WorldSnapshot` per tick; every session diffs against it.
//! Entities are kept sorted by `NetId`, so two snapshots diff in one merge pass and a
//! client mirror applies a delta without hashing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::{NetId, PlayerId, Tick};

/// What an entity is, so a client knows how to draw it and which fields matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityKind {
    /// A player's avatar.
    Player,
    /// A wandering NPC orb (the demo's targets, the scenarios' NPCs).
    Orb,
    /// A projectile fired by a player.
    Projectile,
    /// A box of the `cubes` bandwidth scenario.
    Cube,
}

impl EntityKind {
    /// The kind's index on the wire (bincode writes enum variants as their index).
    #[must_use]
    pub fn index(self) -> u32 {
        match self {
            EntityKind::Player => 0,
            EntityKind::Orb => 1,
            EntityKind::Projectile => 2,
            EntityKind::Cube => 3,
        }
    }
}

/// One entity's replicated state, already quantized.
///
/// `kind`, `owner` and `name` are static for an entity's life: a change to them is sent as
/// a fresh spawn. The rest are dynamic and sent as small deltas when they change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityState {
    /// What the entity is.
    pub kind: EntityKind,
    /// The player who controls it (their avatar) or fired it (a projectile).
    pub owner: Option<PlayerId>,
    /// Display name (players only; empty otherwise). Shared, so capture never copies it.
    pub name: Arc<str>,
    /// X in fixed point (see `quant::POS_SCALE`).
    pub x: i32,
    /// Y in fixed point; +y is down on screen.
    pub y: i32,
    /// Facing, 256 steps per turn.
    pub angle: u8,
    /// Score (players), or a kind-specific counter.
    pub score: i32,
    /// Hit points left (players, orbs), 0 where it does not apply.
    pub hp: u8,
}

impl EntityState {
    /// An NPC orb at (`x`, `y`) (fixed point): one hit point, facing +x, no owner.
    #[must_use]
    pub fn orb(x: i32, y: i32) -> EntityState {
        EntityState {
            kind: EntityKind::Orb,
            owner: None,
            name: "".into(),
            x,
            y,
            angle: 0,
            score: 0,
            hp: 1,
        }
    }

    /// True when the static part (kind, owner, name) is the same, so a field delta can
    /// carry `self` to `other`.
    #[must_use]
    pub fn same_identity(&self, other: &EntityState) -> bool {
        self.kind == other.kind && self.owner == other.owner && self.name == other.name
    }
}

/// An entity as it appears in a snapshot: its network id and state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    /// Stable network id.
    pub id: NetId,
    /// Quantized state.
    pub state: EntityState,
}

/// The world at one tick: every replicated entity, sorted by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorldSnapshot {
    /// The tick this snapshot was captured at.
    pub tick: Tick,
    /// All entities, sorted strictly ascending by id.
    pub entities: Vec<Entity>,
}

impl WorldSnapshot {
    /// Builds a snapshot, sorting entities by id. Duplicate ids keep the last one.
    #[must_use]
    pub fn new(tick: Tick, mut entities: Vec<Entity>) -> WorldSnapshot {
        entities.sort_by_key(|e| e.id);
        entities.dedup_by(|later, earlier| {
            if later.id == earlier.id {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        WorldSnapshot { tick, entities }
    }

    /// Looks up one entity by id.
    #[must_use]
    pub fn get(&self, id: NetId) -> Option<&EntityState> {
        find(&self.entities, id)
    }
}

/// Finds an entity's state in an id-sorted list.
#[must_use]
pub fn find(entities: &[Entity], id: NetId) -> Option<&EntityState> {
    entities
        .binary_search_by_key(&id, |e| e.id)
        .ok()
        .map(|i| &entities[i].state)
}

/// What part of the world one client is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// Everything (no interest management).
    All,
    /// Entities within `radius` (fixed point) of a centre (fixed point), plus `always`
    /// (the viewer's own entity), whatever its distance.
    Radius {
        /// Centre x, fixed point.
        cx: i32,
        /// Centre y, fixed point.
        cy: i32,
        /// Radius, fixed point.
        radius: i32,
        /// An entity always in view (the viewer's own avatar).
        always: Option<NetId>,
    },
}

impl View {
    /// Whether `entity` is visible in this view.
    #[must_use]
    pub fn contains(&self, entity: &Entity) -> bool {
        match *self {
            View::All => true,
            View::Radius {
                cx,
                cy,
                radius,
                always,
            } => {
                if always == Some(entity.id) {
                    return true;
                }
                let dx = i64::from(entity.state.x) - i64::from(cx);
                let dy = i64::from(entity.state.y) - i64::from(cy);
                let r = i64::from(radius);
                dx * dx + dy * dy <= r * r
            }
        }
    }
}
