//! The floor benchmark: what moving the arena's bytes costs with no engine at all.
//!
//! A Tickwire server does more than move bytes, but it can never cost less than moving
//! them. The floor is that cost on this machine: a server that sends every client one
//! message of the arena's mean snapshot size at the arena's rate, and reads (and drops)
//! what the clients send at their measured rate and size, on the same stack (axum's
//! WebSocket over tokio TCP, Nagle off, one task per connection, the message encoded once
//! and shared). `compare` measures a Tickwire server under bots, then the floor under the
//! traffic that run measured, in the same run, and reports the CPU ratio.

pub mod compare;
pub mod driver;
pub mod server;

pub use compare::{CompareConfig, FloorReport, Measured, Round, compare};
pub use server::Traffic;
