//! A live session, from Welcome until something ends it: a reader and a writer that run
//! side by side in the session's task, so a write stalled on a slow socket never stops
//! the client's inputs and acks being read.
//!
//! The reader decodes each message, passes it through the guard, and applies it: inputs
//! to the player's slot, acks and pings to the writer (through a `Handoff` on the
//! session's own stack: the newest acked tick and a short queue of pongs), chat to
//! everyone. The writer wakes on any of: a pong or ack, a new frame, a broadcast chat
//! line or event; it then sends everything waiting (pongs, broadcast lines, and the next
//! snapshot, a coalesced delta from the client's baseline, while the send window is
//! open) in one socket write.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use tickwire_shared::codec::encode_server;
use tickwire_shared::{ByeCode, ChatLine, ClientMsg, InputSeq, PlayerId, ServerMsg, Tick};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::app::App;
use crate::guard::{Guard, Verdict};
use crate::inputs::InputRefused;
use crate::replication::Replicator;
use crate::room::Room;
use crate::wire::{End, Inbox, Outbox, classify};

/// Pongs waiting for the writer. Pings are rate-limited by the guard to a few a second;
/// a pong that finds the queue full (its writer stalled) is dropped, like the ping of a
/// congested link.
const REPLY_QUEUE: usize = 8;

/// What the reader hands the writer. Both run in the session's task, so this lives on
/// its stack: no channel is allocated per session, the lock is never contended, and the
/// writer is woken once per change.
#[derive(Default)]
struct Handoff {
    /// What is waiting.
    pending: Mutex<Pending>,
    /// Wakes the writer; a wake while it is busy is kept for its next wait.
    wake: Notify,
}

/// The waiting part of a `Handoff`.
#[derive(Default)]
struct Pending {
    /// The client's newest applied tick.
    ack: Option<Tick>,
    /// Whether `ack` changed since the writer last took it.
    ack_fresh: bool,
    /// Encoded pongs, oldest first, at most `REPLY_QUEUE`.
    pongs: Vec<Bytes>,
}

impl Handoff {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the client's newest applied tick, waking the writer only when it changed
    /// (an input repeats the ack until the next snapshot is applied).
    fn ack(&self, tick: Tick) {
        let mut p = self.pending();
        if p.ack != Some(tick) {
            p.ack = Some(tick);
            p.ack_fresh = true;
            drop(p);
            self.wake.notify_one();
        }
    }

    /// Queues a pong; false (and it is dropped) when the queue is full.
    fn pong(&self, pong: Bytes) -> bool {
        let mut p = self.pending();
        if p.pongs.len() >= REPLY_QUEUE {
            return false;
        }
        p.pongs.push(pong);
        drop(p);
        self.wake.notify_one();
        true
    }

    /// Takes a fresh ack, if any, and moves the queued pongs onto `pongs`.
    fn take(&self, pongs: &mut Vec<Bytes>) -> Option<Tick> {
        let mut p = self.pending();
        pongs.append(&mut p.pongs);
        std::mem::take(&mut p.ack_fresh).then_some(p.ack).flatten()
    }
}

/// Who a live session is for.
pub struct Player<'a> {
    /// The player's id.
    pub id: PlayerId,
    /// Their display name (for chat lines).
    pub name: &'a str,
    /// Whether they only watch (their inputs and chat are refused).
    pub spectator: bool,
}

