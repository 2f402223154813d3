//! A session's socket: reading client messages (with size and type checks) and writing
//! server messages from the session's one task, optionally through a delay line that
//! simulates network latency and jitter for testing netcode by hand.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tickwire_shared::codec::{decode_client, encode_server};
use tickwire_shared::{ByeCode, ClientMsg, ServerMsg};
use tokio::time::{Instant, Sleep};

/// How a session ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The client closed the connection normally (code 1000): it left for good.
    ClientGone,
    /// The server closes it, telling the client why.
    Bye(ByeCode, String),
    /// The socket failed; nothing more can be said to the client.
    Io(String),
}

impl End {
    /// A short label for logs and the `sessions_closed` metric.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            End::ClientGone => "client_left",
            End::Io(_) => "io_error",
            End::Bye(code, _) => match code {
                ByeCode::ServerShutdown => "server_shutdown",
                ByeCode::ProtocolMismatch => "protocol_mismatch",
                ByeCode::Malformed => "malformed",
                ByeCode::ServerFull => "server_full",
                ByeCode::AuthFailed => "auth_failed",
                ByeCode::Timeout => "timeout",
                ByeCode::RateLimited => "rate_limited",
                ByeCode::TooLarge => "too_large",
                ByeCode::Replaced => "replaced",
                ByeCode::InternalError => "internal_error",
                ByeCode::OriginRefused => "origin_refused",
                ByeCode::NoSuchRoom => "no_such_room",
                ByeCode::RoomFull => "room_full",
                ByeCode::WrongCode => "wrong_code",
                ByeCode::NoSeat => "no_seat",
                ByeCode::Relocate => "relocate",
            },
        }
    }
}

/// Simulated latency: a fixed delay plus uniform jitter, never reordering messages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delay {
    /// Fixed part.
    pub latency: Duration,
    /// Up to this much more, at random.
    pub jitter: Duration,
}

impl Delay {
    /// Whether any delay is configured.
    #[must_use]
    pub fn is_on(&self) -> bool {
        !self.latency.is_zero() || !self.jitter.is_zero()
    }

    /// When a message arriving now should be delivered, no earlier than `after`.
    fn due(&self, after: Instant) -> Instant {
        let extra = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.jitter.mul_f64(rand::rng().random_range(0.0..1.0))
        };
        (Instant::now() + self.latency + extra).max(after)
    }
}

/// Turns one WebSocket message into a client message, or the reason to end the session.
/// `Ok(None)` means a control frame with nothing for the session to do.
pub fn classify(
    item: Option<Result<Message, axum::Error>>,
    max_bytes: usize,
) -> Result<Option<(ClientMsg, usize)>, End> {
    match item {
        // A normal closure (1000) is a player leaving on purpose; any other close, or the
        // stream simply ending, is a drop the player may come back from (resume).
        Some(Ok(Message::Close(Some(frame)))) if frame.code == 1000 => Err(End::ClientGone),
        Some(Ok(Message::Close(frame))) => Err(End::Io(format!(
            "client closed the connection with code {}",
            frame.map_or(1005, |f| f.code)
        ))),
        None => Err(End::Io("connection ended".to_owned())),
        Some(Ok(Message::Binary(bytes))) => {
            if bytes.len() > max_bytes {
                return Err(too_large(max_bytes));
            }
            decode_client(&bytes)
                .map(|m| Some((m, bytes.len())))
                .map_err(|e| End::Bye(ByeCode::Malformed, e.to_string()))
        }
        Some(Ok(Message::Text(_))) => Err(End::Bye(
            ByeCode::Malformed,
            "text frames are not part of the protocol; send binary messages".to_owned(),
        )),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(None),
        Some(Err(e)) => {
            let err = e.into_inner();
            match err.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
                // The TCP stream ended without a close frame: a dropped connection, which
                // is what resume is for, not a malformed client.
                Some(tokio_tungstenite::tungstenite::Error::Protocol(
                    tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                )) => Err(End::Io("connection dropped without a close frame".to_owned())),
                Some(tokio_tungstenite::tungstenite::Error::Capacity(_)) => {
                    Err(too_large(max_bytes))
                }
                Some(tokio_tungstenite::tungstenite::Error::Protocol(p)) => Err(End::Bye(
                    ByeCode::Malformed,
                    format!("WebSocket protocol error: {p}"),
                )),
                _ => Err(End::Io(err.to_string())),
            }
        }
    }
}

