//! The snapshot model: an immutable, quantized picture of the world at one tick.
//!
//! The server captures one `WorldSnapshot` per tick; every session diffs against it.
//! Each entity is its net id, the set of registered components it has (a bit per
//! component, in schema order) and their quantized values. Entities are kept sorted by
//! `NetId`, so two snapshots diff in one merge pass and a mirror applies a delta without
//! hashing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::ids::{NetId, Tick};
use crate::schema::Schema;

/// An entity's numeric values. Up to `INLINE_NUMS` live inside the entity itself: a
/// capture then allocates nothing for a typical entity, and a diff or an interest scan
/// reads them where it reads the entity (no pointer to follow per entity).
pub type Nums = SmallVec<[i32; INLINE_NUMS]>;

/// Numeric values kept inline in an `Entity` (a position, an angle and a few stats).
pub const INLINE_NUMS: usize = 6;

/// An entity's string values; one (a name) lives inside the entity, in the space a
/// `Vec` would take.
pub type Strs = SmallVec<[Arc<str>; 1]>;

/// One entity's replicated state, already quantized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    /// Stable network id.
    pub id: NetId,
    /// Which registered components it has: bit `c` for the schema's component `c`.
    pub components: u64,
    /// The numeric values of its components, in schema order, fields in declared order.
    pub nums: Nums,
    /// The string values of its components, in the same order. Shared, so capture never
    /// copies a name.
    pub strs: Strs,
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
    /// Entities whose position (the schema's position component) lies within `shape`
    /// around a centre, all in the position's quantized steps; plus `always` (the
    /// viewer's own entity), every entity without a position (game-wide state), and
    /// whatever `relevant` makes relevant to this viewer, whatever the distance.
    Area {
        /// Centre x.
        cx: i32,
        /// Centre y.
        cy: i32,
        /// The area around the centre.
        shape: Shape,
        /// An entity always in view (the viewer's own avatar).
        always: Option<NetId>,
        /// What the game makes relevant beyond the area.
        relevant: Relevance,
        /// The viewer's own value of `relevant.group`: entities with the same value are in
        /// view (teammates), whatever the distance.
        team: Option<i32>,
    },
}

/// The area of a view around its centre, in the position's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Within `radius` (inclusive).
    Circle {
        /// The radius.
        radius: i32,
    },
    /// Within `half_width` across and `half_height` up and down (inclusive): a screen.
    Rect {
        /// Half the width.
        half_width: i32,
        /// Half the height.
        half_height: i32,
    },
}

impl Shape {
    /// Whether an offset from the centre lies inside.
    #[must_use]
    pub fn contains(self, dx: i64, dy: i64) -> bool {
        match self {
            Shape::Circle { radius } => {
                // i128: two 33-bit differences squared and summed never overflow.
                let (dx, dy, r) = (i128::from(dx), i128::from(dy), i128::from(radius));
                dx * dx + dy * dy <= r * r
            }
            Shape::Rect {
                half_width,
                half_height,
            } => dx.abs() <= i64::from(half_width) && dy.abs() <= i64::from(half_height),
        }
    }

    /// How far the shape reaches along x and along y (its bounding box's half sides).
    #[must_use]
    pub fn reach(self) -> (i32, i32) {
        match self {
            Shape::Circle { radius } => (radius.max(0), radius.max(0)),
            Shape::Rect {
                half_width,
                half_height,
            } => (half_width.max(0), half_height.max(0)),
        }
    }
}

/// What a game makes relevant to viewers beyond their area: entities with any of
/// `components` (a bit per component: the ball, a flag), and entities that share the
/// viewer's value of `group` (component index, index among its numeric values: a team).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relevance {
    /// Components whose entities every viewer sees.
    pub components: u64,
    /// The numeric value that makes teammates: (component, value index).
    pub group: Option<(u8, u8)>,
}

