//! A live session, from Welcome until something ends it, in the session's one task.
//!
//! Each wake handles whatever is ready: a client message (decoded, passed through the
//! guard and applied: inputs to the player's slot, acks to the replicator, pings
//! answered, chat to everyone), a new frame, broadcast chat lines or events. Then, while
//! the socket takes output and the send window is open, the next snapshot (a coalesced
//! delta from the client's baseline) is queued; everything queued goes out in one socket
//! write at the next turn. A client that stops reading stalls only our writes: its
//! messages are still read, and it is dropped once the socket has refused output for
//! `SEND_TIMEOUT`.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use futures_util::StreamExt;
use tickwire_shared::codec::encode_server;
use tickwire_shared::{ByeCode, ChatLine, ClientMsg, InputSeq, PlayerId, ServerMsg, Tick};
use tokio::time::Sleep;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::app::App;
use crate::guard::{Guard, Verdict};
use crate::inputs::InputRefused;
use crate::replication::Replicator;
use crate::room::Room;
use crate::tick_output::TickOutput;
use crate::wakes::Sources;
use crate::wire::{Conn, End, Event, SEND_TIMEOUT, classify, stopped_reading};

/// Pongs that may wait beyond a full queue (while the socket refuses output); a ping
/// beyond that (its client not reading) goes unanswered, like the ping of a congested link. Pings are
/// rate-limited by the guard to a few a second.
const REPLY_QUEUE: usize = 8;

/// Who a live session is for.
pub struct Player<'a> {
    /// The player's id.
    pub id: PlayerId,
    /// Their display name (for chat lines).
    pub name: &'a str,
    /// Whether they only watch (their inputs and chat are refused).
    pub spectator: bool,
}

/// Client messages handled in one wake at most, so one busy client cannot hold the
/// thread; past it the session yields and carries on at its next turn.
const EVENTS_PER_WAKE: usize = 32;

/// Plays a welcomed session in `room` until it ends: sends `welcome`, then serves the
/// client. `repl` and `guard` are the session's replication and validation state;
/// `ended` fires when the server stops, the room ends, or the player connects again
/// elsewhere (it is a child of the room's stop, which is a child of the server's).
#[allow(clippy::too_many_arguments)]
pub async fn play(
    app: &Arc<App>,
    room: &Room,
    player: Player<'_>,
    repl: &mut Replicator,
    guard: &mut Guard,
    conn: &mut Conn,
    welcome: Bytes,
    ended: &CancellationToken,
) -> End {
    count_sent(app, &welcome);
    conn.queue(welcome);
    let idle = Duration::from_millis(app.config.idle_timeout_ms);
    let mut session = Live {
        app,
        room,
        player,
        repl,
        guard,
        conn,
        idle,
        last_heard: tokio::time::Instant::now(),
        frame: None,
        lines: BroadcastStream::new(room.broadcast.subscribe()),
        lines_waiting: false,
    };
    // One timer for both deadlines (silence and a stalled socket), moved only when one
    // of them is due or a stall begins: not per message.
    let mut watchdog = pin!(tokio::time::sleep_until(session.last_heard + idle));
    let mut ended = pin!(ended.cancelled());
    // Streams keep their registration between wakes (a future per wake would register
    // and unregister a waiter each time). A watch stream yields the current frame first.
    let mut frames = WatchStream::new(room.frames.clone());
    // The frame stream is polled on every wake, with the task's own waker: the tick
    // then wakes each session with nothing in between, and a wake that finds no frame
    // costs one check of the stream's registration. The other sources have wakers of
    // their own, so a wake polls only those that had something (the socket is polled on
    // every wake: it also writes).
    let sources = Sources::new(SOURCES);
    std::future::poll_fn(|cx| {
        let due = sources.take(cx);
        if due & bit(ENDED) != 0 && ended.as_mut().poll(&mut sources.context(ENDED)).is_ready() {
            return Poll::Ready(why_ended(app, room));
        }
        while let Poll::Ready(newest) = frames.poll_next_unpin(cx) {
            match newest {
                Some(newest) => session.frame = Some(newest),
                None => return Poll::Ready(app.farewell()),
            }
        }
        session.lines_waiting |= due & bit(LINES) != 0;
        if let Err(end) = session.poll_turn(cx, &mut sources.context(LINES)) {
            return Poll::Ready(end);
        }
        let mut watchdog_cx = sources.context(WATCHDOG);
        session.poll_watchdog(
            &mut watchdog_cx,
            watchdog.as_mut(),
            due & bit(WATCHDOG) != 0,
        )
    })
    .await
}

/// The session's sources with wakers of their own (see `wakes`).
const ENDED: usize = 0;
const LINES: usize = 1;
const WATCHDOG: usize = 2;
const SOURCES: usize = 3;

/// Source `i`'s bit in a set of due sources.
const fn bit(i: usize) -> u32 {
    1 << i
}

