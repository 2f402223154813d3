//! The allocator of network entity ids, shared by the tick thread (NPCs, projectiles)
//! and sessions (a joining player's avatar id is known before the tick thread spawns it,
//! so Welcome can name it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tickwire_shared::NetId;

/// Hands out increasing net ids. Ids are never reused: 2^32 of them last a busy server
/// (a projectile every tick for every one of a thousand players) over a day; wrapping
/// past that is harmless to clients, which only ever hold a few thousand live ids.
#[derive(Clone, Debug)]
pub struct NetIds {
    /// The next id to hand out.
    next: Arc<AtomicU32>,
}

impl Default for NetIds {
    fn default() -> NetIds {
        NetIds {
            next: Arc::new(AtomicU32::new(1)),
        }
    }
}

impl NetIds {
    /// A fresh id.
    #[must_use]
    pub fn next(&self) -> NetId {
        NetId(self.next.fetch_add(1, Ordering::Relaxed))
    }
}
