//! What the tick thread publishes each tick: the snapshot plus the per-player facts a
//! session needs to address it to its client, and a short history of recent frames.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tickwire_shared::{Grid, InputSeq, PlayerId, Relevance, Schema, Shape, Tick, WorldSnapshot};

use crate::replicate::{GameViews, ViewArea};

/// How every client sees the world, in the position's steps: the area around its own
/// entity (`None`: everything) and what is relevant beyond it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Views {
    /// The area around each client's own entity.
    pub shape: Option<Shape>,
    /// What the game makes relevant beyond it.
    pub relevant: Relevance,
}

impl Views {
    /// The views a game declared (`game`), or a circle of `view_radius` world units
    /// when that setting is not 0 (it overrides the game's area).
    #[must_use]
    pub fn new(schema: &Schema, game: GameViews, view_radius: u32) -> Views {
        let steps = |units: f32| schema.position_steps(units).max(1);
        let area = match view_radius {
            0 => game.area,
            r => ViewArea::Circle(r as f32),
        };
        let shape = match area {
            ViewArea::All => None,
            ViewArea::Circle(r) => Some(Shape::Circle { radius: steps(r) }),
            ViewArea::Rect(w, h) => Some(Shape::Rect {
                half_width: steps(w / 2.0),
                half_height: steps(h / 2.0),
            }),
        };
        Views {
            shape,
            relevant: game.relevant,
        }
    }

    /// A circle of `radius` steps (0: everything), nothing relevant beyond it.
    #[cfg(test)]
    #[must_use]
    pub fn radius(radius: i32) -> Views {
        Views {
            shape: (radius > 0).then_some(Shape::Circle { radius }),
            relevant: Relevance::default(),
        }
    }

    /// The side of the frames' grid cells: the area's longest reach (0: no area, no
    /// grid).
    #[must_use]
    pub fn grid_cell(&self) -> i32 {
        self.shape.map_or(0, |s| {
            let (x, y) = s.reach();
            x.max(y)
        })
    }
}

/// One tick's published output.
#[derive(Debug, Default)]
pub struct TickOutput {
    /// The world at this tick.
    pub snapshot: Arc<WorldSnapshot>,
    /// The newest input seq applied for each player by this tick, sorted by player.
    pub input_acks: Vec<(PlayerId, InputSeq)>,
    /// The snapshot's entities by grid cell, when clients have radius views: each finds
    /// its view here instead of testing every entity.
    pub grid: Option<Grid>,
}

impl TickOutput {
    /// A frame of `snapshot`, indexed by a grid for `views`' areas (none without one).
    #[must_use]
    pub fn new(
        schema: &Schema,
        snapshot: Arc<WorldSnapshot>,
        input_acks: Vec<(PlayerId, InputSeq)>,
        views: &Views,
    ) -> TickOutput {
        let cell = views.grid_cell();
        let grid = (cell > 0).then(|| Grid::build(schema, &snapshot, cell, views.relevant));
        TickOutput {
            snapshot,
            input_acks,
            grid,
        }
    }

    /// The tick of this frame.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.snapshot.tick
    }

    /// The newest input seq of `player` applied by this tick (0 if none yet).
    #[must_use]
    pub fn input_ack(&self, player: PlayerId) -> InputSeq {
        self.input_acks
            .binary_search_by_key(&player, |(p, _)| *p)
            .map_or(InputSeq(0), |i| self.input_acks[i].1)
    }
}

/// The newest few snapshots (`history_ticks` of them, none by default), for tests and
/// tools that compare a client's mirror with what the server had at a tick. Sessions
/// never read it.
#[derive(Debug)]
pub struct History {
    /// Newest last.
    snapshots: Mutex<VecDeque<Arc<WorldSnapshot>>>,
    /// How many to keep.
    capacity: usize,
}

impl History {
    /// Keeps the newest `capacity` snapshots (0: none).
    #[must_use]
    pub fn new(capacity: usize) -> History {
        History {
            snapshots: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }

    /// Adds the newest snapshot, dropping the oldest beyond capacity.
    pub fn push(&self, snapshot: Arc<WorldSnapshot>) {
        if self.capacity == 0 {
            return;
        }
        let mut q = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if q.len() == self.capacity {
            q.pop_front();
        }
        q.push_back(snapshot);
    }

    /// The snapshot of `tick`, if still kept.
    #[must_use]
    pub fn at(&self, tick: Tick) -> Option<Arc<WorldSnapshot>> {
        let q = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        q.iter().rev().find(|s| s.tick == tick).cloned()
    }
}
