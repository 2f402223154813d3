//! `Client`: one player's connection to a Tickwire server — handshake, receiving and
//! mirroring snapshots (acked automatically), sending inputs, chat and pings, and
//! reconnecting with the resume token after a drop.

use std::time::Duration;

use serde::Serialize;
use tickwire_shared::codec::encode_value;
use tickwire_shared::layout::{Value, encode_fields};
use tickwire_shared::{ClientMsg, InputSeq, Mirror, PROTOCOL_VERSION, Resume, ServerClock, Tick};

use crate::conn::{Conn, Recv};
use crate::error::ClientError;
use crate::event::ClientEvent;
use crate::inbound::Inbound;
use crate::options::{ConnectOptions, Mode};
use crate::stats::ClientStats;
use tickwire_shared::Welcome;

/// How long `close` waits for the server to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected, welcomed player.
///
/// No task is spawned per client: whoever owns it drives it, typically one task per bot
/// running `select!` over a timer (to send inputs) and `next_event`. Every async method
/// is cancel-safe: dropping its future loses no message.
#[derive(Debug)]
pub struct Client {
    /// The socket and its outbox; `None` once the connection has ended (every call
    /// then returns `ClientError::Closed` until `reconnect`).
    conn: Option<Conn>,
    /// Decoding, mirroring and receive-side counters.
    inbound: Inbound,
    /// What the server told us when we (last) joined.
    welcome: Welcome,
    /// The seq of the newest input sent (0 before the first).
    last_input: InputSeq,
    /// Where we connected, for `reconnect`.
    url: String,
    /// How we connected (name, auth, mode, timeout), for `reconnect`.
    options: ConnectOptions,
    /// Traffic counters of earlier connections of this client (before `reconnect`).
    carried: ClientStats,
    /// The tick the player is looking at, as set by `set_view_tick`; `None` means the
    /// newest snapshot applied (a client that draws snapshots as they come).
    view_tick: Option<Tick>,
}

