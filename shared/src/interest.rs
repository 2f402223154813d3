//! Spatial interest: a uniform grid over one snapshot's positioned entities, built once
//! per tick, so finding what one client's view holds costs in proportion to what lies
//! near it, not to the size of the world.
//!
//! The grid is a list of (cell, entity index) pairs sorted by cell in row-major order:
//! the cells of one row of a view's bounding box are one contiguous run, found by two
//! binary searches. A view of radius `r` over cells of side `r` reads at most three rows
//! of three cells. Entities the game may make relevant beyond any area (a ball, anyone
//! on a team) are kept on a list of their own, tested against each view.

use crate::ids::NetId;
use crate::schema::Schema;
use crate::snapshot::{Entity, Relevance, View, WorldSnapshot};

/// One snapshot's entities by grid cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grid {
    /// Side of a cell, in the position's quantized steps (at least 1).
    cell: i32,
    /// (row, column, index into the snapshot's entities) of every positioned entity,
    /// sorted.
    cells: Vec<(i32, i32, u32)>,
    /// Indices of the entities without a position (game-wide state, visible in every
    /// view), ascending.
    unplaced: Vec<u32>,
    /// Indices of the positioned entities with a component of the relevance's flags,
    /// ascending: each view tests them whatever their cell.
    apart: Vec<u32>,
}

impl Grid {
    /// Indexes `snapshot`'s entities by `schema`'s position in cells of side `cell`
    /// steps (clamped to at least 1), keeping apart those `relevant` may show beyond an
    /// area.
    #[must_use]
    pub fn build(
        schema: &Schema,
        snapshot: &WorldSnapshot,
        cell: i32,
        relevant: Relevance,
    ) -> Grid {
        let cell = cell.max(1);
        let flags = relevant.flags();
        let mut cells = Vec::with_capacity(snapshot.entities.len());
        let mut unplaced = Vec::new();
        let mut apart = Vec::new();
        for (i, e) in snapshot.entities.iter().enumerate() {
            let i = i as u32;
            match schema.position_of(e.components, &e.nums) {
                Some(_) if e.components & flags != 0 => apart.push(i),
                Some((x, y)) => cells.push((y.div_euclid(cell), x.div_euclid(cell), i)),
                None => unplaced.push(i),
            }
        }
        cells.sort_unstable();
        Grid {
            cell,
            cells,
            unplaced,
            apart,
        }
    }

