//! The floor server: a tick that hands one shared message to every connection, and
//! connections that send it and drop whatever they read.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use rand::RngCore as _;
use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// What the floor moves, per client.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Messages the server sends each client per second.
    pub out_hz: f64,
    /// Size of each of them.
    pub out_bytes: usize,
    /// Messages each client sends per second.
    pub in_hz: f64,
    /// Size of each of them.
    pub in_bytes: usize,
}

/// Messages a slow connection may fall behind by before it skips ahead (as a Tickwire
/// session's send window would stop it).
const LAG: usize = 16;

/// Serves the floor on `listener` until `shutdown`: `/ws` upgrades to a connection that
/// receives `out_bytes`-byte messages at `out_hz`.
///
/// # Errors
/// The listener failing.
pub async fn serve(
    listener: TcpListener,
    traffic: Traffic,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (tx, _) = broadcast::channel::<Bytes>(LAG);
    tokio::spawn(tick(tx.clone(), traffic, shutdown.clone()));
    let app = Router::new().route("/ws", get(upgrade)).with_state(tx);
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Publishes one message (random bytes, made once) every `1 / out_hz` seconds.
async fn tick(tx: broadcast::Sender<Bytes>, traffic: Traffic, shutdown: CancellationToken) {
    let mut body = vec![0u8; traffic.out_bytes];
    SmallRng::seed_from_u64(7).fill_bytes(&mut body);
    let message = Bytes::from(body);
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / traffic.out_hz.max(0.1)));
    every.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = every.tick() => {
                // No connection yet is not an error.
                let _ = tx.send(message.clone());
            }
            () = shutdown.cancelled() => return,
        }
    }
}

/// Each connection's read buffer: what a Tickwire server gives its sessions (clients'
/// messages are small). tungstenite's default, 128 KiB, costs a page-faulting allocation
/// per connection and makes the floor dearer than the engine it is the floor of.
const READ_BUFFER_BYTES: usize = 4 * 1024;

async fn upgrade(ws: WebSocketUpgrade, State(tx): State<broadcast::Sender<Bytes>>) -> Response {
    let rx = tx.subscribe();
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(socket, rx))
}

/// One connection: sends every published message, reads and drops what comes in.
async fn connection(mut socket: WebSocket, mut rx: broadcast::Receiver<Bytes>) {
    loop {
        tokio::select! {
            published = rx.recv() => match published {
                Ok(message) => {
                    if socket.send(Message::Binary(message)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            inbound = socket.recv() => match inbound {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
