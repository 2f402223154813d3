//! Tickwire's load tools, built on the client library: `bots` (hundreds of headless
//! players that connect, play and verify what they receive), `soak` (runs a server under
//! bots for minutes or hours and reports tick timing, jitter, bandwidth and memory, with
//! plots), `floor` (what moving the same bytes costs with no engine at all, measured
//! beside a Tickwire run) and `fanout` (chat broadcast to every client: deliveries per
//! second and latency). Kept apart from `tickwire-client`, so a game's client depends
//! only on what a client needs.

pub mod bots;
pub mod fanout;
pub mod floor;
pub mod rooms;
pub mod soak;

/// Sends the tools' log lines to stderr, filtered by `RUST_LOG`, so stdout carries only
/// what a tool reports (its summary, or JSON with `--json`).
pub fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}
