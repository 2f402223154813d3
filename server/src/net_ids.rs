//! The allocator of network entity ids, shared by the tick thread (NPCs, projectiles)
//! and sessions (a joining player's avatar id is known before the tick thread spawns it,
//! so Welcome can name it).
//!
//! The two draw from separate ranges: the game's own ids count up from 1, avatars' from
//! `AVATAR_IDS`. So the ids a game hands out depend only on the game's own history, never
//! on when players happened to connect, and a replay of the same ticks hands out the
//! same ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tickwire_shared::NetId;

/// The first avatar id. Below 2^31, so the browser's 32-bit integer arithmetic keeps
/// every id positive.
pub const AVATAR_IDS: u32 = 1 << 30;

/// Hands out increasing net ids. Ids are never reused: 2^30 of each kind last a busy
/// server (a projectile every tick for every one of a thousand players) for hours;
/// wrapping past that is harmless to clients, which only ever hold a few thousand live
/// ids.
#[derive(Clone, Debug)]
pub struct NetIds {
    /// The next id for the game's own entities.
    game: Arc<AtomicU32>,
    /// The next id for an avatar.
    avatars: Arc<AtomicU32>,
}

impl Default for NetIds {
    fn default() -> NetIds {
        NetIds {
            game: Arc::new(AtomicU32::new(1)),
            avatars: Arc::new(AtomicU32::new(AVATAR_IDS)),
        }
    }
}

impl NetIds {
    /// A fresh id for one of the game's own entities (`Ctx::new_id`).
    #[must_use]
    pub fn game(&self) -> NetId {
        NetId(self.game.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh id for a joining player's avatar.
    #[must_use]
    pub fn avatar(&self) -> NetId {
        NetId(self.avatars.fetch_add(1, Ordering::Relaxed))
    }
}
