//! What the server told this client when it joined (`ServerMsg::Welcome`).

use std::sync::Arc;

use tickwire_shared::{NetId, PlayerId, Schema, Tick};

/// The session facts from the server's `Welcome`, kept for the life of the connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Welcome {
    /// This client's player id (chat `from`, entity `owner`).
    pub player: PlayerId,
    /// This client's own entity in the mirrored world.
    pub entity: NetId,
    /// Ticks, and so snapshots, per second.
    pub tick_hz: u16,
    /// The server's tick when it welcomed us.
    pub tick: Tick,
    /// Present this in `ConnectOptions::resume` to take this player back after a drop.
    pub resume_token: String,
    /// The game's schema: how its snapshots, inputs and events are encoded.
    pub schema: Arc<Schema>,
}
