//! Replaying a recording (`record`): the same game, with the same settings, fed the
//! same joins, leaves and inputs tick by tick, makes the same snapshots; each one's
//! checksum is compared with the recorded one, and each keyframe entity by entity. A
//! replay can be checked headless (`verify`) or served to browsers (`Playback` in the
//! tick loop, steered over HTTP by `ReplayControl`: play, pause, seek, speed).
//!
//! Seeking forward steps the game on; seeking back starts it again from the first tick
//! (the game's whole state is not in the recording, only what it replicated), which
//! costs one replay of the match up to that tick. A served replay runs such a seek (and
//! any far ahead) on a thread of its own, serving the current tick meanwhile.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tickwire_shared::checksum::view_checksum;
use tickwire_shared::codec::decode_client_value;
use tickwire_shared::schema::SchemaError;
use tickwire_shared::{Tick, WorldSnapshot};

use crate::game::{Game, PlayerInfo};
use crate::record::{Applied, Header, InputPart, RecordError, TickRecord, read};
use crate::sim::Sim;

/// Why a recording cannot be replayed.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// It could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// It is of another game.
    #[error("the recording is of the game {recorded:?}, not {this:?}")]
    OtherGame {
        /// The recording's game.
        recorded: String,
        /// This binary's game.
        this: &'static str,
    },
    /// Its game settings do not parse as this game's.
    #[error("the recording's game settings do not fit this game: {0}")]
    Settings(String),
    /// The game refused its own declaration.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// Replayed ticks differ from the recording.
    #[error(
        "{mismatched} of {ticks} replayed ticks differ from the recording; the first, tick {}: {}",
        first.tick.0,
        first.what
    )]
    Diverged {
        /// How many ticks differ.
        mismatched: u64,
        /// How many were replayed.
        ticks: u64,
        /// The first that differs.
        first: Mismatch,
    },
}

/// A tick whose replay differs from the recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The tick.
    pub tick: Tick,
    /// How it differs.
    pub what: String,
}

/// A recording being replayed.
pub struct Playback<G: Game> {
    /// What the recording is of.
    header: Header,
    /// The game's settings, from the header.
    config: G::Config,
    /// Every recorded tick.
    ticks: Arc<[TickRecord]>,
    /// The replayed game.
    sim: Sim<G>,
    /// How many recorded ticks have been replayed.
    at: usize,
    /// The newest replayed snapshot.
    snapshot: Arc<WorldSnapshot>,
    /// Ticks replayed (again, after a seek back: every time) and checked.
    checked: u64,
    /// Ticks that differed, the first few kept.
    mismatches: Vec<Mismatch>,
    /// How many differed in all.
    mismatch_count: u64,
    /// Events the replayed game raised while stepping, not yet taken.
    events: Vec<G::Event>,
}

/// How many mismatches a playback keeps to report.
const KEEP_MISMATCHES: usize = 16;

impl<G: Game> Playback<G> {
    /// Opens the recording at `path` for game `G`.
    pub fn open(path: &Path) -> Result<Playback<G>, ReplayError> {
        let (header, ticks) = read(path)?;
        if header.game != G::NAME {
            return Err(ReplayError::OtherGame {
                recorded: header.game,
                this: G::NAME,
            });
        }
        let config: G::Config = toml::from_str(&header.game_config)
            .map_err(|e| ReplayError::Settings(e.to_string()))?;
        let sim = Self::fresh(&header, &config)?;
        let snapshot = Arc::new(sim.capture());
        Ok(Playback {
            header,
            config,
            ticks: ticks.into(),
            sim,
            at: 0,
            snapshot,
            checked: 0,
            mismatches: Vec::new(),
            mismatch_count: 0,
            events: Vec::new(),
        })
    }

    fn fresh(header: &Header, config: &G::Config) -> Result<Sim<G>, SchemaError> {
        Ok(Sim::new(config, header.tick_hz)?.with_rewind_ms(header.rewind_ms))
    }

    /// What the recording is of.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The replayed game (its schema, its world).
    #[must_use]
    pub fn sim(&self) -> &Sim<G> {
        &self.sim
    }

    /// The first and last recorded ticks (both 0 for an empty recording).
    #[must_use]
    pub fn span(&self) -> (Tick, Tick) {
        match (self.ticks.first(), self.ticks.last()) {
            (Some(a), Some(b)) => (a.tick, b.tick),
            _ => (Tick(0), Tick(0)),
        }
    }

