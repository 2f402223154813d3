//! Protocol newtypes: ticks, network entity ids, player ids and input sequence numbers.
//!
//! Each is a distinct type so a tick can never be passed where an entity id is expected.
//! Ticks and input seqs wrap (u32), so they compare and subtract with wrapping arithmetic.

use serde::{Deserialize, Serialize};

/// A simulation step number. Tick 0 is the first tick the server ran; it wraps after 2^32
/// ticks (over four years at 30 Hz), so differences use wrapping arithmetic.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Tick(pub u32);

impl Tick {
    /// The tick after this one.
    #[must_use]
    pub fn next(self) -> Tick {
        Tick(self.0.wrapping_add(1))
    }

    /// How many ticks `self` is ahead of `earlier` (wrapping; a tick "behind" gives a
    /// huge number, which callers treat as out of range).
    #[must_use]
    pub fn since(self, earlier: Tick) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// True when `self` is strictly after `other`, treating the space as a circle in which
    /// "after" means less than half the range ahead.
    #[must_use]
    pub fn is_after(self, other: Tick) -> bool {
        let d = self.since(other);
        d != 0 && d < u32::MAX / 2
    }
}

impl std::fmt::Display for Tick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A stable network id for an entity. Assigned by the server, never reused while any
/// client could still hold the old entity, and never a raw ECS handle.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NetId(pub u32);

impl std::fmt::Display for NetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A connected player's id, stable for the life of the player (including resumes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PlayerId(pub u32);

impl std::fmt::Display for PlayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The sequence number a client stamps on each input. The server reports back the newest
/// one it has applied, so a predicting client knows which of its inputs to replay.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct InputSeq(pub u32);

impl InputSeq {
    /// How far `self` is ahead of `earlier`, wrapping.
    #[must_use]
    pub fn since(self, earlier: InputSeq) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_wraps_and_orders_across_the_wrap() {
        let last = Tick(u32::MAX);
        assert_eq!(last.next(), Tick(0));
        assert!(Tick(0).is_after(last));
        assert!(!last.is_after(Tick(0)));
        assert_eq!(Tick(3).since(last), 4);
        assert!(!Tick(5).is_after(Tick(5)));
    }

    #[test]
    fn input_seq_distance_wraps() {
        assert_eq!(InputSeq(1).since(InputSeq(u32::MAX)), 2);
    }
}
