//! The tick pool: a few OS threads (one per core by default) that step every room on
//! its own absolute deadlines. All rooms wait in one queue ordered by their next
//! deadline; a free worker takes the earliest one when it falls due, ticks it, and puts
//! it back with its next deadline. So a room whose tick is slow only holds the worker
//! ticking it (the others take the rest of the queue), and a room whose game panics is
//! ended alone (the panic is caught, the room fails, everything else keeps its time).
//!
//! One thread per room would not do: 1000 rooms would be 1000 threads on 2 cores, each
//! waking 30 times a second on its own, and the scheduler's switching among them costs
//! more than the ticks themselves.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::metrics::{Metrics, TickSlot};
use crate::room::Room;
use crate::thread_priority::TickPriority;
use crate::timing::{RoomTimer, TickTimer};

/// Rooms' schedules start on a grid of this step (from the pool's start), so rooms with
/// the same tick rate fall due together, a few at a time, instead of each at its own
/// instant: a thousand 30 Hz rooms make a worker wake about 30 times per period, not
/// 1000, and the threads spend their time ticking rather than switching. The price is
/// start lateness within a step's batch (a batch of 30 demo rooms takes about 0.5 ms on
/// two threads).
const PHASE_STEP: Duration = Duration::from_millis(1);

/// How many periods behind schedule a room may fall before it stops catching up and
/// re-anchors its deadlines (skipping the missed ticks instead of running them back to
/// back).
const MAX_CATCH_UP: u32 = 3;

/// A room's game, as the pool steps it.
pub(crate) trait Ticker: Send {
    /// The room it steps.
    fn room(&self) -> &Arc<Room>;
    /// One tick: roster changes, inputs, simulation, capture, publish.
    fn tick(&mut self);
    /// Entities and players now (for the timing log line).
    fn counts(&self) -> (usize, usize);
}

/// One room in the queue.
struct Entry {
    /// Its game.
    ticker: Box<dyn Ticker>,
    /// Its own timing.
    timer: RoomTimer,
    /// Its schedule: tick `n` is due at `anchor + period * n`.
    anchor: Instant,
    /// The next tick's number on the schedule.
    n: u32,
    /// One tick.
    period: Duration,
}

impl Entry {
    fn due(&self) -> Instant {
        self.anchor + self.period * self.n
    }
}

/// The queue the workers share.
#[derive(Default)]
struct Queue {
    /// Rooms by next deadline (with a sequence number to keep equal deadlines apart).
    order: BinaryHeap<Reverse<(Instant, u64)>>,
    /// The rooms themselves, by sequence number.
    entries: HashMap<u64, Entry>,
    /// The next sequence number.
    next: u64,
    /// Set when the pool stops.
    stopping: bool,
}

impl Queue {
    /// Queues `entry`; true when it is due before every room already queued (so a worker
    /// waiting for a later deadline must be woken to take it in time).
    fn push(&mut self, entry: Entry) -> bool {
        let key = self.next;
        self.next += 1;
        let due = entry.due();
        let first = self.order.peek().is_none_or(|Reverse((d, _))| due < *d);
        self.order.push(Reverse((due, key)));
        self.entries.insert(key, entry);
        first
    }
}

struct Shared {
    queue: Mutex<Queue>,
    /// When the pool started: the origin of the schedules' grid.
    epoch: Instant,
    /// The server's shutdown: workers end once it fired and their rooms are gone (each
    /// room's game ends at its next deadline, its stop token being a child of this).
    shutdown: CancellationToken,
    /// Wakes a waiting worker when a room is added or the pool stops.
    wake: Condvar,
    metrics: Arc<Metrics>,
    log_every: Duration,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The first instant of the schedules' grid at or after `t`.
    fn on_grid(&self, t: Instant) -> Instant {
        let since = t.saturating_duration_since(self.epoch).as_nanos();
        let step = PHASE_STEP.as_nanos();
        let steps = since.div_ceil(step);
        self.epoch + Duration::from_nanos(u64::try_from(steps * step).unwrap_or(u64::MAX))
    }
}

/// The tick workers.
pub(crate) struct TickPool {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl TickPool {
    /// Starts `threads` workers (0: one per core) at `priority`, until `stop` or
    /// `shutdown`.
    pub(crate) fn start(
        threads: usize,
        priority: TickPriority,
        metrics: Arc<Metrics>,
        log_every: Duration,
        shutdown: CancellationToken,
    ) -> std::io::Result<TickPool> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            epoch: Instant::now(),
            shutdown,
            wake: Condvar::new(),
            metrics,
            log_every,
        });
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let mine = shared.clone();
            let worker = std::thread::Builder::new()
                .name(format!("tick-{i}"))
                .spawn(move || {
                    let got = crate::thread_priority::apply(priority);
                    if i == 0 {
                        info!(wanted = ?priority, got = ?got, "tick thread priority");
                    }
                    let timing = Timing {
                        timer: TickTimer::new(mine.log_every),
                        slot: mine.metrics.tick_thread_slot(),
                        thread: i,
                    };
                    work(&mine, timing);
                });
            match worker {
                Ok(w) => workers.push(w),
                Err(e) => {
                    let pool = TickPool {
                        shared,
                        workers: Mutex::new(workers),
                    };
                    pool.stop();
                    return Err(e);
                }
            }
        }
        Ok(TickPool {
            shared,
            workers: Mutex::new(workers),
        })
    }

    /// How many workers tick rooms.
    pub(crate) fn threads(&self) -> usize {
        self.workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Adds a room's game; its first tick is due one period from now.
    pub(crate) fn add(&self, ticker: Box<dyn Ticker>) {
        let period = ticker.room().period();
        let entry = Entry {
            timer: RoomTimer::new(period),
            ticker,
            anchor: self.shared.on_grid(Instant::now()),
            n: 1,
            period,
        };
        if self.shared.queue().push(entry) {
            self.shared.wake.notify_one();
        }
    }

    /// Stops every worker after its current tick and drops every room's game (which
    /// closes their frames, so their sessions end).
    pub(crate) fn stop(&self) {
        let entries = {
            let mut q = self.shared.queue();
            q.stopping = true;
            q.order.clear();
            std::mem::take(&mut q.entries)
        };
        self.shared.wake.notify_all();
        for (_, entry) in entries {
            let room = entry.ticker.room().id;
            if catch_unwind(AssertUnwindSafe(move || drop(entry))).is_err() {
                error!(room, "the room's game panicked while it was dropped");
            }
        }
    }

    /// Waits for the workers to end (after `stop`); false if one panicked.
    pub(crate) fn join(&self) -> bool {
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        workers.into_iter().all(|w| w.join().is_ok())
    }
}

