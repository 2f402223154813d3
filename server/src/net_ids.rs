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

/// The first avatar id; the game's ids lie below it. Below 2^31, so the browser's 32-bit
/// integer arithmetic keeps every id positive.
pub const AVATAR_IDS: u32 = 1 << 30;

/// The first id of a replay's viewers (`NetIds::for_viewers`), far from every recorded
/// avatar's; the avatar range ends here.
pub const VIEWER_IDS: u32 = AVATAR_IDS + (1 << 29);

/// One past the last id of any range.
const END_IDS: u32 = 1 << 31;

/// Hands out increasing net ids, each kind within its range. 2^30 game ids last a busy
/// server (a projectile every tick for every one of a thousand players) about ten
/// hours; then they start again from 1, inside their range, never onto an avatar's.
/// Clients only ever hold a few thousand live ids, so meeting an id from hours ago is
/// harmless.
#[derive(Clone, Debug)]
pub struct NetIds {
    /// Ids handed out for the game's own entities so far.
    game: Arc<AtomicU32>,
    /// Avatar ids handed out so far.
    avatars: Arc<AtomicU32>,
    /// Where avatar ids start (and the size of their range).
    avatar_range: (u32, u32),
}

impl Default for NetIds {
    fn default() -> NetIds {
        NetIds {
            game: Arc::new(AtomicU32::new(0)),
            avatars: Arc::new(AtomicU32::new(0)),
            avatar_range: (AVATAR_IDS, VIEWER_IDS - AVATAR_IDS),
        }
    }
}

impl NetIds {
    /// Ids for a replay: its viewers' avatars come from `VIEWER_IDS` on, so none is a
    /// recorded player's.
    #[must_use]
    pub fn for_viewers() -> NetIds {
        NetIds {
            avatar_range: (VIEWER_IDS, END_IDS - VIEWER_IDS),
            ..NetIds::default()
        }
    }

    /// A fresh id for one of the game's own entities (`Ctx::new_id`).
    #[must_use]
    pub fn game(&self) -> NetId {
        let n = self.game.fetch_add(1, Ordering::Relaxed);
        NetId(1 + n % (AVATAR_IDS - 1))
    }

    /// A fresh id for a joining player's avatar.
    #[must_use]
    pub fn avatar(&self) -> NetId {
        let (start, len) = self.avatar_range;
        NetId(start + self.avatars.fetch_add(1, Ordering::Relaxed) % len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_id_stays_in_its_range_when_its_counter_wraps() {
        let ids = NetIds::default();
        assert_eq!((ids.game(), ids.avatar()), (NetId(1), NetId(AVATAR_IDS)));
        ids.game.store(AVATAR_IDS - 2, Ordering::Relaxed);
        assert_eq!(ids.game(), NetId(AVATAR_IDS - 1));
        assert_eq!(
            ids.game(),
            NetId(1),
            "the game's ids start again below the avatars'"
        );
        ids.avatars.store(u32::MAX, Ordering::Relaxed);
        let wrapped = ids.avatar();
        assert!((AVATAR_IDS..VIEWER_IDS).contains(&wrapped.0), "{wrapped}");
        let viewers = NetIds::for_viewers();
        assert_eq!(viewers.avatar(), NetId(VIEWER_IDS));
        viewers.avatars.store(u32::MAX, Ordering::Relaxed);
        assert!((VIEWER_IDS..END_IDS).contains(&viewers.avatar().0));
    }
}