/// A live session's state between wakes.
struct Live<'a, 'p> {
    app: &'a App,
    room: &'a Room,
    player: Player<'p>,
    repl: &'a mut Replicator,
    guard: &'a mut Guard,
    conn: &'a mut Conn,
    /// How long the client may stay silent.
    idle: Duration,
    /// When the client's last message arrived.
    last_heard: tokio::time::Instant,
    /// The newest frame, until it is written.
    frame: Option<Arc<TickOutput>>,
    /// The room's broadcast lines (chat, events).
    lines: BroadcastStream<Bytes>,
    /// Whether lines may be waiting: their waker fired and they were not all read (the
    /// socket took no more output meanwhile).
    lines_waiting: bool,
}

impl Live<'_, '_> {
    /// One wake's socket work: while the socket has something for us, queues what can
    /// go out (waiting broadcast lines, the next snapshot), writes it and handles the
    /// client's messages. `lines_cx` is the lines' own context.
    fn poll_turn(&mut self, cx: &mut Context<'_>, lines_cx: &mut Context<'_>) -> Result<(), End> {
        for _ in 0..EVENTS_PER_WAKE {
            if self.conn.has_room() {
                // Lines that are already waiting go out in the same write.
                while self.lines_waiting && self.conn.has_room() {
                    match self.lines.poll_next_unpin(lines_cx) {
                        Poll::Ready(line) => relay(self.app, self.player.id, self.conn, line)?,
                        Poll::Pending => self.lines_waiting = false,
                    }
                }
                self.queue_snapshot();
            }
            match self.conn.poll_next(cx) {
                Poll::Ready(Ok(Event::Inbound(item))) => {
                    let now = Instant::now();
                    self.last_heard = tokio::time::Instant::from_std(now);
                    inbound(self, now, item)?;
                }
                Poll::Ready(Ok(Event::Drained)) => {}
                Poll::Ready(Err(end)) => return Err(end),
                Poll::Pending => return Ok(()),
            }
        }
        cx.waker().wake_by_ref();
        Ok(())
    }

    /// Queues the next snapshot: the newest frame as a delta from the client's baseline,
    /// while the send window is open.
    fn queue_snapshot(&mut self) {
        if !self.repl.window_open() {
            return;
        }
        let Some(newest) = self.frame.take() else {
            return;
        };
        if let Some(written) = self.repl.next_message(&newest, &self.room.cache) {
            self.app
                .metrics
                .snapshot_sent(written.msg.len(), written.deferred);
            count_sent(self.app, &written.msg);
            self.conn.queue(written.msg);
        }
    }

    /// The idle and stalled-socket deadlines: ready with the reason when one has passed.
    /// The timer is polled when it fired (`due`) or was moved.
    fn poll_watchdog(
        &self,
        cx: &mut Context<'_>,
        mut watchdog: Pin<&mut Sleep>,
        due: bool,
    ) -> Poll<End> {
        let mut look = due;
        let stall_ends = self.conn.stalled_since().map(|since| since + SEND_TIMEOUT);
        if let Some(at) = stall_ends
            && at < watchdog.deadline()
        {
            watchdog.as_mut().reset(at);
            look = true;
        }
        if !look {
            return Poll::Pending;
        }
        while watchdog.as_mut().poll(cx).is_ready() {
            let now = tokio::time::Instant::now();
            if now >= self.last_heard + self.idle {
                return Poll::Ready(End::Bye(
                    ByeCode::Timeout,
                    format!("nothing received for {} ms", self.idle.as_millis()),
                ));
            }
            if stall_ends.is_some_and(|at| now >= at) {
                return Poll::Ready(stopped_reading());
            }
            let next = self.last_heard + self.idle;
            watchdog
                .as_mut()
                .reset(stall_ends.map_or(next, |at| at.min(next)));
        }
        Poll::Pending
    }
}

/// Why a session's `ended` token fired.
fn why_ended(app: &App, room: &Room) -> End {
    if app.shutdown.is_cancelled() {
        app.farewell()
    } else if room.stop.is_cancelled() {
        room_ended(app, room)
    } else {
        End::Bye(
            ByeCode::Replaced,
            "this player connected again from elsewhere".into(),
        )
    }
}

/// Queues one broadcast chat line or event.
fn relay(
    app: &App,
    player: PlayerId,
    conn: &mut Conn,
    line: Option<Result<Bytes, BroadcastStreamRecvError>>,
) -> Result<(), End> {
    match line {
        Some(Ok(bytes)) => {
            count_sent(app, &bytes);
            conn.queue(bytes);
        }
        Some(Err(BroadcastStreamRecvError::Lagged(n))) => {
            debug!(%player, skipped = n, "chat/events lagged");
        }
        None => return Err(app.farewell()),
    }
    Ok(())
}

