//! End to end: a server whose clients have a byte budget of 20 KB/s, running the arena
//! (500 wandering NPCs, full view: about 90 KB/s a client without a budget). Over real
//! sockets the client's mirror verifies every snapshot, no second of ticks carries more
//! than the budget plus one message, and the server says it held entities back.

use std::collections::BTreeMap;
use std::time::Duration;

use tickwire_client::ClientEvent;
use tickwire_server::Config;
use tickwire_server::games::arena::Arena;
use tickwire_server::games::field::FieldConfig;
use tickwire_tests::{TestServer, test_config};
use tokio::time::Instant;

const RATE: u32 = 20_000;
const HZ: u32 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arena_client_with_a_20_kb_budget_gets_no_more_and_stays_in_sync() {
    let server = TestServer::start_game::<Arena>(
        Config {
            tick_hz: HZ,
            budget_bytes_per_sec: RATE,
            ..test_config()
        },
        FieldConfig::default(),
    )
    .await;
    let mut client = server.connect("thrifty").await;
    // Bytes per server tick, as the snapshots arrived.
    let mut by_tick: BTreeMap<u32, usize> = BTreeMap::new();
    let end = Instant::now() + Duration::from_secs(6);
    while Instant::now() < end {
        let event = tokio::time::timeout(Duration::from_secs(5), client.next_event())
            .await
            .expect("a snapshot within 5 s")
            .unwrap_or_else(|e| panic!("the client failed: {e}"));
        match event {
            ClientEvent::Snapshot(s) => *by_tick.entry(s.tick.0).or_default() += s.wire_bytes,
            ClientEvent::Closed(why) => panic!("closed: {why:?}"),
            _ => {}
        }
    }
    let stats = client.stats();
    assert_eq!(stats.desyncs, 0, "every snapshot applied and verified");
    let first = *by_tick.keys().next().unwrap();
    let last = *by_tick.keys().next_back().unwrap();
    let largest = *by_tick.values().max().unwrap();
    let busiest = (first..=last.saturating_sub(HZ))
        .map(|t| by_tick.range(t..t + HZ).map(|(_, b)| b).sum::<usize>())
        .max()
        .expect("more than a second of ticks");
    let total: usize = by_tick.values().sum();
    let per_sec = total as f64 * f64::from(HZ) / f64::from(last - first + 1);
    println!(
        "{} snapshots over {} ticks, {per_sec:.0} B/s, busiest second {busiest} B, largest {largest} B",
        by_tick.len(),
        last - first + 1
    );
    assert!(
        busiest <= RATE as usize + largest,
        "a second of ticks carried {busiest} bytes"
    );
    assert!(
        per_sec >= 0.8 * f64::from(RATE),
        "the budget is used ({per_sec:.0} B/s)"
    );
    let metrics = server.server().metrics_text();
    let deferred: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tickwire_budget_deferred_entities_total "))
        .expect("the deferred-entities counter is exported")
        .parse()
        .unwrap();
    assert!(deferred > 0.0, "the budget held entities back");
    client
        .close()
        .await
        .unwrap_or_else(|e| panic!("closing: {e}"));
    server.stop().await;
}
