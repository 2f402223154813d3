//! Recording a match: what the tick thread applied each tick (joins, leaves, inputs with
//! the tick their player saw), the checksum of the snapshot that tick made, and every so
//! often a keyframe (the whole snapshot). With the game, its settings and its seed in the
//! header, that is enough to run the match again and check each tick against the
//! original (`replay`).
//!
//! The file is `MAGIC`, then frames: a little-endian `u32` length and that many bytes of
//! one value in the wire's encoding, the `Header` first and one `TickRecord` per tick
//! after it. The tick thread never touches the disk: it hands each record to a writer
//! thread over a channel, and the writer flushes when the tick loop ends.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tickwire_shared::checksum::view_checksum;
use tickwire_shared::codec::{decode_server_value, encode_value};
use tickwire_shared::{Entity, NetId, PlayerId, Tick, WorldSnapshot};
use tracing::{error, info};

/// The first bytes of every recording (the last byte is the format's version).
pub const MAGIC: &[u8; 8] = b"TWREC\r\n\x01";

/// The largest frame a reader accepts, in bytes.
const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// What a recording is of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The game's name (`Game::NAME`).
    pub game: String,
    /// The game's settings, as TOML (its `[game]` table).
    pub game_config: String,
    /// Ticks per second.
    pub tick_hz: u32,
    /// How far back lag compensation reached (it shapes what shots hit).
    pub rewind_ms: u32,
    /// Ticks between keyframes.
    pub keyframe_every: u32,
    /// When the recording started, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
}

/// One thing the tick thread applied before stepping, in the order it applied them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    /// A player joined.
    Join {
        /// The player.
        player: PlayerId,
        /// Their name.
        name: String,
        /// Their avatar's id.
        entity: NetId,
    },
    /// A player left.
    Leave {
        /// The player.
        player: PlayerId,
    },
    /// A player's input reached the game.
    Input {
        /// The player.
        player: PlayerId,
        /// What made the input, in order (a replay decodes, validates and folds them
        /// with the game's `coalesce`, exactly as the live slot did).
        parts: Vec<InputPart>,
        /// The tick the player was looking at, if said.
        view: Option<Tick>,
    },
}

/// One step in the making of the input a tick handed the game.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputPart {
    /// The input became "nothing held" (the slot opened, or the player dropped).
    Reset,
    /// An input arrived, as these bytes (the wire's encoding of the game's input).
    Sent(Vec<u8>),
}

/// One tick of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TickRecord {
    /// The tick.
    pub tick: Tick,
    /// What was applied before the step, in order.
    pub applied: Vec<Applied>,
    /// `view_checksum` of the whole snapshot the tick made.
    pub checksum: u32,
    /// How many entities it held.
    pub entities: u32,
    /// The whole snapshot, every `keyframe_every` ticks.
    pub keyframe: Option<Vec<Entity>>,
}

impl TickRecord {
    /// The record of `snapshot`, made after `applied`, with a keyframe if `keyframe`.
    #[must_use]
    pub fn of(snapshot: &WorldSnapshot, applied: Vec<Applied>, keyframe: bool) -> TickRecord {
        TickRecord {
            tick: snapshot.tick,
            applied,
            checksum: view_checksum(&snapshot.entities),
            entities: snapshot.entities.len() as u32,
            keyframe: keyframe.then(|| snapshot.entities.clone()),
        }
    }
}

/// Why a recording could not be written or read.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The file system refused.
    #[error("{context} {path}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not a recording (or are cut short, or of another version).
    #[error("{path} is not a Tickwire recording this version reads: {why}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// Writes a recording from the tick thread without blocking it on the disk.
#[derive(Debug)]
pub struct Recorder {
    /// Records on their way to the writer thread (`None` once closed).
    tx: Option<mpsc::Sender<TickRecord>>,
    /// The writer thread.
    writer: Option<JoinHandle<()>>,
    /// Ticks between keyframes.
    keyframe_every: u32,
    /// Where it writes.
    path: PathBuf,
}

impl Recorder {
    /// Creates `dir` if needed and a new recording in it named after the game, the
    /// start time, the process and `room`; writes `header` and starts the writer thread.
    pub fn create(dir: &Path, header: &Header, room: u32) -> Result<Recorder, RecordError> {
        let io = |context, path: &Path| {
            let path = path.to_owned();
            move |source| RecordError::Io {
                context,
                path,
                source,
            }
        };
        std::fs::create_dir_all(dir).map_err(io("creating the recording directory", dir))?;
        let path = dir.join(format!(
            "{}-{}-{}-room{room}.twrec",
            header.game,
            header.started_unix_ms,
            std::process::id()
        ));
        let file = File::create_new(&path).map_err(io("creating the recording", &path))?;
        let mut out = BufWriter::new(file);
        // On disk at once: a server that dies early still leaves a readable recording.
        out.write_all(MAGIC)
            .and_then(|()| write_frame(&mut out, &encode_value(header)))
            .and_then(|()| out.flush())
            .map_err(io("writing the recording", &path))?;
        let (tx, rx) = mpsc::channel::<TickRecord>();
        let shown = path.clone();
        let writer = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let mut ticks = 0u64;
                for record in rx {
                    if let Err(e) = write_frame(&mut out, &encode_value(&record)) {
                        error!(path = %shown.display(), "recording stopped: {e}");
                        return;
                    }
                    ticks += 1;
                }
                match out.flush() {
                    Ok(()) => info!(path = %shown.display(), ticks, "recording closed"),
                    Err(e) => {
                        error!(path = %shown.display(), "recording's last writes failed: {e}")
                    }
                }
            })
            .map_err(io("starting the recorder thread for", &path))?;
        Ok(Recorder {
            tx: Some(tx),
            writer: Some(writer),
            keyframe_every: header.keyframe_every.max(1),
            path,
        })
    }

    /// The file being written.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one tick: what was applied before it, and the snapshot it made.
    pub fn record(&self, snapshot: &WorldSnapshot, applied: Vec<Applied>) {
        let keyframe = snapshot.tick.0.is_multiple_of(self.keyframe_every);
        if let Some(tx) = &self.tx {
            // A closed channel means the writer stopped on an error it has logged.
            let _ = tx.send(TickRecord::of(snapshot, applied, keyframe));
        }
    }
}

