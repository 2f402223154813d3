//! The client side of the delta model: a mirror of one client's view that applies
//! snapshot bodies and verifies them against the server's checksum.

use thiserror::Error;

use crate::checksum::view_checksum;
use crate::delta::SnapshotBody;
use crate::ids::{NetId, Tick};
use crate::snapshot::{Entity, EntityState};

/// Why a snapshot could not be applied. Any of these means the client no longer knows
/// the server's state and must reconnect (or resume) to get a full one.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ApplyError {
    /// The delta is relative to a tick this mirror does not hold.
    #[error("snapshot baseline {baseline:?} does not match the mirrored tick {held:?}")]
    WrongBaseline {
        /// The baseline the snapshot names (None = full state).
        baseline: Option<Tick>,
        /// The tick the mirror holds (None = nothing yet).
        held: Option<Tick>,
    },
    /// A despawn or update names an entity the mirror does not have.
    #[error("snapshot refers to unknown entity {0}")]
    UnknownEntity(NetId),
    /// The same entity appears twice where it may appear once.
    #[error("snapshot lists entity {0} more than once")]
    Duplicate(NetId),
    /// After applying, the view's checksum differs from the server's: a desync.
    #[error("checksum mismatch after tick {tick}: server {expected:#010x}, mirror {actual:#010x}")]
    ChecksumMismatch {
        /// The tick just applied.
        tick: Tick,
        /// The server's checksum.
        expected: u32,
        /// The mirror's checksum.
        actual: u32,
    },
}

/// One client's copy of its view of the world.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mirror {
    /// The tick of the last snapshot applied (None before the first).
    tick: Option<Tick>,
    /// Entities sorted by id.
    entities: Vec<Entity>,
}

impl Mirror {
    /// An empty mirror, waiting for a full snapshot.
    #[must_use]
    pub fn new() -> Mirror {
        Mirror::default()
    }

    /// A mirror that already holds `entities` at `tick` (used by tests and by resume).
    #[must_use]
    pub fn from_entities(tick: Tick, mut entities: Vec<Entity>) -> Mirror {
        entities.sort_by_key(|e| e.id);
        Mirror {
            tick: Some(tick),
            entities,
        }
    }

    /// The tick of the last applied snapshot.
    #[must_use]
    pub fn tick(&self) -> Option<Tick> {
        self.tick
    }

    /// The mirrored entities, sorted by id.
    #[must_use]
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// One entity by id.
    #[must_use]
    pub fn get(&self, id: NetId) -> Option<&EntityState> {
        crate::snapshot::find(&self.entities, id)
    }

    /// The checksum of everything mirrored.
    #[must_use]
    pub fn checksum(&self) -> u32 {
        view_checksum(&self.entities)
    }

    /// Applies the body of the snapshot for `tick`, relative to `baseline`, and verifies
    /// the checksum. On error the mirror is left unchanged.
    pub fn apply(
        &mut self,
        tick: Tick,
        baseline: Option<Tick>,
        body: &SnapshotBody,
    ) -> Result<(), ApplyError> {
        let mut next = match baseline {
            None => Vec::with_capacity(body.spawns.len()),
            Some(b) if self.tick == Some(b) => self.entities.clone(),
            Some(_) => {
                return Err(ApplyError::WrongBaseline {
                    baseline,
                    held: self.tick,
                });
            }
        };
        apply_body(&mut next, body)?;
        let actual = view_checksum(&next);
        if actual != body.checksum {
            return Err(ApplyError::ChecksumMismatch {
                tick,
                expected: body.checksum,
                actual,
            });
        }
        self.entities = next;
        self.tick = Some(tick);
        Ok(())
    }
}

