//! Raw client connections for the attacks: a WebSocket from any loopback source address
//! (so per-IP limits can be aimed at, or avoided), with or without an Origin, with small
//! buffers (thousands of them share the test process); raw bytes written under it; and a
//! reader that records everything the server says until the connection ends.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use tickwire_shared::codec::{decode_server, encode_client};
use tickwire_shared::{
    ByeCode, ChatLine, ClientMsg, NetId, PROTOCOL_VERSION, Resume, ServerMsg, Tick, Welcome,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

/// A raw WebSocket over plain TCP.
pub type Ws = WebSocketStream<TcpStream>;

/// Hands out loopback source addresses 127.1.0.1, 127.1.0.2, …: one per attacking
/// connection, so the per-IP cap (on for loopback in this suite) only bites where an
/// attack aims at it.
pub fn fresh_ip() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    IpAddr::V4(Ipv4Addr::new(
        127,
        1 + (n >> 16) as u8,
        (n >> 8) as u8,
        n as u8,
    ))
}

/// A TCP connection to `server` from `source` (port chosen by the kernel).
pub async fn tcp_from(source: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    // Small buffers: thousands of these live at once in the test process.
    tcp_with_buffer(source, server, 16 * 1024).await
}

/// A TCP connection to `server` from `source` with a receive buffer of `rcvbuf` bytes.
pub async fn tcp_with_buffer(
    source: IpAddr,
    server: SocketAddr,
    rcvbuf: u32,
) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.set_recv_buffer_size(rcvbuf)?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a WebSocket to `server`'s `/ws` from `source`, with an Origin header if given.
pub async fn ws_from(
    source: IpAddr,
    server: SocketAddr,
    origin: Option<&str>,
) -> Result<Ws, String> {
    let stream = tcp_from(source, server)
        .await
        .map_err(|e| format!("TCP connect: {e}"))?;
    ws_over(stream, server, origin).await
}

/// Performs the WebSocket upgrade over an open TCP stream.
pub async fn ws_over(
    stream: TcpStream,
    server: SocketAddr,
    origin: Option<&str>,
) -> Result<Ws, String> {
    let mut request = format!("ws://{server}/ws")
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    if let Some(origin) = origin {
        let value = origin.parse().map_err(|e| format!("origin header: {e}"))?;
        request.headers_mut().insert("Origin", value);
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| format!("WebSocket upgrade: {e}"))?;
    Ok(ws)
}

/// A Hello with this protocol version, name, join token and resume request.
pub fn hello(name: &str, auth: Option<String>, resume: Option<Resume>) -> Vec<u8> {
    encode_client(&ClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        name: name.into(),
        resume,
        auth,
    })
}

/// Sends one binary message; false if the connection is already gone.
pub async fn send_bin(ws: &mut Ws, bytes: Vec<u8>) -> bool {
    ws.send(Message::Binary(bytes.into())).await.is_ok()
}

/// Writes `bytes` straight to the TCP stream under the WebSocket (hand-made frames).
pub async fn send_raw(ws: &mut Ws, bytes: &[u8]) -> bool {
    let tcp = ws.get_mut();
    tcp.write_all(bytes).await.is_ok() && tcp.flush().await.is_ok()
}

/// A client frame as RFC 6455 §5.2 lays it out (masked, as a client's must be) whose
/// header claims `claimed_len` payload bytes while only `payload` follows.
pub fn frame(opcode: u8, fin: bool, claimed_len: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | (opcode & 0x0F)];
    match claimed_len {
        0..=125 => out.push(0x80 | claimed_len as u8),
        126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(claimed_len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&claimed_len.to_be_bytes());
        }
    }
    let mask = [0x37, 0xFA, 0x21, 0x3D];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A whole binary frame carrying `payload`.
pub fn binary_frame(payload: &[u8]) -> Vec<u8> {
    frame(0x2, true, payload.len() as u64, payload)
}

/// How a connection ended, from the attacker's side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A close frame arrived (its code, if it had one).
    CloseFrame(Option<u16>),
    /// The stream ended without a close frame.
    Eof,
    /// The socket failed (typically reset).
    Error(String),
    /// Still open when the reader gave up.
    StillOpen,
}

/// What the server said on one connection.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The Welcome's entity, resume token and tick, if one came.
    pub welcome: Option<(NetId, String, Tick)>,
    /// Snapshots received.
    pub snapshots: usize,
    /// Payload bytes of every binary message received.
    pub bytes: usize,
    /// Chat lines received (sender's name, text).
    pub chats: Vec<(String, String)>,
    /// The Bye, if one came.
    pub bye: Option<(ByeCode, String)>,
    /// How it ended.
    pub ending: Ending,
    /// When the Bye (or else the ending) was seen, from the start of the read.
    pub after: Duration,
}

impl Seen {
    /// What to report for a connection that could not even be set up.
    pub fn failed(why: String) -> Seen {
        Seen {
            ending: Ending::Error(why),
            ..Seen::new()
        }
    }

    fn new() -> Seen {
        Seen {
            welcome: None,
            snapshots: 0,
            bytes: 0,
            chats: Vec::new(),
            bye: None,
            ending: Ending::StillOpen,
            after: Duration::ZERO,
        }
    }

    /// The close code, if a close frame carried one.
    pub fn close_code(&self) -> Option<u16> {
        match self.ending {
            Ending::CloseFrame(code) => code,
            _ => None,
        }
    }

