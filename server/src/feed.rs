//! A room's live event feed, for dashboards and bots that do not speak the game
//! protocol: joins, leaves, chat and the game's events, as JSON, numbered from 1; and
//! beside them the room's scoreboard, renewed each second. The scoreboard is state,
//! not an event: only the newest matters, so it carries no id and takes no room in the
//! ring (a reader gets the newest at once and each new one as it comes). The newest `feed_events` (and at most `MAX_FEED_BYTES` of
//! them) stay in a ring, so a reader that
//! reconnects with the last id it saw (`Last-Event-ID`, or `?after=N`) gets exactly the
//! events it missed. A reader that fell further behind than the ring is told which ids
//! are gone instead of silently skipping them.
//!
//! `GET /rooms/{id}/events` serves it as Server-Sent Events (`text/event-stream`), and
//! `GET /rooms/{id}/events?after=N` as a long poll (JSON, answered at once when newer
//! events exist, else when one arrives or after `feed_poll_secs`). Nothing is buffered
//! per reader: each one keeps a cursor into the ring. A reader that does not read holds
//! its connection, its place among the `max_feeds` readers and the room (until the
//! server's drain time cuts it off at shutdown).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use tokio::sync::watch;

/// One event of a room's feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// Its number in the room's feed, from 1, without gaps.
    pub id: u64,
    /// Its kind: `joined`, `left`, `chat` or `game`.
    pub kind: &'static str,
    /// Its content, as JSON text.
    pub data: Arc<str>,
}

impl FeedEvent {
    /// As one JSON object: `{"id": N, "type": KIND, "data": {...}}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"id":{},"type":"{}","data":{}}}"#,
            self.id, self.kind, self.data
        )
    }
}

/// What a reader at a cursor gets next.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Events after the cursor, oldest first.
    pub events: Vec<FeedEvent>,
    /// Ids after the cursor that have already left the ring (first, last), if any.
    pub gap: Option<(u64, u64)>,
}

/// The ids a reader missed: `{"from": A, "to": B}`.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// The first missing id.
    pub from: u64,
    /// The last missing id.
    pub to: u64,
}

/// Most bytes of event data a room's ring keeps, whatever `feed_events` says (hundreds of
/// chat lines or game events): a thousand rooms hold at most 64 MiB of feed.
pub const MAX_FEED_BYTES: usize = 64 * 1024;

#[derive(Debug)]
struct Ring {
    /// The newest events, oldest first.
    events: VecDeque<FeedEvent>,
    /// Bytes of their data.
    bytes: usize,
    /// The id the next event gets.
    next: u64,
    /// How many are kept.
    capacity: usize,
}

/// A room's event feed.
#[derive(Debug)]
pub struct Feed {
    ring: Mutex<Ring>,
    /// The newest event's id (0: none yet); readers wait on its changes.
    newest: watch::Sender<u64>,
    /// The newest scoreboard, as JSON text, and how many there have been (readers wait
    /// on the count's changes).
    board: watch::Sender<(u64, Option<Arc<str>>)>,
}

