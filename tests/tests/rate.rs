//! End to end: snapshots arrive at the configured tick rate, counted over 10 s.
//!
//! Its own test binary, so no other test of this crate competes for the CPU while it
//! measures.

use std::time::Duration;

use tickwire_client::ClientEvent;
use tickwire_tests::{TestServer, Timed, keep_reading, next_snapshot, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_arrive_at_the_configured_tick_rate() {
    let config = test_config();
    let hz = config.tick_hz;
    let server = TestServer::start(config).await;
    let mut client = server.connect("metronome").await;
    // Let the connection settle, then count for exactly 10 s from a snapshot's arrival.
    for _ in 0..5 {
        next_snapshot(&mut client).await;
    }
    let first = next_snapshot(&mut client).await;
    let window = Duration::from_secs(10);
    let events = keep_reading(&mut client, window).await;
    let snaps = tickwire_tests::snapshots_of(&events);
    let expected = window.as_secs_f64() * f64::from(hz);
    let count = snaps.len() as f64;
    let ticks = snaps.last().map_or(0, |s| s.tick.since(first.tick)) as f64;
    let coalesced = snaps.iter().filter(|s| s.span() != Some(1)).count();
    println!(
        "{count} snapshots and {ticks} ticks in {window:?}, expected {expected}; \
         {coalesced} snapshots spanned more than one tick; {}",
        longest_silence(&events)
    );
    assert!(
        (count - expected).abs() <= expected * 0.02,
        "{count} snapshots in {window:?}, expected {expected} ± 2%"
    );
    assert!(
        (ticks - expected).abs() <= expected * 0.02,
        "the server advanced {ticks} ticks in {window:?}, expected {expected} ± 2%"
    );
    server.stop().await;
}

/// The longest wait between two snapshots, where it fell, and what came right after it.
/// If the server held its snapshots back (coalescing them), one snapshot spanning the
/// gap follows; if this client stopped reading, a burst of the snapshots the socket
/// buffered meanwhile does.
fn longest_silence(events: &[Timed]) -> String {
    let arrivals: Vec<_> = events
        .iter()
        .filter_map(|t| match &t.event {
            ClientEvent::Snapshot(s) => Some((t.at, *s)),
            _ => None,
        })
        .collect();
    let Some(start) = arrivals.first().map(|a| a.0) else {
        return "no snapshot arrived".to_owned();
    };
    let Some(i) = (1..arrivals.len()).max_by_key(|&i| arrivals[i].0 - arrivals[i - 1].0) else {
        return "one snapshot arrived".to_owned();
    };
    let (at, after) = arrivals[i];
    let burst = arrivals[i..]
        .iter()
        .take_while(|a| a.0 - at < Duration::from_millis(20))
        .count();
    let span = after
        .span()
        .map_or_else(|| "a full state".to_owned(), |n| format!("{n} tick(s)"));
    format!(
        "the longest silence was {:?}, {:?} in; the snapshot that ended it (tick {}) \
         spanned {span}, and {burst} snapshot(s) arrived within 20 ms of it",
        at - arrivals[i - 1].0,
        arrivals[i - 1].0 - start,
        after.tick,
    )
}
