//! Tickwire's authoritative tick server, as an engine: a game implements `Game` (its
//! input, events, settings, and join / leave / input / step over a `hecs::World`) and
//! declares what it replicates in a `Replicate`; the engine runs the fixed-tick loop,
//! diffs the replicated state every tick, and pushes delta snapshots to players over
//! WebSocket, with sessions, limits, resume, metrics and the browser client included.
//!
//! `run::<MyGame>(listener, config, game_config, shutdown)` is the whole server;
//! `launch::main::<MyGame>()` is a game binary's whole `main`; tests call `run` on
//! `127.0.0.1:0`. The built-in games live in `games`, written against this same API.

pub mod admission;
pub mod app;
/// The ECS a game's world lives in (the engine's version of it).
pub use hecs;
/// The shared protocol crate: schema, encodings, ids, the snapshot model.
pub use tickwire_shared as shared;
/// Join tokens (defined in `tickwire-shared`, so clients and tools can mint them too).
pub use tickwire_shared::join_token as auth;
pub mod cli;
pub mod config;
pub mod frame;
pub mod game;
pub mod games;
pub mod guard;
pub mod handshake;
pub mod inputs;
pub mod launch;
pub mod live;
pub mod metrics;
pub mod net_ids;
pub mod replicate;
pub mod replication;
pub mod resume;
pub mod roster;
pub mod session;
pub mod sim;
pub mod thread_priority;
pub mod tick_loop;
pub mod timing;
pub mod tls;
pub mod upgrade_deadline;
pub mod web;
pub mod wire;

pub use app::{Server, ServerError, run};
pub use config::Config;
pub use game::{Ctx, Game, PlayerInfo};
pub use replicate::Replicate;
pub use sim::Sim;
