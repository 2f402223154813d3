//! Why a client operation failed: one `thiserror` enum that callers match on.

use std::time::Duration;

use thiserror::Error;
use tickwire_shared::{ApplyError, ByeCode, CodecError};
use tokio_tungstenite::tungstenite;

/// Everything that can go wrong between this client and a Tickwire server.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The URL was bad, the TCP/WebSocket handshake failed, or the socket broke.
    #[error("websocket: {0}")]
    WebSocket(#[from] Box<tungstenite::Error>),
    /// The trust for a `wss://` URL could not be set up (no system CA certificates).
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsTrustError),
    /// Something did not happen in time (connect, handshake, close).
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// How long the client waited.
        waited: Duration,
        /// What it was waiting for.
        what: &'static str,
    },
    /// The server answered `Hello` with `Bye` instead of `Welcome`.
    #[error("server refused the connection ({code:?}): {reason}")]
    Refused {
        /// The server's machine-readable reason.
        code: ByeCode,
        /// The server's human-readable reason.
        reason: String,
    },
    /// A server message could not be decoded.
    #[error("undecodable server message: {0}")]
    Decode(#[from] CodecError),
    /// The server sent something that makes no sense at this point (a text frame, a
    /// second `Welcome`, a snapshot before `Welcome`…).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A snapshot could not be applied to the mirror, or its checksum did not match:
    /// the mirror no longer equals the server's view. Reconnect to recover.
    #[error("desync: {0}")]
    Desync(#[from] ApplyError),
    /// The outgoing queue is full because the server stopped reading.
    #[error("{0} messages queued and the server is not reading")]
    Backlogged(usize),
    /// An input does not fit the game's input layout (a field it lacks, a value out of
    /// its field's range).
    #[error("input: {0}")]
    Input(String),
    /// The connection is closed (by either side); nothing more can be sent or received.
    #[error("connection closed")]
    Closed,
}

impl From<tungstenite::Error> for ClientError {
    fn from(e: tungstenite::Error) -> Self {
        ClientError::WebSocket(Box::new(e))
    }
}
