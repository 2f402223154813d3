//! Headless bots: a fleet of `Client`s on one tokio runtime that play a behavior, measure
//! snapshot rates, gaps, RTT, bandwidth and desyncs, and report a summary.
//!
//! The `bots` binary and the soak tool both drive a fleet through `fleet::run`.

pub mod args;
pub mod behavior;
pub mod bot;
pub mod fleet;
pub mod live;
pub mod progress;
pub mod runtime;
pub mod summary;
pub mod tally;

pub use args::{AccessArgs, PlayArgs};
pub use behavior::Behavior;
pub use fleet::FleetConfig;
pub use live::{Live, LiveSnapshot};
pub use summary::{BotsSummary, Quantiles, RateSpread};