/// Plays a welcomed session in `room` until it ends: sends `welcome`, then reads and
/// writes side by side. `repl` and `guard` are the session's replication and validation
/// state; `replaced` fires when the player connects again elsewhere.
#[allow(clippy::too_many_arguments)]
pub async fn play(
    app: &Arc<App>,
    room: &Room,
    player: Player<'_>,
    repl: &mut Replicator,
    guard: &mut Guard,
    io: (&mut Inbox, &mut Outbox),
    welcome: Bytes,
    replaced: &CancellationToken,
) -> End {
    let (inbox, outbox) = io;
    if let Err(end) = send(app, outbox, welcome).await {
        return end;
    }
    let handoff = Handoff::default();
    let reader = read(app, room, &player, guard, inbox, &handoff);
    let writer = write(app, room, player.id, repl, outbox, &handoff);
    tokio::select! {
        biased;
        _ = app.shutdown.cancelled() => {
            app.farewell()
        }
        _ = room.stop.cancelled() => room_ended(app, room),
        _ = replaced.cancelled() => {
            End::Bye(ByeCode::Replaced, "this player connected again from elsewhere".into())
        }
        end = reader => end,
        end = writer => end,
    }
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

/// Writes one message, flushed, and counts it.
pub async fn send(app: &App, outbox: &mut Outbox, bytes: Bytes) -> Result<(), End> {
    feed(app, outbox, bytes).await?;
    outbox.flush().await
}

/// Queues one message for the next flush and counts it.
async fn feed(app: &App, outbox: &mut Outbox, bytes: Bytes) -> Result<(), End> {
    let len = bytes.len() as u64;
    outbox.feed(bytes).await?;
    app.metrics.messages_sent.inc();
    app.metrics.bytes_sent.inc_by(len);
    Ok(())
}

/// The reader: every client message through the guard, until one ends the session or
/// the client falls silent for the idle timeout.
async fn read(
    app: &Arc<App>,
    room: &Room,
    player: &Player<'_>,
    guard: &mut Guard,
    inbox: &mut Inbox,
    handoff: &Handoff,
) -> End {
    let idle = Duration::from_millis(app.config.idle_timeout_ms);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let item = tokio::select! {
            _ = tokio::time::sleep_until(last_heard + idle) => {
                return End::Bye(ByeCode::Timeout, format!("nothing received for {} ms", idle.as_millis()));
            }
            item = inbox.next() => item,
        };
        let msg = match classify(item, app.config.max_message_bytes) {
            Ok(Some((msg, len))) => {
                app.metrics.messages_received.inc();
                app.metrics.bytes_received.inc_by(len as u64);
                msg
            }
            Ok(None) => continue,
            Err(end) => return end,
        };
        last_heard = tokio::time::Instant::now();
        match guard.check(Instant::now(), msg) {
            Verdict::Accept(msg) => {
                if let Err(end) = handle(app, room, player, msg, handoff) {
                    return end;
                }
            }
            Verdict::Drop(reason) => app.metrics.message_dropped(reason),
            Verdict::End(code, reason) => return End::Bye(code, reason),
        }
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
    handoff: &Handoff,
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
                handoff.ack(tick);
            }
            if player.spectator {
                app.metrics.message_dropped("spectator_input");
                return Ok(());
            }
            input(app, room, player, seq, &data, view)?;
        }
        ClientMsg::Ack { tick } => handoff.ack(tick),
        ClientMsg::Ping { client_time } => {
            let pong = ServerMsg::Pong {
                client_time,
                server_tick: room.tick(),
                server_time_ms: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            };
            if !handoff.pong(Bytes::from(encode_server(&pong))) {
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

/// The writer: pongs, snapshots within the send window, and the broadcast, until a
/// write fails (or times out: the client stopped reading). Whatever is waiting when it
/// wakes goes out in one socket write, so a busy server makes fewer, fuller writes
/// instead of falling behind.
async fn write(
    app: &Arc<App>,
    room: &Room,
    player: PlayerId,
    repl: &mut Replicator,
    outbox: &mut Outbox,
    handoff: &Handoff,
) -> End {
    let shutdown = || app.farewell();
    let mut frames = room.frames.clone();
    frames.mark_changed();
    let mut broadcast = room.broadcast.subscribe();
    let mut pongs = Vec::new();
    loop {
        let mut frame_due = false;
        tokio::select! {
            biased;
            () = handoff.wake.notified() => {}
            changed = frames.changed(), if repl.window_open() => {
                if changed.is_err() {
                    return shutdown();
                }
                frame_due = true;
            }
            r = broadcast.recv() => match r {
                Ok(bytes) => {
                    if let Err(end) = feed(app, outbox, bytes).await {
                        return end;
                    }
                }
                Err(RecvError::Lagged(n)) => debug!(%player, skipped = n, "chat/events lagged"),
                Err(RecvError::Closed) => return shutdown(),
            },
        }
        if let Some(tick) = handoff.take(&mut pongs) {
            repl.ack(tick);
        }
        for pong in pongs.drain(..) {
            if let Err(end) = feed(app, outbox, pong).await {
                return end;
            }
        }
        loop {
            match broadcast.try_recv() {
                Ok(bytes) => {
                    if let Err(end) = feed(app, outbox, bytes).await {
                        return end;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(n)) => debug!(%player, skipped = n, "chat/events lagged"),
                Err(TryRecvError::Closed) => return shutdown(),
            }
        }
        frame_due |= frames.has_changed().unwrap_or(false);
        if frame_due && repl.window_open() {
            let frame = frames.borrow_and_update().clone();
            if let Some(written) = repl.next_message(&frame, &room.cache) {
                app.metrics
                    .snapshot_sent(written.msg.len(), written.deferred);
                if let Err(end) = feed(app, outbox, written.msg).await {
                    return end;
                }
            }
        }
        if let Err(end) = outbox.flush().await {
            return end;
        }
    }
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
