//! Deltas between snapshots: what changed for one client's view from its baseline to the
//! newest snapshot, and the compact wire form of per-field changes.
//!
//! `diff` is a single merge pass over two id-sorted entity lists. Entities at rest cost
//! nothing; a moving entity costs one id gap, one field mask, and one small zigzag
//! integer per changed field — usually one byte each.

use serde::{Deserialize, Serialize};

use crate::checksum::entity_hash;
use crate::ids::NetId;
use crate::snapshot::{Entity, EntityState, View, WorldSnapshot};

/// Field mask bit: `x` changed.
pub const FIELD_X: u8 = 1;
/// Field mask bit: `y` changed.
pub const FIELD_Y: u8 = 2;
/// Field mask bit: `angle` changed.
pub const FIELD_ANGLE: u8 = 4;
/// Field mask bit: `score` changed.
pub const FIELD_SCORE: u8 = 8;
/// Field mask bit: `hp` changed.
pub const FIELD_HP: u8 = 16;
/// Every defined field bit; any other bit in a mask is malformed.
pub const FIELD_ALL: u8 = FIELD_X | FIELD_Y | FIELD_ANGLE | FIELD_SCORE | FIELD_HP;

/// The dynamic fields that changed on one entity, each as a delta from the baseline value.
/// Deltas wrap: `angle` in 8 bits, `hp` in 8 bits, the rest in 32 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldChanges {
    /// Change in x (fixed point).
    pub x: Option<i32>,
    /// Change in y (fixed point).
    pub y: Option<i32>,
    /// Change in angle, in −128..=127 steps.
    pub angle: Option<i32>,
    /// Change in score.
    pub score: Option<i32>,
    /// Change in hit points.
    pub hp: Option<i32>,
}

impl FieldChanges {
    /// The changes that carry `old` to `new`; `None` when nothing changed.
    #[must_use]
    pub fn between(old: &EntityState, new: &EntityState) -> Option<FieldChanges> {
        fn d(a: i32, b: i32) -> Option<i32> {
            (a != b).then(|| b.wrapping_sub(a))
        }
        let c = FieldChanges {
            x: d(old.x, new.x),
            y: d(old.y, new.y),
            angle: (old.angle != new.angle)
                .then(|| i32::from(new.angle.wrapping_sub(old.angle) as i8)),
            score: d(old.score, new.score),
            hp: d(i32::from(old.hp), i32::from(new.hp)),
        };
        (c.mask() != 0).then_some(c)
    }

    /// Which fields are present, as `FIELD_*` bits.
    #[must_use]
    pub fn mask(&self) -> u8 {
        let mut m = 0;
        if self.x.is_some() {
            m |= FIELD_X;
        }
        if self.y.is_some() {
            m |= FIELD_Y;
        }
        if self.angle.is_some() {
            m |= FIELD_ANGLE;
        }
        if self.score.is_some() {
            m |= FIELD_SCORE;
        }
        if self.hp.is_some() {
            m |= FIELD_HP;
        }
        m
    }

    /// Applies the changes to `state` in place (wrapping, never panicking).
    pub fn apply_to(&self, state: &mut EntityState) {
        if let Some(d) = self.x {
            state.x = state.x.wrapping_add(d);
        }
        if let Some(d) = self.y {
            state.y = state.y.wrapping_add(d);
        }
        if let Some(d) = self.angle {
            state.angle = state.angle.wrapping_add(d as u8);
        }
        if let Some(d) = self.score {
            state.score = state.score.wrapping_add(d);
        }
        if let Some(d) = self.hp {
            state.hp = state.hp.wrapping_add(d as u8);
        }
    }

    /// The present values in mask-bit order (the order they go on the wire).
    fn values(&self) -> impl Iterator<Item = i32> {
        [self.x, self.y, self.angle, self.score, self.hp]
            .into_iter()
            .flatten()
    }
}

/// One entity's changed fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntityUpdate {
    /// Which entity.
    pub id: NetId,
    /// What changed.
    pub changes: FieldChanges,
}

/// The view-dependent part of a snapshot message: identical for every client with the
/// same baseline, newest tick and view, so it is encoded once and shared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBody {
    /// Entities new to this client (or whose kind/owner/name changed), in full.
    pub spawns: Vec<Entity>,
    /// Changed fields of entities the client already has, sorted by id, packed.
    #[serde(with = "packed_updates")]
    pub updates: Vec<EntityUpdate>,
    /// Entities the client must drop.
    pub despawns: Vec<NetId>,
    /// `checksum::view_checksum` of the client's whole view after applying this body.
    pub checksum: u32,
}

impl SnapshotBody {
    /// True when the body changes nothing (the client's view is already current).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spawns.is_empty() && self.updates.is_empty() && self.despawns.is_empty()
    }
}