fn too_large(max: usize) -> End {
    End::Bye(
        ByeCode::TooLarge,
        format!("messages are limited to {max} bytes"),
    )
}

/// What the socket has for the session.
#[derive(Debug)]
pub enum Event {
    /// A message from the client (or the end of its stream, or a read error).
    Inbound(Option<Result<Message, axum::Error>>),
    /// The connection takes output again (a stalled write went out, or a full queue
    /// emptied): the session may queue more.
    Drained,
}

/// Messages the session may queue before `has_room` says no (broadcast lines stop there;
/// the snapshot and pongs may still join them). Without a latency line the queue empties
/// at every wake, so this bounds one write (and tungstenite's write buffer, which
/// keeps the size of the largest write): a burst of broadcast lines goes out over a few
/// writes instead of growing both buffers for good.
const QUEUE: usize = 8;

/// Messages a latency line may hold queued (they wait out their delay there).
const DELAYED_QUEUE: usize = 1024;

/// Inbound messages a latency line holds before it stops reading the socket.
const MAX_HELD: usize = 256;

/// Longest the socket may refuse our output before the client is considered gone.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A session's connection: one socket, read and written by the session's one task.
///
/// Output is queued without waiting and written by [`Conn::next`], which also reads: a
/// write the socket cannot take yet (a slow client) is retried whenever the task wakes,
/// and meanwhile the client's messages are still read. There is no lock between a read
/// half and a write half and no second task: one wake per event.
///
/// With a [`Delay`], messages each way are held until their due time, in order.
pub struct Conn {
    /// The socket.
    ws: WebSocket,
    /// Messages waiting to be handed to the socket.
    out: VecDeque<Bytes>,
    /// A close frame to send once `out` is written.
    closing: Option<CloseFrame>,
    /// Whether messages were handed to the socket since it was last flushed.
    unflushed: bool,
    /// Since when the socket has refused output, while it does.
    stalled_since: Option<Instant>,
    /// The simulated latency, if any (boxed: most connections have none, and every
    /// connected client holds a `Conn`).
    line: Option<Box<DelayLine>>,
}

/// A connection's simulated latency each way.
struct DelayLine {
    /// The latency.
    delay: Delay,
    /// The due time of each message in `Conn::out`.
    out_due: VecDeque<Instant>,
    /// Messages read but not yet due.
    held: VecDeque<(Instant, Option<Result<Message, axum::Error>>)>,
    /// Whether the socket's stream has ended (the end is held too).
    read_done: bool,
    /// The due time of the newest message each way, so jitter never reorders.
    last_in: Instant,
    last_out: Instant,
    /// Wakes the task at the next due time.
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    /// Wraps `ws`, with `delay` each way.
    #[must_use]
    pub fn new(ws: WebSocket, delay: Delay) -> Conn {
        let now = Instant::now();
        Conn {
            ws,
            out: VecDeque::new(),
            closing: None,
            unflushed: false,
            stalled_since: None,
            line: delay.is_on().then(|| {
                Box::new(DelayLine {
                    delay,
                    out_due: VecDeque::new(),
                    held: VecDeque::new(),
                    read_done: false,
                    last_in: now,
                    last_out: now,
                    timer: Box::pin(tokio::time::sleep_until(now)),
                })
            }),
        }
    }

    /// Queues one binary message; it goes out at the next [`Conn::next`] or
    /// [`Conn::flush`]. Messages queued together go out in one write.
    pub fn queue(&mut self, bytes: Bytes) {
        if let Some(line) = self.line.as_mut() {
            line.last_out = line.delay.due(line.last_out);
            line.out_due.push_back(line.last_out);
        }
        self.out.push_back(bytes);
    }

