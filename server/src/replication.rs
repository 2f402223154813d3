//! Per-session replication: the client's baseline, flow control by acks, and the shared
//! cache that encodes each (baseline, newest) delta body once for every client with the
//! same view.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::body::Bytes;
use tickwire_shared::codec::{encode_body, encode_snapshot};
use tickwire_shared::interest::{pick, scan};
use tickwire_shared::{
    NetId, PlayerId, Schema, SnapshotHeader, Tick, View, WorldSnapshot, diff, diff_entities,
};

use crate::tick_output::TickOutput;

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

/// What one session knows about its client's state, and how far ahead it may send.
#[derive(Debug)]
pub struct Replicator {
    /// The player this session serves.
    player: PlayerId,
    /// The player's avatar (the centre of an interest view).
    own: NetId,
    /// The last snapshot written to the client and the view it was written for: the
    /// client holds exactly `baseline` as seen through that view.
    baseline: Option<(Arc<WorldSnapshot>, View)>,
    /// Snapshots written but not yet acked (with their views), oldest first.
    inflight: VecDeque<(Arc<WorldSnapshot>, View)>,
    /// The newest snapshot the client acked.
    acked: Option<(Arc<WorldSnapshot>, View)>,
    /// Most snapshots in flight before the writer waits for acks.
    window: usize,
    /// Interest radius in the position's quantized steps; 0 = full view.
    view_radius: i32,
    /// Where the view centres when the avatar is not in the snapshot: where it was last
    /// seen (the origin before that).
    centre: (i32, i32),
    /// With a radius view: the indices of the baseline's entities the client holds,
    /// when known (`visible_known`); kept so each delta reads only the entities near
    /// the client, not the whole baseline.
    visible: Vec<u32>,
    /// Whether `visible` is the baseline's.
    visible_known: bool,
    /// Where the newest view's indices are gathered before they become `visible`.
    scratch: Vec<u32>,
}

impl Replicator {
    /// A replicator for a client that holds nothing yet.
    #[must_use]
    pub fn new(player: PlayerId, own: NetId, window: u32, view_radius: i32) -> Replicator {
        Replicator {
            player,
            own,
            baseline: None,
            inflight: VecDeque::new(),
            acked: None,
            window: window.max(1) as usize,
            view_radius,
            centre: (0, 0),
            visible: Vec::new(),
            visible_known: false,
            scratch: Vec::new(),
        }
    }

    /// A replicator for a client known to hold `baseline` (seen through `view`), as when
    /// it resumes a session: its first message is a delta, not a full state. The
    /// baseline counts as acked, so a client that drops again before acking anything
    /// newer can still resume from it.
    #[must_use]
    pub fn with_baseline(mut self, baseline: Arc<WorldSnapshot>, view: View) -> Replicator {
        self.acked = Some((baseline.clone(), view));
        self.baseline = Some((baseline, view));
        self.visible_known = false;
        self
    }

    /// Whether another snapshot may be written now.
    #[must_use]
    pub fn window_open(&self) -> bool {
        self.inflight.len() < self.window
    }

    /// The tick the client is known to hold (the last one written).
    #[must_use]
    pub fn baseline(&self) -> Option<(&Arc<WorldSnapshot>, View)> {
        self.baseline.as_ref().map(|(s, v)| (s, *v))
    }

    /// Records the client's ack of `tick`: everything written up to it has arrived.
    /// Acks for ticks never written (or already acked) change nothing.
    pub fn ack(&mut self, tick: Tick) {
        if !self.inflight.iter().any(|(s, _)| s.tick == tick) {
            return;
        }
        while let Some(written) = self.inflight.pop_front() {
            let done = written.0.tick == tick;
            self.acked = Some(written);
            if done {
                break;
            }
        }
    }

    /// Every snapshot the client may hold right now: the last acked and all in flight.
    #[must_use]
    pub fn written(&self) -> Vec<(Arc<WorldSnapshot>, View)> {
        self.acked
            .iter()
            .chain(self.inflight.iter())
            .cloned()
            .collect()
    }

    fn view_for(&mut self, schema: &Schema, snapshot: &WorldSnapshot) -> View {
        if self.view_radius <= 0 {
            return View::All;
        }
        if let Some(p) = snapshot
            .get(self.own)
            .and_then(|e| schema.position_of(e.components, &e.nums))
        {
            self.centre = p;
        }
        let (cx, cy) = self.centre;
        View::Radius {
            cx,
            cy,
            radius: self.view_radius,
            always: Some(self.own),
        }
    }

