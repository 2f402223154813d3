//! Per-session replication: the client's baseline, flow control by acks, and the shared
//! cache that encodes each (baseline, newest) delta body once for every client with the
//! same view.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::body::Bytes;
use tickwire_shared::codec::{encode_body, encode_snapshot};
use tickwire_shared::interest::{pick, scan};
use tickwire_shared::{
    Entity, NetId, PlayerId, Schema, SnapshotHeader, Tick, View, WorldSnapshot, diff,
    diff_entities,
};

use crate::budget::{Accumulator, Budget, Focus, Priorities};
use crate::tick_output::{TickOutput, Views};

thread_local! {
    /// A buffer for the view being gathered, one per thread, lent to each session's
    /// replicator while it writes.
    static SCRATCH: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// One cached body: the key and its bytes, encoded by whichever writer got there first.
type CacheEntry = ((Option<Tick>, Tick), Arc<OnceLock<Bytes>>);

/// Encoded full-view bodies keyed by (baseline tick, newest tick). Writers that share a
/// baseline (nearly all of them, when everyone keeps up) share one encoding.
#[derive(Debug)]
pub struct BodyCache {
    /// The game's schema, which every diff reads by.
    schema: Arc<Schema>,
    /// Entries for the newest few ticks; older ones are evicted as ticks advance.
    entries: Mutex<Vec<CacheEntry>>,
}

/// How many ticks behind the newest a cached body may be before it is evicted.
const CACHE_TICKS: u32 = 2;

impl BodyCache {
    /// An empty cache for a game with `schema`.
    #[must_use]
    pub fn new(schema: Arc<Schema>) -> BodyCache {
        BodyCache {
            schema,
            entries: Mutex::default(),
        }
    }

    /// The game's schema.
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The encoded full-view body from `baseline` to `latest`.
    pub fn full_view_body(
        &self,
        baseline: Option<&WorldSnapshot>,
        latest: &WorldSnapshot,
    ) -> Bytes {
        let key = (baseline.map(|b| b.tick), latest.tick);
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries.retain(|((_, t), _)| latest.tick.since(*t) <= CACHE_TICKS);
            match entries.iter().find(|(k, _)| *k == key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    let cell = Arc::new(OnceLock::new());
                    entries.push((key, cell.clone()));
                    cell
                }
            }
        };
        // Encoding happens outside the lock; other writers wanting the same body wait on
        // the cell, not the map.
        cell.get_or_init(|| {
            Bytes::from(encode_body(&diff(
                &self.schema,
                baseline.map(|b| (b, View::All)),
                latest,
                View::All,
            )))
        })
        .clone()
    }
}

/// What a client holds: a frame's snapshot seen through a view, or, once a byte budget
/// has made entities wait, a snapshot of its own that mixes ticks (each entity as last
/// sent), seen whole.
#[derive(Clone, Debug)]
pub struct Held {
    /// The entities (through `view`).
    snapshot: Arc<WorldSnapshot>,
    /// The view the client sees `snapshot` through.
    view: View,
    /// True when `snapshot` is the client's own mix, not the frame of its tick: then no
    /// shared encoding keyed by tick applies to it.
    pub mixed: bool,
    /// `snapshot`'s tick, kept here too: matching an ack against the messages in flight
    /// then reads none of their snapshots (each one a likely cache miss).
    tick: Tick,
}

impl Held {
    /// The frame snapshot `snapshot` seen through `view`.
    #[must_use]
    pub fn frame(snapshot: Arc<WorldSnapshot>, view: View) -> Held {
        Held {
            tick: snapshot.tick,
            snapshot,
            view,
            mixed: false,
        }
    }

    /// The tick of the snapshot held.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// The entities held (through `view`); for the fuzz targets.
    #[cfg(feature = "fuzzing")]
    #[must_use]
    pub fn snapshot(&self) -> &Arc<WorldSnapshot> {
        &self.snapshot
    }

    /// The view the client sees the snapshot through; for the fuzz targets.
    #[cfg(feature = "fuzzing")]
    #[must_use]
    pub fn view(&self) -> View {
        self.view
    }
}

