//! The tick thread: a dedicated OS thread that owns the game and its world and, every
//! period on absolute deadlines, applies joins, leaves and inputs, steps the game,
//! captures a snapshot and publishes it. It never awaits, never touches a socket, never
//! encodes per client; its cost grows with entities, not with clients.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tickwire_shared::codec::{encode_server, encode_value};
use tickwire_shared::{InputSeq, PlayerId, Presence, ServerMsg, Tick, WorldSnapshot};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::game::{Game, PlayerInfo};
use crate::inputs::Inputs;
use crate::metrics::Metrics;
use crate::record::{Applied, Recorder};
use crate::replay::Served;
use crate::roster::RosterCommand;
use crate::sim::Sim;
use crate::thread_priority::TickPriority;
use crate::tick_output::{History, TickOutput, Views};
use crate::timing::TickTimer;

/// How many periods behind schedule the loop may fall before it stops catching up and
/// re-anchors its deadlines (skipping the missed ticks instead of running them back to
/// back).
const MAX_CATCH_UP: u32 = 3;

/// What the tick thread runs.
pub enum Source<G: Game> {
    /// The game, played live, and its recording if one was asked for.
    Live {
        /// The game, its world and its capture.
        sim: Sim<G>,
        /// Where each tick is recorded (`--record`).
        recorder: Option<Recorder>,
    },
    /// A recorded match, replayed to viewers (whose joins and inputs change nothing).
    Replay {
        /// The playback and its controls.
        served: Served<G>,
        /// The tick of the last frame served (frames count up whatever the playback
        /// does, so clients' baselines and acks stay in order through a seek back).
        served_tick: Tick,
    },
}

impl<G: Game> Source<G> {
    /// The game being played or replayed.
    #[must_use]
    pub fn sim(&self) -> &Sim<G> {
        match self {
            Source::Live { sim, .. } => sim,
            Source::Replay { served, .. } => served.playback.sim(),
        }
    }
}

/// Everything the tick thread owns or talks to.
pub struct TickLoop<G: Game> {
    /// What it runs.
    pub source: Source<G>,
    /// Input slots, read each tick.
    pub inputs: Arc<Inputs<G>>,
    /// Joins and leaves, drained each tick.
    pub commands: mpsc::Receiver<RosterCommand>,
    /// Where each tick's frame is published.
    pub frames: watch::Sender<Arc<TickOutput>>,
    /// How clients see the world: the frames' grid is built for it.
    pub views: Views,
    /// Recent snapshots, for inspection.
    pub history: Arc<History>,
    /// Game events go out here, encoded once.
    pub broadcast: broadcast::Sender<Bytes>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Stops the loop.
    pub shutdown: CancellationToken,
    /// One tick.
    pub period: Duration,
    /// Interval of the timing log line.
    pub log_every: Duration,
    /// Scheduling priority to ask for.
    pub priority: TickPriority,
}

