//! `Client`: one player's connection to a Tickwire server — handshake, receiving and
//! mirroring snapshots (acked automatically), and sending inputs, chat and pings.

use std::time::Duration;

use tickwire_shared::{ClientMsg, InputSeq, Mirror, PROTOCOL_VERSION, Tick};

use crate::conn::{Conn, Recv};
use crate::error::ClientError;
use crate::event::ClientEvent;
use crate::inbound::Inbound;
use crate::options::{ConnectOptions, Mode};
use crate::stats::ClientStats;
use crate::welcome::Welcome;

/// How long `close` waits for the server to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected, welcomed player.
///
/// No task is spawned per client: whoever owns it drives it, typically one task per bot
/// running `select!` over a timer (to send inputs) and `next_event`. Every async method
/// is cancel-safe: dropping its future loses no message.
#[derive(Debug)]
pub struct Client {
    /// The socket and its outbox.
    conn: Conn,
    /// Decoding, mirroring and receive-side counters.
    inbound: Inbound,
    /// What the server told us when we joined.
    welcome: Welcome,
    /// The seq of the newest input sent (0 before the first).
    last_input: InputSeq,
    /// The connection has ended; every call now returns `ClientError::Closed`.
    closed: bool,
}

impl Client {
    /// Connects to `url` (`ws://host:port/ws`), says `Hello`, and returns once the
    /// server's `Welcome` arrives. A `Bye` instead is `ClientError::Refused` with the
    /// server's code and reason; taking longer than `options.timeout` is
    /// `ClientError::Timeout`.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, ClientError> {
        let waited = options.timeout;
        tokio::time::timeout(waited, Client::handshake(url, options))
            .await
            .map_err(|_| ClientError::Timeout {
                waited,
                what: "connect and Welcome",
            })?
    }

    async fn handshake(url: &str, options: ConnectOptions) -> Result<Client, ClientError> {
        let mut conn = Conn::open(url).await?;
        conn.queue(&ClientMsg::Hello {
            protocol: PROTOCOL_VERSION,
            name: options.name,
            resume: options
                .resume
                .map(|token| tickwire_shared::Resume { token, tick: None }),
            auth: options.auth,
        })?;
        conn.send_queued().await?;
        let mut inbound = Inbound::new(options.mode);
        let welcome = match conn.recv().await? {
            Recv::Binary(bytes) => inbound.on_handshake(&bytes)?,
            Recv::Closed(_) => return Err(ClientError::Closed),
        };
        Ok(Client {
            conn,
            inbound,
            welcome,
            last_input: InputSeq(0),
            closed: false,
        })
    }

    /// Waits for the next server message and returns what it means. Snapshots are
    /// applied to the mirror and verified (in `Mode::Mirror`) and acked before this
    /// returns. Queued outgoing messages are sent while waiting.
    ///
    /// Errors: `Desync` if a snapshot cannot be applied or fails its checksum (the
    /// mirror is left as it was; reconnect to recover), `Decode`/`Protocol` for bytes
    /// that make no sense, `Closed` once `ClientEvent::Closed` has been returned.
    pub async fn next_event(&mut self) -> Result<ClientEvent, ClientError> {
        if self.closed {
            return Err(ClientError::Closed);
        }
        let recv = self.conn.recv().await;
        match recv {
            Ok(Recv::Binary(bytes)) => {
                let received = self.inbound.on_message(&bytes)?;
                if let Some(tick) = received.ack {
                    self.conn.ack(tick);
                }
                Ok(received.event)
            }
            Ok(Recv::Closed(info)) => {
                self.closed = true;
                Ok(ClientEvent::Closed(info))
            }
            Err(e) => {
                self.closed = true;
                Err(e)
            }
        }
    }

    /// Sends the controls held now (`buttons::*` bits) and the aim (65536 steps per
    /// turn), stamped with the next input seq, which is returned.
    pub async fn send_input(&mut self, buttons: u8, aim: u16) -> Result<InputSeq, ClientError> {
        self.check_open()?;
        let seq = InputSeq(self.last_input.0.wrapping_add(1));
        self.conn.queue(&ClientMsg::Input { seq, buttons, aim })?;
        self.last_input = seq;
        self.conn.send_queued().await?;
        Ok(seq)
    }

    /// Sends a chat line to everyone in the arena.
    pub async fn chat(&mut self, text: impl Into<String>) -> Result<(), ClientError> {
        self.check_open()?;
        self.conn.queue(&ClientMsg::Chat { text: text.into() })?;
        self.conn.send_queued().await
    }

    /// Sends a ping; its `ClientEvent::Pong` carries the round-trip time.
    pub async fn ping(&mut self) -> Result<(), ClientError> {
        self.check_open()?;
        let client_time = self.inbound.clock().stamp();
        self.conn.queue(&ClientMsg::Ping { client_time })?;
        self.conn.send_queued().await
    }

    /// Sends `bytes` as one binary WebSocket message, exactly as given: for tests and
    /// tools that check how the server treats bad input.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.check_open()?;
        self.conn.send_raw(bytes).await
    }

    /// Closes the connection properly: sends what is queued, a close frame (1000), and
    /// waits (at most 2 s) for the server's close frame.
    pub async fn close(&mut self) -> Result<(), ClientError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        tokio::time::timeout(CLOSE_TIMEOUT, self.conn.close())
            .await
            .map_err(|_| ClientError::Timeout {
                waited: CLOSE_TIMEOUT,
                what: "the server's close frame",
            })?
    }

    fn check_open(&self) -> Result<(), ClientError> {
        if self.closed {
            Err(ClientError::Closed)
        } else {
            Ok(())
        }
    }

    /// What the server said when we joined: player id, own entity, tick rate, resume
    /// token, arena.
    #[must_use]
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The mirrored view of the world (empty in `Mode::CountOnly`).
    #[must_use]
    pub fn mirror(&self) -> &Mirror {
        self.inbound.mirror()
    }

    /// The mode this client runs in.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.inbound.mode()
    }

    /// The tick of the newest snapshot received.
    #[must_use]
    pub fn last_tick(&self) -> Option<Tick> {
        self.inbound.last_tick()
    }

    /// The seq of the newest input sent (`InputSeq(0)` before the first).
    #[must_use]
    pub fn last_input(&self) -> InputSeq {
        self.last_input
    }

    /// The newest measured round-trip time.
    #[must_use]
    pub fn rtt(&self) -> Option<Duration> {
        self.inbound.last_rtt()
    }

    /// True once the connection has ended (closed by either side, or failed).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        let mut stats = ClientStats {
            bytes_received: self.conn.bytes_received,
            bytes_sent: self.conn.bytes_sent,
            messages_received: self.conn.messages_received,
            messages_sent: self.conn.messages_sent,
            ..ClientStats::default()
        };
        self.inbound.fill_stats(&mut stats);
        stats
    }
}