    /// Writes to `out` (cleared first) the indices, ascending, of the entities of
    /// `snapshot` (the one this grid was built from) that `view` shows: the same set as
    /// `view.visible`, found by reading only the cells the view overlaps.
    pub fn visible(
        &self,
        schema: &Schema,
        snapshot: &WorldSnapshot,
        view: View,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        let View::Area {
            cx,
            cy,
            shape,
            always,
            ..
        } = view
        else {
            out.extend(0..snapshot.entities.len() as u32);
            return;
        };
        let (reach_x, reach_y) = shape.reach();
        let span = |c: i32, reach: i32| {
            (
                c.saturating_sub(reach).div_euclid(self.cell),
                c.saturating_add(reach).div_euclid(self.cell),
            )
        };
        let (col0, col1) = span(cx, reach_x);
        let (row0, row1) = span(cy, reach_y);
        for row in row0..=row1 {
            let start = self
                .cells
                .partition_point(|&(r, c, _)| (r, c) < (row, col0));
            let end = self
                .cells
                .partition_point(|&(r, c, _)| (r, c) <= (row, col1));
            out.extend(
                self.cells[start..end]
                    .iter()
                    .map(|&(_, _, i)| i)
                    .filter(|&i| view.contains(schema, &snapshot.entities[i as usize])),
            );
        }
        out.extend_from_slice(&self.unplaced);
        out.extend(
            self.apart
                .iter()
                .copied()
                .filter(|&i| view.contains(schema, &snapshot.entities[i as usize])),
        );
        if let Some(i) = always.and_then(|id| index_of(snapshot, id)) {
            out.push(i);
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// The entities of `snapshot` at `indices` (ascending), in id order.
pub fn pick<'a>(
    snapshot: &'a WorldSnapshot,
    indices: &'a [u32],
) -> impl Iterator<Item = &'a Entity> + 'a {
    indices.iter().map(|&i| &snapshot.entities[i as usize])
}

/// Writes to `out` (cleared first) the indices of the entities of `snapshot` in `view`,
/// by testing every entity: for a snapshot without a grid.
pub fn scan(schema: &Schema, snapshot: &WorldSnapshot, view: View, out: &mut Vec<u32>) {
    out.clear();
    out.extend(
        snapshot
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| view.contains(schema, e))
            .map(|(i, _)| i as u32),
    );
}

fn index_of(snapshot: &WorldSnapshot, id: NetId) -> Option<u32> {
    snapshot
        .entities
        .binary_search_by_key(&id, |e| e.id)
        .ok()
        .map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::Tick;
    use crate::schema::{ComponentDef, Encoding, FieldDef, PositionDef, SchemaDef};
    use crate::snapshot::Shape;

    /// Component 0: a position (x, y); component 1: a score with no position; component
    /// 2: a marker (no fields) on some positioned entities; component 3: a team (one
    /// value) on some others.
    fn schema() -> Schema {
        let pos = ComponentDef::new(
            "Pos",
            vec![
                FieldDef::new("x", Encoding::int(-100_000, 100_000)),
                FieldDef::new("y", Encoding::int(-100_000, 100_000)),
            ],
        );
        let score = ComponentDef::new("Score", vec![FieldDef::new("s", Encoding::int(0, 100))]);
        let def = SchemaDef {
            position: Some(PositionDef {
                component: "Pos".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::new(
                "t",
                vec![
                    pos,
                    score,
                    ComponentDef::new("Mark", vec![]),
                    ComponentDef::new("Team", vec![FieldDef::new("t", Encoding::int(0, 1))]),
                ],
            )
        };
        Schema::new(def).unwrap()
    }

    fn world(points: &[Option<(i32, i32)>]) -> WorldSnapshot {
        let entities = points
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                // A quarter of them, by position, carry the marker, a quarter a team.
                Some((x, y)) if (x ^ y) & 3 == 0 => Entity {
                    id: NetId(i as u32 * 3 + 1),
                    components: 0b0101,
                    nums: crate::Nums::from_slice(&[*x, *y]),
                    strs: crate::Strs::new(),
                },
                Some((x, y)) if (x ^ y) & 3 == 1 => Entity {
                    id: NetId(i as u32 * 3 + 1),
                    components: 0b1001,
                    nums: crate::Nums::from_slice(&[*x, *y, x & 1]),
                    strs: crate::Strs::new(),
                },
                Some((x, y)) => Entity {
                    id: NetId(i as u32 * 3 + 1),
                    components: 0b0001,
                    nums: crate::Nums::from_slice(&[*x, *y]),
                    strs: crate::Strs::new(),
                },
                None => Entity {
                    id: NetId(i as u32 * 3 + 1),
                    components: 0b10,
                    nums: crate::Nums::from_slice(&[7]),
                    strs: crate::Strs::new(),
                },
            })
            .collect();
        WorldSnapshot::new(Tick(1), entities)
    }

    #[test]
    fn a_view_finds_what_lies_within_its_radius_plus_its_own_and_the_unplaced() {
        let s = schema();
        let w = world(&[
            Some((0, 0)),
            Some((50, 0)),
            Some((500, 500)),
            None,
            Some((-40, -30)),
        ]);
        let grid = Grid::build(&s, &w, 100, Relevance::default());
        let mut out = Vec::new();
        let view = View::Area {
            cx: 0,
            cy: 0,
            shape: Shape::Circle { radius: 50 },
            relevant: Relevance::default(),
            team: None,
            always: Some(NetId(7)),
        };
        grid.visible(&s, &w, view, &mut out);
        // (0,0), (50,0) on the edge, (500,500) because it is `always`, the score, and
        // (-40,-30) at distance 50 exactly.
        assert_eq!(out, vec![0, 1, 2, 3, 4]);
        let view = View::Area {
            cx: 0,
            cy: 0,
            shape: Shape::Circle { radius: 49 },
            relevant: Relevance::default(),
            team: None,
            always: None,
        };
        grid.visible(&s, &w, view, &mut out);
        assert_eq!(out, vec![0, 3]);
    }

    proptest! {
        #[test]
        fn the_grid_agrees_with_a_scan_of_every_entity(
            points in proptest::collection::vec(
                proptest::option::weighted(0.9, (-3000..3000i32, -3000..3000i32)), 0..200),
            cx in -4000..4000i32,
            cy in -4000..4000i32,
            radius in 0..2500i32,
            height in proptest::option::of(0..2500i32),
            cell in 1..3000i32,
            always in proptest::option::of(0..700u32),
            marks_relevant in proptest::bool::ANY,
            team in proptest::option::of(0..2i32),
        ) {
            let s = schema();
            let w = world(&points);
            // Marked entities seen from anywhere, or only in the area like the rest; with
            // a team, the viewer's teammates seen from anywhere too.
            let relevant = Relevance {
                components: if marks_relevant { 0b100 } else { 0 },
                group: team.map(|_| (3, 0)),
            };
            let grid = Grid::build(&s, &w, cell, relevant);
            let shape = match height {
                Some(h) => Shape::Rect { half_width: radius, half_height: h },
                None => Shape::Circle { radius },
            };
            let view = View::Area { cx, cy, shape, always: always.map(NetId), relevant, team };
            let (mut by_grid, mut by_scan) = (Vec::new(), Vec::new());
            grid.visible(&s, &w, view, &mut by_grid);
            scan(&s, &w, view, &mut by_scan);
            prop_assert_eq!(by_grid, by_scan);
        }
    }
}
