//! Who is in the game: player ids, each player's input slot (behind `InputSink`, so
//! sessions need not know the game's input type), and the bounded queue of joins and
//! leaves the tick thread applies at the start of each tick.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tickwire_shared::{InputSeq, NetId, PlayerId, Tick};
use tokio::sync::mpsc;

use crate::inputs::{InputRefused, InputSink};

/// A change to who is in the world, applied by the tick thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RosterCommand {
    /// Spawn this player's avatar with this net id.
    Join {
        /// Who.
        player: PlayerId,
        /// The avatar's id, already told to the client in Welcome.
        entity: NetId,
        /// Display name.
        name: Arc<str>,
    },
    /// Remove this player's avatar.
    Leave {
        /// Who.
        player: PlayerId,
    },
}

/// Shared between all sessions and the tick thread.
#[derive(Debug)]
pub struct Roster {
    /// Input slots by player. Sessions write their own; the tick thread reads all.
    inputs: Arc<dyn InputSink>,
    /// Joins and leaves for the tick thread. Its capacity is twice the session cap (each
    /// session sends at most one join and one leave), so `try_send` never fails for a
    /// session that holds a permit and no leave is ever lost.
    commands: mpsc::Sender<RosterCommand>,
    /// The next player id to hand out.
    next_player: AtomicU32,
}

impl Roster {
    /// A roster for at most `max_sessions` sessions over `inputs`, handing out player
    /// ids from `first_player`, and the receiving end of its command queue (for the tick
    /// thread).
    #[must_use]
    pub fn new(
        max_sessions: usize,
        inputs: Arc<dyn InputSink>,
        first_player: u32,
    ) -> (Roster, mpsc::Receiver<RosterCommand>) {
        let (tx, rx) = mpsc::channel(max_sessions.saturating_mul(2).saturating_add(16));
        (
            Roster {
                inputs,
                commands: tx,
                next_player: AtomicU32::new(first_player),
            },
            rx,
        )
    }

    /// A fresh player id.
    #[must_use]
    pub fn new_player_id(&self) -> PlayerId {
        PlayerId(self.next_player.fetch_add(1, Ordering::Relaxed))
    }

    /// Queues a player's join and opens their input slot.
    pub fn join(&self, player: PlayerId, entity: NetId, name: Arc<str>) -> Result<(), RosterFull> {
        self.inputs.open(player);
        self.commands
            .try_send(RosterCommand::Join {
                player,
                entity,
                name,
            })
            .map_err(|_| RosterFull)
    }

    /// Closes a player's input slot and queues their leave.
    pub fn leave(&self, player: PlayerId) {
        self.inputs.close(player);
        if self
            .commands
            .try_send(RosterCommand::Leave { player })
            .is_err()
        {
            // Only reachable if the tick thread has stopped (shutdown): nothing to remove.
            tracing::debug!(%player, "leave after the tick thread stopped");
        }
    }

    /// Lets go of every control of a dropped player (the avatar stops and waits) while
    /// keeping the slot for a resume.
    pub fn release(&self, player: PlayerId) {
        self.inputs.release(player);
    }

    /// Reopens a resumed player's slot; their client may start its input seqs afresh.
    pub fn resume(&self, player: PlayerId) {
        self.inputs.open(player);
    }

    /// Records an input for `player`.
    pub fn input(
        &self,
        player: PlayerId,
        seq: InputSeq,
        data: &[u8],
        view: Option<Tick>,
    ) -> Result<(), InputRefused> {
        self.inputs.accept(player, seq, data, view)
    }
}

/// The join queue is full (the tick thread is not keeping up or has stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is not accepting joins right now")]
pub struct RosterFull;
