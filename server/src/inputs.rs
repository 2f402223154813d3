//! Players' input slots: written by each player's session as inputs arrive, read by the
//! tick thread once per tick. Each slot holds the game's own input type; a newer input
//! is folded into one the tick has not consumed yet by the game's `coalesce`, so no
//! discrete action is lost, and a replayed or reordered seq is never applied.

use std::fmt::Debug;

use dashmap::DashMap;
use tickwire_shared::codec::decode_client_value;
use tickwire_shared::{InputSeq, PlayerId, Tick};

use crate::game::Game;
use crate::record::InputPart;

/// Why an input was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputRefused {
    /// Its seq is not newer than the last one accepted.
    Stale,
    /// The player has no slot (they are leaving).
    NoSlot,
    /// The bytes are not the game's input type: the client is broken or hostile.
    Malformed(String),
    /// The game's `validate` refused it, with its reason.
    Invalid(&'static str),
}

/// The sessions' side of the input slots, without the game's type.
pub trait InputSink: Send + Sync + Debug {
    /// Opens a fresh slot for `player` whose first input is "nothing held", so a resumed
    /// avatar starts still and its client may number its inputs afresh.
    fn open(&self, player: PlayerId);
    /// Removes `player`'s slot.
    fn close(&self, player: PlayerId);
    /// Lets go of every control of a dropped player (the default input), keeping the
    /// slot and its seq for a resume.
    fn release(&self, player: PlayerId);
    /// Decodes, validates and stores an input made while the player looked at `view`.
    fn accept(
        &self,
        player: PlayerId,
        seq: InputSeq,
        data: &[u8],
        view: Option<Tick>,
    ) -> Result<(), InputRefused>;
}

/// One player's slot.
#[derive(Debug)]
struct Slot<I> {
    /// The input not yet consumed by a tick.
    pending: Option<I>,
    /// The seq of the newest input accepted.
    seq: InputSeq,
    /// The view tick of the newest accepted input that said one, not yet taken.
    view: Option<Tick>,
    /// Whether any input was ever accepted (the first may carry any seq).
    seen: bool,
    /// When recording: what made `pending`, in order (so a replay makes it again).
    parts: Vec<InputPart>,
}

/// Every player's input slot, for game `G`.
pub struct Inputs<G: Game> {
    /// Slots by player. Sessions write their own; the tick thread reads all.
    slots: DashMap<PlayerId, Slot<G::Input>>,
    /// Whether each slot keeps the parts of its pending input for a recording.
    recording: bool,
}

impl<G: Game> Debug for Inputs<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("game", &G::NAME)
            .field("slots", &self.slots.len())
            .field("recording", &self.recording)
            .finish()
    }
}

impl<G: Game> Default for Inputs<G> {
    fn default() -> Inputs<G> {
        Inputs {
            slots: DashMap::new(),
            recording: false,
        }
    }
}

impl<G: Game> Inputs<G> {
    /// Slots that also keep, for a recording, what made each pending input (the bytes
    /// of every input folded into it, and resets to "nothing held").
    #[must_use]
    pub fn recording() -> Inputs<G> {
        Inputs {
            slots: DashMap::new(),
            recording: true,
        }
    }

    /// Takes every pending input, calling `apply` for each (tick thread) with the view
    /// tick its newest part said and, when recording, its parts; returns the newest seq
    /// accepted per player, sorted by player.
    pub fn drain(
        &self,
        mut apply: impl FnMut(PlayerId, G::Input, Option<Tick>, Vec<InputPart>),
    ) -> Vec<(PlayerId, InputSeq)> {
        let mut acks = Vec::with_capacity(self.slots.len());
        let mut taken = Vec::new();
        for mut slot in self.slots.iter_mut() {
            if let Some(input) = slot.pending.take() {
                let parts = std::mem::take(&mut slot.parts);
                taken.push((*slot.key(), input, slot.view.take(), parts));
            }
            acks.push((*slot.key(), slot.seq));
        }
        // The game runs after every guard is dropped, so a session is never kept waiting
        // on its slot while game code runs.
        for (player, input, view, parts) in taken {
            apply(player, input, view, parts);
        }
        acks.sort_unstable_by_key(|(p, _)| *p);
        acks
    }

    /// Stores a decoded input (the part of `accept` after decoding).
    fn store(
        &self,
        player: PlayerId,
        seq: InputSeq,
        input: G::Input,
        view: Option<Tick>,
        data: &[u8],
    ) -> Result<(), InputRefused> {
        // The guard is dropped at the end of this block: never held across an await.
        let mut slot = self.slots.get_mut(&player).ok_or(InputRefused::NoSlot)?;
        let ahead = seq.since(slot.seq);
        if slot.seen && (ahead == 0 || ahead > u32::MAX / 2) {
            return Err(InputRefused::Stale);
        }
        slot.seq = seq;
        slot.seen = true;
        if view.is_some() {
            slot.view = view;
        }
        if self.recording {
            slot.parts.push(InputPart::Sent(data.to_vec()));
        }
        match slot.pending.as_mut() {
            Some(pending) => G::coalesce(pending, input),
            None => slot.pending = Some(input),
        }
        Ok(())
    }
}

