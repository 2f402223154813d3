//! Session resume: a player whose connection drops is parked, avatar and all, for a grace
//! period. A new connection presenting the player's resume token takes the player back,
//! with the snapshots the old session had written so the first snapshot is a delta from
//! whatever tick the client still holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tickwire_shared::{NetId, PlayerId, Tick};
use tokio_util::sync::CancellationToken;

use crate::replication::Held;
use crate::room::Seat;

/// A dropped player waiting to be resumed, their seat in their room kept.
#[derive(Debug)]
pub struct Parked {
    /// Their seat (and so their room).
    pub seat: Seat,
    /// The player.
    pub player: PlayerId,
    /// Their avatar.
    pub entity: NetId,
    /// Their name.
    pub name: Arc<str>,
    /// What the old session's messages left the client holding, any of which it may
    /// still hold.
    pub written: Vec<Held>,
    /// When the player was parked.
    pub since: Instant,
}

impl Parked {
    /// What the client holds if it holds `tick`, if the old session wrote it.
    #[must_use]
    pub fn baseline_at(&self, tick: Tick) -> Option<Held> {
        self.written.iter().find(|h| h.tick() == tick).cloned()
    }
}

/// Live sessions and parked players, by resume token.
#[derive(Debug, Default)]
pub struct ResumeBook {
    /// Tokens of live sessions: the player's name, and the way to tell the session it
    /// was replaced.
    live: DashMap<String, (Arc<str>, CancellationToken)>,
    /// Parked players.
    parked: DashMap<String, Parked>,
}

/// What a resume token refers to.
#[derive(Debug)]
pub enum Claim {
    /// A parked player, now taken out of the book.
    Parked(Parked),
    /// A live session (now told it is replaced); wait for it to park, then claim again.
    Live,
    /// Nothing: unknown, expired, or already claimed.
    Unknown,
}

impl ResumeBook {
    /// Registers `name`'s live session under `token`; `replaced` fires if another
    /// connection claims the token.
    pub fn register(&self, token: &str, name: Arc<str>, replaced: CancellationToken) {
        self.live.insert(token.to_owned(), (name, replaced));
    }

    /// Removes a live session's token (when it ends).
    pub fn unregister(&self, token: &str) {
        self.live.remove(token);
    }

    /// Parks a dropped player under `token`.
    pub fn park(&self, token: String, parked: Parked) {
        self.parked.insert(token, parked);
    }

    /// Claims `token` for a resuming connection. With `only_for` (the name a verified
    /// join token grants), only that player's token may be claimed: a stolen resume token
    /// is worth nothing without the victim's join token.
    pub fn claim(&self, token: &str, only_for: Option<&str>) -> Claim {
        let allowed = |name: &str| only_for.is_none_or(|n| n == name);
        if let Some((_, p)) = self.parked.remove_if(token, |_, p| allowed(&p.name)) {
            return Claim::Parked(p);
        }
        if let Some(live) = self.live.get(token).filter(|l| allowed(&l.0)) {
            live.1.cancel();
            return Claim::Live;
        }
        Claim::Unknown
    }

    /// Claims `token` (see `claim`), waiting up to `patience` for a live session it
    /// replaces to park.
    pub async fn claim_waiting(
        &self,
        token: &str,
        only_for: Option<&str>,
        patience: Duration,
    ) -> Option<Parked> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match self.claim(token, only_for) {
                Claim::Parked(p) => return Some(p),
                Claim::Unknown => return None,
                Claim::Live if tokio::time::Instant::now() >= deadline => return None,
                Claim::Live => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Removes players parked longer than `grace`; returns them so they can leave.
    pub fn expire(&self, now: Instant, grace: Duration) -> Vec<Parked> {
        let expired: Vec<String> = self
            .parked
            .iter()
            .filter(|e| now.saturating_duration_since(e.since) >= grace)
            .map(|e| e.key().clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|k| self.parked.remove(&k).map(|(_, p)| p))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parked(since: Instant) -> Parked {
        Parked {
            seat: crate::rooms::test_room(4).try_seat().expect("a free seat"),
            player: PlayerId(1),
            entity: NetId(2),
            name: "a".into(),
            written: vec![],
            since,
        }
    }

    #[test]
    fn a_parked_player_is_claimed_once_and_expires_after_the_grace() {
        let book = ResumeBook::default();
        let t = Instant::now();
        book.park("tok".into(), parked(t));
        assert!(matches!(
            book.claim("tok", Some("someone else")),
            Claim::Unknown
        ));
        assert!(matches!(book.claim("tok", Some("a")), Claim::Parked(_)));
        assert!(matches!(book.claim("tok", None), Claim::Unknown));
        book.park("old".into(), parked(t));
        assert!(
            book.expire(t + Duration::from_secs(5), Duration::from_secs(10))
                .is_empty()
        );
        assert_eq!(
            book.expire(t + Duration::from_secs(10), Duration::from_secs(10))
                .len(),
            1
        );
        assert!(matches!(book.claim("old", None), Claim::Unknown));
    }

    #[test]
    fn claiming_a_live_token_tells_that_session_it_is_replaced() {
        let book = ResumeBook::default();
        let replaced = CancellationToken::new();
        book.register("tok", "ann".into(), replaced.clone());
        assert!(matches!(book.claim("tok", Some("mallory")), Claim::Unknown));
        assert!(
            !replaced.is_cancelled(),
            "a thief without ann's join token replaces nobody"
        );
        assert!(matches!(book.claim("tok", Some("ann")), Claim::Live));
        assert!(replaced.is_cancelled());
    }
}
