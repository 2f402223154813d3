//! The view checksum: an order-independent hash of every entity a client should hold.
//!
//! The server computes it while diffing; the client recomputes it after applying a
//! snapshot, and a mismatch is a desync. It is a wrapping sum of per-entity hashes, so it
//! is cheap and needs no sorting. It uses only 32-bit multiply and xor-shift, so the
//! browser computes the same value with `Math.imul`.

use crate::snapshot::Entity;

const FNV_OFFSET: u32 = 0x811C_9DC5;
const FNV_PRIME: u32 = 0x0100_0193;

fn mix(h: u32, word: u32) -> u32 {
    (h ^ word).wrapping_mul(FNV_PRIME)
}

fn finish(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// The hash of one entity: its id, component set, every numeric value and every
/// string's bytes.
#[must_use]
pub fn entity_hash(e: &Entity) -> u32 {
    let mut h = FNV_OFFSET;
    h = mix(h, e.id.0);
    h = mix(h, e.components as u32);
    h = mix(h, (e.components >> 32) as u32);
    for &v in &e.nums {
        h = mix(h, v as u32);
    }
    for s in &e.strs {
        h = mix(h, s.len() as u32);
        for b in s.bytes() {
            h = mix(h, u32::from(b));
        }
    }
    finish(h)
}

/// The checksum of a whole view: the wrapping sum of its entities' hashes.
#[must_use]
pub fn view_checksum<'a>(entities: impl IntoIterator<Item = &'a Entity>) -> u32 {
    entities
        .into_iter()
        .fold(0u32, |acc, e| acc.wrapping_add(entity_hash(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NetId;

    fn ent(id: u32, x: i32) -> Entity {
        Entity {
            id: NetId(id),
            components: 0b101,
            nums: crate::Nums::from_slice(&[x, 0, 7]),
            strs: ["ann".into()].into_iter().collect(),
        }
    }

    #[test]
    fn checksum_is_order_independent_and_field_sensitive() {
        let a = [ent(1, 10), ent(2, 20)];
        let b = [ent(2, 20), ent(1, 10)];
        assert_eq!(view_checksum(&a), view_checksum(&b));
        let c = [ent(1, 10), ent(2, 21)];
        assert_ne!(view_checksum(&a), view_checksum(&c));
        let mut d = ent(1, 10);
        d.components = 0b111;
        assert_ne!(entity_hash(&d), entity_hash(&ent(1, 10)));
        assert_eq!(view_checksum(&[]), 0);
    }

    #[test]
    fn known_vector_for_the_javascript_port() {
        // Pinned so the browser's port of this hash can be checked against it.
        assert_eq!(entity_hash(&ent(7, 160)), KNOWN);
    }

    const KNOWN: u32 = 0xDAFC_CA73;
}