/// Applies despawns, then spawns, then updates to an id-sorted entity list.
fn apply_body(entities: &mut Vec<Entity>, body: &SnapshotBody) -> Result<(), ApplyError> {
    if !body.despawns.is_empty() {
        let mut gone: Vec<NetId> = body.despawns.clone();
        gone.sort_unstable();
        if let Some(w) = gone.windows(2).find(|w| w[0] == w[1]) {
            return Err(ApplyError::Duplicate(w[0]));
        }
        for id in &gone {
            if entities.binary_search_by_key(id, |e| e.id).is_err() {
                return Err(ApplyError::UnknownEntity(*id));
            }
        }
        entities.retain(|e| gone.binary_search(&e.id).is_err());
    }
    if !body.spawns.is_empty() {
        let mut spawns: Vec<&Entity> = body.spawns.iter().collect();
        spawns.sort_unstable_by_key(|e| e.id);
        if let Some(w) = spawns.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(ApplyError::Duplicate(w[0].id));
        }
        for s in spawns {
            match entities.binary_search_by_key(&s.id, |e| e.id) {
                Ok(i) => entities[i].state = s.state.clone(),
                Err(i) => entities.insert(i, s.clone()),
            }
        }
    }
    // Updates arrive sorted (the decoder enforces it), so one forward walk finds them all.
    let mut from = 0;
    for u in &body.updates {
        let found = entities[from..].binary_search_by_key(&u.id, |e| e.id);
        match found {
            Ok(i) => {
                u.changes.apply_to(&mut entities[from + i].state);
                from += i;
            }
            Err(_) => {
                // Unsorted input (from a hand-built body) falls back to a full search.
                let i = entities
                    .binary_search_by_key(&u.id, |e| e.id)
                    .map_err(|_| ApplyError::UnknownEntity(u.id))?;
                u.changes.apply_to(&mut entities[i].state);
            }
        }
    }
    Ok(())
}