impl Relevance {
    /// The components whose entities may be relevant beyond an area (those of
    /// `components` and the group's): a spatial index keeps their entities apart.
    #[must_use]
    pub fn flags(self) -> u64 {
        let group = self
            .group
            .and_then(|(c, _)| 1u64.checked_shl(u32::from(c)))
            .unwrap_or(0);
        self.components | group
    }

    /// `entity`'s value of the group, if it has the group's component.
    #[must_use]
    pub fn group_of(self, schema: &Schema, entity: &Entity) -> Option<i32> {
        let (c, i) = self.group?;
        let (n, _) = schema.offsets(entity.components, usize::from(c))?;
        entity.nums.get(n + usize::from(i)).copied()
    }
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
            View::Area {
                cx,
                cy,
                shape,
                always,
                relevant,
                team,
            } => {
                if always == Some(entity.id) || entity.components & relevant.components != 0 {
                    return true;
                }
                if team.is_some() && relevant.group_of(schema, entity) == team {
                    return true;
                }
                let Some((x, y)) = schema.position_of(entity.components, &entity.nums) else {
                    return true;
                };
                shape.contains(i64::from(x) - i64::from(cx), i64::from(y) - i64::from(cy))
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
            nums: crate::Nums::from_slice(&[i32::MIN, i32::MIN]),
            strs: crate::Strs::new(),
        };
        let view = |cx, cy, radius| View::Area {
            cx,
            cy,
            shape: Shape::Circle { radius },
            always: None,
            relevant: Relevance::default(),
            team: None,
        };
        assert!(!view(i32::MAX, i32::MAX, 5).contains(&schema, &far));
        assert!(!view(i32::MAX, i32::MAX, i32::MAX).contains(&schema, &far));
        assert!(view(i32::MIN, i32::MIN, 0).contains(&schema, &far));
    }

    #[test]
    fn a_rectangle_the_relevant_components_and_teammates_are_in_view() {
        // Component 0: position (x, y); 1: a ball marker; 2: a team (one value).
        let schema = Schema::new(SchemaDef {
            components: vec![
                ComponentDef::new(
                    "P",
                    vec![
                        FieldDef::new("x", Encoding::int(-10_000, 10_000)),
                        FieldDef::new("y", Encoding::int(-10_000, 10_000)),
                    ],
                ),
                ComponentDef::new("Ball", vec![]),
                ComponentDef::new("Team", vec![FieldDef::new("t", Encoding::int(0, 9))]),
            ],
            position: Some(PositionDef {
                component: "P".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::new("t", vec![])
        })
        .unwrap();
        let at = |id, x, y, extra: u64, team: Option<i32>| Entity {
            id: NetId(id),
            components: 1 | extra,
            nums: [x, y].into_iter().chain(team).collect(),
            strs: crate::Strs::new(),
        };
        let view = View::Area {
            cx: 0,
            cy: 0,
            shape: Shape::Rect {
                half_width: 100,
                half_height: 50,
            },
            always: None,
            relevant: Relevance {
                components: 0b010,
                group: Some((2, 0)),
            },
            team: Some(3),
        };
        let sees = |e: &Entity| view.contains(&schema, e);
        assert!(sees(&at(1, 100, -50, 0, None)), "the rectangle's corner");
        assert!(!sees(&at(2, 101, 0, 0, None)), "past its side");
        assert!(!sees(&at(3, 0, 51, 0, None)), "past its top");
        assert!(sees(&at(4, 9000, 9000, 0b010, None)), "the ball, anywhere");
        assert!(
            sees(&at(5, 9000, 9000, 0b100, Some(3))),
            "a teammate, anywhere"
        );
        assert!(
            !sees(&at(6, 9000, 9000, 0b100, Some(4))),
            "an opponent far away"
        );
        assert!(sees(&at(7, 10, 10, 0b100, Some(4))), "an opponent near");
        assert_eq!(
            Relevance {
                components: 0b010,
                group: Some((2, 0))
            }
            .flags(),
            0b110
        );
    }
}
