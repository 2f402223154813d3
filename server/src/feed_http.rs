//! `GET /rooms/{id}/events`: a room's feed (`feed`) over HTTP, as Server-Sent Events
//! (the newest scoreboard first, then events and scoreboards as they come) or, with
//! `?after=N`, as a long poll (each answer with the newest scoreboard). Both are capped by `max_feeds` (a reader past it is
//! told 503) and count as connections of their address; neither buffers anything per
//! reader; both close their connection after answering, and end when the room or the
//! server does.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio_util::sync::CancellationToken;

use crate::admission::IpSlot;
use crate::app::App;
use crate::feed::{Batch, Gap};
use crate::room::{Room, RoomId};

/// Most events one long-poll answer (or one read of the ring by a stream) carries.
const BATCH: usize = 256;

/// How often an idle event stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What `/rooms/{id}/events` may be asked.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FeedQuery {
    /// Long poll: the events after this id.
    after: Option<u64>,
    /// Long poll: wait at most this many seconds (capped by `feed_poll_secs`).
    wait: Option<u64>,
    /// A private room's code.
    code: Option<String>,
}

/// `GET /rooms/{id}/events`: the room's feed as `text/event-stream` (resuming after the
/// `Last-Event-ID` header's id, else from now), or with `?after=N` as one long-poll
/// answer.
pub(crate) async fn room_events(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<RoomId>() else {
        return (
            StatusCode::NOT_FOUND,
            format!("room ids are numbers, not {id:?}\n"),
        )
            .into_response();
    };
    let Some(room) = app.rooms.get(id) else {
        return (StatusCode::NOT_FOUND, format!("there is no room {id}\n")).into_response();
    };
    if room.code.is_some() && room.code != q.code {
        return (
            StatusCode::FORBIDDEN,
            format!("room {id} is private: its feed needs its code (?code=CODE)\n"),
        )
            .into_response();
    }
    // A feed reader is one of its address's connections, like a session.
    let ip = match crate::app::ip_slot(&app, peer) {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    let Ok(permit) = app.feeds.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many feed readers right now (limit {}); try again later\n",
                app.config.max_feeds
            ),
        )
            .into_response();
    };
    // A feed reader is a long request by design: its own limits (the reader cap, the
    // poll timeout) apply, not the deadline for becoming a session. The connection
    // closes after the answer (`Connection: close`), so it never idles on without one.
    app.pending.promote(peer);
    let mut response = match q.after {
        Some(after) => {
            let most = Duration::from_secs(app.config.feed_poll_secs);
            let wait = q.wait.map_or(most, |s| Duration::from_secs(s).min(most));
            let answer = long_poll(&app, &room, after, wait).await;
            drop((ip, permit));
            answer
        }
        None => {
            let last = headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            stream(&app, room, last, (permit, ip))
        }
    };
    response.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// Why a room's feed ended, as the `end` event's data.