    /// The message that brings the client from its baseline to `frame`, or `None` when it
    /// already holds `frame`. Marks `frame` as written: it becomes the new baseline.
    pub fn next_message(&mut self, frame: &TickOutput, cache: &BodyCache) -> Option<(Bytes, usize)> {
        let latest = &frame.snapshot;
        if self
            .baseline
            .as_ref()
            .is_some_and(|(b, _)| b.tick == latest.tick)
        {
            return None;
        }
        let schema = cache.schema();
        let view = self.view_for(schema, latest);
        let body = match (view, &self.baseline) {
            (View::All, Some((b, View::All))) => cache.full_view_body(Some(b), latest),
            (View::All, None) => cache.full_view_body(None, latest),
            (View::All, Some((b, v))) => {
                Bytes::from(encode_body(&diff(schema, Some((b, *v)), latest, view)))
            }
            (View::Radius { .. }, base) => {
                match &frame.grid {
                    Some(grid) => grid.visible(schema, latest, view, &mut self.scratch),
                    None => scan(schema, latest, view, &mut self.scratch),
                }
                let old = match base {
                    Some((b, v)) => {
                        if !self.visible_known {
                            scan(schema, b, *v, &mut self.visible);
                        }
                        pick(b, &self.visible)
                    }
                    None => pick(latest, &[]),
                };
                let body = diff_entities(schema, old, pick(latest, &self.scratch));
                Bytes::from(encode_body(&body))
            }
        };
        // The view just written is the new baseline's.
        std::mem::swap(&mut self.visible, &mut self.scratch);
        self.visible_known = matches!(view, View::Radius { .. });
        let header = SnapshotHeader {
            tick: latest.tick,
            baseline: self.baseline.as_ref().map(|(b, _)| b.tick),
            input_ack: frame.input_ack(self.player),
        };
        let msg = encode_snapshot(&header, &body);
        self.baseline = Some((latest.clone(), view));
        self.inflight.push_back((latest.clone(), view));
        let body_len = body.len();
        Some((Bytes::from(msg), body_len))
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
                nums: vec![x],
                strs: vec![],
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
        let mut r = Replicator::new(PlayerId(1), NetId(1), 2, 0);
        let mut m = Mirror::new(schema());
        let h = apply(
            &mut m,
            &r.next_message(&frame(1, &[0, 0]), &cache).unwrap().0,
        );
        assert_eq!((h.baseline, h.input_ack), (None, InputSeq(4)));
        apply(
            &mut m,
            &r.next_message(&frame(2, &[1, 0]), &cache).unwrap().0,
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
            r.written().iter().map(|(s, _)| s.tick).collect::<Vec<_>>(),
            vec![Tick(2)]
        );
        let h = apply(
            &mut m,
            &r.next_message(&frame(9, &[5, 7]), &cache).unwrap().0,
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
        let r = Replicator::new(PlayerId(1), NetId(1), 4, 0)
            .with_baseline(held.snapshot.clone(), View::All);
        // Nothing written or acked yet: the tick the client holds is still on offer.
        assert_eq!(
            r.written().iter().map(|(s, _)| s.tick).collect::<Vec<_>>(),
            vec![Tick(5)]
        );
        let mut r = r;
        let mut m = Mirror::new(schema());
        apply(
            &mut m,
            &Replicator::new(PlayerId(1), NetId(1), 4, 0)
                .next_message(&held, &cache)
                .unwrap()
                .0,
        );
        let h = apply(
            &mut m,
            &r.next_message(&frame(6, &[3, 2]), &cache).unwrap().0,
        );
        assert_eq!(h.baseline, Some(Tick(5)), "the first message is a delta");
        assert_eq!(
            r.written().iter().map(|(s, _)| s.tick).collect::<Vec<_>>(),
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
            let mut by_grid = Replicator::new(PlayerId(1), NetId(1), 100, radius);
            let mut by_scan = Replicator::new(PlayerId(1), NetId(1), 100, radius);
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
                        nums: vec![x, y],
                        strs: vec![],
                    })
                    .collect();
                let snapshot = Arc::new(WorldSnapshot::new(Tick(tick), entities));
                let gridded = TickOutput::new(&schema, snapshot.clone(), vec![], cell);
                let plain = TickOutput { grid: None, ..TickOutput::new(&schema, snapshot.clone(), vec![], 0) };
                let a = by_grid.next_message(&gridded, &cache).unwrap().0;
                let b = by_scan.next_message(&plain, &cache).unwrap().0;
                proptest::prop_assert_eq!(&a, &b);
                apply(&mut mirror, &a);
                let (_, view) = by_grid.baseline().unwrap();
                let expected: Vec<&Entity> = view.visible(&schema, &snapshot.entities).collect();
                proptest::prop_assert_eq!(mirror.entities().iter().collect::<Vec<_>>(), expected);
            }
        }
    }
}
