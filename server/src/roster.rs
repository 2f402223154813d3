//! The meeting point of sessions and the tick thread: each player's input slot (written by
//! that player's session reader, read by the tick thread) and the bounded queue of joins
//! and leaves the tick thread applies at the start of each tick.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dashmap::DashMap;
use tickwire_shared::{InputSeq, NetId, PlayerId, buttons};
use tokio::sync::mpsc;

/// The newest controls of one player: latest wins for held buttons and aim; a FIRE press
/// is latched until a tick consumes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputSlot {
    /// Buttons held in the newest input.
    pub buttons: u8,
    /// Aim of the newest input.
    pub aim: u16,
    /// Seq of the newest input accepted.
    pub seq: InputSeq,
    /// Whether any input since the last tick pressed FIRE.
    pub fire_pressed: bool,
    /// Whether the slot changed since the tick thread last read it.
    pub dirty: bool,
    /// Whether any input was ever accepted (the first may carry any seq).
    pub seen: bool,
}

impl InputSlot {
    /// Records an input. Returns false (and changes nothing) for a seq that is not newer
    /// than the last one accepted: a replayed or reordered input is never applied.
    pub fn accept(&mut self, seq: InputSeq, held: u8, aim: u16) -> bool {
        let ahead = seq.since(self.seq);
        if self.seen && (ahead == 0 || ahead > u32::MAX / 2) {
            return false;
        }
        self.seq = seq;
        self.buttons = held & buttons::ALL;
        self.aim = aim;
        self.fire_pressed |= held & buttons::FIRE != 0;
        self.dirty = true;
        self.seen = true;
        true
    }
}

/// A change to who is in the world, applied by the tick thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LobbyCommand {
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
pub struct Lobby {
    /// Input slots by player. Sessions write their own; the tick thread reads all.
    pub inputs: DashMap<PlayerId, InputSlot>,
    /// Joins and leaves for the tick thread. Its capacity is twice the session cap (each
    /// session sends at most one join and one leave), so `try_send` never fails for a
    /// session that holds a permit and no leave is ever lost.
    commands: mpsc::Sender<LobbyCommand>,
    /// The next player id to hand out.
    next_player: AtomicU32,
}

impl Lobby {
    /// A lobby for at most `max_sessions` sessions, and the receiving end of its command
    /// queue (for the tick thread).
    #[must_use]
    pub fn new(max_sessions: usize) -> (Lobby, mpsc::Receiver<LobbyCommand>) {
        let (tx, rx) = mpsc::channel(max_sessions.saturating_mul(2).saturating_add(16));
        (
            Lobby {
                inputs: DashMap::new(),
                commands: tx,
                next_player: AtomicU32::new(1),
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
    pub fn join(&self, player: PlayerId, entity: NetId, name: Arc<str>) -> Result<(), LobbyFull> {
        self.inputs.insert(player, InputSlot::default());
        self.commands
            .try_send(LobbyCommand::Join {
                player,
                entity,
                name,
            })
            .map_err(|_| LobbyFull)
    }

    /// Closes a player's input slot and queues their leave.
    pub fn leave(&self, player: PlayerId) {
        self.inputs.remove(&player);
        if self
            .commands
            .try_send(LobbyCommand::Leave { player })
            .is_err()
        {
            // Only reachable if the tick thread has stopped (shutdown): nothing to remove.
            tracing::debug!(%player, "leave after the tick thread stopped");
        }
    }

    /// Lets go of every control of a dropped player (the avatar stops and waits) while
    /// keeping the slot for a resume.
    pub fn release(&self, player: PlayerId) {
        if let Some(mut slot) = self.inputs.get_mut(&player) {
            *slot = InputSlot {
                seq: slot.seq,
                dirty: true,
                ..InputSlot::default()
            };
        }
    }

    /// Reopens a resumed player's slot; their client may start its input seqs afresh.
    pub fn resume(&self, player: PlayerId) {
        self.inputs.insert(
            player,
            InputSlot {
                dirty: true,
                ..InputSlot::default()
            },
        );
    }

    /// Records an input for `player`; false if the slot is gone or the seq is stale.
    pub fn input(&self, player: PlayerId, seq: InputSeq, held: u8, aim: u16) -> bool {
        // The guard is dropped at the end of this statement: never held across an await.
        self.inputs
            .get_mut(&player)
            .is_some_and(|mut slot| slot.accept(seq, held, aim))
    }
}

/// The join queue is full (the tick thread is not keeping up or has stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is not accepting joins right now")]
pub struct LobbyFull;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_replayed_inputs_are_not_applied() {
        let mut s = InputSlot::default();
        assert!(s.accept(InputSeq(1), buttons::UP, 0));
        assert!(!s.accept(InputSeq(1), buttons::DOWN, 0));
        assert!(!s.accept(InputSeq(0), buttons::DOWN, 0));
        assert_eq!(s.buttons, buttons::UP);
        assert!(s.accept(InputSeq(5), buttons::FIRE, 7));
        assert!(s.accept(InputSeq(6), 0, 7));
        assert!(
            s.fire_pressed,
            "a FIRE tap stays latched until a tick consumes it"
        );
    }

    #[test]
    fn undefined_button_bits_are_ignored() {
        let mut s = InputSlot::default();
        s.accept(InputSeq(1), 0xFF, 0);
        assert_eq!(s.buttons, buttons::ALL);
    }
}
