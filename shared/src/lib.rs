//! Tickwire's shared core: the wire protocol, the codec, protocol newtypes, the
//! replication schema and quantization, and the schema-driven snapshot/delta model used by
//! both the server and its clients, for any game.
//!
//! Nothing here does I/O or knows about tokio or hecs, so every piece is a pure function
//! that can be tested (and fuzzed) on its own.

pub mod checksum;
pub mod clock_sync;
pub mod codec;
pub mod component;
pub mod delta;
pub mod ids;
pub mod interest;
pub mod join_token;
pub mod layout;
pub mod mirror;
pub mod packed;
#[cfg(feature = "process")]
pub mod process;
pub mod protocol;
pub mod schema;
pub mod snapshot;
pub mod stats;

pub use clock_sync::ServerClock;
pub use codec::CodecError;
pub use component::{FieldReader, FieldWriter, Replicated};
pub use delta::{SnapshotBody, Updates, diff, diff_entities};
pub use ids::{InputSeq, NetId, PlayerId, Tick};
pub use interest::Grid;
pub use layout::{EventDef, LayoutField, Prim, Value};
pub use mirror::{ApplyError, Mirror};
pub use protocol::{
    ByeCode, ChatLine, ClientMsg, PROTOCOL_VERSION, Presence, Resume, ServerMsg, SnapshotHeader,
    Welcome,
};
pub use schema::{ComponentDef, Encoding, FieldDef, Param, PositionDef, Schema, SchemaDef};
pub use snapshot::{Entity, Nums, Relevance, Shape, Strs, View, WorldSnapshot};