impl Client {
    /// Connects to `url` (`ws://host:port/ws`), says `Hello`, and returns once the
    /// server's `Welcome` arrives. A `Bye` instead is `ClientError::Refused` with the
    /// server's code and reason; taking longer than `options.timeout` is
    /// `ClientError::Timeout`.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, ClientError> {
        let mut inbound = Inbound::new(options.mode);
        let resume = options
            .resume
            .clone()
            .map(|token| Resume { token, tick: None });
        let (conn, welcome) = handshake(url, &options, resume, &mut inbound).await?;
        Ok(Client {
            conn: Some(conn),
            inbound,
            welcome,
            last_input: InputSeq(0),
            url: url.to_owned(),
            options: ConnectOptions {
                resume: None,
                ..options
            },
            carried: ClientStats::default(),
            view_tick: None,
        })
    }

    /// Connects again after the connection dropped (or drops it first if it is still
    /// up), asking to take this player back with the last `Welcome`'s resume token and
    /// the tick the mirror holds, so the server can continue with a delta. The mirror,
    /// input seqs and counters carry over. If the server no longer knows the player it
    /// welcomes a new one: `welcome()` then names a new player and the mirror starts
    /// afresh. On error the client stays closed and `reconnect` may be tried again.
    pub async fn reconnect(&mut self) -> Result<(), ClientError> {
        self.abort();
        let resume = Resume {
            token: self.welcome.resume_token.clone(),
            tick: self.inbound.mirror().tick(),
        };
        let (conn, welcome) =
            handshake(&self.url, &self.options, Some(resume), &mut self.inbound).await?;
        if welcome.player != self.welcome.player {
            self.inbound.forget_world();
        }
        self.conn = Some(conn);
        self.welcome = welcome;
        Ok(())
    }

    /// Drops the connection at once, without a close frame, as a network failure
    /// would (the server keeps the player for a while, for `reconnect`). For tests and
    /// bots that simulate drops; use `close` to leave properly.
    pub fn abort(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.retire(&conn);
        }
    }

    /// Adds a finished connection's traffic counters to the carried totals.
    fn retire(&mut self, conn: &Conn) {
        self.carried += conn.stats();
    }

    /// Waits for the next server message and returns what it means. Snapshots are
    /// applied to the mirror and verified (in `Mode::Mirror`) and acked before this
    /// returns. Queued outgoing messages are sent while waiting.
    ///
    /// Errors: `Desync` if a snapshot cannot be applied or fails its checksum (the
    /// mirror is left as it was; reconnect to recover), `Decode`/`Protocol` for bytes
    /// that make no sense, `Closed` once `ClientEvent::Closed` has been returned.
    pub async fn next_event(&mut self) -> Result<ClientEvent, ClientError> {
        let conn = self.conn.as_mut().ok_or(ClientError::Closed)?;
        match conn.recv().await {
            Ok(Recv::Binary(bytes)) => {
                let received = self.inbound.on_message(&bytes)?;
                if let Some(tick) = received.ack {
                    conn.applied(tick);
                }
                Ok(received.event)
            }
            Ok(Recv::Closed(info)) => {
                self.abort();
                Ok(ClientEvent::Closed(info))
            }
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// Sends the game's input (its own input type, the one the server's game declares),
    /// stamped with the next input seq, which is returned.
    pub async fn send_input<I: Serialize>(&mut self, input: &I) -> Result<InputSeq, ClientError> {
        self.send_input_bytes(encode_value(input)).await
    }

    /// Sends an input by the schema's input layout, field by field by name: fields not
    /// named are sent as zero (false, an empty string). For tools that play any game
    /// without its Rust types. A name the layout lacks, or a value that does not fit its
    /// field, is `ClientError::Input`.
    pub async fn send_input_fields(
        &mut self,
        fields: &[(&str, Value)],
    ) -> Result<InputSeq, ClientError> {
        let layout = &self.welcome.schema.def().input;
        if let Some((name, _)) = fields
            .iter()
            .find(|(n, _)| !layout.iter().any(|f| f.name == *n))
        {
            return Err(ClientError::Input(format!(
                "the game's input has no field {name:?}"
            )));
        }
        let values: Vec<Value> = layout
            .iter()
            .map(|f| {
                fields
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map_or_else(|| zero(f.prim), |(_, v)| v.clone())
            })
            .collect();
        let bytes =
            encode_fields(layout, &values).map_err(|e| ClientError::Input(e.to_string()))?;
        self.send_input_bytes(bytes).await
    }

    /// Sends an already-encoded input.
    async fn send_input_bytes(&mut self, data: Vec<u8>) -> Result<InputSeq, ClientError> {
        let conn = self.conn.as_mut().ok_or(ClientError::Closed)?;
        let seq = InputSeq(self.last_input.0.wrapping_add(1));
        let view = self.view_tick.or(self.inbound.last_tick());
        conn.queue_input(seq, data, view)?;
        self.last_input = seq;
        conn.send_queued().await?;
        Ok(seq)
    }

    /// Sends a chat line to everyone in the arena.
    pub async fn chat(&mut self, text: impl Into<String>) -> Result<(), ClientError> {
        let conn = self.conn.as_mut().ok_or(ClientError::Closed)?;
        conn.queue(&ClientMsg::Chat { text: text.into() })?;
        conn.send_queued().await
    }

    /// Sends a ping; its `ClientEvent::Pong` carries the round-trip time.
    pub async fn ping(&mut self) -> Result<(), ClientError> {
        let conn = self.conn.as_mut().ok_or(ClientError::Closed)?;
        conn.queue(&ClientMsg::Ping {
            client_time: self.inbound.clock().stamp(),
        })?;
        conn.send_queued().await
    }

    /// Sends `bytes` as one binary WebSocket message, exactly as given: for tests and
    /// tools that check how the server treats bad input.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        let conn = self.conn.as_mut().ok_or(ClientError::Closed)?;
        conn.send_raw(bytes).await
    }

    /// Closes the connection properly: sends what is queued, a close frame (1000), and
    /// waits (at most 2 s) for the server's close frame.
    pub async fn close(&mut self) -> Result<(), ClientError> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let closed = tokio::time::timeout(CLOSE_TIMEOUT, conn.close()).await;
        self.retire(&conn);
        closed.map_err(|_| ClientError::Timeout {
            waited: CLOSE_TIMEOUT,
            what: "the server's close frame",
        })?
    }

    /// What the server said when we joined: player id, own entity, tick rate, resume
    /// token, the game's schema.
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

    /// The estimated server clock, from this connection's pongs (ping a few times a
    /// second to keep it fresh; see `tickwire_shared::clock_sync`).
    #[must_use]
    pub fn server_clock(&self) -> &ServerClock {
        self.inbound.server_clock()
    }

    /// The server's tick now, as estimated from the pongs (fractional; its whole part
    /// is the newest tick the server has published). `None` before the first pong.
    #[must_use]
    pub fn server_tick_now(&self) -> Option<f64> {
        self.inbound.server_tick_now()
    }

    /// Says which tick the player is looking at, for the inputs sent from now on (the
    /// server's lag compensation judges their shots against that tick). A client that
    /// interpolates draws others behind the newest snapshot and should say so; `None`
    /// (the default) sends the newest snapshot applied.
    pub fn set_view_tick(&mut self, tick: Option<Tick>) {
        self.view_tick = tick;
    }

    /// True once the connection has ended (closed by either side, failed, or
    /// aborted), until a successful `reconnect`.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.conn.is_none()
    }

    /// The counters so far, over every connection of this client.
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        let mut stats = self.carried;
        if let Some(conn) = &self.conn {
            stats += conn.stats();
        }
        self.inbound.fill_stats(&mut stats);
        stats
    }
}

/// Opens a connection, says `Hello` (resuming if asked) and waits for `Welcome`, all
/// within `options.timeout`.
async fn handshake(
    url: &str,
    options: &ConnectOptions,
    resume: Option<Resume>,
    inbound: &mut Inbound,
) -> Result<(Conn, Welcome), ClientError> {
    let waited = options.timeout;
    let hello = ClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        name: options.name.clone(),
        resume,
        auth: options.auth.clone(),
    };
    let exchange = async {
        let mut conn = Conn::open(url, options.tls.as_ref()).await?;
        conn.queue(&hello)?;
        conn.send_queued().await?;
        let welcome = match conn.recv().await? {
            Recv::Binary(bytes) => inbound.on_handshake(&bytes)?,
            Recv::Closed(_) => return Err(ClientError::Closed),
        };
        Ok((conn, welcome))
    };
    tokio::time::timeout(waited, exchange)
        .await
        .map_err(|_| ClientError::Timeout {
            waited,
            what: "connect and Welcome",
        })?
}

/// The zero value of a layout field.
fn zero(prim: tickwire_shared::Prim) -> Value {
    use tickwire_shared::Prim;
    match prim {
        Prim::Bool => Value::Bool(false),
        Prim::F32 => Value::F32(0.0),
        Prim::Str => Value::Str(String::new()),
        _ => Value::Int(0),
    }
}