impl Drop for Recorder {
    /// Closes the channel and waits for the writer to flush everything.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(bytes)
}

/// Writes a whole recording (`header`, then `ticks`) to a new file at `path`: a
/// recording cut, trimmed or edited by a tool.
pub fn write(path: &Path, header: &Header, ticks: &[TickRecord]) -> Result<(), RecordError> {
    let io = |source| RecordError::Io {
        context: "writing the recording",
        path: path.to_owned(),
        source,
    };
    let mut out = BufWriter::new(File::create_new(path).map_err(io)?);
    out.write_all(MAGIC).map_err(io)?;
    write_frame(&mut out, &encode_value(header)).map_err(io)?;
    for record in ticks {
        write_frame(&mut out, &encode_value(record)).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Reads only a recording's header.
pub fn read_header(path: &Path) -> Result<Header, RecordError> {
    let file = File::open(path).map_err(|source| RecordError::Io {
        context: "opening the recording",
        path: path.to_owned(),
        source,
    })?;
    read_start(path, &mut BufReader::new(file))
}

fn read_start(path: &Path, input: &mut impl Read) -> Result<Header, RecordError> {
    let format = |why: String| RecordError::Format {
        path: path.to_owned(),
        why,
    };
    let mut magic = [0u8; 8];
    input
        .read_exact(&mut magic)
        .map_err(|e| format(format!("no header ({e})")))?;
    if &magic != MAGIC {
        return Err(format("it does not start with the recording magic".into()));
    }
    match read_frame(input).map_err(|e| format(e.to_string()))? {
        Some(bytes) => decode_server_value(&bytes).map_err(|e| format(format!("header: {e}"))),
        None => Err(format("no header".into())),
    }
}

/// Reads a whole recording. A recording cut short mid-frame (the server was killed)
/// keeps every whole tick before the cut.
pub fn read(path: &Path) -> Result<(Header, Vec<TickRecord>), RecordError> {
    let file = File::open(path).map_err(|source| RecordError::Io {
        context: "opening the recording",
        path: path.to_owned(),
        source,
    })?;
    let mut input = BufReader::new(file);
    let header = read_start(path, &mut input)?;
    let format = |why: String| RecordError::Format {
        path: path.to_owned(),
        why,
    };
    let mut ticks = Vec::new();
    loop {
        match read_frame(&mut input) {
            Ok(Some(bytes)) => {
                let record: TickRecord = decode_server_value(&bytes)
                    .map_err(|e| format(format!("tick record {}: {e}", ticks.len() + 1)))?;
                ticks.push(record);
            }
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                info!(path = %path.display(), "the recording ends mid-record; keeping the whole ticks");
                break;
            }
            Err(e) => return Err(format(e.to_string())),
        }
    }
    Ok((header, ticks))
}

/// The next frame, `None` at a clean end of file.
fn read_frame(input: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match input.read(&mut len[..1])? {
        0 => return Ok(None),
        _ => input.read_exact(&mut len[1..])?,
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {MAX_FRAME})"),
        ));
    }
    let mut bytes = vec![0u8; len as usize];
    input.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            game: "t".into(),
            game_config: "seed = 3\n".into(),
            tick_hz: 30,
            rewind_ms: 250,
            keyframe_every: 2,
            started_unix_ms: 1,
        }
    }

    fn snapshot(tick: u32) -> WorldSnapshot {
        let e = Entity {
            id: NetId(7),
            components: 1,
            nums: tickwire_shared::Nums::from_slice(&[tick as i32]),
            strs: tickwire_shared::Strs::new(),
        };
        WorldSnapshot::new(Tick(tick), vec![e])
    }

    #[test]
    fn a_recording_reads_back_as_written_even_when_cut_short() {
        let dir = std::env::temp_dir().join(format!("tickwire-record-{}", std::process::id()));
        let recorder = Recorder::create(&dir, &header(), 1).unwrap();
        let path = recorder.path().to_owned();
        let input = Applied::Input {
            player: PlayerId(1),
            parts: vec![InputPart::Reset, InputPart::Sent(vec![1, 2])],
            view: Some(Tick(2)),
        };
        for t in 1..=5 {
            recorder.record(&snapshot(t), vec![input.clone()]);
        }
        drop(recorder);
        let (h, ticks) = read(&path).unwrap();
        assert_eq!(h, header());
        assert_eq!(ticks.len(), 5);
        assert_eq!(ticks[1], TickRecord::of(&snapshot(2), vec![input], true));
        assert!(ticks[0].keyframe.is_none() && ticks[3].keyframe.is_some());
        // Cut mid-record: the whole ticks before the cut remain.
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 3).unwrap();
        assert_eq!(read(&path).unwrap().1.len(), 4);
        // Not a recording at all.
        std::fs::write(&path, b"hello").unwrap();
        assert!(matches!(read(&path), Err(RecordError::Format { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