/// A byte budget for one client, and what the game says matters most.
#[derive(Debug)]
pub struct Budgeted {
    /// The bytes it may still write.
    pub budget: Budget,
    /// The game's base priorities.
    pub priorities: Arc<Priorities>,
    /// The distance (in position steps) at which an entity's priority is halved.
    pub falloff: i32,
    /// The priority of each entity waiting.
    pub waiting: Accumulator,
}

/// What one session knows about its client's state, and how far ahead it may send.
#[derive(Debug)]
pub struct Replicator {
    /// The player this session serves.
    player: PlayerId,
    /// The player's avatar (the centre of an interest view).
    own: NetId,
    /// What the client holds after the last message written (every message written
    /// arrives, in order: the socket is reliable).
    baseline: Option<Held>,
    /// Snapshots written but not yet acked, oldest first.
    inflight: VecDeque<Held>,
    /// The newest snapshot the client acked.
    acked: Option<Held>,
    /// Most snapshots in flight before the writer waits for acks.
    window: usize,
    /// How the client sees the world.
    views: Views,
    /// Where the view centres when the avatar is not in the snapshot: where it was last
    /// seen (the origin before that).
    centre: (i32, i32),
    /// The avatar's team (by `views.relevant.group`), as last seen.
    team: Option<i32>,
    /// The indices of the baseline's entities the client holds (through its view),
    /// when known (`visible_known`); kept so each delta reads only the entities near
    /// the client, not the whole baseline.
    visible: Vec<u32>,
    /// Whether `visible` is the baseline's.
    visible_known: bool,
    /// Where the newest view's indices are gathered before they become `visible`: the
    /// thread's buffer (`SCRATCH`), lent for the length of one `next_message`, so each
    /// client keeps one list of indices, not two.
    scratch: Vec<u32>,
    /// The client's byte budget, if it has one.
    budgeted: Option<Budgeted>,
}

/// One snapshot message for one client.
#[derive(Debug)]
pub struct Written {
    /// The whole message.
    pub msg: Bytes,
    /// Changed entities a byte budget held back for a later message.
    pub deferred: usize,
}

/// Room for a snapshot message's header (kind, tick, baseline, input ack, each a varint
/// of up to 5 bytes), so a budgeted body plus its header stays within the allowance.
const HEADER_BYTES: usize = 24;

impl Replicator {
    /// A replicator for a client that holds nothing yet.
    #[must_use]
    pub fn new(player: PlayerId, own: NetId, window: u32, views: Views) -> Replicator {
        Replicator {
            player,
            own,
            baseline: None,
            inflight: VecDeque::new(),
            acked: None,
            window: window.max(1) as usize,
            views,
            centre: (0, 0),
            team: None,
            visible: Vec::new(),
            visible_known: false,
            scratch: Vec::new(),
            budgeted: None,
        }
    }

    /// The same, for a client with a byte budget (`budget::Budget`).
    #[must_use]
    pub fn with_budget(mut self, budgeted: Budgeted) -> Replicator {
        self.budgeted = Some(budgeted);
        self
    }

    /// A replicator for a client known to hold `baseline`, as when it resumes a
    /// session: its first message is a delta, not a full state. The baseline counts as
    /// acked, so a client that drops again before acking anything newer can still
    /// resume from it.
    #[must_use]
    pub fn with_baseline(mut self, baseline: Held) -> Replicator {
        self.acked = Some(baseline.clone());
        self.baseline = Some(baseline);
        self.visible_known = false;
        self
    }

    /// Whether another snapshot may be written now.
    #[must_use]
    pub fn window_open(&self) -> bool {
        self.inflight.len() < self.window
    }

    /// What the client is known to hold (after the last message written).
    #[must_use]
    pub fn baseline(&self) -> Option<&Held> {
        self.baseline.as_ref()
    }

    /// Records the client's ack of `tick`: everything written up to it has arrived.
    /// Acks for ticks never written (or already acked) change nothing.
    pub fn ack(&mut self, tick: Tick) {
        if !self.inflight.iter().any(|h| h.tick() == tick) {
            return;
        }
        while let Some(written) = self.inflight.pop_front() {
            let done = written.tick() == tick;
            self.acked = Some(written);
            if done {
                break;
            }
        }
    }

    /// Everything the client may hold right now: the last acked and all in flight.
    #[must_use]
    pub fn written(&self) -> Vec<Held> {
        self.acked
            .iter()
            .chain(self.inflight.iter())
            .cloned()
            .collect()
    }

