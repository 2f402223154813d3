//! End to end: the client's estimate of the server's clock. Over links of 100 ms ± 20 ms
//! each way (the server's simulated latency, on both legs), a client pinging four times a
//! second knows the server's tick to within one tick, and says a view tick with its
//! inputs.

use std::time::Duration;

use tickwire_client::ClientEvent;
use tickwire_server::Config;
use tickwire_tests::{TestServer, test_config};
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_100_ms_plus_or_minus_20_the_client_knows_the_servers_tick() {
    let server = TestServer::start(Config {
        // One way: 80 ms plus up to 40 ms, i.e. 100 ms ± 20 ms, both directions.
        sim_latency_ms: 80,
        sim_jitter_ms: 40,
        ..test_config()
    })
    .await;
    let mut client = server.connect("clock").await;
    let mut pings = tokio::time::interval(Duration::from_millis(250));
    let mut pongs = 0;
    let mut errors = Vec::new();
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end {
        tokio::select! {
            _ = pings.tick() => client.ping().await.unwrap_or_else(|e| panic!("ping: {e}")),
            event = client.next_event() => {
                match event.unwrap_or_else(|e| panic!("the client failed: {e}")) {
                    ClientEvent::Pong { .. } => pongs += 1,
                    ClientEvent::Closed(why) => panic!("closed: {why:?}"),
                    _ => {}
                }
                // Once the window has filled, compare with the server's own newest tick.
                if pongs >= tickwire_shared::clock_sync::WINDOW {
                    let truth = i64::from(server.server().latest_snapshot().tick.0);
                    let estimate = client.server_tick_now().expect("pongs arrived");
                    errors.push(estimate.floor() as i64 - truth);
                }
            }
        }
    }
    let worst = errors
        .iter()
        .map(|e| e.abs())
        .max()
        .expect("compared at least once");
    let rtt = client.server_clock().min_rtt_ms().unwrap();
    println!(
        "{pongs} pongs, min rtt {rtt:.1} ms, {} comparisons, worst tick error {worst}",
        errors.len()
    );
    assert!(
        rtt >= 160.0,
        "the simulated latency applies to both legs (rtt {rtt} ms)"
    );
    assert!(errors.len() > 30, "only {} comparisons", errors.len());
    assert!(worst <= 1, "the estimate was {worst} ticks off");
    server.stop().await;
}
