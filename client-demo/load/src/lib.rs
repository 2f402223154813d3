//! Tickwire's load tools, built on the client library: `bots` (hundreds of headless
//! players that connect, play and verify what they receive) and `soak` (runs a server
//! under bots for minutes or hours and reports tick timing, jitter, bandwidth and memory,
//! with plots). Kept apart from `tickwire-client`, so a game's client depends only on
//! what a client needs.

pub mod bots;
pub mod soak;