    /// Since when the socket has refused our output, if it does now.
    #[must_use]
    pub fn stalled_since(&self) -> Option<Instant> {
        self.stalled_since
    }

    /// Whether the session may queue more: the socket takes what it is given and the
    /// queue (a latency line's) is not full.
    #[must_use]
    pub fn has_room(&self) -> bool {
        self.stalled_since.is_none() && self.out.len() < self.queue_limit()
    }

    fn queue_limit(&self) -> usize {
        if self.line.is_some() {
            DELAYED_QUEUE
        } else {
            QUEUE
        }
    }

    /// Whether a reply (a pong) may be queued: up to `max` beyond a full queue (a full
    /// queue only stays full while the socket refuses output).
    #[must_use]
    pub fn takes_reply(&self, max: usize) -> bool {
        self.out.len() < self.queue_limit() + max
    }

    /// Writes what is queued and reads: the next message from the client, or `Drained`
    /// once the connection takes output again (a stalled write went out, or a full queue
    /// emptied). A write error ends the session. Cancel-safe.
    ///
    /// # Errors
    /// The socket failing on a write.
    pub async fn next(&mut self) -> Result<Event, End> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// [`Conn::next`] as a poll, for a session that polls its sources itself.
    ///
    /// # Errors
    /// The socket failing on a write.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, End>> {
        loop {
            let had_room = self.has_room();
            let was_stalled = self.stalled_since.is_some();
            let blocked = self.poll_write(cx)?.is_pending();
            if !blocked {
                self.stalled_since = None;
            } else if !was_stalled {
                self.stalled_since = Some(Instant::now());
            }
            if let Poll::Ready(item) = self.poll_read(cx) {
                return Poll::Ready(Ok(Event::Inbound(item)));
            }
            if !had_room && self.has_room() {
                return Poll::Ready(Ok(Event::Drained));
            }
            if !self.poll_timer(cx, blocked) {
                return Poll::Pending;
            }
        }
    }

    /// Hands the due messages to the socket and flushes it: ready when all of them went
    /// out.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), End>> {
        let now = self.line.as_ref().map(|_| Instant::now());
        while !self.out.is_empty() {
            if let (Some(line), Some(now)) = (self.line.as_ref(), now)
                && line.out_due.front().is_some_and(|due| *due > now)
            {
                break;
            }
            ready!(self.ws.poll_ready_unpin(cx)).map_err(write_failed)?;
            if let Some(bytes) = self.out.pop_front() {
                if let Some(line) = self.line.as_mut() {
                    line.out_due.pop_front();
                }
                self.ws
                    .start_send_unpin(Message::Binary(bytes))
                    .map_err(write_failed)?;
                self.unflushed = true;
            }
        }
        if self.out.is_empty() && self.closing.is_some() {
            ready!(self.ws.poll_ready_unpin(cx)).map_err(write_failed)?;
            if let Some(close) = self.closing.take() {
                self.ws
                    .start_send_unpin(Message::Close(Some(close)))
                    .map_err(write_failed)?;
                self.unflushed = true;
            }
        }
        if self.unflushed {
            ready!(self.ws.poll_flush_unpin(cx)).map_err(write_failed)?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// The next message from the socket, or (with a delay) the next one due.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, axum::Error>>> {
        let Some(line) = self.line.as_mut() else {
            return self.ws.poll_next_unpin(cx);
        };
        while !line.read_done && line.held.len() < MAX_HELD {
            let Poll::Ready(item) = self.ws.poll_next_unpin(cx) else {
                break;
            };
            line.read_done = item.is_none();
            line.last_in = line.delay.due(line.last_in);
            line.held.push_back((line.last_in, item));
        }
        match line.held.front() {
            Some((due, _)) if *due <= Instant::now() => {
                Poll::Ready(line.held.pop_front().and_then(|(_, item)| item))
            }
            _ => Poll::Pending,
        }
    }

    /// With a delay: sets the timer for the next message due either way (output only
    /// while the socket takes it: `blocked` says it does not); true if that time has come
    /// already (look again).
    fn poll_timer(&mut self, cx: &mut Context<'_>, blocked: bool) -> bool {
        let Some(line) = self.line.as_mut() else {
            return false;
        };
        let next_out = if blocked {
            None
        } else {
            line.out_due.front().copied()
        };
        let next_in = line.held.front().map(|(due, _)| *due);
        let Some(at) = next_out.into_iter().chain(next_in).min() else {
            return false;
        };
        if line.timer.deadline() != at {
            line.timer.as_mut().reset(at);
        }
        line.timer.as_mut().poll(cx).is_ready()
    }

    /// Writes out everything queued (waiting for due times), without reading.
    ///
    /// # Errors
    /// The socket failing, or refusing output for `SEND_TIMEOUT`.
    pub async fn flush(&mut self) -> Result<(), End> {
        let drain = std::future::poll_fn(|cx| loop {
            let blocked = self.poll_write(cx)?.is_pending();
            if !blocked && self.out.is_empty() {
                return Poll::Ready(Ok(()));
            }
            if !self.poll_timer(cx, blocked) {
                return Poll::Pending;
            }
        });
        match tokio::time::timeout(SEND_TIMEOUT, drain).await {
            Ok(r) => r,
            Err(_) => Err(stopped_reading()),
        }
    }

    /// Says goodbye: a `Bye` with the reason, then a close frame with the matching code.
    /// Errors are ignored: the client may already be gone.
    pub async fn bye(&mut self, code: ByeCode, reason: &str) {
        let bye = encode_server(&ServerMsg::Bye {
            code,
            reason: reason.to_owned(),
        });
        self.queue(Bytes::from(bye));
        let close = CloseFrame {
            code: code.close_code(),
            reason: truncate_reason(reason).into(),
        };
        self.closing = Some(close);
        if self.flush().await.is_ok() {
            self.close().await;
        }
    }

    /// Closes the socket, after writing out what is queued.
    pub async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close()).await;
        }
    }
}