/// Applies a body without checking the checksum; for tests and tools that build bodies by
/// hand. Returns the new entity list.
pub fn apply_unverified(
    entities: &[Entity],
    body: &SnapshotBody,
) -> Result<Vec<Entity>, ApplyError> {
    let mut next = entities.to_vec();
    apply_body(&mut next, body)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::diff;
    use crate::ids::PlayerId;
    use crate::snapshot::{EntityKind, View, WorldSnapshot};
    use proptest::prelude::*;

    fn arb_state() -> impl Strategy<Value = EntityState> {
        (
            prop_oneof![
                Just(EntityKind::Player),
                Just(EntityKind::Orb),
                Just(EntityKind::Projectile),
                Just(EntityKind::Cube)
            ],
            proptest::option::of(0u32..4),
            prop_oneof![Just(""), Just("ann"), Just("bo")],
            -2000i32..2000,
            -2000i32..2000,
            any::<u8>(),
            -5i32..5,
            any::<u8>(),
        )
            .prop_map(|(kind, owner, name, x, y, angle, score, hp)| EntityState {
                kind,
                owner: owner.map(PlayerId),
                name: name.into(),
                x,
                y,
                angle,
                score,
                hp,
            })
    }

    /// One step of world history: a set of edits applied to the previous snapshot.
    #[derive(Clone, Debug)]
    enum Edit {
        Spawn(u32, EntityState),
        Despawn(usize),
        Move(usize, i32, i32),
        Field(usize, u8, i32),
        Replace(usize, EntityState),
    }

    fn arb_edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (0u32..200, arb_state()).prop_map(|(id, s)| Edit::Spawn(id, s)),
            any::<usize>().prop_map(Edit::Despawn),
            (any::<usize>(), -300i32..300, -300i32..300)
                .prop_map(|(i, dx, dy)| Edit::Move(i, dx, dy)),
            (any::<usize>(), any::<u8>(), any::<i32>()).prop_map(|(i, f, v)| Edit::Field(i, f, v)),
            (any::<usize>(), arb_state()).prop_map(|(i, s)| Edit::Replace(i, s)),
        ]
    }

    fn step(prev: &WorldSnapshot, edits: &[Edit]) -> WorldSnapshot {
        let mut ents = prev.entities.clone();
        for e in edits {
            let n = ents.len();
            match e {
                Edit::Spawn(id, s) => ents.push(Entity {
                    id: NetId(*id),
                    state: s.clone(),
                }),
                Edit::Despawn(i) if n > 0 => {
                    ents.remove(i % n);
                }
                Edit::Move(i, dx, dy) if n > 0 => {
                    let s = &mut ents[i % n].state;
                    s.x = s.x.wrapping_add(*dx);
                    s.y = s.y.wrapping_add(*dy);
                }
                Edit::Field(i, f, v) if n > 0 => {
                    let s = &mut ents[i % n].state;
                    match f % 3 {
                        0 => s.angle = *v as u8,
                        1 => s.score = *v,
                        _ => s.hp = *v as u8,
                    }
                }
                Edit::Replace(i, st) if n > 0 => ents[i % n].state = st.clone(),
                _ => {}
            }
        }
        WorldSnapshot::new(prev.tick.next(), ents)
    }

    fn arb_view() -> impl Strategy<Value = View> {
        prop_oneof![
            Just(View::All),
            (
                -1000i32..1000,
                -1000i32..1000,
                0i32..2500,
                proptest::option::of(0u32..200)
            )
                .prop_map(|(cx, cy, radius, always)| View::Radius {
                    cx,
                    cy,
                    radius,
                    always: always.map(NetId)
                }),
        ]
    }

    fn visible(s: &WorldSnapshot, v: View) -> Vec<Entity> {
        s.entities
            .iter()
            .filter(|e| v.contains(e))
            .cloned()
            .collect()
    }

    proptest! {
        /// For any history and any choice of baseline, applying delta(baseline → latest)
        /// to the baseline view reproduces the latest view exactly, checksum included.
        #[test]
        fn delta_from_any_baseline_reproduces_latest(
            history in proptest::collection::vec(proptest::collection::vec(arb_edit(), 0..12), 1..10),
            pick in any::<usize>(),
            v_old in arb_view(),
            v_new in arb_view(),
        ) {
            let mut snaps = vec![WorldSnapshot::default()];
            for edits in &history {
                let next = step(snaps.last().unwrap(), edits);
                snaps.push(next);
            }
            let latest = snaps.last().unwrap();
            let base = &snaps[pick % snaps.len()];
            let mut mirror = Mirror::from_entities(base.tick, visible(base, v_old));
            let body = diff(Some((base, v_old)), latest, v_new);
            mirror.apply(latest.tick, Some(base.tick), &body).unwrap();
            let want = visible(latest, v_new);
            prop_assert_eq!(mirror.entities(), want.as_slice());

            // The same delta survives the wire.
            let bytes = crate::codec::encode_body(&body);
            let back = crate::codec::decode_body(&bytes).unwrap();
            prop_assert_eq!(&back, &body);

            // And a full state from nothing reproduces it too.
            let mut fresh = Mirror::new();
            fresh.apply(latest.tick, None, &diff(None, latest, v_new)).unwrap();
            prop_assert_eq!(fresh.entities(), want.as_slice());
        }

        /// Chaining deltas tick by tick gives the same result as one coalesced delta.
        #[test]
        fn applying_a_delta_chain_matches_the_server(
            history in proptest::collection::vec(proptest::collection::vec(arb_edit(), 0..8), 1..12),
        ) {
            let mut snaps = vec![WorldSnapshot::default()];
            let mut mirror = Mirror::from_entities(Tick(0), vec![]);
            for edits in &history {
                let next = step(snaps.last().unwrap(), edits);
                let body = diff(Some((snaps.last().unwrap(), View::All)), &next, View::All);
                mirror.apply(next.tick, Some(snaps.last().unwrap().tick), &body).unwrap();
                prop_assert_eq!(mirror.entities(), next.entities.as_slice());
                snaps.push(next);
            }
        }
    }

    #[test]
    fn wrong_baseline_and_bad_checksum_are_refused_without_change() {
        let snap = WorldSnapshot::new(Tick(5), vec![]);
        let body = diff(None, &snap, View::All);
        let mut m = Mirror::new();
        assert!(matches!(
            m.apply(Tick(6), Some(Tick(5)), &body),
            Err(ApplyError::WrongBaseline { .. })
        ));
        let mut bad = body.clone();
        bad.checksum ^= 1;
        assert!(matches!(
            m.apply(Tick(5), None, &bad),
            Err(ApplyError::ChecksumMismatch { .. })
        ));
        assert_eq!(m.tick(), None);
        m.apply(Tick(5), None, &body).unwrap();
        assert_eq!(m.tick(), Some(Tick(5)));
    }

    #[test]
    fn unknown_and_duplicate_ids_are_refused() {
        let body = SnapshotBody {
            despawns: vec![NetId(9)],
            ..SnapshotBody::default()
        };
        assert_eq!(
            apply_unverified(&[], &body),
            Err(ApplyError::UnknownEntity(NetId(9)))
        );
    }
}
