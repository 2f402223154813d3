//! Priority under a byte budget: when a client's delta would cost more than its share of
//! its bytes per second, the entities that changed are sent by accumulated priority and
//! the rest wait, their priority growing every tick they wait, so none starves.
//!
//! The budget is a credit: each tick adds one tick's share (`bytes_per_sec / tick_hz`),
//! capped at one share, each message spends its size, and a message is sized to the
//! credit; nothing is written while the credit is below zero (after a single entity
//! dearer than the credit). Over any run of ticks a client so receives at most its
//! budget for those ticks plus one message (the overdraft still being paid back).
//!
//! An entity's priority grows each tick it differs from what the client holds, by its
//! base priority (the game's, per component: `Replicate::priority`) times a falloff with
//! distance from the client's view centre: `falloff / (falloff + distance)`. The client's
//! own entity is always sent. What the client then holds is a mix of ticks, one per
//! entity; the replicator keeps exactly that as its baseline, so every delta stays exact.

use std::collections::HashMap;

use tickwire_shared::codec::encode_value;
use tickwire_shared::delta::field_delta;
use tickwire_shared::packed::zigzag;
use tickwire_shared::schema::bits as set_bits;
use tickwire_shared::{Entity, NetId, Schema, Tick};

/// A client's bytes per second, as a credit topped up tick by tick.
#[derive(Clone, Debug)]
pub struct Budget {
    /// One tick's share of the budget, in bytes: also the most credit there can be.
    per_tick: f64,
    /// Bytes that may still be written (below zero after a message larger than it).
    credit: f64,
    /// The tick of the last top-up.
    topped_at: Option<Tick>,
}

impl Budget {
    /// A budget of `bytes_per_sec` for a game ticking at `tick_hz`.
    #[must_use]
    pub fn new(bytes_per_sec: u32, tick_hz: u32) -> Budget {
        Budget {
            per_tick: f64::from(bytes_per_sec) / f64::from(tick_hz.max(1)),
            credit: 0.0,
            topped_at: None,
        }
    }

    /// Adds each tick's share up to `tick` (never past one share: unspent bytes are not
    /// saved up). Then the bytes the next message may use, or `None` while a larger
    /// message is still being paid for.
    pub fn allowance(&mut self, tick: Tick) -> Option<usize> {
        let ticks = self.topped_at.map_or(1, |t| tick.since(t));
        self.topped_at = Some(tick);
        self.credit = (self.credit + self.per_tick * f64::from(ticks)).min(self.per_tick);
        (self.credit > 0.0).then_some(self.credit as usize)
    }

    /// Records a message of `bytes` written.
    pub fn spend(&mut self, bytes: usize) {
        self.credit -= bytes as f64;
    }
}

/// Each component's base priority (1 unless the game says otherwise); an entity's is the
/// highest of its components'.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Priorities {
    /// Weight per component, in schema order; missing ones weigh 1.
    weights: Vec<f32>,
}

impl Priorities {
    /// Priorities from per-component weights, in schema order.
    #[must_use]
    pub fn new(weights: Vec<f32>) -> Priorities {
        Priorities { weights }
    }

    /// The base priority of an entity with `components` (a bit per component).
    #[must_use]
    pub fn base(&self, components: u64) -> f32 {
        set_bits(components)
            .map(|c| self.weights.get(c).copied().unwrap_or(1.0))
            .reduce(f32::max)
            .unwrap_or(1.0)
    }
}

/// Where the client looks from and how priority falls off with distance from there.
#[derive(Clone, Copy, Debug)]
pub struct Focus {
    /// The view's centre, in the position's steps.
    pub centre: (i32, i32),
    /// The distance (in steps) at which priority is halved.
    pub falloff: i32,
    /// The client's own entity: always sent.
    pub own: NetId,
}

/// What one message carries under the budget.
#[derive(Debug)]
pub struct Plan<'a> {
    /// What the client will hold once it applies the message, id-ascending: per entity
    /// either the newest state (sent or unchanged) or the one it already holds.
    pub target: Vec<&'a Entity>,
    /// True when nothing is left waiting: `target` is the newest view itself.
    pub complete: bool,
    /// How many changed entities wait for a later message.
    pub deferred: usize,
}

