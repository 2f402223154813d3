//! The client side of the delta model: a mirror of one client's view that applies
//! snapshot bodies and verifies them against the server's checksum.

use thiserror::Error;

use std::sync::Arc;

use crate::checksum::view_checksum;
use crate::component::{Replicated, read_component};
use crate::delta::{SnapshotBody, apply_field};
use crate::ids::{NetId, Tick};
use crate::schema::Schema;
use crate::snapshot::Entity;

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
    /// A spawn's values or an update's field mask do not fit the entity's components.
    #[error("entity {0} does not fit the schema: {1}")]
    Shape(NetId, &'static str),
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
#[derive(Clone, Debug, PartialEq)]
pub struct Mirror {
    /// The game's schema, from Welcome: how to read and check what arrives.
    schema: Arc<Schema>,
    /// The tick of the last snapshot applied (None before the first).
    tick: Option<Tick>,
    /// Entities sorted by id.
    entities: Vec<Entity>,
}

impl Mirror {
    /// An empty mirror of a game with `schema`, waiting for a full snapshot.
    #[must_use]
    pub fn new(schema: Arc<Schema>) -> Mirror {
        Mirror {
            schema,
            tick: None,
            entities: Vec::new(),
        }
    }

    /// A mirror that already holds `entities` at `tick` (used by tests and by resume).
    #[must_use]
    pub fn from_entities(schema: Arc<Schema>, tick: Tick, mut entities: Vec<Entity>) -> Mirror {
        entities.sort_by_key(|e| e.id);
        Mirror {
            schema,
            tick: Some(tick),
            entities,
        }
    }

    /// The schema this mirror reads by.
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
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

    /// One entity by id, as its raw quantized values.
    #[must_use]
    pub fn entity(&self, id: NetId) -> Option<&Entity> {
        crate::snapshot::find(&self.entities, id)
    }

    /// Component `C` of entity `id`, read back from its quantized values; `None` when the
    /// entity is not mirrored, lacks `C`, or the game registered no `C`.
    #[must_use]
    pub fn get<C: Replicated>(&self, id: NetId) -> Option<C> {
        read_component(&self.schema, self.entity(id)?)
    }

    /// Every mirrored entity that has component `C`, with it, in id order.
    pub fn iter_with<C: Replicated>(&self) -> impl Iterator<Item = (NetId, C)> + '_ {
        self.entities
            .iter()
            .filter_map(|e| read_component(&self.schema, e).map(|c| (e.id, c)))
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
        apply_body(&self.schema, &mut next, body)?;
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

/// Checks that a spawned entity's values fit its components.
fn check_spawn(schema: &Schema, e: &Entity) -> Result<(), ApplyError> {
    if !schema.valid_mask(e.components) {
        return Err(ApplyError::Shape(e.id, "unknown component"));
    }
    if schema.value_counts(e.components) != (e.nums.len(), e.strs.len()) {
        return Err(ApplyError::Shape(e.id, "wrong number of values"));
    }
    Ok(())
}

/// Applies one update's deltas to `e`'s numeric values.
fn apply_update(
    schema: &Schema,
    e: &mut Entity,
    mask: u64,
    deltas: &[i32],
) -> Result<(), ApplyError> {
    let n = e.nums.len();
    if n < 64 && mask >> n != 0 {
        return Err(ApplyError::Shape(
            e.id,
            "update names a field the entity lacks",
        ));
    }
    let mut d = deltas.iter();
    for (i, wrap) in schema.wraps(e.components).enumerate() {
        if mask & (1 << i) != 0 {
            let delta = *d.next().ok_or(ApplyError::Shape(e.id, "too few deltas"))?;
            e.nums[i] = apply_field(e.nums[i], delta, wrap);
        }
    }
    Ok(())
}

/// Applies despawns, then spawns, then updates to an id-sorted entity list.
fn apply_body(
    schema: &Schema,
    entities: &mut Vec<Entity>,
    body: &SnapshotBody,
) -> Result<(), ApplyError> {
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
        for s in &spawns {
            check_spawn(schema, s)?;
        }
        for s in spawns {
            match entities.binary_search_by_key(&s.id, |e| e.id) {
                Ok(i) => entities[i] = s.clone(),
                Err(i) => entities.insert(i, s.clone()),
            }
        }
    }
    // Updates arrive sorted (the decoder enforces it), so one forward walk finds them all.
    let mut from = 0;
    for (id, mask, deltas) in body.updates.iter() {
        let i = match entities[from..].binary_search_by_key(&id, |e| e.id) {
            Ok(i) => {
                from += i;
                from
            }
            // Unsorted input (from a hand-built body) falls back to a full search.
            Err(_) => entities
                .binary_search_by_key(&id, |e| e.id)
                .map_err(|_| ApplyError::UnknownEntity(id))?,
        };
        apply_update(schema, &mut entities[i], mask, deltas)?;
    }
    Ok(())
}

/// Applies a body without checking the checksum; for tests and tools that build bodies by
/// hand. Returns the new entity list.
pub fn apply_unverified(
    schema: &Schema,
    entities: &[Entity],
    body: &SnapshotBody,
) -> Result<Vec<Entity>, ApplyError> {
    let mut next = entities.to_vec();
    apply_body(schema, &mut next, body)?;
    Ok(next)
}

#[cfg(test)]
#[path = "mirror_props.rs"]
mod props;
