//! Tickwire's authoritative tick server: a fixed-tick game loop over a hecs world that
//! diffs state every tick and pushes delta snapshots to players over WebSocket.
//!
//! `run(listener, config, shutdown)` is the whole server; the `tickwire` binary only
//! parses flags and calls it, and tests call it on `127.0.0.1:0`.

pub mod admission;
pub mod app;
/// Join tokens (defined in `tickwire-shared`, so clients and tools can mint them too).
pub use tickwire_shared::join_token as auth;
pub mod cli;
pub mod config;
pub mod frame;
pub mod game;
pub mod guard;
pub mod lobby;
pub mod metrics;
pub mod net_ids;
pub mod priority;
pub mod process_stats;
pub mod replication;
pub mod resume;
pub mod session;
pub mod tick_loop;
pub mod timing;
pub mod tls;
pub mod upgrade_deadline;
pub mod web;
pub mod wire;

pub use app::{Server, ServerError, run};
pub use config::{Config, Scenario};
