//! What the server told this client when it joined (`ServerMsg::Welcome`).

use tickwire_shared::{ArenaInfo, NetId, PlayerId, Tick};

/// The session facts from the server's `Welcome`, kept for the life of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// The arena being played.
    pub arena: ArenaInfo,
}