/// A changed entity competing for the message.
struct Candidate {
    /// Its place in the merged list.
    slot: usize,
    /// Its accumulated priority.
    priority: f32,
    /// Estimated bytes its change costs.
    cost: usize,
    /// Its id.
    id: NetId,
}

/// The priority each waiting entity has accumulated for one client.
#[derive(Debug, Default)]
pub struct Accumulator {
    /// Priority per entity that changed and was not yet sent.
    waiting: HashMap<NetId, f32>,
}

impl Accumulator {
    /// Chooses what a message of about `allowance` bytes carries from `old` (what the
    /// client holds) towards `new` (the newest view), both id-ascending. Entities that
    /// left the view are always dropped; the own entity is always sent; among the other
    /// changed entities the highest accumulated priority goes first, and at least one
    /// goes, so a single entity dearer than a whole message still gets through.
    pub fn plan<'a>(
        &mut self,
        schema: &Schema,
        priorities: &Priorities,
        focus: Focus,
        old: impl Iterator<Item = &'a Entity>,
        new: impl Iterator<Item = &'a Entity>,
        allowance: usize,
    ) -> Plan<'a> {
        // Per entity of the newest view: what the client holds of it, if anything.
        let mut slots: Vec<(Option<&'a Entity>, &'a Entity)> = Vec::new();
        let mut olds = old.peekable();
        for n in new {
            while olds.next_if(|o| o.id < n.id).is_some() {}
            slots.push((olds.next_if(|o| o.id == n.id), n));
        }
        let mut candidates = Vec::new();
        let mut fixed = 0usize;
        for (slot, &(o, n)) in slots.iter().enumerate() {
            if o == Some(n) {
                continue;
            }
            let cost = cost(schema, o, n);
            if n.id == focus.own {
                fixed += cost;
                continue;
            }
            let grown = priorities.base(n.components) * falloff(schema, focus, n);
            let priority = self.waiting.get(&n.id).copied().unwrap_or(0.0) + grown;
            candidates.push(Candidate {
                slot,
                priority,
                cost,
                id: n.id,
            });
        }
        candidates.sort_unstable_by(|a, b| {
            b.priority
                .total_cmp(&a.priority)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut sent = vec![false; slots.len()];
        let mut spent = fixed;
        let mut taken = 0;
        for c in &candidates {
            if taken > 0 && spent + c.cost > allowance {
                break;
            }
            spent += c.cost;
            sent[c.slot] = true;
            taken += 1;
        }
        self.waiting.clear();
        self.waiting
            .extend(candidates[taken..].iter().map(|c| (c.id, c.priority)));
        let target = slots
            .iter()
            .zip(&sent)
            .filter_map(|(&(o, n), &sent)| {
                if sent || o == Some(n) || n.id == focus.own {
                    Some(n)
                } else {
                    o
                }
            })
            .collect();
        Plan {
            target,
            complete: taken == candidates.len(),
            deferred: candidates.len() - taken,
        }
    }

    /// Forgets every waiting entity (the client now holds the whole newest view).
    pub fn clear(&mut self) {
        self.waiting.clear();
    }
}

/// `focus.falloff / (focus.falloff + distance)` for a positioned entity; 1 otherwise.
fn falloff(schema: &Schema, focus: Focus, e: &Entity) -> f32 {
    let Some((x, y)) = schema.position_of(e.components, &e.nums) else {
        return 1.0;
    };
    let dx = (x as f32) - (focus.centre.0 as f32);
    let dy = (y as f32) - (focus.centre.1 as f32);
    let f = focus.falloff.max(1) as f32;
    f / (f + dx.hypot(dy))
}

