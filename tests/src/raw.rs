//! A bare WebSocket to the server, for clients that misbehave on purpose (wrong protocol
//! version, garbage first message), which the real client library cannot be made to do.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickwire_shared::ServerMsg;
use tickwire_shared::codec::decode_server;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::wait::within;

/// An unmanaged client socket.
pub type RawSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server did next on a raw socket.
#[derive(Debug)]
pub enum RawEvent {
    /// It sent a protocol message.
    Msg(ServerMsg),
    /// It sent a close frame (code and reason, if the frame had them).
    Close(Option<(u16, String)>),
    /// The stream ended without a close frame.
    End,
}

/// Opens a WebSocket to `url` without saying anything.
pub async fn raw_connect(url: &str) -> RawSocket {
    let (ws, _) = within(
        Duration::from_secs(5),
        "a raw WebSocket connection",
        tokio_tungstenite::connect_async(url),
    )
    .await
    .unwrap_or_else(|e| panic!("raw WebSocket connect to {url} failed: {e}"));
    ws
}

/// Sends `bytes` as one binary message.
pub async fn raw_send(ws: &mut RawSocket, bytes: Vec<u8>) {
    within(
        Duration::from_secs(5),
        "a raw send",
        ws.send(Message::Binary(bytes.into())),
    )
    .await
    .unwrap_or_else(|e| panic!("raw send failed: {e}"));
}

/// The server's next message or close, skipping control frames; panics on undecodable
/// bytes, a text message, or nothing within 5 s.
pub async fn raw_next(ws: &mut RawSocket) -> RawEvent {
    within(Duration::from_secs(5), "the server's next message", async {
        loop {
            match ws.next().await {
                None => return RawEvent::End,
                Some(Err(e)) => panic!("raw socket error: {e}"),
                Some(Ok(Message::Binary(b))) => {
                    let msg = decode_server(&b)
                        .unwrap_or_else(|e| panic!("undecodable server message: {e}"));
                    return RawEvent::Msg(msg);
                }
                Some(Ok(Message::Close(frame))) => {
                    return RawEvent::Close(
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    );
                }
                Some(Ok(Message::Text(t))) => panic!("the server sent text: {t}"),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
}