    /// The tick replayed last (0 before the first).
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.snapshot.tick
    }

    /// The newest replayed snapshot.
    #[must_use]
    pub fn snapshot(&self) -> &Arc<WorldSnapshot> {
        &self.snapshot
    }

    /// True once every recorded tick has been replayed.
    #[must_use]
    pub fn at_end(&self) -> bool {
        self.at >= self.ticks.len()
    }

    /// Ticks checked so far, and how many differed.
    #[must_use]
    pub fn checked(&self) -> (u64, u64) {
        (self.checked, self.mismatch_count)
    }

    /// The first few ticks that differed.
    #[must_use]
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// Replays the next recorded tick and checks it; false at the end.
    pub fn step(&mut self) -> bool {
        let Some(record) = self.ticks.get(self.at).cloned() else {
            return false;
        };
        self.at += 1;
        for applied in &record.applied {
            match applied {
                Applied::Join {
                    player,
                    name,
                    entity,
                } => {
                    self.sim.join(&PlayerInfo {
                        id: *player,
                        name: name.as_str().into(),
                        entity: *entity,
                    });
                }
                Applied::Leave { player } => {
                    self.sim.leave(*player);
                }
                Applied::Input {
                    player,
                    parts,
                    view,
                } => match remake::<G>(parts) {
                    Ok(Some(input)) => self.sim.input_seen(*player, input, *view),
                    Ok(None) => {}
                    Err(e) => self.mismatch(record.tick, e),
                },
            }
        }
        self.snapshot = self.sim.step();
        self.events.extend(self.sim.drain_events());
        self.checked += 1;
        if let Some(what) = differs(&record, &self.snapshot) {
            self.mismatch(record.tick, what);
        }
        true
    }

    fn mismatch(&mut self, tick: Tick, what: String) {
        self.mismatch_count += 1;
        if self.mismatches.len() < KEEP_MISMATCHES {
            self.mismatches.push(Mismatch { tick, what });
        }
    }

    /// Replays up to recorded tick `tick` (clamped to the recording): on from here, or
    /// from the start when it lies behind.
    pub fn seek(&mut self, tick: Tick) -> Result<(), ReplayError> {
        if tick < self.tick() {
            self.sim = Self::fresh(&self.header, &self.config)?;
            self.snapshot = Arc::new(self.sim.capture());
            self.at = 0;
        }
        while self.tick() < tick && self.step() {}
        // What happened on the way is not news to anyone watching.
        self.events.clear();
        Ok(())
    }

    /// The same recording, back before its first tick, with this playback's tally of
    /// checked and differing ticks.
    pub fn restarted(&self) -> Result<Playback<G>, ReplayError> {
        let sim = Self::fresh(&self.header, &self.config)?;
        let snapshot = Arc::new(sim.capture());
        Ok(Playback {
            header: self.header.clone(),
            config: self.config.clone(),
            ticks: self.ticks.clone(),
            sim,
            at: 0,
            snapshot,
            checked: self.checked,
            mismatches: self.mismatches.clone(),
            mismatch_count: self.mismatch_count,
            events: Vec::new(),
        })
    }

    /// Takes the events the replayed game raised since the last call.
    pub fn take_events(&mut self) -> Vec<G::Event> {
        std::mem::take(&mut self.events)
    }
}

/// The input a live slot made of `parts`: decoded, validated and folded by the game's
/// `coalesce` in order, as the slot did; `None` if there were none.
fn remake<G: Game>(parts: &[InputPart]) -> Result<Option<G::Input>, String> {
    let mut pending: Option<G::Input> = None;
    for part in parts {
        let input = match part {
            InputPart::Reset => {
                pending = Some(G::Input::default());
                continue;
            }
            InputPart::Sent(bytes) => {
                let input = decode_client_value::<G::Input>(bytes)
                    .map_err(|e| format!("a recorded input does not decode: {e}"))?;
                G::validate(input).map_err(|why| format!("a recorded input is refused: {why}"))?
            }
        };
        match pending.as_mut() {
            Some(p) => G::coalesce(p, input),
            None => pending = Some(input),
        }
    }
    Ok(pending)
}

