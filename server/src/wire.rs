//! The socket ends of a session: reading client messages (with size and type checks) and
//! writing server messages, optionally through a delay line that simulates network
//! latency and jitter for testing netcode by hand.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tickwire_shared::codec::{decode_client, encode_server};
use tickwire_shared::{ByeCode, ClientMsg, ServerMsg};
use tokio::sync::mpsc;
use tokio::time::Instant;

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

/// The receiving end of a session.
pub enum Inbox {
    /// Straight from the socket.
    Direct(SplitStream<WebSocket>),
    /// Through a delay line (a task reads the socket and forwards with due times).
    Delayed {
        /// Messages with their due times.
        rx: mpsc::Receiver<(Instant, Option<Result<Message, axum::Error>>)>,
        /// A message received but not yet due; kept here so a cancelled `next` loses
        /// nothing.
        pending: Option<(Instant, Option<Result<Message, axum::Error>>)>,
    },
}

impl Inbox {
    /// Wraps `stream`, through a delay line if `delay` is on.
    pub fn new(mut stream: SplitStream<WebSocket>, delay: Delay) -> Inbox {
        if !delay.is_on() {
            return Inbox::Direct(stream);
        }
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut last = Instant::now();
            loop {
                let item = stream.next().await;
                let done = item.is_none();
                last = delay.due(last);
                if tx.send((last, item)).await.is_err() || done {
                    break;
                }
            }
        });
        Inbox::Delayed { rx, pending: None }
    }

    /// The next message from the client. Cancel-safe.
    pub async fn next(&mut self) -> Option<Result<Message, axum::Error>> {
        match self {
            Inbox::Direct(stream) => stream.next().await,
            Inbox::Delayed { rx, pending } => {
                if pending.is_none() {
                    *pending = Some(rx.recv().await.unwrap_or((Instant::now(), None)));
                }
                if let Some((due, _)) = pending {
                    tokio::time::sleep_until(*due).await;
                }
                pending.take().and_then(|(_, item)| item)
            }
        }
    }
}

/// The sending end of a session.
pub enum Outbox {
    /// Straight to the socket.
    Direct(SplitSink<WebSocket, Message>),
    /// Through a delay line.
    Delayed {
        /// Messages with their due times; a task writes them to the socket.
        tx: mpsc::Sender<(Instant, Message)>,
        /// The due time of the last message queued (keeps order under jitter).
        last: Instant,
        /// The simulated delay.
        delay: Delay,
    },
}

/// Longest a single write may take before the client is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

impl Outbox {
    /// Wraps `sink`, through a delay line if `delay` is on.
    pub fn new(mut sink: SplitSink<WebSocket, Message>, delay: Delay) -> Outbox {
        if !delay.is_on() {
            return Outbox::Direct(sink);
        }
        let (tx, mut rx) = mpsc::channel::<(Instant, Message)>(1024);
        tokio::spawn(async move {
            while let Some((due, msg)) = rx.recv().await {
                tokio::time::sleep_until(due).await;
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        Outbox::Delayed {
            tx,
            last: Instant::now(),
            delay,
        }
    }

    /// Writes one binary message and flushes it to the socket.
    pub async fn send(&mut self, bytes: Bytes) -> Result<(), End> {
        self.send_message(Message::Binary(bytes)).await
    }

    /// Queues one binary message without flushing: messages fed together go out in one
    /// write at the next `flush` (or when the socket's write buffer fills).
    pub async fn feed(&mut self, bytes: Bytes) -> Result<(), End> {
        match self {
            Outbox::Direct(sink) => timed(sink.feed(Message::Binary(bytes))).await,
            Outbox::Delayed { .. } => self.send(bytes).await,
        }
    }

    /// Writes out everything fed so far.
    pub async fn flush(&mut self) -> Result<(), End> {
        match self {
            Outbox::Direct(sink) => timed(sink.flush()).await,
            // The delay line's task writes each message when it is due.
            Outbox::Delayed { .. } => Ok(()),
        }
    }

    async fn send_message(&mut self, msg: Message) -> Result<(), End> {
        match self {
            Outbox::Direct(sink) => timed(sink.send(msg)).await,
            Outbox::Delayed { tx, last, delay } => {
                *last = delay.due(*last);
                tx.send((*last, msg))
                    .await
                    .map_err(|_| End::Io("delay line closed".to_owned()))
            }
        }
    }

    /// Says goodbye: a `Bye` with the reason, then a close frame with the matching code.
    /// Errors are ignored: the client may already be gone.
    pub async fn bye(&mut self, code: ByeCode, reason: &str) {
        let bye = encode_server(&ServerMsg::Bye {
            code,
            reason: reason.to_owned(),
        });
        let _ = self.send(Bytes::from(bye)).await;
        let close = CloseFrame {
            code: code.close_code(),
            reason: truncate_reason(reason).into(),
        };
        let _ = self.send_message(Message::Close(Some(close))).await;
        self.close().await;
    }

    /// Closes the socket (after the delay line drains, if any).
    pub async fn close(&mut self) {
        if let Outbox::Direct(sink) = self {
            let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
        }
    }
}

/// Runs one socket write, failing the session if it errors or takes longer than
/// `SEND_TIMEOUT`.
async fn timed(write: impl Future<Output = Result<(), axum::Error>>) -> Result<(), End> {
    match tokio::time::timeout(SEND_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Io(e.to_string())),
        Err(_) => Err(End::Io(
            "client stopped reading (write timed out)".to_owned(),
        )),
    }
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
