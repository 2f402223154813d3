//! The wire protocol: every message a client and the server exchange.
//!
//! Each WebSocket binary message carries exactly one `ClientMsg` or `ServerMsg`, encoded
//! by `codec`. Variants and fields are only ever appended, and `PROTOCOL_VERSION` goes up
//! whenever the encoding of an existing message changes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::delta::SnapshotBody;
use crate::ids::{InputSeq, NetId, PlayerId, Tick};
use crate::schema::Schema;

/// The protocol version a client states in `Hello`; a mismatch is refused with a `Bye`.
pub const PROTOCOL_VERSION: u16 = 7;

/// A message from a client to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// The first message on a connection. Anything else first is refused.
    Hello {
        /// Must equal the server's `PROTOCOL_VERSION`.
        protocol: u16,
        /// The player's display name (trimmed and length-capped by the server).
        name: String,
        /// Takes back a dropped player: the token from an earlier `Welcome`, and the tick
        /// the client still holds, so the first snapshot can be a delta from it.
        resume: Option<Resume>,
        /// A signed join token, required when the server runs with an auth secret.
        auth: Option<String>,
    },
    /// The player's current input: the game's own input type, encoded as the schema's
    /// input layout says (bincode of the game's serde type). The game decides how a newer
    /// input merges with one the tick has not yet consumed, so no discrete action is lost.
    Input {
        /// Increases by one per input; echoed back as `SnapshotHeader::input_ack`.
        seq: InputSeq,
        /// The encoded input.
        data: Vec<u8>,
        /// The newest snapshot tick the client has applied, as an `Ack` would say it
        /// (`None` before the first): acks ride on inputs, so a playing client sends one
        /// message where it would send two.
        ack: Option<Tick>,
        /// The tick the player was looking at when they made this input (the tick their
        /// view of other entities was drawn at, behind the newest by the interpolation
        /// delay), so the game can judge a shot against the world they saw (lag
        /// compensation); `None` when the client does not say.
        view: Option<Tick>,
    },
    /// The newest snapshot tick the client has applied (flow control and the delta
    /// baseline), for a client that has sent no input for a while (about 100 ms) to
    /// carry it.
    Ack {
        /// The applied tick.
        tick: Tick,
    },
    /// Asks for a `Pong`, to measure round-trip time.
    Ping {
        /// Any client clock value; echoed back unchanged.
        client_time: u64,
    },
    /// A chat line for everyone in the game.
    Chat {
        /// The text (length-capped by the server).
        text: String,
    },
}

/// A request to take back a player after a dropped connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The resume token from the player's last `Welcome`.
    pub token: String,
    /// The newest snapshot tick the client has applied and still holds; `None` if it kept
    /// nothing (then the first snapshot is a full state).
    pub tick: Option<Tick>,
}

/// The per-client part of a snapshot message. The body that follows it is shared by every
/// client with the same baseline, tick and view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The tick this snapshot brings the client to.
    pub tick: Tick,
    /// The tick the body is a delta from; `None` means the body is the full view.
    pub baseline: Option<Tick>,
    /// The newest input seq of this client that the server had applied by `tick`.
    pub input_ack: InputSeq,
}

/// Why the server is closing a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ByeCode {
    /// The server is stopping.
    ServerShutdown,
    /// The client's protocol version is not the server's.
    ProtocolMismatch,
    /// A message could not be decoded or made no sense in this state.
    Malformed,
    /// The server has no room for another session.
    ServerFull,
    /// The join token was missing, expired or forged.
    AuthFailed,
    /// The client was silent for too long (no Hello, or idle).
    Timeout,
    /// The client sent more than its limits allow, for too long.
    RateLimited,
    /// A message was larger than the server accepts.
    TooLarge,
    /// The same player connected again elsewhere (resume), replacing this connection.
    Replaced,
    /// Something failed on the server's side for this session only.
    InternalError,
    /// The request came from a web origin this server does not allow.
    OriginRefused,
    /// The room asked for does not exist (or the room type, or the ask made no sense).
    NoSuchRoom,
    /// The room asked for has no seat free.
    RoomFull,
    /// The room asked for is private and the code given is not its code.
    WrongCode,
    /// The seat reservation presented is forged, expired, or already used.
    NoSeat,
    /// This server is draining (it takes no new matches, or its drain deadline came):
    /// matchmake again, and another server of the cluster takes the player.
    Relocate,
}

impl ByeCode {
    /// The WebSocket close code (RFC 6455 §7.4) that goes with this reason.
    #[must_use]
    pub fn close_code(self) -> u16 {
        match self {
            ByeCode::ServerShutdown | ByeCode::Relocate => 1001,
            ByeCode::ProtocolMismatch | ByeCode::Malformed => 1002,
            ByeCode::TooLarge => 1009,
            ByeCode::InternalError => 1011,
            ByeCode::ServerFull | ByeCode::RoomFull => 1013,
            ByeCode::AuthFailed
            | ByeCode::Timeout
            | ByeCode::RateLimited
            | ByeCode::Replaced
            | ByeCode::OriginRefused
            | ByeCode::NoSuchRoom
            | ByeCode::WrongCode
            | ByeCode::NoSeat => 1008,
        }
    }
}

/// A message from the server to a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// The answer to a good `Hello`.
    Welcome(Welcome),
    /// The client's view at `header.tick`, as a delta from `header.baseline`.
    Snapshot {
        /// Per-client part.
        header: SnapshotHeader,
        /// View part (shared by clients with the same view).
        body: SnapshotBody,
    },
    /// The answer to a `Ping`.
    Pong {
        /// The client's value from the ping.
        client_time: u64,
        /// The server's newest tick.
        server_tick: Tick,
        /// Server wall clock, milliseconds since the Unix epoch.
        server_time_ms: u64,
    },
    /// A chat line from a player.
    Chat(ChatLine),
    /// A game event: the game's own event type, encoded as the schema's event layout
    /// says.
    Event {
        /// The encoded event.
        data: Vec<u8>,
    },
    /// The server is closing this connection; a WebSocket close frame follows.
    Bye {
        /// Machine-readable reason.
        code: ByeCode,
        /// Human-readable reason.
        reason: String,
    },
    /// A player joined (or came back).
    Joined(Presence),
    /// A player left for good.
    Left(Presence),
}

/// The session facts a server tells a client it has just let in; a client keeps them for
/// the life of the connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The room the player was seated in (`/ws?room=ID` joins it again).
    pub room: u32,
    /// The player's id in that room (chat `from`, entity `owner`).
    pub player: PlayerId,
    /// The player's own entity (it exists once the game spawns it); for a spectator,
    /// the entity of the player they follow (`NetId(0)`: none, the whole room).
    pub entity: NetId,
    /// Whether this connection only watches: it holds no entity, its inputs are
    /// refused, and it has no resume token.
    pub spectator: bool,
    /// Ticks (and snapshots) per second.
    pub tick_hz: u16,
    /// The server's tick when it welcomed the player.
    pub tick: Tick,
    /// Present this in a later `Hello` to take this player back after a drop.
    pub resume_token: String,
    /// The game's replication schema: how to read snapshots, write inputs and read
    /// events.
    pub schema: Arc<Schema>,
}

/// A chat line, as every player in the room receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    /// Who said it.
    pub from: PlayerId,
    /// Their name.
    pub name: String,
    /// What they said.
    pub text: String,
}

/// A player arriving or leaving: who, and by what name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Who.
    pub player: PlayerId,
    /// Their name.
    pub name: String,
}