    fn view_for(&mut self, schema: &Schema, snapshot: &WorldSnapshot) -> View {
        // Where the avatar is matters only to an interest view and to a budget's focus:
        // a full view with no budget skips the lookup (a search per client per tick).
        if self.views.shape.is_none() && self.budgeted.is_none() {
            return View::All;
        }
        if let Some(own) = snapshot.get(self.own) {
            if let Some(p) = schema.position_of(own.components, &own.nums) {
                self.centre = p;
            }
            self.team = self.views.relevant.group_of(schema, own);
        }
        let Some(shape) = self.views.shape else {
            return View::All;
        };
        let (cx, cy) = self.centre;
        View::Area {
            cx,
            cy,
            shape,
            always: Some(self.own),
            relevant: self.views.relevant,
            team: self.team,
        }
    }

    /// The message that brings the client from its baseline to `frame`, or `None` when it
    /// already holds `frame` (or its budget is still paying off an overdraft). What
    /// the message leaves the client holding becomes the new baseline.
    pub fn next_message(&mut self, frame: &TickOutput, cache: &BodyCache) -> Option<Written> {
        self.scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        let written = self.write_next(frame, cache);
        let lent = std::mem::take(&mut self.scratch);
        SCRATCH.with(|s| *s.borrow_mut() = lent);
        written
    }

    fn write_next(&mut self, frame: &TickOutput, cache: &BodyCache) -> Option<Written> {
        let latest = &frame.snapshot;
        if self
            .baseline
            .as_ref()
            .is_some_and(|b| b.tick() == latest.tick)
        {
            return None;
        }
        let allowance = match &mut self.budgeted {
            Some(b) => Some(b.budget.allowance(latest.tick)?),
            None => None,
        };
        let schema = cache.schema();
        let view = self.view_for(schema, latest);
        let plain = match &self.baseline {
            Some(b) if b.mixed => None,
            _ => Some(self.plain_body(frame, view, cache)),
        };
        let (body, held, deferred) = match (plain, allowance) {
            (Some((body, gathered)), a) if a.is_none_or(|a| body.len() + HEADER_BYTES <= a) => {
                // The view just written is the new baseline's.
                if gathered {
                    std::mem::swap(&mut self.visible, &mut self.scratch);
                }
                self.visible_known = gathered;
                if let Some(b) = &mut self.budgeted {
                    b.waiting.clear();
                }
                (body, Held::frame(latest.clone(), view), 0)
            }
            (_, a) => self.budgeted_body(schema, frame, view, a.unwrap_or(usize::MAX)),
        };
        let header = SnapshotHeader {
            tick: latest.tick,
            baseline: self.baseline.as_ref().map(|b| b.tick()),
            input_ack: frame.input_ack(self.player),
        };
        let msg = encode_snapshot(&header, &body);
        if let Some(b) = &mut self.budgeted {
            b.budget.spend(msg.len());
        }
        self.baseline = Some(held.clone());
        self.inflight.push_back(held);
        Some(Written {
            msg: Bytes::from(msg),
            deferred,
        })
    }

    /// Fills `scratch` with the indices of `frame`'s entities in `view`, and makes sure
    /// `visible` holds the baseline's.
    fn gather(&mut self, schema: &Schema, frame: &TickOutput, view: View) {
        match (&frame.grid, view) {
            (Some(grid), View::Area { .. }) => {
                grid.visible(schema, &frame.snapshot, view, &mut self.scratch);
            }
            _ => scan(schema, &frame.snapshot, view, &mut self.scratch),
        }
        if !self.visible_known {
            match &self.baseline {
                Some(b) => scan(schema, &b.snapshot, b.view, &mut self.visible),
                None => self.visible.clear(),
            }
        }
    }