/// How long an idle worker (no room at all) waits before it looks at the shutdown
/// token again.
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// A tick thread's own timing of every tick it runs.
struct Timing {
    timer: TickTimer,
    slot: TickSlot,
    thread: usize,
}

/// A worker: takes the earliest due room, ticks it, puts it back; until the pool stops
/// (or the server shut down and no room is left).
fn work(shared: &Shared, mut timing: Timing) {
    let mut q = shared.queue();
    loop {
        if q.stopping || (shared.shutdown.is_cancelled() && q.entries.is_empty()) {
            return;
        }
        let Some(&Reverse((due, key))) = q.order.peek() else {
            q = shared
                .wake
                .wait_timeout(q, IDLE_WAIT)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        };
        let now = Instant::now();
        if due > now {
            q = shared
                .wake
                .wait_timeout(q, due - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        q.order.pop();
        let Some(mut entry) = q.entries.remove(&key) else {
            continue;
        };
        drop(q);
        let keep = step(shared, &mut entry, due, &mut timing);
        // A room that ended is dropped here, off the queue's lock; a game whose drop
        // panics (its state left broken by a panicking tick, say) takes only itself.
        let entry = if keep {
            Some(entry)
        } else {
            let room = entry.ticker.room().id;
            if catch_unwind(AssertUnwindSafe(move || drop(entry))).is_err() {
                error!(room, "the room's game panicked while it was dropped");
            }
            None
        };
        q = shared.queue();
        if let Some(entry) = entry
            && !q.stopping
            && q.push(entry)
        {
            // Another worker may be waiting on a later deadline than this room's.
            shared.wake.notify_one();
        }
    }
}

/// Ticks one room that was due at `due`; false when the room has ended (disposed of,
/// or its game panicked just now).
fn step(shared: &Shared, entry: &mut Entry, due: Instant, timing: &mut Timing) -> bool {
    let room = entry.ticker.room().clone();
    if room.stop.is_cancelled() {
        debug!(room = room.id, "room ended; its game stops");
        return false;
    }
    let started = Instant::now();
    let ticked = catch_unwind(AssertUnwindSafe(|| entry.ticker.tick()));
    let duration = started.elapsed();
    if ticked.is_err() {
        error!(room = room.id, kind = %room.kind, "the room's game panicked; the room ends, every other room goes on");
        shared.metrics.room_failed();
        room.fail();
        return false;
    }
    let late = entry.timer.record(due, started, duration, &room.ticks);
    if let Some(s) = &late {
        let (entities, players) = entry.ticker.counts();
        info!(
            room = room.id,
            entities,
            players,
            "room fell behind: {} of its {} ticks in the last second started more than a period late (lateness p99 {:.3} ms, max {:.3} ms)",
            s.overruns,
            s.ticks,
            s.lateness_p99_us as f64 / 1000.0,
            s.lateness_max_us as f64 / 1000.0,
        );
    }
    if let Some(s) = timing.timer.record(
        (due, entry.period),
        started,
        duration,
        &shared.metrics,
        &timing.slot,
    ) {
        info!(
            thread = timing.thread,
            ticks = s.ticks,
            "tick p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; start lateness p99 {:.3} ms, max {:.3} ms (every room this thread ran)",
            s.duration_p50_us as f64 / 1000.0,
            s.duration_p99_us as f64 / 1000.0,
            s.duration_max_us as f64 / 1000.0,
            s.lateness_p99_us as f64 / 1000.0,
            s.lateness_max_us as f64 / 1000.0,
        );
    }
    entry.n += 1;
    let now = Instant::now();
    let behind = now.saturating_duration_since(entry.due());
    if behind > entry.period * MAX_CATCH_UP || entry.n == u32::MAX {
        // Too far behind (or the counter is about to wrap): start a new schedule now.
        // The ticks skipped never ran late, so they are counted as the overruns they are.
        let skipped =
            u64::try_from(behind.as_nanos() / entry.period.as_nanos().max(1)).unwrap_or(u64::MAX);
        if skipped > 0 {
            shared.metrics.count_skipped(skipped);
            entry.timer.skipped(skipped);
        }
        entry.anchor = shared.on_grid(now);
        entry.n = 0;
    }
    true
}
