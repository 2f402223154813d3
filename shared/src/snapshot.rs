//! The snapshot model: an immutable, quantized picture of the world at one tick.
//!
//! The server captures one `WorldSnapshot` per tick; every session diffs against it.
//! Each entity is its net id, the set of registered components it has (a bit per
//! component, in schema order) and their quantized values. Entities are kept sorted by
//! `NetId`, so two snapshots diff in one merge pass and a mirror applies a delta without
//! hashing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::{NetId, Tick};
use crate::schema::Schema;

/// One entity's replicated state, already quantized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    /// Stable network id.
    pub id: NetId,
    /// Which registered components it has: bit `c` for the schema's component `c`.
    pub components: u64,
    /// The numeric values of its components, in schema order, fields in declared order.
    pub nums: Vec<i32>,
    /// The string values of its components, in the same order. Shared, so capture never
    /// copies a name.
    pub strs: Vec<Arc<str>>,
}

impl Entity {
    /// True when `other` has the same components and strings, so a field delta can carry
    /// `self` to `other`; otherwise `other` is sent whole.
    #[must_use]
    pub fn same_shape(&self, other: &Entity) -> bool {
        self.components == other.components && self.strs == other.strs
    }
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
    pub fn get(&self, id: NetId) -> Option<&Entity> {
        find(&self.entities, id)
    }
}

/// Finds an entity in an id-sorted list.
#[must_use]
pub fn find(entities: &[Entity], id: NetId) -> Option<&Entity> {
    entities
        .binary_search_by_key(&id, |e| e.id)
        .ok()
        .map(|i| &entities[i])
}

/// What part of the world one client is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// Everything (no interest management).
    All,
    /// Entities whose position (the schema's position component) lies within `radius` of
    /// a centre, all in the position's quantized steps; plus `always` (the viewer's own
    /// entity) and every entity without a position (game-wide state), whatever the
    /// distance.
    Radius {
        /// Centre x.
        cx: i32,
        /// Centre y.
        cy: i32,
        /// Radius.
        radius: i32,
        /// An entity always in view (the viewer's own avatar).
        always: Option<NetId>,
    },
}

impl View {
    /// The entities of `entities` visible in this view, in their order.
    pub fn visible<'a>(
        self,
        schema: &'a Schema,
        entities: &'a [Entity],
    ) -> impl Iterator<Item = &'a Entity> + 'a {
        entities.iter().filter(move |e| self.contains(schema, e))
    }

    /// Whether `entity` is visible in this view.
    #[must_use]
    pub fn contains(&self, schema: &Schema, entity: &Entity) -> bool {
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
                let Some((x, y)) = schema.position_of(entity.components, &entity.nums) else {
                    return true;
                };
                // i128: two 33-bit differences squared and summed never overflow.
                let dx = i128::from(x) - i128::from(cx);
                let dy = i128::from(y) - i128::from(cy);
                let r = i128::from(radius);
                dx * dx + dy * dy <= r * r
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ComponentDef, Encoding, FieldDef, PositionDef, SchemaDef};

    #[test]
    fn a_view_far_from_an_entity_at_the_edge_of_i32_does_not_overflow() {
        // Found by the apply_delta fuzz target: an Int position over all of i32 put an
        // entity 3e9 steps from the centre, and the squared distance overflowed i64.
        let schema = Schema::new(SchemaDef {
            game: "t".into(),
            components: vec![ComponentDef {
                name: "P".into(),
                fields: vec![
                    FieldDef::new("x", Encoding::int(i32::MIN, i32::MAX)),
                    FieldDef::new("y", Encoding::int(i32::MIN, i32::MAX)),
                ],
            }],
            position: Some(PositionDef {
                component: "P".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::default()
        })
        .unwrap();
        let far = Entity {
            id: NetId(1),
            components: 1,
            nums: vec![i32::MIN, i32::MIN],
            strs: vec![],
        };
        let view = |cx, cy, radius| View::Radius {
            cx,
            cy,
            radius,
            always: None,
        };
        assert!(!view(i32::MAX, i32::MAX, 5).contains(&schema, &far));
        assert!(!view(i32::MAX, i32::MAX, i32::MAX).contains(&schema, &far));
        assert!(view(i32::MIN, i32::MIN, 0).contains(&schema, &far));
    }
}
