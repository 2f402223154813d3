//! The socket layer: a WebSocket plus its outbox, sending and receiving binary messages
//! in a way that is safe to cancel at any `.await` (so a bot can `select!` on it).
//!
//! Nothing is ever held inside a future: a message leaves the outbox only once the sink
//! has said it is ready, and a received message is returned in the same poll that read
//! it. Dropping a pending call loses nothing.

use std::future::{Future as _, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tickwire_shared::codec::SERVER_DECODE_LIMIT;
use tickwire_shared::{ClientMsg, InputSeq, Tick};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::ClientError;
use crate::event::CloseInfo;
use crate::outbox::{OUTBOX_LIMIT, Outbox};
use crate::stats::ClientStats;
use crate::tls::{TlsTrust, is_secure};

/// The read buffer each connection allocates up front. tungstenite's default (128 KiB)
/// would cost a fleet of a thousand bots 128 MB for nothing; bigger messages still
/// arrive whole, they just take more reads.
const READ_BUFFER: usize = 16 * 1024;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What one receive produced.
#[derive(Debug)]
pub(crate) enum Recv {
    /// A binary message's payload.
    Binary(Bytes),
    /// The connection closed: a close frame (if one came) or the end of the stream.
    Closed(Option<CloseInfo>),
}

/// A WebSocket connection to a Tickwire server.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The socket.
    ws: Ws,
    /// Messages waiting for the socket.
    outbox: Outbox,
    /// Fires when a standalone ack falls due with no input to carry it (polled while
    /// receiving, so a client that only reads still acks what it applied).
    ack_timer: Pin<Box<Sleep>>,
    /// Something was handed to the sink since the last completed flush.
    unflushed: bool,
    /// Writing failed (the peer went away); nothing more will be sent.
    write_failed: bool,
    /// Payload bytes received in binary messages.
    bytes_received: u64,
    /// Binary messages received.
    messages_received: u64,
    /// Payload bytes handed to the socket.
    bytes_sent: u64,
    /// Messages handed to the socket.
    messages_sent: u64,
}