/// How `replayed` differs from `record`, if it does.
fn differs(record: &TickRecord, replayed: &WorldSnapshot) -> Option<String> {
    if replayed.tick != record.tick {
        return Some(format!(
            "replayed tick {} where the recording has {}",
            replayed.tick.0, record.tick.0
        ));
    }
    if let Some(keyframe) = &record.keyframe
        && keyframe != &replayed.entities
    {
        let first = keyframe
            .iter()
            .zip(&replayed.entities)
            .find(|(a, b)| a != b)
            .map_or_else(
                || {
                    format!(
                        "{} entities recorded, {} replayed",
                        keyframe.len(),
                        replayed.entities.len()
                    )
                },
                |(a, _)| format!("entity {} differs", a.id),
            );
        return Some(format!("keyframe differs: {first}"));
    }
    let checksum = view_checksum(&replayed.entities);
    (checksum != record.checksum || replayed.entities.len() as u32 != record.entities).then(|| {
        format!(
            "checksum {checksum:#010x} over {} entities, recorded {:#010x} over {}",
            replayed.entities.len(),
            record.checksum,
            record.entities
        )
    })
}

/// What a headless replay found.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// The game.
    pub game: String,
    /// Ticks replayed and checked.
    pub ticks: u64,
    /// Of which keyframes (compared entity by entity).
    pub keyframes: u64,
    /// Ticks that differed.
    pub mismatched: u64,
    /// The first few of them.
    pub mismatches: Vec<Mismatch>,
}

/// Replays the whole recording at `path` headless and says how it compared.
pub fn verify<G: Game>(path: &Path) -> Result<Verified, ReplayError> {
    let mut playback = Playback::<G>::open(path)?;
    while playback.step() {}
    let (ticks, mismatched) = playback.checked();
    Ok(Verified {
        game: playback.header.game.clone(),
        ticks,
        keyframes: playback
            .ticks
            .iter()
            .filter(|t| t.keyframe.is_some())
            .count() as u64,
        mismatched,
        mismatches: playback.mismatches.clone(),
    })
}

/// What a viewer may ask of a served replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayCommand {
    /// Play (true) or pause (false).
    pub playing: Option<bool>,
    /// Jump to this recorded tick.
    pub seek: Option<u32>,
    /// Recorded ticks per served tick (0.1 to 16).
    pub speed: Option<f64>,
}

/// Where a served replay stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayStatus {
    /// The game.
    pub game: String,
    /// Recorded ticks per second.
    pub tick_hz: u32,
    /// The first recorded tick.
    pub first: u32,
    /// The last recorded tick.
    pub last: u32,
    /// The recorded tick on screen.
    pub tick: u32,
    /// The tick a seek is on its way to (a seek back, or far ahead, runs beside the
    /// playback, which holds still meanwhile).
    pub seeking: Option<u32>,
    /// Whether it plays.
    pub playing: bool,
    /// Recorded ticks per served tick.
    pub speed: f64,
    /// Ticks replayed and checked so far.
    pub checked: u64,
    /// Of which differed from the recording.
    pub mismatched: u64,
}

/// The HTTP side's handle on a served replay: commands in, status out.
#[derive(Debug, Default)]
pub struct ReplayControl {
    /// The newest status and the commands not yet taken by the tick thread.
    state: Mutex<(ReplayStatus, Vec<ReplayCommand>)>,
}

/// The slowest and fastest playback.
const SPEEDS: (f64, f64) = (0.1, 16.0);

impl ReplayControl {
    /// Queues a viewer's command for the next tick; refuses nonsense.
    pub fn command(&self, c: ReplayCommand) -> Result<(), &'static str> {
        if c.speed.is_some_and(|s| !(SPEEDS.0..=SPEEDS.1).contains(&s)) {
            return Err("speed must be between 0.1 and 16");
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.1.len() >= 64 {
            return Err("too many commands waiting");
        }
        state.1.push(c);
        Ok(())
    }

    /// The newest status.
    #[must_use]
    pub fn status(&self) -> ReplayStatus {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// For the tick thread: takes the waiting commands.
    pub fn take(&self) -> Vec<ReplayCommand> {
        std::mem::take(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner).1)
    }

    /// For the tick thread: publishes where the replay stands.
    pub fn publish(&self, status: ReplayStatus) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0 = status;
    }
}