impl<G: Game> InputSink for Inputs<G> {
    fn open(&self, player: PlayerId) {
        self.slots.insert(
            player,
            Slot {
                pending: Some(G::Input::default()),
                seq: InputSeq(0),
                view: None,
                seen: false,
                parts: if self.recording {
                    vec![InputPart::Reset]
                } else {
                    Vec::new()
                },
            },
        );
    }

    fn close(&self, player: PlayerId) {
        self.slots.remove(&player);
    }

    fn release(&self, player: PlayerId) {
        if let Some(mut slot) = self.slots.get_mut(&player) {
            slot.pending = Some(G::Input::default());
            if self.recording {
                slot.parts = vec![InputPart::Reset];
            }
        }
    }

    fn accept(
        &self,
        player: PlayerId,
        seq: InputSeq,
        data: &[u8],
        view: Option<Tick>,
    ) -> Result<(), InputRefused> {
        let input: G::Input =
            decode_client_value(data).map_err(|e| InputRefused::Malformed(e.to_string()))?;
        let input = G::validate(input).map_err(InputRefused::Invalid)?;
        self.store(player, seq, input, view, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::controls::{Controls, FIRE, UP};
    use crate::games::demo::Demo;
    use tickwire_shared::codec::encode_value;

    fn bytes(buttons: u8) -> Vec<u8> {
        encode_value(&Controls::new(buttons, 7))
    }

    /// What a tick took from the slots: the inputs applied, and the acks.
    type Drained = (Vec<(PlayerId, Controls)>, Vec<(PlayerId, InputSeq)>);

    fn drained(inputs: &Inputs<Demo>) -> Drained {
        let mut got = Vec::new();
        let acks = inputs.drain(|p, c, _, _| got.push((p, c)));
        (got, acks)
    }

    #[test]
    fn stale_replayed_and_malformed_inputs_are_refused() {
        let inputs = Inputs::<Demo>::default();
        let p = PlayerId(1);
        assert_eq!(
            inputs.accept(p, InputSeq(1), &bytes(UP), None),
            Err(InputRefused::NoSlot)
        );
        inputs.open(p);
        assert_eq!(inputs.accept(p, InputSeq(5), &bytes(UP), None), Ok(()));
        assert_eq!(
            inputs.accept(p, InputSeq(5), &bytes(0), None),
            Err(InputRefused::Stale)
        );
        assert_eq!(
            inputs.accept(p, InputSeq(4), &bytes(0), None),
            Err(InputRefused::Stale)
        );
        assert!(matches!(
            inputs.accept(p, InputSeq(6), &[1, 2, 3, 4, 5], None),
            Err(InputRefused::Malformed(_))
        ));
        let (got, acks) = drained(&inputs);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.buttons, UP);
        assert_eq!(acks, vec![(p, InputSeq(5))]);
    }

    #[test]
    fn a_fire_tap_survives_coalescing_and_undefined_bits_are_cleaned() {
        let inputs = Inputs::<Demo>::default();
        let p = PlayerId(2);
        inputs.open(p);
        let _ = drained(&inputs);
        inputs.accept(p, InputSeq(1), &bytes(FIRE | 0x80), None).unwrap();
        inputs.accept(p, InputSeq(2), &bytes(0), None).unwrap();
        let (got, _) = drained(&inputs);
        assert_eq!(got.len(), 1, "two inputs between ticks reach the game once");
        assert_eq!(got[0].1.buttons, 0, "the newest keys win");
        assert!(got[0].1.fired(), "the tap is kept");
        let (got, _) = drained(&inputs);
        assert!(got.is_empty(), "nothing new, nothing applied");
        inputs.accept(p, InputSeq(3), &bytes(0xFF), None).unwrap();
        let (got, _) = drained(&inputs);
        assert_eq!(
            got[0].1.buttons,
            crate::games::controls::ALL,
            "undefined bits cleared"
        );
    }

    #[test]
    fn a_released_player_gets_the_default_input_and_a_closed_one_has_no_slot() {
        let inputs = Inputs::<Demo>::default();
        let p = PlayerId(3);
        inputs.open(p);
        inputs.accept(p, InputSeq(1), &bytes(UP), None).unwrap();
        let _ = drained(&inputs);
        inputs.release(p);
        let (got, acks) = drained(&inputs);
        assert_eq!(got, vec![(p, Controls::default())]);
        assert_eq!(acks, vec![(p, InputSeq(1))], "the seq is kept for a resume");
        inputs.close(p);
        assert_eq!(
            inputs.accept(p, InputSeq(2), &bytes(UP), None),
            Err(InputRefused::NoSlot)
        );
    }

    #[test]
    fn the_newest_view_tick_said_goes_with_the_input_and_is_taken_once() {
        let inputs = Inputs::<Demo>::default();
        let p = PlayerId(4);
        inputs.open(p);
        let mut views = Vec::new();
        inputs.drain(|_, _, v, _| views.push(v));
        inputs.accept(p, InputSeq(1), &bytes(UP), Some(Tick(40))).unwrap();
        inputs.accept(p, InputSeq(2), &bytes(UP), Some(Tick(41))).unwrap();
        // An input that says no view keeps the one said before.
        inputs.accept(p, InputSeq(3), &bytes(0), None).unwrap();
        inputs.drain(|_, _, v, _| views.push(v));
        inputs.accept(p, InputSeq(4), &bytes(0), None).unwrap();
        inputs.drain(|_, _, v, _| views.push(v));
        assert_eq!(views, vec![None, Some(Tick(41)), None]);
    }
}