/// About how many bytes carrying the client from `old` to `new` costs: a whole entity for
/// a spawn, or the packed update (an id gap, a mask, the changed fields' zigzag bits).
fn cost(schema: &Schema, old: Option<&Entity>, new: &Entity) -> usize {
    match old {
        Some(o) if o.same_shape(new) => {
            let bits: u32 = o
                .nums
                .iter()
                .zip(&new.nums)
                .zip(schema.wraps(new.components))
                .filter(|((a, b), _)| a != b)
                .map(|((&a, &b), wrap)| 33 - zigzag(field_delta(a, b, wrap)).leading_zeros())
                .sum();
            (bits as usize + 4).div_ceil(8)
        }
        _ => encode_value(new).len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::{ComponentDef, Encoding, FieldDef, SchemaDef};

    fn schema() -> Schema {
        let a = ComponentDef::new("A", vec![FieldDef::new("v", Encoding::int(-1000, 1000))]);
        let b = ComponentDef::new("B", vec![FieldDef::new("w", Encoding::int(-1000, 1000))]);
        Schema::new(SchemaDef::new("t", vec![a, b])).unwrap()
    }

    fn e(id: u32, components: u64, v: i32) -> Entity {
        Entity {
            id: NetId(id),
            components,
            nums: tickwire_shared::Nums::from_elem(v, set_bits(components).count()),
            strs: tickwire_shared::Strs::new(),
        }
    }

    const FOCUS: Focus = Focus {
        centre: (0, 0),
        falloff: 100,
        own: NetId(1),
    };

    #[test]
    fn an_overdraft_waits_until_paid_and_unspent_credit_is_not_saved_up() {
        let mut b = Budget::new(3000, 30);
        assert_eq!(b.allowance(Tick(1)), Some(100));
        b.spend(250);
        assert_eq!(
            b.allowance(Tick(2)),
            None,
            "150 overdrawn, 50 after this tick"
        );
        assert_eq!(
            b.allowance(Tick(3)),
            Some(50),
            "what the overdraft left of a share"
        );
        b.spend(50);
        assert_eq!(b.allowance(Tick(4)), Some(100));
        b.spend(40);
        assert_eq!(b.allowance(Tick(9)), Some(100), "never more than one share");
    }

    #[test]
    fn an_entity_takes_its_highest_components_priority() {
        let p = Priorities::new(vec![1.0, 5.0]);
        assert_eq!(p.base(0b01), 1.0);
        assert_eq!(p.base(0b11), 5.0);
        assert_eq!(p.base(0), 1.0);
    }

    /// Ten entities all changing every tick, room for three bytes a message: the own
    /// entity (one byte) every time, and the nine others round robin, one or two a
    /// message (a delta grows with the wait, to two bytes past three ticks), so none
    /// waits more than nine ticks.
    #[test]
    fn nothing_starves_and_the_own_entity_always_goes() {
        let s = schema();
        let p = Priorities::default();
        let mut acc = Accumulator::default();
        let mut held: Vec<Entity> = (1..=10).map(|i| e(i, 1, 0)).collect();
        let mut last_sent = [0u32; 11];
        let mut worst_wait = 0;
        for tick in 1..=60u32 {
            let new: Vec<Entity> = (1..=10).map(|i| e(i, 1, tick as i32)).collect();
            let plan = acc.plan(&s, &p, FOCUS, held.iter(), new.iter(), 3);
            assert!(
                plan.target
                    .iter()
                    .any(|t| t.id == NetId(1) && t.nums[0] == tick as i32)
            );
            for t in &plan.target {
                if t.nums[0] == tick as i32 {
                    last_sent[t.id.0 as usize] = tick;
                }
            }
            for (id, &at) in last_sent.iter().enumerate().skip(1) {
                worst_wait = worst_wait.max(tick - at);
                assert!(tick - at <= 9, "entity {id} waited {} ticks", tick - at);
            }
            assert!(!plan.complete);
            held = plan.target.into_iter().cloned().collect();
        }
        assert!(
            worst_wait >= 4,
            "the budget made entities wait ({worst_wait})"
        );
    }

    #[test]
    fn higher_priority_goes_first_and_unsent_spawns_stay_away() {
        let s = schema();
        let p = Priorities::new(vec![1.0, 10.0]);
        let mut acc = Accumulator::default();
        // Entity 2 is dear (component B); 3 is an ordinary spawn the client lacks.
        let held = [e(2, 0b10, 0)];
        let new = [e(2, 0b10, 5), e(3, 0b01, 5)];
        let plan = acc.plan(&s, &p, FOCUS, held.iter(), new.iter(), 1);
        assert_eq!(plan.target, vec![&new[0]]);
        assert_eq!((plan.complete, plan.deferred), (false, 1));
        // The spawn's priority has grown; with room for both, both go.
        let plan = acc.plan(&s, &p, FOCUS, new[..1].iter(), new.iter(), 1000);
        assert_eq!(plan.target, vec![&new[0], &new[1]]);
        assert!(plan.complete);
    }

    #[test]
    fn entities_that_left_the_view_are_dropped_whatever_the_budget() {
        let s = schema();
        let mut acc = Accumulator::default();
        let held = [e(2, 1, 0), e(4, 1, 0)];
        let new = [e(4, 1, 0)];
        let plan = acc.plan(
            &s,
            &Priorities::default(),
            FOCUS,
            held.iter(),
            new.iter(),
            0,
        );
        assert_eq!(plan.target, vec![&new[0]]);
        assert!(plan.complete);
    }

    /// What one budgeted client saw of the arena.
    struct Run {
        /// Mean snapshot bytes per second.
        mean: f64,
        /// The most bytes in any 30 consecutive ticks.
        busiest: usize,
        /// The largest message.
        largest: usize,
        /// The longest an entity in view went without its newest state, in ticks (full
        /// view only).
        worst_wait: u32,
        /// Ticks after the world came to rest until the mirror was the view of it.
        caught_up: u32,
        /// Changed entities held back, summed over messages.
        deferred: usize,
    }

    /// Plays the arena for 20 s with one client on a budget of `rate` B/s at
    /// `radius` world units of view (0 = all), the client's mirror checking every
    /// message (their checksums); then rests the world until the mirror is its view.
    fn arena_on_a_budget(rate: u32, radius: f32) -> Run {
        use crate::games::arena::Arena;
        use crate::games::controls::Controls;
        use crate::games::field::FieldConfig;
        use crate::replication::{BodyCache, Budgeted, Replicator};
        use crate::sim::Sim;
        use crate::tick_output::{TickOutput, Views};
        use std::sync::Arc;
        use tickwire_shared::codec::decode_server;
        use tickwire_shared::{Mirror, PlayerId, ServerMsg, View, WorldSnapshot};

        const HZ: u32 = 30;
        let mut sim = Sim::<Arena>::new(&FieldConfig::default(), HZ).unwrap();
        let me = sim.join_new("me");
        for p in 0..7 {
            sim.join_new(&format!("bot{p}"));
        }
        let schema = sim.schema().clone();
        let steps = schema.position_steps(radius);
        let cache = BodyCache::new(schema.clone());
        let falloff = if steps > 0 {
            steps
        } else {
            schema.position_steps(500.0)
        };
        let views = Views::radius(steps);
        let mut repl = Replicator::new(PlayerId(1), me, 1000, views).with_budget(Budgeted {
            budget: Budget::new(rate, HZ),
            priorities: sim.priorities().clone(),
            falloff,
            waiting: Accumulator::default(),
        });
        let mut mirror = Mirror::new(schema.clone());
        let frame_of = |snapshot| TickOutput::new(&schema, snapshot, vec![], &views);
        let receive = |repl: &mut Replicator, mirror: &mut Mirror, frame: &TickOutput| {
            let written = repl.next_message(frame, &cache)?;
            match decode_server(&written.msg).unwrap() {
                ServerMsg::Snapshot { header, body } => mirror
                    .apply(header.tick, header.baseline, &body)
                    .unwrap_or_else(|e| panic!("tick {}: {e}", header.tick.0)),
                other => panic!("{other:?}"),
            }
            repl.ack(frame.snapshot.tick);
            Some((written.msg.len(), written.deferred))
        };
        // Play: the bots steer, the NPCs wander.
        let mut sizes = Vec::new();
        let mut deferred = 0;
        let mut fresh: std::collections::HashMap<NetId, u32> = Default::default();
        let mut worst_wait = 0;
        let mut last = sim.step();
        for t in 0..20 * HZ {
            for p in 1..=8u32 {
                let buttons = [1, 2, 4, 8, 5, 9, 6, 10][((t / 15 + p) % 8) as usize];
                let c = Controls {
                    buttons,
                    ..Controls::default()
                };
                sim.input(PlayerId(p), c);
            }
            last = sim.step();
            let (size, held_back) =
                receive(&mut repl, &mut mirror, &frame_of(last.clone())).unwrap_or((0, 0));
            sizes.push(size);
            deferred += held_back;
            if steps > 0 {
                continue;
            }
            let held = mirror.entities();
            for e in &last.entities {
                let at = fresh.entry(e.id).or_insert(t);
                if held
                    .binary_search_by_key(&e.id, |h| h.id)
                    .is_ok_and(|i| held[i] == *e)
                {
                    *at = t;
                }
                // Past the first second (the first full state takes a while to arrive).
                if t >= HZ {
                    worst_wait = worst_wait.max(t - *at);
                }
            }
        }
        // The world rests: the same entities tick after tick. The mirror catches up.
        let resting = last.entities.clone();
        let seen: Vec<Entity> = match steps {
            0 => resting.clone(),
            r => {
                let own = resting.iter().find(|e| e.id == me).unwrap();
                let (cx, cy) = schema.position_of(own.components, &own.nums).unwrap();
                let view = View::Area {
                    cx,
                    cy,
                    shape: tickwire_shared::Shape::Circle { radius: r },
                    always: Some(me),
                    relevant: tickwire_shared::Relevance::default(),
                    team: None,
                };
                view.visible(&schema, &resting).cloned().collect()
            }
        };
        let mut caught_up = None;
        for t in 1..=2 * HZ {
            let tick = tickwire_shared::Tick(last.tick.0 + t);
            let snapshot = Arc::new(WorldSnapshot::new(tick, resting.clone()));
            receive(&mut repl, &mut mirror, &frame_of(snapshot));
            if mirror.entities() == seen.as_slice() {
                caught_up.get_or_insert(t);
            }
        }
        let caught_up = caught_up.expect("the mirror converged once the world rested");
        assert_eq!(mirror.entities(), seen.as_slice());
        // At rest a message carries no entity.
        let tick = tickwire_shared::Tick(last.tick.0 + 2 * HZ + 1);
        let frame = frame_of(Arc::new(WorldSnapshot::new(tick, resting)));
        let written = repl.next_message(&frame, &cache).unwrap();
        match decode_server(&written.msg).unwrap() {
            ServerMsg::Snapshot { body, .. } => assert!(body.is_empty(), "{body:?}"),
            other => panic!("{other:?}"),
        }
        let largest = *sizes.iter().max().unwrap();
        let busiest = sizes
            .windows(HZ as usize)
            .map(|w| w.iter().sum())
            .max()
            .unwrap();
        let run = Run {
            mean: sizes.iter().sum::<usize>() as f64 / 20.0,
            busiest,
            largest,
            worst_wait,
            caught_up,
            deferred,
        };
        println!(
            "arena at {rate} B/s, view {radius}: mean {:.0} B/s, busiest second {} B, \
             largest message {} B, worst wait {} ticks, converged {} ticks after rest, \
             {} entities deferred",
            run.mean, run.busiest, run.largest, run.worst_wait, run.caught_up, run.deferred
        );
        run
    }

    /// The arena at 20 KB/s for one client (about a fifth of what its full view costs):
    /// no second of the stream carries more than the budget plus one message, the
    /// budget is used, every entity is refreshed within a second (5 ticks measured),
    /// and within a second of the world coming to rest the mirror is the world.
    #[test]
    fn an_arena_client_at_20_kb_per_second_stays_within_budget_and_converges() {
        const RATE: u32 = 20_000;
        let run = arena_on_a_budget(RATE, 0.0);
        assert!(run.deferred > 0, "the budget held entities back");
        assert!(
            run.busiest <= RATE as usize + run.largest,
            "a second carried {} bytes",
            run.busiest
        );
        assert!(
            run.mean >= 0.9 * f64::from(RATE),
            "the budget is used ({:.0} B/s)",
            run.mean
        );
        assert!(
            run.largest <= 2 * (RATE / 30) as usize,
            "one message was {} bytes",
            run.largest
        );
        assert!(
            run.worst_wait <= 30,
            "an entity went {} ticks without its newest state",
            run.worst_wait
        );
        assert!(run.caught_up <= 30, "it took {} ticks", run.caught_up);
    }

    /// The same with a radius view (entities come and go): within budget, and the
    /// mirror ends as the view of the resting world.
    #[test]
    fn a_radius_view_on_a_budget_stays_within_it_and_converges() {
        const RATE: u32 = 5_000;
        let run = arena_on_a_budget(RATE, 250.0);
        assert!(run.deferred > 0, "the budget held entities back");
        assert!(
            run.busiest <= RATE as usize + run.largest,
            "a second carried {} bytes",
            run.busiest
        );
        assert!(run.caught_up <= 30, "it took {} ticks", run.caught_up);
    }

    /// A client that drops while it holds a mix of ticks resumes from exactly that mix:
    /// the new session's deltas apply to its mirror and bring it to the resting world.
    #[test]
    fn a_client_resumed_from_a_mixed_baseline_gets_exact_deltas() {
        use crate::games::arena::Arena;
        use crate::games::field::FieldConfig;
        use crate::replication::{BodyCache, Budgeted, Replicator};
        use crate::sim::Sim;
        use crate::tick_output::{TickOutput, Views};
        use std::sync::Arc;
        use tickwire_shared::codec::decode_server;
        use tickwire_shared::{Mirror, PlayerId, ServerMsg, WorldSnapshot};

        let mut sim = Sim::<Arena>::new(&FieldConfig::default(), 30).unwrap();
        let me = sim.join_new("me");
        let schema = sim.schema().clone();
        let cache = BodyCache::new(schema.clone());
        let priorities = sim.priorities().clone();
        let session = || {
            Replicator::new(PlayerId(1), me, 1000, Views::default()).with_budget(Budgeted {
                budget: Budget::new(20_000, 30),
                priorities: priorities.clone(),
                falloff: 8000,
                waiting: Accumulator::default(),
            })
        };
        let send = |repl: &mut Replicator, mirror: &mut Mirror, snapshot: Arc<WorldSnapshot>| {
            let frame = TickOutput::new(&schema, snapshot, vec![], &Views::default());
            let Some(written) = repl.next_message(&frame, &cache) else {
                return;
            };
            let ServerMsg::Snapshot { header, body } = decode_server(&written.msg).unwrap() else {
                panic!("not a snapshot");
            };
            mirror.apply(header.tick, header.baseline, &body).unwrap();
        };
        let mut first = session();
        let mut mirror = Mirror::new(schema.clone());
        for _ in 0..60 {
            let snapshot = sim.step();
            send(&mut first, &mut mirror, snapshot);
        }
        // Nothing acked: everything written is on offer; the client holds the newest.
        let held = first.written().pop().unwrap();
        assert!(held.mixed, "the budget had entities waiting");
        assert_eq!(mirror.tick(), Some(held.tick()));
        let mut resumed = session().with_baseline(held);
        for _ in 0..30 {
            let snapshot = sim.step();
            send(&mut resumed, &mut mirror, snapshot);
        }
        let last = sim.step();
        for t in 1..=30 {
            let tick = tickwire_shared::Tick(last.tick.0 + t);
            send(
                &mut resumed,
                &mut mirror,
                Arc::new(WorldSnapshot::new(tick, last.entities.clone())),
            );
        }
        assert_eq!(mirror.entities(), last.entities.as_slice());
    }
}