fn ended(room: &Room, shutdown: &CancellationToken) -> String {
    let reason = if room.failed() {
        "its game failed"
    } else if room.disposed() {
        "nobody played in it"
    } else if shutdown.is_cancelled() {
        "the server is shutting down"
    } else {
        "the room closed"
    };
    format!(r#"{{"room":{},"reason":"{reason}"}}"#, room.id)
}

fn gap_json(gap: Option<(u64, u64)>) -> String {
    gap.map_or_else(
        || "null".to_owned(),
        |(from, to)| serde_json::to_string(&Gap { from, to }).unwrap_or_default(),
    )
}

/// One long-poll answer: `{"events": [...], "next": N, "gap": {...} | null,
/// "scoreboard": {...} | null, "ended": bool}`.
fn answer(room: &Room, batch: &Batch, after: u64, ended: bool) -> Response {
    let next = batch.events.last().map_or(after, |e| e.id);
    let events: Vec<String> = batch.events.iter().map(|e| e.to_json()).collect();
    let board = room.feed.scoreboard().1;
    let body = format!(
        r#"{{"events":[{}],"next":{next},"gap":{},"scoreboard":{},"ended":{ended}}}"#,
        events.join(","),
        gap_json(batch.gap),
        board.as_deref().unwrap_or("null"),
    );
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Answers at once with the events after `after` if there are any, else when one
/// arrives, else with none after `wait`.
async fn long_poll(app: &App, room: &Room, after: u64, wait: Duration) -> Response {
    let mut newest = room.feed.subscribe();
    // A cursor past the newest event (a feed from before a restart) starts from now.
    let after = after.min(room.feed.newest());
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let batch = room.feed.after(after, BATCH);
        if !batch.events.is_empty() || batch.gap.is_some() {
            return answer(room, &batch, after, false);
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return answer(room, &batch, after, false),
            changed = newest.changed() => if changed.is_err() {
                return answer(room, &batch, after, true);
            },
            () = room.stop.cancelled() => return answer(room, &room.feed.after(after, BATCH), after, true),
            () = app.shutdown.cancelled() => return answer(room, &batch, after, true),
        }
    }
}

/// A reader of the event stream.
struct Reader {
    room: Arc<Room>,
    /// The last id sent.
    cursor: u64,
    newest: watch::Receiver<u64>,
    /// Scoreboards; the number of the last one sent.
    boards: watch::Receiver<(u64, Option<Arc<str>>)>,
    board_sent: u64,
    shutdown: CancellationToken,
    /// Events read from the ring, not yet sent.
    queued: VecDeque<Event>,
    /// Set once the `end` event is queued.
    done: bool,
    /// Held while the stream lives: its place among the feed readers, and among its
    /// address's connections.
    _held: (OwnedSemaphorePermit, Option<IpSlot>),
}

impl Reader {
    /// The next event to send; `None` when the stream is over.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.queued.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let batch = self.room.feed.after(self.cursor, BATCH);
            if let Some(gap) = batch.gap {
                self.queued
                    .push_back(Event::default().event("gap").data(gap_json(Some(gap))));
            }
            let (n, board) = self.boards.borrow_and_update().clone();
            if n > self.board_sent
                && let Some(board) = board
            {
                self.board_sent = n;
                self.queued
                    .push_back(Event::default().event("scoreboard").data(&*board));
            }
            if !batch.events.is_empty() {
                for e in batch.events {
                    self.cursor = e.id;
                    self.queued.push_back(
                        Event::default()
                            .id(e.id.to_string())
                            .event(e.kind)
                            .data(&*e.data),
                    );
                }
                continue;
            }
            if !self.queued.is_empty() {
                continue;
            }
            if self.room.stop.is_cancelled() || self.shutdown.is_cancelled() {
                self.done = true;
                self.queued.push_back(
                    Event::default()
                        .event("end")
                        .data(ended(&self.room, &self.shutdown)),
                );
                continue;
            }
            tokio::select! {
                changed = self.newest.changed() => if changed.is_err() {
                    self.done = true;
                },
                changed = self.boards.changed() => if changed.is_err() {
                    self.done = true;
                },
                () = self.room.stop.cancelled() => {}
                () = self.shutdown.cancelled() => {}
            }
        }
    }
}

/// The event stream, from after `last` (the reader's `Last-Event-ID`), else from now.
fn stream(
    app: &App,
    room: Arc<Room>,
    last: Option<u64>,
    held: (OwnedSemaphorePermit, Option<IpSlot>),
) -> Response {
    let reader = Reader {
        cursor: last.map_or(room.feed.newest(), |l| l.min(room.feed.newest())),
        newest: room.feed.subscribe(),
        boards: room.feed.subscribe_scoreboard(),
        board_sent: 0,
        room,
        shutdown: app.shutdown.clone(),
        queued: VecDeque::new(),
        done: false,
        _held: held,
    };
    let events = futures_util::stream::unfold(reader, |mut r| async move {
        r.next().await.map(|e| (Ok::<Event, Infallible>(e), r))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