impl<G: Game> TickLoop<G> {
    /// Starts the loop on its own thread.
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("tick".into())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        let got = crate::thread_priority::apply(self.priority);
        info!(wanted = ?self.priority, got = ?got, "tick thread priority");
        let mut timer = TickTimer::new(self.period, self.log_every);
        let mut anchor = Instant::now();
        let mut n: u32 = 0;
        while !self.shutdown.is_cancelled() {
            let deadline = anchor + self.period * n;
            let now = Instant::now();
            if now < deadline {
                std::thread::sleep(deadline - now);
            }
            let started = Instant::now();
            self.tick();
            let duration = started.elapsed();
            if let Some(s) = timer.record(deadline, started, duration, &self.metrics) {
                info!(
                    ticks = s.ticks,
                    entities = self.source.sim().world().len(),
                    players = self.source.sim().player_count(),
                    "tick p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; start lateness p99 {:.3} ms, max {:.3} ms; overruns {}",
                    s.duration_p50_us as f64 / 1000.0,
                    s.duration_p99_us as f64 / 1000.0,
                    s.duration_max_us as f64 / 1000.0,
                    s.lateness_p99_us as f64 / 1000.0,
                    s.lateness_max_us as f64 / 1000.0,
                    s.overruns,
                );
            }
            n += 1;
            let next = anchor + self.period * n;
            let now = Instant::now();
            if now > next + self.period * MAX_CATCH_UP || n == u32::MAX {
                // Too far behind (or the counter is about to wrap): start a new schedule now.
                anchor = now;
                n = 0;
            }
        }
    }

    /// One tick: roster changes, inputs, simulation (or playback), capture, publish.
    pub fn tick(&mut self) {
        let (snapshot, input_acks, said, events) = match &mut self.source {
            Source::Live { sim, recorder } => {
                live_tick(sim, recorder.as_ref(), &mut self.commands, &self.inputs)
            }
            Source::Replay {
                served,
                served_tick,
            } => {
                // Viewers hold no entity: their joins, leaves and inputs are let go.
                while self.commands.try_recv().is_ok() {}
                let input_acks = self.inputs.drain(|_, _, _, _| {});
                served.tick();
                *served_tick = served_tick.next();
                let shown = served.playback.snapshot();
                let snapshot = Arc::new(WorldSnapshot {
                    tick: *served_tick,
                    entities: shown.entities.clone(),
                });
                let events = served
                    .playback
                    .take_events()
                    .into_iter()
                    .map(|e| ServerMsg::Event {
                        data: encode_value(&e),
                    })
                    .collect();
                (snapshot, input_acks, Vec::new(), events)
            }
        };
        self.metrics.entities.set(snapshot.entities.len() as i64);
        self.history.push(snapshot.clone());
        self.frames.send_replace(Arc::new(TickOutput::new(
            self.source.sim().schema(),
            snapshot,
            input_acks,
            &self.views,
        )));
        for msg in said.into_iter().chain(events) {
            // No subscribers (nobody connected) is fine.
            let _ = self.broadcast.send(Bytes::from(encode_server(&msg)));
        }
    }
}

/// What one tick made: its snapshot, the input acks, presence lines and game events.
type Ticked = (
    Arc<WorldSnapshot>,
    Vec<(PlayerId, InputSeq)>,
    Vec<ServerMsg>,
    Vec<ServerMsg>,
);

/// A live tick: applies joins, leaves and inputs (recording them if asked), steps the
/// game; its snapshot, the input acks, the presence lines and the game's events.
fn live_tick<G: Game>(
    sim: &mut Sim<G>,
    recorder: Option<&Recorder>,
    commands: &mut mpsc::Receiver<RosterCommand>,
    inputs: &Inputs<G>,
) -> Ticked {
    let mut said = Vec::new();
    let mut applied = Vec::new();
    while let Ok(cmd) = commands.try_recv() {
        match cmd {
            RosterCommand::Join {
                player,
                entity,
                name,
            } => {
                if recorder.is_some() {
                    applied.push(Applied::Join {
                        player,
                        name: name.to_string(),
                        entity,
                    });
                }
                let info = PlayerInfo {
                    id: player,
                    name: name.clone(),
                    entity,
                };
                if sim.join(&info) {
                    said.push(ServerMsg::Joined(Presence {
                        player,
                        name: name.to_string(),
                    }));
                }
            }
            RosterCommand::Leave { player } => {
                if recorder.is_some() {
                    applied.push(Applied::Leave { player });
                }
                if let Some(name) = sim.leave(player) {
                    said.push(ServerMsg::Left(Presence {
                        player,
                        name: name.to_string(),
                    }));
                }
            }
        }
    }
    let input_acks = inputs.drain(|player, input, view, parts| {
        if recorder.is_some() {
            applied.push(Applied::Input {
                player,
                parts,
                view,
            });
        }
        sim.input_seen(player, input, view);
    });
    let snapshot = sim.step();
    if let Some(recorder) = recorder {
        recorder.record(&snapshot, applied);
    }
    let events = sim
        .drain_events()
        .into_iter()
        .map(|e| ServerMsg::Event {
            data: encode_value(&e),
        })
        .collect();
    (snapshot, input_acks, said, events)
}