/// A failed write: the client cannot be told anything more.
fn write_failed(e: axum::Error) -> End {
    End::Io(e.to_string())
}

/// A client whose socket took none of our output for `SEND_TIMEOUT`.
#[must_use]
pub fn stopped_reading() -> End {
    End::Io("client stopped reading (write timed out)".to_owned())
}

/// A close frame's reason is limited to 123 bytes; cut on a character boundary.
fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_frames_and_garbage_end_the_session_with_a_reason() {
        let text = classify(Some(Ok(Message::Text("hi".into()))), 1024);
        assert!(matches!(text, Err(End::Bye(ByeCode::Malformed, _))));
        let junk = classify(
            Some(Ok(Message::Binary(Bytes::from_static(&[0xFF, 0xFF])))),
            1024,
        );
        assert!(matches!(junk, Err(End::Bye(ByeCode::Malformed, _))));
        let big = classify(
            Some(Ok(Message::Binary(Bytes::from(vec![0u8; 2000])))),
            1024,
        );
        assert!(matches!(big, Err(End::Bye(ByeCode::TooLarge, _))));
        assert!(matches!(classify(None, 1024), Err(End::Io(_))));
        let leave = CloseFrame {
            code: 1000,
            reason: "bye".into(),
        };
        assert_eq!(
            classify(Some(Ok(Message::Close(Some(leave)))), 1024),
            Err(End::ClientGone)
        );
        let away = CloseFrame {
            code: 1001,
            reason: "".into(),
        };
        assert!(matches!(
            classify(Some(Ok(Message::Close(Some(away)))), 1024),
            Err(End::Io(_))
        ));
        let dropped = tokio_tungstenite::tungstenite::Error::Protocol(
            tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        );
        assert!(matches!(
            classify(Some(Err(axum::Error::new(dropped))), 1024),
            Err(End::Io(_))
        ));
    }

    #[test]
    fn close_reasons_are_cut_to_the_limit_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= 123 && long.starts_with(&cut));
    }
}
