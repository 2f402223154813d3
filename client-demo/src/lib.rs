//! The Tickwire Rust client library: connect to a server running any game, mirror the
//! world by applying and verifying snapshots by the game's schema (acked automatically),
//! read components back typed (`client.mirror().get::<Position>(id)`), and send inputs
//! (the game's own input type, or fields by name), chat and pings.
//!
//! Tests and the load tools (`tickwire-load`: the headless bots and the soak tool) use
//! it. One `Client` is one player; it spawns no tasks, so hundreds share a runtime
//! cheaply. `wss://` URLs trust the
//! system's CA certificates, or whatever `ConnectOptions::tls` names (`TlsTrust`); a
//! server that requires join tokens takes one in `ConnectOptions::auth`
//! (`tickwire_shared::join_token::mint`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), tickwire_client::ClientError> {
//! use tickwire_client::{Client, ClientEvent, ConnectOptions};
//! let mut client = Client::connect("ws://127.0.0.1:7777/ws", ConnectOptions::new("ann")).await?;
//! let mut inputs = tokio::time::interval(std::time::Duration::from_millis(50));
//! loop {
//!     tokio::select! {
//!         _ = inputs.tick() => {
//!             // Any serde type the game's input is; or fields by name, by the schema.
//!             client.send_input_fields(&[("buttons", tickwire_shared::Value::Int(8))]).await?;
//!         }
//!         event = client.next_event() => match event? {
//!             ClientEvent::Snapshot(s) => println!("tick {}: {} entities", s.tick, client.mirror().entities().len()),
//!             ClientEvent::Closed(_) => break,
//!             _ => {}
//!         },
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod clock;
mod conn;
mod error;
mod event;
mod inbound;
mod options;
mod outbox;
mod stats;
mod tls;

pub use client::Client;
pub use error::ClientError;
pub use event::{BodyCounts, ClientEvent, CloseInfo, SnapshotEvent};
pub use options::{ConnectOptions, Mode};
pub use stats::ClientStats;
pub use tickwire_shared::Welcome;
pub use tls::{TlsTrust, TlsTrustError};