/// Computes what a client that holds `baseline` (as seen through the view it had then)
/// needs in order to hold `latest` as seen through `view`. With no baseline, the result
/// spawns the whole view.
#[must_use]
pub fn diff(
    baseline: Option<(&WorldSnapshot, View)>,
    latest: &WorldSnapshot,
    view: View,
) -> SnapshotBody {
    let mut body = SnapshotBody::default();
    let mut checksum = 0u32;
    let empty: &[Entity] = &[];
    let (old, old_view) = match baseline {
        Some((snap, v)) => (snap.entities.as_slice(), v),
        None => (empty, View::All),
    };
    let mut olds = old.iter().filter(|e| old_view.contains(e)).peekable();
    let mut news = latest
        .entities
        .iter()
        .filter(|e| view.contains(e))
        .peekable();
    loop {
        match (olds.peek(), news.peek()) {
            (None, None) => break,
            (Some(o), None) => {
                body.despawns.push(o.id);
                olds.next();
            }
            (None, Some(n)) => {
                checksum = checksum.wrapping_add(entity_hash(n));
                body.spawns.push((*n).clone());
                news.next();
            }
            (Some(o), Some(n)) => {
                if o.id < n.id {
                    body.despawns.push(o.id);
                    olds.next();
                } else if n.id < o.id {
                    checksum = checksum.wrapping_add(entity_hash(n));
                    body.spawns.push((*n).clone());
                    news.next();
                } else {
                    checksum = checksum.wrapping_add(entity_hash(n));
                    if !o.state.same_identity(&n.state) {
                        body.spawns.push((*n).clone());
                    } else if let Some(changes) = FieldChanges::between(&o.state, &n.state) {
                        body.updates.push(EntityUpdate { id: n.id, changes });
                    }
                    olds.next();
                    news.next();
                }
            }
        }
    }
    body.checksum = checksum;
    body
}

/// The packed wire form of the update list: one sequence of zigzag varint integers,
/// `[id gap, mask, value…]` per update. Ids are strictly ascending; the first gap is
/// `id + 1`, later gaps `id − previous id`, so consecutive ids cost one byte. Decoding
/// rejects a zero gap, an id overflow, an empty or unknown mask and a truncated entry.
mod packed_updates {
    use serde::de::{self, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};

    use super::{
        EntityUpdate, FIELD_ALL, FIELD_ANGLE, FIELD_HP, FIELD_SCORE, FIELD_X, FIELD_Y, FieldChanges,
    };
    use crate::ids::NetId;

    pub fn serialize<S: Serializer>(updates: &[EntityUpdate], s: S) -> Result<S::Ok, S::Error> {
        let len: usize = updates
            .iter()
            .map(|u| 2 + u.changes.mask().count_ones() as usize)
            .sum();
        let mut seq = s.serialize_seq(Some(len))?;
        let mut prev = u32::MAX;
        for u in updates {
            seq.serialize_element(&(u.id.0.wrapping_sub(prev) as i32))?;
            seq.serialize_element(&i32::from(u.changes.mask()))?;
            for v in u.changes.values() {
                seq.serialize_element(&v)?;
            }
            prev = u.id.0;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EntityUpdate>, D::Error> {
        d.deserialize_seq(PackedVisitor)
    }

    struct PackedVisitor;

    impl<'de> Visitor<'de> for PackedVisitor {
        type Value = Vec<EntityUpdate>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a packed update sequence")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // Never trust the declared length for allocation; grow as entries decode.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024) / 3);
            let mut prev: Option<u32> = None;
            while let Some(gap) = seq.next_element::<i32>()? {
                let gap = gap as u32;
                let id = match prev {
                    None => gap.checked_sub(1),
                    Some(p) if gap > 0 => p.checked_add(gap),
                    Some(_) => None,
                }
                .ok_or_else(|| de::Error::custom("update ids must be strictly ascending"))?;
                prev = Some(id);
                let mask = seq
                    .next_element::<i32>()?
                    .ok_or_else(|| de::Error::custom("truncated update: no field mask"))?;
                if mask <= 0 || mask > i32::from(FIELD_ALL) {
                    return Err(de::Error::custom("invalid field mask"));
                }
                let mask = mask as u8;
                let mut next = |bit: u8| -> Result<Option<i32>, A::Error> {
                    if mask & bit == 0 {
                        return Ok(None);
                    }
                    seq.next_element::<i32>()?
                        .map(Some)
                        .ok_or_else(|| de::Error::custom("truncated update: missing field"))
                };
                let changes = FieldChanges {
                    x: next(FIELD_X)?,
                    y: next(FIELD_Y)?,
                    angle: next(FIELD_ANGLE)?,
                    score: next(FIELD_SCORE)?,
                    hp: next(FIELD_HP)?,
                };
                out.push(EntityUpdate {
                    id: NetId(id),
                    changes,
                });
            }
            Ok(out)
        }
    }
}
