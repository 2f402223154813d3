//! Tickwire's shared core: the wire protocol, the codec, protocol newtypes, fixed-point
//! quantization, and the snapshot/delta model used by both the server and its clients.
//!
//! Nothing here does I/O or knows about tokio or hecs, so every piece is a pure function
//! that can be tested (and fuzzed) on its own.

pub mod checksum;
pub mod codec;
pub mod delta;
pub mod ids;
pub mod join_token;
pub mod mirror;
pub mod protocol;
pub mod quant;
pub mod snapshot;

pub use codec::CodecError;
pub use delta::{EntityUpdate, FieldChanges, SnapshotBody, diff};
pub use ids::{InputSeq, NetId, PlayerId, Tick};
pub use mirror::{ApplyError, Mirror};
pub use protocol::{
    ArenaInfo, ByeCode, ClientMsg, GameEvent, PROTOCOL_VERSION, Resume, ServerMsg, SnapshotHeader,
    buttons,
};
pub use snapshot::{Entity, EntityKind, EntityState, View, WorldSnapshot};