/// A served replay on the tick thread: the playback, its pace and its controls.
pub struct Served<G: Game> {
    /// The recording being replayed.
    pub playback: Playback<G>,
    /// Commands and status, shared with HTTP.
    pub control: Arc<ReplayControl>,
    /// Whether it plays.
    pub playing: bool,
    /// Recorded ticks per served tick.
    pub speed: f64,
    /// Fractional recorded ticks owed.
    owed: f64,
    /// A seek running on a thread of its own (back, or far ahead): its target and the
    /// playback it makes. Meanwhile the tick thread keeps serving the current one.
    seeking: Option<(Tick, JoinHandle<Playback<G>>)>,
    /// A seek asked for while another was running, to run after it.
    next_seek: Option<Tick>,
}

/// How many recorded ticks a seek may step on the tick thread itself (a few
/// milliseconds); a longer one, or any seek back, runs on a thread of its own.
const INLINE_SEEK_TICKS: u32 = 150;

impl<G: Game> Served<G> {
    /// Serves `playback`, playing from its start at normal speed.
    #[must_use]
    pub fn new(playback: Playback<G>) -> Served<G> {
        let served = Served {
            playback,
            control: Arc::new(ReplayControl::default()),
            playing: true,
            speed: 1.0,
            owed: 0.0,
            seeking: None,
            next_seek: None,
        };
        served.control.publish(served.status());
        served
    }

    /// One served tick: applies the viewers' commands (of several seeks waiting, only
    /// the newest; play at the end starts again from the beginning), takes over a seek
    /// that finished on its thread, advances by the speed (pausing at the end, holding
    /// still while a seek runs), and publishes the status.
    pub fn tick(&mut self) {
        let mut seek = None;
        let mut restart = false;
        for c in self.control.take() {
            if let Some(playing) = c.playing {
                restart |= playing && !self.playing && self.playback.at_end();
                self.playing = playing;
            }
            if let Some(speed) = c.speed {
                self.speed = speed;
            }
            seek = c.seek.map(Tick).or(seek);
        }
        if restart && seek.is_none() {
            seek = Some(Tick(0));
        }
        if self.seeking.as_ref().is_some_and(|(_, h)| h.is_finished())
            && let Some((target, handle)) = self.seeking.take()
        {
            match handle.join() {
                Ok(playback) => self.playback = playback,
                Err(_) => tracing::error!(tick = target.0, "a replay seek panicked"),
            }
        }
        let waiting = if self.seeking.is_none() {
            self.next_seek.take()
        } else {
            None
        };
        if let Some(tick) = seek.or(waiting) {
            self.seek(tick);
            self.owed = 0.0;
        }
        if self.playing && self.seeking.is_none() {
            self.owed += self.speed;
            while self.owed >= 1.0 {
                self.owed -= 1.0;
                if !self.playback.step() {
                    self.playing = false;
                    self.owed = 0.0;
                }
            }
        }
        self.control.publish(self.status());
    }

    /// Seeks to `tick`: here when it is a short step ahead, else on a thread of its own
    /// (after the one running, if any).
    fn seek(&mut self, tick: Tick) {
        if self.seeking.is_some() {
            self.next_seek = Some(tick);
            return;
        }
        let here = self.playback.tick();
        if tick >= here && tick.0 - here.0 <= INLINE_SEEK_TICKS {
            if let Err(e) = self.playback.seek(tick) {
                tracing::error!("seeking the replay: {e}");
            }
            return;
        }
        let mut fresh = match self.playback.restarted() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("seeking the replay: {e}");
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("replay-seek".into())
            .spawn(move || {
                if let Err(e) = fresh.seek(tick) {
                    tracing::error!("seeking the replay: {e}");
                }
                fresh
            });
        match spawned {
            Ok(handle) => self.seeking = Some((tick, handle)),
            Err(e) => tracing::error!("starting a replay seek: {e}"),
        }
    }

