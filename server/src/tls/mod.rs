//! TLS termination in the server itself (rustls with the ring provider), for deployments
//! without a reverse proxy: `--tls-cert`/`--tls-key` turn `http`/`ws` into `https`/`wss`
//! on the same port.
//!
//! `identity` turns the PEM files into a rustls `ServerConfig`, failing with an error that
//! names the file and what is wrong with it; `listener` accepts TCP connections and runs
//! their handshakes concurrently, so `axum::serve` only ever sees finished TLS streams.

mod identity;
mod listener;

pub use identity::{TlsError, load_from_config};
pub use listener::TlsListener;
