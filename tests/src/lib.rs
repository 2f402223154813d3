//! Harness for Tickwire's end-to-end tests: an in-process server on 127.0.0.1:0, the
//! real `tickwire` binary as a child process, raw WebSocket access for misbehaving
//! clients, and waiting helpers that always give up after a bounded time.
//!
//! Everything here panics on failure with a message saying what was awaited: in a test,
//! a panic is the failure report.

pub mod fake_agones;
pub mod http;
pub mod process;
pub mod raw;
pub mod recording;
pub mod redis;
pub mod server;
pub mod sse;
pub mod wait;

pub use http::http;
pub use process::{ServerProcess, example_binary, run_to_end, tickwire_binary, workspace_binary};
pub use server::{TestServer, demo_config, test_config};
pub use wait::{
    Timed, keep_reading, next_event, next_snapshot, read_until_caught_up, snapshots_of, wait_for,
    within,
};
