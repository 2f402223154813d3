//! A room's tick: applies joins, leaves and inputs, steps the game, captures a snapshot
//! and publishes it. The tick pool (`tick_pool`) calls it on the room's deadlines; it
//! never awaits, never touches a socket, never encodes per client; its cost grows with
//! entities, not with clients.

use std::sync::Arc;

use axum::body::Bytes;
use tickwire_shared::codec::{encode_server, encode_value};
use tickwire_shared::{InputSeq, PlayerId, Presence, ServerMsg, Tick, WorldSnapshot};
use tokio::sync::{mpsc, watch};

use crate::game::{Game, PlayerInfo};
use crate::inputs::Inputs;
use crate::record::{Applied, Recorder};
use crate::replay::Served;
use crate::room::Room;
use crate::roster::RosterCommand;
use crate::sim::Sim;
use crate::tick_output::TickOutput;
use crate::tick_pool::Ticker;

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

/// Everything a room's tick owns or talks to.
pub struct TickLoop<G: Game> {
    /// What it runs.
    pub source: Source<G>,
    /// Input slots, read each tick.
    pub inputs: Arc<Inputs<G>>,
    /// Joins and leaves, drained each tick.
    pub commands: mpsc::Receiver<RosterCommand>,
    /// Where each tick's frame is published.
    pub frames: watch::Sender<Arc<TickOutput>>,
    /// The room it runs (its views, history and broadcast).
    pub room: Arc<Room>,
}

impl<G: Game> Drop for TickLoop<G> {
    fn drop(&mut self) {
        // The game stops here: the room leaves the gauges now, whoever still holds it.
        self.room.count_out();
    }
}

impl<G: Game> Ticker for TickLoop<G> {
    fn room(&self) -> &Arc<Room> {
        &self.room
    }

    fn tick(&mut self) {
        TickLoop::tick(self);
    }

    fn counts(&self) -> (usize, usize) {
        let sim = self.source.sim();
        (sim.world().len() as usize, sim.player_count())
    }
}

impl<G: Game> TickLoop<G> {
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
                let events = served.playback.take_events();
                (snapshot, input_acks, Vec::new(), events)
            }
        };
        self.room.count_entities(snapshot.entities.len());
        self.room.history.push(snapshot.clone());
        self.frames.send_replace(Arc::new(TickOutput::new(
            self.source.sim().schema(),
            snapshot,
            input_acks,
            &self.room.views,
        )));
        let feed = &self.room.feed;
        for msg in &said {
            if let ServerMsg::Joined(p) | ServerMsg::Left(p) = msg {
                let kind = if matches!(msg, ServerMsg::Joined(_)) {
                    "joined"
                } else {
                    "left"
                };
                feed.push(kind, json(p));
            }
        }
        for event in &events {
            feed.push("game", json(event));
        }
        let sim = self.source.sim();
        // A scoreboard each second while anyone plays.
        if sim.player_count() > 0 && sim.tick().0.is_multiple_of(self.room.config.tick_hz.max(1)) {
            feed.set_scoreboard(json(&sim.scoreboard()));
        }
        let encoded = events.iter().map(|e| ServerMsg::Event {
            data: encode_value(e),
        });
        for msg in said.into_iter().chain(encoded) {
            // No subscribers (nobody connected) is fine.
            let _ = self.room.broadcast.send(Bytes::from(encode_server(&msg)));
        }
    }
}

/// `value` as JSON text (the feed's data); `null` if it has no JSON form.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// What one tick made: its snapshot, the input acks, presence lines and game events.
type Ticked<E> = (
    Arc<WorldSnapshot>,
    Vec<(PlayerId, InputSeq)>,
    Vec<ServerMsg>,
    Vec<E>,
);

/// A live tick: applies joins, leaves and inputs (recording them if asked), steps the
/// game; its snapshot, the input acks, the presence lines and the game's events.
fn live_tick<G: Game>(
    sim: &mut Sim<G>,
    recorder: Option<&Recorder>,
    commands: &mut mpsc::Receiver<RosterCommand>,
    inputs: &Inputs<G>,
) -> Ticked<G::Event> {
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
    let events = sim.drain_events();
    (snapshot, input_acks, said, events)
}