impl Conn {
    /// Opens the TCP connection, the TLS session for `wss://` (trusting `tls`, or the
    /// system's CA certificates without it), and performs the WebSocket upgrade.
    pub(crate) async fn open(url: &str, tls: Option<&TlsTrust>) -> Result<Conn, ClientError> {
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(SERVER_DECODE_LIMIT))
            .max_frame_size(Some(SERVER_DECODE_LIMIT));
        // Nagle off: inputs and acks are tiny and latency-critical.
        let connector = if is_secure(url) {
            Some(match tls {
                Some(trust) => trust.connector(),
                None => TlsTrust::system()?.connector(),
            })
        } else {
            None
        };
        let (ws, _response) =
            tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, connector)
                .await?;
        Ok(Conn {
            ws,
            outbox: Outbox::default(),
            ack_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            unflushed: false,
            write_failed: false,
            bytes_received: 0,
            messages_received: 0,
            bytes_sent: 0,
            messages_sent: 0,
        })
    }

    /// This connection's traffic counters (the other fields stay zero).
    pub(crate) fn stats(&self) -> ClientStats {
        ClientStats {
            bytes_received: self.bytes_received,
            bytes_sent: self.bytes_sent,
            messages_received: self.messages_received,
            messages_sent: self.messages_sent,
            ..ClientStats::default()
        }
    }

    /// Queues a message; it leaves on the next `send_queued` or `recv`.
    pub(crate) fn queue(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        if self.write_failed {
            return Err(ClientError::Closed);
        }
        self.outbox
            .push(msg)
            .map_err(|_| ClientError::Backlogged(OUTBOX_LIMIT))
    }

    /// Queues an input; it leaves on the next `send_queued` or `recv`, carrying the
    /// newest applied tick as its ack.
    pub(crate) fn queue_input(
        &mut self,
        seq: InputSeq,
        data: Vec<u8>,
        view: Option<Tick>,
    ) -> Result<(), ClientError> {
        if self.write_failed {
            return Err(ClientError::Closed);
        }
        self.outbox
            .push_input(seq, data, view)
            .map_err(|_| ClientError::Backlogged(OUTBOX_LIMIT))
    }

    /// Notes that snapshot `tick` has been applied. When no input has carried an ack
    /// for a while, queues a standalone one and tries to send it right away.
    pub(crate) fn applied(&mut self, tick: Tick) {
        if self.write_failed || !self.outbox.applied(tick, Instant::now()) {
            return;
        }
        // One non-blocking attempt; if the socket is not ready, the next `recv` or
        // `send_queued` (polled with the task's real waker) finishes the job.
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Err(_)) = self.poll_send(&mut cx) {
            self.write_failed = true;
            self.outbox.clear();
        }
    }

    /// Sends everything queued and flushes it to the socket.
    pub(crate) async fn send_queued(&mut self) -> Result<(), ClientError> {
        if self.write_failed {
            return Err(ClientError::Closed);
        }
        let r = poll_fn(|cx| self.poll_send(cx)).await;
        if r.is_err() {
            self.write_failed = true;
            self.outbox.clear();
        }
        r
    }

    /// Hands queued messages to the sink while it is ready, then flushes.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        while !self.outbox.is_empty() {
            match self.ws.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            }
            let Some(bytes) = self.outbox.pop(Instant::now()) else {
                break;
            };
            self.bytes_sent += bytes.len() as u64;
            self.messages_sent += 1;
            self.ws.start_send_unpin(Message::Binary(bytes.into()))?;
            self.unflushed = true;
        }
        if self.unflushed {
            match self.ws.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Waits for the next binary message or the end of the connection, sending whatever
    /// is queued meanwhile. A write failure does not end the wait: the server's last
    /// words (`Bye`, close frame) may still be readable.
    pub(crate) async fn recv(&mut self) -> Result<Recv, ClientError> {
        poll_fn(|cx| {
            if !self.write_failed {
                self.poll_ack_timer(cx);
                if let Poll::Ready(Err(_)) = self.poll_send(cx) {
                    self.write_failed = true;
                    self.outbox.clear();
                }
            }
            self.poll_recv(cx)
        })
        .await
    }

    /// Queues the standalone ack that has fallen due, or arms the timer for when it will.
    fn poll_ack_timer(&mut self, cx: &mut Context<'_>) {
        let Some(deadline) = self.outbox.ack_deadline(Instant::now()) else {
            return;
        };
        let at = tokio::time::Instant::from_std(deadline);
        if self.ack_timer.deadline() != at {
            self.ack_timer.as_mut().reset(at);
        }
        if self.ack_timer.as_mut().poll(cx).is_ready() {
            // The timer has fired, so the deadline has come, whatever the clocks' rounding.
            self.outbox.ack_if_due(Instant::now().max(deadline));
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Recv, ClientError>> {
        loop {
            let msg = match self.ws.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(Recv::Closed(None))),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e.into())),
                Poll::Ready(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Binary(bytes) => {
                    self.messages_received += 1;
                    self.bytes_received += bytes.len() as u64;
                    return Poll::Ready(Ok(Recv::Binary(bytes)));
                }
                Message::Close(frame) => {
                    // tungstenite has queued the close reply; push it out now if it can go.
                    let _ = self.ws.poll_flush_unpin(cx);
                    let info = frame.map(|f| CloseInfo {
                        code: u16::from(f.code),
                        reason: f.reason.to_string(),
                    });
                    return Poll::Ready(Ok(Recv::Closed(info)));
                }
                Message::Text(_) => {
                    return Poll::Ready(Err(ClientError::Protocol(
                        "the server sent a text message".into(),
                    )));
                }
                // Pings are answered by tungstenite itself; pongs and raw frames carry
                // nothing for us.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Sends `bytes` as one binary message, unchecked (for tests of the server's
    /// handling of bad input).
    pub(crate) async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.send_queued().await?;
        self.bytes_sent += bytes.len() as u64;
        self.messages_sent += 1;
        let r = self.ws.send(Message::Binary(bytes.into())).await;
        r.map_err(ClientError::from)
    }

    /// Sends what is queued, a close frame (1000), and waits for the server's close.
    pub(crate) async fn close(&mut self) -> Result<(), ClientError> {
        if !self.write_failed {
            let _ = self.send_queued().await;
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "client closing".into(),
            };
            match self.ws.send(Message::Close(Some(frame))).await {
                Ok(()) => {}
                // The server closed first; tungstenite already answered it.
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {}
                Err(e) => return Err(e.into()),
            }
            self.write_failed = true;
        }
        // Read until the server's close frame ends the stream.
        while let Some(msg) = self.ws.next().await {
            if msg.is_err() {
                break;
            }
        }
        Ok(())
    }
}
