//! Tickwire's authoritative tick server, as an engine: a game implements `Game` (its
//! input, events, settings, and join / leave / input / step over a `hecs::World`) and
//! declares what it replicates in a `Replicate`; the engine runs the fixed-tick loop,
//! diffs the replicated state every tick, and pushes delta snapshots to players over
//! WebSocket, with sessions, limits, resume, metrics and the browser client included.
//!
//! `run::<MyGame>(listener, config, game_config, shutdown)` is the whole server;
//! `launch::main::<MyGame>()` is a game binary's whole `main`; tests call `run` on
//! `127.0.0.1:0`. The built-in games live in `games`, written against this same API.

// The public API: what a game developer writes against and runs.
pub mod cli;
pub mod config;
pub mod feed;
pub mod game;
pub mod games;
pub mod launch;
pub mod record;
pub mod replay;
pub mod replicate;
pub mod rewind;
pub mod room;
pub mod rooms;
pub mod sim;

/// The ECS a game's world lives in (the engine's version of it).
pub use hecs;
/// The shared protocol crate: schema, encodings, ids, the snapshot model.
pub use tickwire_shared as shared;
/// Join tokens (defined in `tickwire-shared`, so clients and tools can mint them too).
pub use tickwire_shared::join_token as auth;

pub use app::{Server, ServerError, Stopper, run};
pub use config::{Config, ConfigError};
pub use game::{Ctx, Game, PlayerInfo};
pub use replicate::Replicate;
pub use room::{Room, RoomId};
pub use rooms::{Ask, Refusal, RoomTypes};
pub use sim::Sim;
pub use thread_priority::TickPriority;
pub use tickwire_shared::stats::RoomListing;
pub use tls::TlsError;

/// Declares engine modules that are private to the crate, except with the `fuzzing`
/// feature, which makes them public (and hidden from the docs) for the fuzz targets.
macro_rules! internal {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(feature = "fuzzing")]
            #[doc(hidden)]
            pub mod $module;
            #[cfg(not(feature = "fuzzing"))]
            mod $module;
        )*
    };
}

// What the fuzz targets drive directly: the input guard and slots, the tick's published
// output, the per-client replication, and the wire classifier.
internal!(guard, inputs, replication, tick_output, wire);

mod admission;
#[cfg(feature = "agones")]
mod agones;
mod app;
mod budget;
mod cluster;
mod feed_http;
mod handshake;
mod live;
mod metrics;
mod net_ids;
mod placement;
mod resume;
mod roster;
mod session;
mod thread_priority;
mod tick_loop;
mod tick_pool;
mod timing;
mod tls;
mod upgrade_deadline;
mod wakes;
mod web;
