//! What `Client::next_event` hands back: one event per server message worth knowing.

use std::time::Duration;

use tickwire_shared::{ByeCode, ChatLine, InputSeq, Presence, Tick};

/// One thing that happened on the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// A snapshot arrived; in `Mode::Mirror` it has been applied and verified. It has
    /// been acked either way.
    Snapshot(SnapshotEvent),
    /// A chat line from a player (ours included).
    Chat(ChatLine),
    /// The answer to one of our pings.
    Pong {
        /// Round-trip time of that ping; `None` if the echoed time was not one of ours.
        rtt: Option<Duration>,
        /// The server's newest tick when it answered.
        server_tick: Tick,
        /// The server's wall clock, milliseconds since the Unix epoch.
        server_time_ms: u64,
    },
    /// A game event (join, leave, knockout).

    /// A player joined (or came back).
    Joined(Presence),
    /// A player left for good.
    Left(Presence),
    /// A game event, encoded as the game's event type: decode it with
    /// `tickwire_shared::codec::decode_server_value::<MyEvent>(&data)`, or by the schema's
    /// event layout (`tickwire_shared::layout::decode_event`).
    Game {
        /// The encoded event.
        data: Vec<u8>,
    },
    /// The server is closing the connection; a close frame follows.
    Bye {
        /// Machine-readable reason.
        code: ByeCode,
        /// Human-readable reason.
        reason: String,
    },
    /// The WebSocket is closed: a close frame arrived (with its code and reason, if it
    /// had one) or the stream ended. Every later `next_event` returns `ClientError::Closed`.
    Closed(Option<CloseInfo>),
}

/// The facts of one received snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotEvent {
    /// The tick the snapshot brought us to.
    pub tick: Tick,
    /// The tick it was a delta from; `None` for a full state.
    pub baseline: Option<Tick>,
    /// Our newest input the server had applied by `tick` (for reconciliation).
    pub input_ack: InputSeq,
    /// Size of the WebSocket message payload.
    pub wire_bytes: usize,
    /// What the body held; `None` in `Mode::CountOnly`, which never decodes it.
    pub body: Option<BodyCounts>,
}

impl SnapshotEvent {
    /// How many ticks the delta spans (1 for a normal per-tick delta; large for a
    /// coalesced catch-up); `None` for a full state.
    #[must_use]
    pub fn span(&self) -> Option<u32> {
        self.baseline.map(|b| self.tick.since(b))
    }
}

/// Entry counts of a decoded snapshot body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyCounts {
    /// Entities sent in full (new to the view, or changed identity).
    pub spawns: usize,
    /// Entities with changed fields.
    pub updates: usize,
    /// Entities that left the view.
    pub despawns: usize,
}

/// The WebSocket close frame the server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// RFC 6455 close code (1000 normal, 1001 going away, 1002 protocol error…).
    pub code: u16,
    /// The reason text.
    pub reason: String,
}
