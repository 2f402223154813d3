//! Snapshot capture: reads the world once per tick into an immutable, quantized,
//! id-sorted `WorldSnapshot`. Quantizing here is what makes float jitter diff-free.

use std::sync::Arc;

use hecs::World;
use tickwire_shared::{Entity, EntityState, Tick, WorldSnapshot, quant};

use super::components::{Avatar, Body, Net, Shot, Wanderer};

/// Captures every replicated entity (those with `Net` and `Body`).
#[must_use]
pub fn capture(world: &World, tick: Tick, empty_name: &Arc<str>) -> WorldSnapshot {
    let mut query = world.query::<(
        &Net,
        &Body,
        Option<&Avatar>,
        Option<&Shot>,
        Option<&Wanderer>,
    )>();
    let mut entities = Vec::with_capacity(query.iter().len());
    for (net, body, avatar, shot, wanderer) in query.iter() {
        let (owner, name, score, hp) = match (avatar, shot, wanderer) {
            (Some(a), _, _) => (Some(a.player), a.name.clone(), a.score, a.hp),
            (None, Some(s), _) => (Some(s.owner), empty_name.clone(), 0, 0),
            (None, None, Some(w)) => (None, empty_name.clone(), 0, w.hp),
            (None, None, None) => (None, empty_name.clone(), 0, 0),
        };
        entities.push(Entity {
            id: net.id,
            state: EntityState {
                kind: net.kind,
                owner,
                name,
                x: quant::pos_to_fixed(body.x),
                y: quant::pos_to_fixed(body.y),
                angle: quant::angle_to_u8(body.angle),
                score,
                hp,
            },
        });
    }
    entities.sort_unstable_by_key(|e| e.id);
    WorldSnapshot { tick, entities }
}