    fn status(&self) -> ReplayStatus {
        let (first, last) = self.playback.span();
        let (checked, mismatched) = self.playback.checked();
        ReplayStatus {
            game: self.playback.header.game.clone(),
            tick_hz: self.playback.header.tick_hz,
            first: first.0,
            last: last.0,
            tick: self.playback.tick().0,
            seeking: self.seeking.as_ref().map(|(t, _)| t.0),
            playing: self.playing,
            speed: self.speed,
            checked,
            mismatched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::controls::{Controls, DOWN, FIRE, LEFT, RIGHT, UP};
    use crate::games::demo::{Demo, DemoConfig};
    use crate::record::Recorder;
    use tickwire_shared::PlayerId;
    use tickwire_shared::codec::encode_value;

    /// Records `ticks` ticks of the demo with two players pressing keys (as the tick
    /// loop records them) into a fresh directory; returns the file.
    fn record(name: &str, ticks: u32) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tickwire-replay-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = DemoConfig::default();
        let header = Header {
            game: Demo::NAME.into(),
            game_config: toml::to_string(&config).unwrap(),
            tick_hz: 30,
            rewind_ms: 250,
            keyframe_every: 50,
            started_unix_ms: 0,
        };
        let recorder = Recorder::create(&dir, &header, 1).unwrap();
        let path = recorder.path().to_owned();
        let mut sim = Sim::<Demo>::new(&config, 30).unwrap().with_rewind_ms(250);
        let ids = crate::net_ids::NetIds::default();
        let keys = [UP, RIGHT | FIRE, DOWN, LEFT | FIRE];
        for t in 1..=ticks {
            let mut applied = Vec::new();
            if t == 1 {
                for p in 1..=2 {
                    let info = PlayerInfo {
                        id: PlayerId(p),
                        name: format!("p{p}").into(),
                        entity: ids.avatar(),
                    };
                    sim.join(&info);
                    applied.push(Applied::Join {
                        player: info.id,
                        name: info.name.to_string(),
                        entity: info.entity,
                    });
                }
            }
            for p in 1..=2u32 {
                let c = Controls::new(keys[((t / 20 + p) % 4) as usize], (t * 500) as u16);
                sim.input_seen(PlayerId(p), c, Some(Tick(t.saturating_sub(3))));
                applied.push(Applied::Input {
                    player: PlayerId(p),
                    parts: vec![InputPart::Sent(encode_value(&c))],
                    view: Some(Tick(t.saturating_sub(3))),
                });
            }
            recorder.record(&sim.step(), applied);
            sim.drain_events();
        }
        drop(recorder);
        path
    }

    /// Ticks `served` until `done` holds (at most 5 s).
    fn until(served: &mut Served<Demo>, done: impl Fn(&ReplayStatus) -> bool) {
        let start = std::time::Instant::now();
        loop {
            served.tick();
            let status = served.control.status();
            if done(&status) {
                return;
            }
            assert!(start.elapsed().as_secs() < 5, "stuck at {status:?}");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn a_recording_verifies_and_a_served_one_seeks_back_and_far_ahead_beside_the_playback() {
        let path = record("served", 400);
        let v = verify::<Demo>(&path).unwrap();
        assert_eq!((v.ticks, v.keyframes, v.mismatched), (400, 8, 0));
        let at = |tick| {
            let mut p = Playback::<Demo>::open(&path).unwrap();
            p.seek(Tick(tick)).unwrap();
            p.snapshot().entities.clone()
        };
        let mut served = Served::new(Playback::<Demo>::open(&path).unwrap());
        served
            .control
            .command(ReplayCommand {
                playing: Some(false),
                ..Default::default()
            })
            .unwrap();
        // Far ahead: on a thread of its own; the playback holds still meanwhile.
        served
            .control
            .command(ReplayCommand {
                seek: Some(300),
                ..Default::default()
            })
            .unwrap();
        served.tick();
        assert_eq!(served.control.status().seeking, Some(300));
        until(&mut served, |s| s.tick == 300 && s.seeking.is_none());
        assert_eq!(served.playback.snapshot().entities, at(300));
        // A short step ahead is taken at once.
        served
            .control
            .command(ReplayCommand {
                seek: Some(310),
                ..Default::default()
            })
            .unwrap();
        served.tick();
        assert_eq!(served.control.status().tick, 310);
        // Back, then somewhere else while the first runs: the second follows it.
        served
            .control
            .command(ReplayCommand {
                seek: Some(40),
                ..Default::default()
            })
            .unwrap();
        served.tick();
        served
            .control
            .command(ReplayCommand {
                seek: Some(20),
                ..Default::default()
            })
            .unwrap();
        until(&mut served, |s| s.tick == 20 && s.seeking.is_none());
        assert_eq!(served.playback.snapshot().entities, at(20));
        // Played on from there, every tick still matches the recording.
        served
            .control
            .command(ReplayCommand {
                playing: Some(true),
                speed: Some(4.0),
                ..Default::default()
            })
            .unwrap();
        until(&mut served, |s| !s.playing);
        let status = served.control.status();
        assert_eq!((status.tick, status.mismatched), (400, 0));
        assert!(served.playback.at_end());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