    /// True when the server said Bye with `code` and closed with `close`.
    pub fn is_bye(&self, code: ByeCode, close: u16) -> bool {
        self.bye
            .as_ref()
            .is_some_and(|(c, r)| *c == code && !r.trim().is_empty())
            && self.close_code() == Some(close)
    }

    /// One line for the report table.
    pub fn describe(&self) -> String {
        let ending = match &self.ending {
            Ending::CloseFrame(Some(c)) => format!("close {c}"),
            Ending::CloseFrame(None) => "close (no code)".to_owned(),
            Ending::Eof => "EOF, no close frame".to_owned(),
            Ending::Error(e) => format!("socket error ({e})"),
            Ending::StillOpen => "still open".to_owned(),
        };
        match &self.bye {
            Some((code, _)) => format!("Bye {code:?} + {ending}"),
            None if self.welcome.is_some() => format!("Welcome, then {ending}"),
            None => format!("no Bye; {ending}"),
        }
    }
}

/// Reads everything the server sends until the connection ends or `limit` passes.
/// Stops early after a Welcome when `stop_at_welcome`.
pub async fn read_seen<S>(ws: &mut S, limit: Duration, stop_at_welcome: bool) -> Seen
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    read_seen_until(ws, limit, stop_at_welcome, std::future::pending()).await
}

/// `read_seen` that also stops (with what it has seen so far) when `stop` completes.
pub async fn read_seen_until<S>(
    ws: &mut S,
    limit: Duration,
    stop_at_welcome: bool,
    stop: impl Future<Output = ()>,
) -> Seen
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let start = Instant::now();
    let deadline = start + limit;
    let mut seen = Seen::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let item = tokio::select! {
            () = &mut stop => break,
            r = tokio::time::timeout_at(deadline, ws.next()) => match r {
                Err(_) => break,
                Ok(item) => item,
            },
        };
        let ending = match item {
            None => Ending::Eof,
            Some(Err(tungstenite::Error::ConnectionClosed)) => Ending::Eof,
            Some(Err(e)) => Ending::Error(e.to_string()),
            Some(Ok(Message::Close(frame))) => Ending::CloseFrame(frame.map(|f| u16::from(f.code))),
            Some(Ok(Message::Binary(bytes))) => {
                seen.bytes += bytes.len();
                match decode_server(&bytes) {
                    Ok(ServerMsg::Welcome(Welcome {
                        entity,
                        resume_token,
                        tick,
                        ..
                    })) => {
                        seen.welcome = Some((entity, resume_token, tick));
                        if stop_at_welcome {
                            seen.after = start.elapsed();
                            return seen;
                        }
                    }
                    Ok(ServerMsg::Snapshot { .. }) => seen.snapshots += 1,
                    Ok(ServerMsg::Chat(ChatLine { name, text, .. })) => {
                        seen.chats.push((name, text))
                    }
                    Ok(ServerMsg::Bye { code, reason }) => {
                        seen.after = start.elapsed();
                        seen.bye = Some((code, reason));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        seen.ending = Ending::Error(format!("undecodable server message: {e}"));
                        break;
                    }
                }
                continue;
            }
            Some(Ok(_)) => continue,
        };
        seen.ending = ending;
        if seen.bye.is_none() {
            seen.after = start.elapsed();
        }
        break;
    }
    if seen.ending == Ending::StillOpen {
        seen.after = start.elapsed();
    }
    seen
}

/// Connects from a fresh address (with a receive buffer of `rcvbuf` bytes), says Hello
/// with `token` and waits for Welcome. Returns the socket and what was seen.
pub async fn join(
    server: SocketAddr,
    name: &str,
    token: String,
    rcvbuf: u32,
) -> Result<(Ws, Seen), String> {
    let tcp = tcp_with_buffer(fresh_ip(), server, rcvbuf)
        .await
        .map_err(|e| format!("TCP connect: {e}"))?;
    let mut ws = ws_over(tcp, server, None).await?;
    if !send_bin(&mut ws, hello(name, Some(token), None)).await {
        return Err("sending Hello failed".into());
    }
    let seen = read_seen(&mut ws, Duration::from_secs(10), true).await;
    if seen.welcome.is_none() {
        return Err(format!("no Welcome: {}", seen.describe()));
    }
    Ok((ws, seen))
}

/// A welcomed raw player kept alive in the background: it pings twice a second (so the
/// idle timeout never ends it) and records everything the server says.
pub struct KeptAlive {
    /// Stops it.
    stop: CancellationToken,
    /// The task, returning what was seen.
    task: tokio::task::JoinHandle<Seen>,
}

impl KeptAlive {
    /// Starts keeping `ws` alive.
    pub fn start(ws: Ws) -> KeptAlive {
        let stop = CancellationToken::new();
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            let pinger = async {
                for i in 0u64.. {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let ping = encode_client(&ClientMsg::Ping { client_time: i });
                    if sink.send(Message::Binary(ping.into())).await.is_err() {
                        break;
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                seen = read_seen_until(&mut stream, Duration::from_secs(3600), false, s.cancelled_owned()) => seen,
                () = pinger => unreachable!("the pinger never finishes"),
            }
        });
        KeptAlive { stop, task }
    }

    /// Stops and returns what the server said meanwhile.
    pub async fn finish(self) -> Seen {
        self.stop.cancel();
        self.task
            .await
            .unwrap_or_else(|e| Seen::failed(format!("the keep-alive task failed: {e}")))
    }
}