impl Feed {
    /// A feed that keeps the newest `capacity` events (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Feed {
        Feed {
            ring: Mutex::new(Ring {
                events: VecDeque::new(),
                bytes: 0,
                next: 1,
                capacity: capacity.max(1),
            }),
            newest: watch::Sender::new(0),
            board: watch::Sender::new((0, None)),
        }
    }

    /// Renews the scoreboard (JSON text).
    pub fn set_scoreboard(&self, data: String) {
        self.board.send_modify(|(n, board)| {
            *n += 1;
            *board = Some(data.into());
        });
    }

    /// The newest scoreboard and its number (0: none yet).
    #[must_use]
    pub fn scoreboard(&self) -> (u64, Option<Arc<str>>) {
        self.board.borrow().clone()
    }

    /// Waits on this for new scoreboards.
    #[must_use]
    pub fn subscribe_scoreboard(&self) -> watch::Receiver<(u64, Option<Arc<str>>)> {
        self.board.subscribe()
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an event of `kind` with `data` (JSON text). The lock is held only to put it
    /// in the ring; readers copy out under it just as briefly.
    pub fn push(&self, kind: &'static str, data: String) {
        let id = {
            let mut ring = self.ring();
            let id = ring.next;
            ring.next += 1;
            ring.bytes += data.len();
            while ring.events.len() >= ring.capacity
                || (ring.bytes > MAX_FEED_BYTES && !ring.events.is_empty())
            {
                let Some(old) = ring.events.pop_front() else {
                    break;
                };
                ring.bytes -= old.data.len();
            }
            ring.events.push_back(FeedEvent {
                id,
                kind,
                data: data.into(),
            });
            id
        };
        self.newest.send_replace(id);
    }

    /// The newest event's id (0: none yet).
    #[must_use]
    pub fn newest(&self) -> u64 {
        *self.newest.borrow()
    }

    /// Waits on this for new events.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.newest.subscribe()
    }

    /// Up to `max` events after id `after`, and what was lost before them.
    #[must_use]
    pub fn after(&self, after: u64, max: usize) -> Batch {
        let ring = self.ring();
        let newest = ring.next - 1;
        if after >= newest {
            return Batch::default();
        }
        let oldest = ring.events.front().map_or(ring.next, |e| e.id);
        let gap = (after + 1 < oldest).then(|| (after + 1, oldest - 1));
        let skip = usize::try_from((after + 1).saturating_sub(oldest)).unwrap_or(usize::MAX);
        let events = ring.events.iter().skip(skip).take(max).cloned().collect();
        Batch { events, gap }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(b: &Batch) -> Vec<u64> {
        b.events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn a_reader_gets_exactly_what_came_after_its_cursor_and_is_told_of_a_gap() {
        let feed = Feed::new(3);
        assert_eq!(feed.after(0, 10), Batch::default());
        for i in 0..5 {
            feed.push("chat", format!(r#"{{"n":{i}}}"#));
        }
        assert_eq!(feed.newest(), 5);
        // The ring keeps 3..=5.
        assert_eq!(ids(&feed.after(3, 10)), vec![4, 5]);
        assert_eq!(feed.after(3, 10).gap, None);
        assert_eq!(ids(&feed.after(2, 10)), vec![3, 4, 5]);
        assert_eq!(feed.after(2, 10).gap, None);
        let behind = feed.after(0, 10);
        assert_eq!((ids(&behind), behind.gap), (vec![3, 4, 5], Some((1, 2))));
        assert_eq!(ids(&feed.after(2, 2)), vec![3, 4], "at most max");
        assert!(feed.after(5, 10).events.is_empty());
        assert!(feed.after(99, 10).events.is_empty());
        assert_eq!(
            feed.after(4, 1).events[0].to_json(),
            r#"{"id":5,"type":"chat","data":{"n":4}}"#
        );
    }

    #[test]
    fn the_scoreboard_is_the_newest_only_and_takes_no_id() {
        let feed = Feed::new(8);
        assert_eq!(feed.scoreboard(), (0, None));
        feed.set_scoreboard("[1]".into());
        feed.set_scoreboard("[2]".into());
        assert_eq!(feed.scoreboard(), (2, Some("[2]".into())));
        assert_eq!(feed.newest(), 0, "no event id spent");
    }

    #[test]
    fn the_ring_keeps_at_most_its_bytes() {
        let feed = Feed::new(1_000_000);
        let big = format!("\"{}\"", "x".repeat(1000));
        for _ in 0..200 {
            feed.push("game", big.clone());
        }
        let kept = feed.after(0, usize::MAX);
        let bytes: usize = kept.events.iter().map(|e| e.data.len()).sum();
        assert!(bytes <= MAX_FEED_BYTES, "{bytes} bytes kept");
        assert_eq!(kept.events.len(), MAX_FEED_BYTES / big.len());
        assert_eq!(kept.events.last().map(|e| e.id), Some(200));
        assert_eq!(kept.gap.map(|g| g.0), Some(1));
    }
}