/// Why a session ends when its room stopped under it.
fn room_ended(app: &App, room: &Room) -> End {
    if room.failed() {
        End::Bye(
            ByeCode::InternalError,
            format!("room {} ended: its game failed", room.id),
        )
    } else if room.disposed() {
        // Only spectators can be in a room disposed of for having no players.
        End::Bye(
            ByeCode::NoSuchRoom,
            format!("room {} closed: nobody played in it", room.id),
        )
    } else {
        app.farewell()
    }
}

/// Counts one message queued for the client.
fn count_sent(app: &App, bytes: &Bytes) {
    app.metrics.messages_sent.inc();
    app.metrics.bytes_sent.inc_by(bytes.len() as u64);
}

/// One client message (or the end of its stream) through the guard and applied, or the
/// reason the session ends.
fn inbound(
    live: &mut Live<'_, '_>,
    now: Instant,
    item: Option<Result<axum::extract::ws::Message, axum::Error>>,
) -> Result<(), End> {
    let app = live.app;
    let Some((msg, len)) = classify(item, app.config.max_message_bytes)? else {
        return Ok(());
    };
    app.metrics.messages_received.inc();
    app.metrics.bytes_received.inc_by(len as u64);
    match live.guard.check(now, msg) {
        Verdict::Accept(msg) => handle(app, live.room, &live.player, msg, live.repl, live.conn),
        Verdict::Drop(reason) => {
            app.metrics.message_dropped(reason);
            Ok(())
        }
        Verdict::End(code, reason) => Err(End::Bye(code, reason)),
    }
}

/// Hands one input to the player's slot; a refused one is counted, or ends the session
/// when it is not the game's input type at all.
fn input(
    app: &App,
    room: &Room,
    player: &Player<'_>,
    seq: InputSeq,
    data: &[u8],
    view: Option<Tick>,
) -> Result<(), End> {
    let dropped = match room.roster.input(player.id, seq, data, view) {
        Ok(()) => return Ok(()),
        Err(InputRefused::Stale) => "stale_input",
        Err(InputRefused::NoSlot) => "no_input_slot",
        Err(InputRefused::Invalid(why)) => why,
        Err(InputRefused::Malformed(why)) => {
            return Err(End::Bye(
                ByeCode::Malformed,
                format!("input is not this game's input type: {why}"),
            ));
        }
    };
    app.metrics.message_dropped(dropped);
    Ok(())
}

/// Applies one accepted client message, or says why the session ends.
fn handle(
    app: &App,
    room: &Room,
    player: &Player<'_>,
    msg: ClientMsg,
    repl: &mut Replicator,
    conn: &mut Conn,
) -> Result<(), End> {
    match msg {
        ClientMsg::Hello { .. } => {}
        ClientMsg::Input {
            seq,
            data,
            ack,
            view,
        } => {
            // The ack counts whatever becomes of the input.
            if let Some(tick) = ack {
                repl.ack(tick);
            }
            if player.spectator {
                app.metrics.message_dropped("spectator_input");
                return Ok(());
            }
            input(app, room, player, seq, &data, view)?;
        }
        ClientMsg::Ack { tick } => repl.ack(tick),
        ClientMsg::Ping { client_time } => {
            let pong = ServerMsg::Pong {
                client_time,
                server_tick: room.tick(),
                server_time_ms: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            };
            if conn.takes_reply(REPLY_QUEUE) {
                let pong = Bytes::from(encode_server(&pong));
                count_sent(app, &pong);
                conn.queue(pong);
            } else {
                app.metrics.message_dropped("pong_queue_full");
            }
        }
        ClientMsg::Chat { .. } if player.spectator => {
            app.metrics.message_dropped("spectator_chat");
        }
        ClientMsg::Chat { text } => match clean_chat(&text, app.config.max_chat_chars) {
            Some(text) => {
                let line = ChatLine {
                    from: player.id,
                    name: player.name.to_owned(),
                    text,
                };
                room.feed.push(
                    "chat",
                    serde_json::to_string(&line).unwrap_or_else(|_| "null".to_owned()),
                );
                let line = ServerMsg::Chat(line);
                // No receivers (nobody connected) is not an error.
                let _ = room.broadcast.send(Bytes::from(encode_server(&line)));
            }
            None => app.metrics.message_dropped("empty_chat"),
        },
    }
    Ok(())
}

/// A chat line: control characters removed, trimmed, cut to `max` chars; None if empty.
fn clean_chat(raw: &str, max: usize) -> Option<String> {
    let s: String = raw.chars().filter(|c| !c.is_control()).take(max).collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_is_cleaned_and_capped() {
        assert_eq!(
            clean_chat(" hi\u{0} there ", 200).as_deref(),
            Some("hi there")
        );
        assert_eq!(clean_chat("", 200), None);
        assert_eq!(
            clean_chat(&"x".repeat(500), 200).map(|s| s.len()),
            Some(200)
        );
    }
}