    /// The exact body from the baseline to `frame`'s snapshot through `view`, and
    /// whether it gathered the view's indices into `scratch` (a full view shared by
    /// everyone comes from the cache without them).
    fn plain_body(&mut self, frame: &TickOutput, view: View, cache: &BodyCache) -> (Bytes, bool) {
        let schema = cache.schema();
        let latest = &frame.snapshot;
        match (view, &self.baseline) {
            (View::All, Some(b)) if b.view == View::All => {
                (cache.full_view_body(Some(&b.snapshot), latest), false)
            }
            (View::All, None) => (cache.full_view_body(None, latest), false),
            _ => {
                self.gather(schema, frame, view);
                let empty = WorldSnapshot::default();
                let base = self.baseline.as_ref().map_or(&empty, |b| &*b.snapshot);
                let body = diff_entities(
                    schema,
                    pick(base, &self.visible),
                    pick(latest, &self.scratch),
                );
                (Bytes::from(encode_body(&body)), true)
            }
        }
    }

    /// A body of about `allowance` bytes (header included) chosen by priority, and what
    /// the client will hold after it.
    fn budgeted_body(
        &mut self,
        schema: &Schema,
        frame: &TickOutput,
        view: View,
        allowance: usize,
    ) -> (Bytes, Held, usize) {
        self.gather(schema, frame, view);
        let latest = &frame.snapshot;
        let empty = WorldSnapshot::default();
        let base = self.baseline.as_ref().map_or(&empty, |b| &*b.snapshot);
        let budgeted = self.budgeted.as_mut().expect("only called with a budget");
        let focus = Focus {
            centre: self.centre,
            falloff: budgeted.falloff,
            own: self.own,
        };
        let plan = budgeted.waiting.plan(
            schema,
            &budgeted.priorities,
            focus,
            pick(base, &self.visible),
            pick(latest, &self.scratch),
            allowance.saturating_sub(HEADER_BYTES),
        );
        let body = diff_entities(
            schema,
            pick(base, &self.visible),
            plan.target.iter().copied(),
        );
        let deferred = plan.deferred;
        let held = if plan.complete {
            std::mem::swap(&mut self.visible, &mut self.scratch);
            Held::frame(latest.clone(), view)
        } else {
            let own: Vec<Entity> = plan.target.into_iter().cloned().collect();
            self.visible.clear();
            self.visible.extend(0..own.len() as u32);
            Held {
                snapshot: Arc::new(WorldSnapshot {
                    tick: latest.tick,
                    entities: own,
                }),
                view: View::All,
                mixed: true,
                tick: latest.tick,
            }
        };
        self.visible_known = true;
        (Bytes::from(encode_body(&body)), held, deferred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::codec::decode_server;
    use tickwire_shared::{
        ComponentDef, Encoding, Entity, FieldDef, InputSeq, Mirror, SchemaDef, ServerMsg,
    };

    /// One component of one small integer.
    fn schema() -> Arc<Schema> {
        let x = ComponentDef::new("X", vec![FieldDef::new("x", Encoding::int(-100, 100))]);
        Arc::new(Schema::new(SchemaDef::new("t", vec![x])).unwrap())
    }

    fn cache() -> BodyCache {
        BodyCache::new(schema())
    }

    fn frame(tick: u32, xs: &[i32]) -> TickOutput {
        let entities = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| Entity {
                id: NetId(i as u32 + 1),
                components: 1,
                nums: tickwire_shared::Nums::from_slice(&[x]),
                strs: tickwire_shared::Strs::new(),
            })
            .collect();
        TickOutput {
            snapshot: Arc::new(WorldSnapshot::new(Tick(tick), entities)),
            input_acks: vec![(PlayerId(1), InputSeq(4))],
            grid: None,
        }
    }

    fn apply(m: &mut Mirror, bytes: &[u8]) -> SnapshotHeader {
        match decode_server(bytes).unwrap() {
            ServerMsg::Snapshot { header, body } => {
                m.apply(header.tick, header.baseline, &body).unwrap();
                header
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_window_closes_until_acks_arrive_then_one_delta_coalesces() {
        let cache = cache();
        let mut r = Replicator::new(PlayerId(1), NetId(1), 2, Views::default());
        let mut m = Mirror::new(schema());
        let h = apply(
            &mut m,
            &r.next_message(&frame(1, &[0, 0]), &cache).unwrap().msg,
        );
        assert_eq!((h.baseline, h.input_ack), (None, InputSeq(4)));
        apply(
            &mut m,
            &r.next_message(&frame(2, &[1, 0]), &cache).unwrap().msg,
        );
        assert!(!r.window_open());
        r.ack(Tick(99));
        assert!(
            !r.window_open(),
            "an ack for a tick never written changes nothing"
        );
        r.ack(Tick(2));
        assert!(r.window_open());
        assert_eq!(
            r.written().iter().map(|h| h.tick()).collect::<Vec<_>>(),
            vec![Tick(2)]
        );
        let h = apply(
            &mut m,
            &r.next_message(&frame(9, &[5, 7]), &cache).unwrap().msg,
        );
        assert_eq!(h.baseline, Some(Tick(2)));
        assert_eq!(
            m.entities().iter().map(|e| e.nums[0]).collect::<Vec<_>>(),
            vec![5, 7]
        );
        assert!(r.next_message(&frame(9, &[5, 7]), &cache).is_none());
    }

    #[test]
    fn a_resumed_client_that_drops_again_at_once_can_resume_from_the_same_tick() {
        let cache = cache();
        let held = frame(5, &[1, 2]);
        let r = Replicator::new(PlayerId(1), NetId(1), 4, Views::default())
            .with_baseline(Held::frame(held.snapshot.clone(), View::All));
        // Nothing written or acked yet: the tick the client holds is still on offer.
        assert_eq!(
            r.written().iter().map(|h| h.tick()).collect::<Vec<_>>(),
            vec![Tick(5)]
        );
        let mut r = r;
        let mut m = Mirror::new(schema());
        apply(
            &mut m,
            &Replicator::new(PlayerId(1), NetId(1), 4, Views::default())
                .next_message(&held, &cache)
                .unwrap()
                .msg,
        );
        let h = apply(
            &mut m,
            &r.next_message(&frame(6, &[3, 2]), &cache).unwrap().msg,
        );
        assert_eq!(h.baseline, Some(Tick(5)), "the first message is a delta");
        assert_eq!(
            r.written().iter().map(|h| h.tick()).collect::<Vec<_>>(),
            vec![Tick(5), Tick(6)]
        );
    }

    #[test]
    fn clients_with_the_same_baseline_share_one_encoding() {
        let cache = cache();
        let (a, b) = (frame(1, &[0]), frame(2, &[3]));
        let x = cache.full_view_body(Some(&a.snapshot), &b.snapshot);
        let y = cache.full_view_body(Some(&a.snapshot), &b.snapshot);
        assert_eq!(x.as_ptr(), y.as_ptr());
    }

    /// Entities on a plane: component 0 is a position (x, y).
    fn plane() -> Arc<Schema> {
        let pos = ComponentDef::new(
            "P",
            vec![
                FieldDef::new("x", Encoding::int(-5000, 5000)),
                FieldDef::new("y", Encoding::int(-5000, 5000)),
            ],
        );
        let def = SchemaDef {
            position: Some(tickwire_shared::PositionDef {
                component: "P".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::new("plane", vec![pos])
        };
        Arc::new(Schema::new(def).unwrap())
    }

    /// A game's own view: a rectangle around the client's entity, a ball seen from
    /// anywhere, teammates seen from anywhere; found the same by the grid and the scan,
    /// and followed when the client's team changes.
    #[test]
    fn a_rectangle_the_ball_and_teammates_reach_the_client() {
        use tickwire_shared::{Relevance, Shape};
        let pos = ComponentDef::new(
            "P",
            vec![
                FieldDef::new("x", Encoding::int(-5000, 5000)),
                FieldDef::new("y", Encoding::int(-5000, 5000)),
            ],
        );
        let def = SchemaDef {
            position: Some(tickwire_shared::PositionDef {
                component: "P".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::new(
                "teams",
                vec![
                    pos,
                    ComponentDef::new("Ball", vec![]),
                    ComponentDef::new("Team", vec![FieldDef::new("t", Encoding::int(0, 3))]),
                ],
            )
        };
        let schema = Arc::new(Schema::new(def).unwrap());
        let cache = BodyCache::new(schema.clone());
        let views = Views {
            shape: Some(Shape::Rect {
                half_width: 400,
                half_height: 200,
            }),
            relevant: Relevance {
                components: 0b010,
                group: Some((2, 0)),
            },
        };
        let person = |id, x, y, team| Entity {
            id: NetId(id),
            components: 0b101,
            nums: tickwire_shared::Nums::from_slice(&[x, y, team]),
            strs: tickwire_shared::Strs::new(),
        };
        let world = |tick, my_team| {
            let ball = Entity {
                id: NetId(2),
                components: 0b011,
                nums: tickwire_shared::Nums::from_slice(&[3000, 3000]),
                strs: tickwire_shared::Strs::new(),
            };
            let entities = vec![
                person(1, 0, 0, my_team),
                ball,
                person(3, 390, -190, 1), // inside the rectangle
                person(4, 0, 300, 1),    // above it
                person(5, -4000, 4000, 0), // far, on team 0
                person(6, 4000, -4000, 1), // far, on team 1
            ];
            Arc::new(WorldSnapshot::new(Tick(tick), entities))
        };
        let mut by_grid = Replicator::new(PlayerId(1), NetId(1), 100, views);
        let mut by_scan = Replicator::new(PlayerId(1), NetId(1), 100, views);
        let mut mirror = Mirror::new(schema.clone());
        for (tick, team, expected) in [(1, 0, vec![1, 2, 3, 5]), (2, 1, vec![1, 2, 3, 4, 6])] {
            let snapshot = world(tick, team);
            let gridded = TickOutput::new(&schema, snapshot.clone(), vec![], &views);
            assert!(gridded.grid.is_some());
            let plain = TickOutput {
                grid: None,
                ..TickOutput::new(&schema, snapshot, vec![], &views)
            };
            let a = by_grid.next_message(&gridded, &cache).unwrap().msg;
            let b = by_scan.next_message(&plain, &cache).unwrap().msg;
            assert_eq!(a, b, "tick {tick}");
            apply(&mut mirror, &a);
            let held: Vec<u32> = mirror.entities().iter().map(|e| e.id.0).collect();
            assert_eq!(held, expected, "on team {team}");
        }
    }

    proptest::proptest! {
        /// A radius view found through the frame's grid writes exactly the bytes the
        /// scan of every entity writes, tick after tick, as entities wander in and out
        /// of view; and the client's mirror ends as the view of the world.
        #[test]
        fn the_grid_and_the_scan_write_the_same_deltas(
            seed in 0u64..1000,
            n in 1usize..120,
            radius in 1i32..3000,
            cell in 1i32..3000,
        ) {
            use rand::{Rng, SeedableRng};
            let schema = plane();
            let cache = BodyCache::new(schema.clone());
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut points: Vec<(i32, i32)> = (0..n)
                .map(|_| (rng.random_range(-2000..2000), rng.random_range(-2000..2000)))
                .collect();
            let mut by_grid = Replicator::new(PlayerId(1), NetId(1), 100, Views::radius(radius));
            let mut by_scan = Replicator::new(PlayerId(1), NetId(1), 100, Views::radius(radius));
            let mut mirror = Mirror::new(schema.clone());
            for tick in 1..12u32 {
                for p in &mut points {
                    p.0 = (p.0 + rng.random_range(-400..=400)).clamp(-5000, 5000);
                    p.1 = (p.1 + rng.random_range(-400..=400)).clamp(-5000, 5000);
                }
                let entities = points
                    .iter()
                    .enumerate()
                    .map(|(i, &(x, y))| Entity {
                        id: NetId(i as u32 + 1),
                        components: 1,
                        nums: tickwire_shared::Nums::from_slice(&[x, y]),
                        strs: tickwire_shared::Strs::new(),
                    })
                    .collect();
                let snapshot = Arc::new(WorldSnapshot::new(Tick(tick), entities));
                let gridded = TickOutput::new(&schema, snapshot.clone(), vec![], &Views::radius(cell));
                let plain = TickOutput { grid: None, ..TickOutput::new(&schema, snapshot.clone(), vec![], &Views::default()) };
                let a = by_grid.next_message(&gridded, &cache).unwrap().msg;
                let b = by_scan.next_message(&plain, &cache).unwrap().msg;
                proptest::prop_assert_eq!(&a, &b);
                apply(&mut mirror, &a);
                let view = by_grid.baseline().unwrap().view;
                let expected: Vec<&Entity> = view.visible(&schema, &snapshot.entities).collect();
                proptest::prop_assert_eq!(mirror.entities().iter().collect::<Vec<_>>(), expected);
            }
        }
    }
}
