//! Lag compensation: the last few ticks of the world, and the tick each player says they
//! were looking at, so a game can judge a player's action against the world as that
//! player saw it.
//!
//! A client draws other entities in the past (its interpolation delay), and its input
//! reaches the server later still; an aimed shot judged against the server's present
//! misses a target that has moved since. Every input names the tick its player was
//! looking at (`ClientMsg::Input::view`); the game asks `Ctx::view_tick` for it and
//! `Ctx::rewound` for where an entity was then. The snapshots kept are the ones the tick
//! captures anyway (shared, never copied); how far back a player may reach is capped
//! (`rewind_ms`), so a client that claims an old tick gets the cap and no more.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tickwire_shared::component::read_component;
use tickwire_shared::{NetId, PlayerId, Replicated, Schema, Tick, WorldSnapshot};

/// The recent past of one game.
#[derive(Debug)]
pub struct Rewind {
    /// How to read components back out of a snapshot.
    schema: Arc<Schema>,
    /// How many ticks back a view may reach (0: no lag compensation).
    cap: u32,
    /// The last `cap` snapshots, oldest first, consecutive ticks.
    past: VecDeque<Arc<WorldSnapshot>>,
    /// Each player's view tick, from their newest input that said one.
    views: HashMap<PlayerId, Tick>,
}

impl Rewind {
    /// A history reaching `cap` ticks back, reading snapshots by `schema`.
    #[must_use]
    pub fn new(schema: Arc<Schema>, cap: u32) -> Rewind {
        Rewind {
            schema,
            cap,
            past: VecDeque::with_capacity(cap as usize),
            views: HashMap::new(),
        }
    }

    /// How many ticks back a view may reach.
    #[must_use]
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Keeps the snapshot just captured, dropping the one that fell out of reach.
    pub(crate) fn push(&mut self, snapshot: Arc<WorldSnapshot>) {
        if self.cap == 0 {
            return;
        }
        // A gap (none in the tick loop, but a restarted schedule must not confuse a
        // lookup) starts the history afresh.
        if self
            .past
            .back()
            .is_some_and(|last| last.tick.next() != snapshot.tick)
        {
            self.past.clear();
        }
        if self.past.len() == self.cap as usize {
            self.past.pop_front();
        }
        self.past.push_back(snapshot);
    }

    /// Notes the tick `player`'s newest input says they were looking at.
    pub(crate) fn saw(&mut self, player: PlayerId, view: Tick) {
        self.views.insert(player, view);
    }

    /// Forgets a player who left.
    pub(crate) fn forget(&mut self, player: PlayerId) {
        self.views.remove(&player);
    }

    /// The tick `player` was looking at, as of the tick `now` being run: what their
    /// newest input said, no older than the cap and no newer than `now`; `now` itself
    /// when they never said (or lag compensation is off).
    #[must_use]
    pub fn view_tick(&self, player: PlayerId, now: Tick) -> Tick {
        let oldest = Tick(now.0.saturating_sub(self.cap));
        match self.views.get(&player) {
            Some(&seen) if self.cap > 0 => Tick(seen.0.clamp(oldest.0, now.0)),
            _ => now,
        }
    }

    /// The snapshot of `tick`, if it is still kept.
    #[must_use]
    pub fn snapshot(&self, tick: Tick) -> Option<&WorldSnapshot> {
        let first = self.past.front()?.tick;
        let i = tick.0.checked_sub(first.0)? as usize;
        self.past.get(i).map(|s| &**s)
    }

    /// Component `C` of entity `id` as it was at `tick` (quantized as clients received
    /// it), if that tick is kept and the entity had it then.
    #[must_use]
    pub fn component<C: Replicated>(&self, id: NetId, tick: Tick) -> Option<C> {
        read_component(&self.schema, self.snapshot(tick)?.get(id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::components::Body;
    use crate::games::demo::{Demo, DemoConfig};
    use crate::sim::Sim;

    #[test]
    fn views_are_clamped_to_the_cap_and_the_present() {
        let sim = Sim::<Demo>::new(&DemoConfig::default(), 30).unwrap();
        let mut rewind = Rewind::new(sim.schema().clone(), 7);
        let p = PlayerId(1);
        assert_eq!(rewind.view_tick(p, Tick(100)), Tick(100), "never said: now");
        rewind.saw(p, Tick(95));
        assert_eq!(rewind.view_tick(p, Tick(100)), Tick(95));
        rewind.saw(p, Tick(10));
        assert_eq!(
            rewind.view_tick(p, Tick(100)),
            Tick(93),
            "clamped to the cap"
        );
        rewind.saw(p, Tick(400));
        assert_eq!(rewind.view_tick(p, Tick(100)), Tick(100), "no future");
        rewind.forget(p);
        assert_eq!(rewind.view_tick(p, Tick(100)), Tick(100));
        let off = Rewind::new(sim.schema().clone(), 0);
        assert_eq!(off.view_tick(p, Tick(100)), Tick(100), "off: never rewinds");
    }

    #[test]
    fn only_the_last_cap_ticks_are_kept_and_read_back_typed() {
        let mut sim = Sim::<Demo>::new(&DemoConfig::default(), 30).unwrap();
        let ann = sim.join_new("ann");
        let mut rewind = Rewind::new(sim.schema().clone(), 3);
        let mut bodies = Vec::new();
        for _ in 0..5 {
            let snap = sim.step();
            bodies.push(read_component::<Body>(sim.schema(), snap.get(ann).unwrap()));
            rewind.push(snap);
        }
        let last = sim.tick();
        assert!(rewind.snapshot(Tick(last.0 - 3)).is_none(), "out of reach");
        for back in 0..3 {
            let tick = Tick(last.0 - back);
            assert_eq!(rewind.snapshot(tick).unwrap().tick, tick);
            assert_eq!(
                rewind.component::<Body>(ann, tick),
                bodies[4 - back as usize]
            );
        }
        assert!(rewind.snapshot(last.next()).is_none());
    }
}
