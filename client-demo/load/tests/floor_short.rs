//! End to end against the real binaries (build them first with
//! `cargo build --workspace --bins`): one short round of the floor benchmark measures a
//! Tickwire server under bots, then the floor server under the same traffic.

use std::path::PathBuf;
use std::time::Duration;

use tickwire_load::bots::{Behavior, FleetConfig};
use tickwire_load::floor::{CompareConfig, compare};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_round_moves_the_arenas_traffic_through_both_servers_and_measures_both() {
    let logs = std::env::temp_dir().join(format!("tickwire-floor-{}", std::process::id()));
    let config = CompareConfig {
        scenario: "arena".into(),
        server_bin: None,
        floor_bin: PathBuf::from(env!("CARGO_BIN_EXE_floor")),
        server_cpu: None,
        rounds: 1,
        fleet: FleetConfig {
            count: 20,
            duration: Duration::from_secs(9),
            behavior: Behavior::Arena,
            decode: 4,
            ramp: Duration::from_millis(500),
            ..FleetConfig::default()
        },
        log_dir: logs.clone(),
    };
    let report = compare(&config, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("the comparison could not run: {e}"));
    let _ = std::fs::remove_dir_all(&logs);

    assert_eq!(report.rounds.len(), 1, "{report:#?}");
    let round = &report.rounds[0];
    let (t, f) = (&round.tickwire, &round.floor);
    assert_eq!((t.clients, f.clients), (20, 20), "{round:#?}");
    assert_eq!(round.desyncs, 0, "{round:#?}");
    assert_eq!(round.floor_failures, 0, "{round:#?}");
    // Tickwire's arena: 30 snapshots a second (and a pong now and then) out; 20 inputs
    // and up to 30 acks a second in.
    assert!((29.0..33.0).contains(&t.traffic.out_hz), "{round:#?}");
    assert!(t.traffic.out_bytes > 100, "{round:#?}");
    assert!((20.0..55.0).contains(&t.traffic.in_hz), "{round:#?}");
    // The floor moved what Tickwire measured: the same message size, at the same rates.
    assert_eq!(f.traffic.out_bytes, t.traffic.out_bytes, "{round:#?}");
    assert!(
        (f.traffic.out_hz / t.traffic.out_hz - 1.0).abs() < 0.1,
        "{round:#?}"
    );
    assert!(
        (f.traffic.in_hz / t.traffic.in_hz - 1.0).abs() < 0.15,
        "{round:#?}"
    );
    assert!(
        (f.bytes_per_client_s / t.bytes_per_client_s - 1.0).abs() < 0.1,
        "{round:#?}"
    );
    // Both servers did measurable work, and the ratio is theirs.
    assert!(t.cpu_s_per_s > 0.0 && f.cpu_s_per_s > 0.0, "{round:#?}");
    assert!(
        (round.cpu_ratio - t.cpu_s_per_s / f.cpu_s_per_s).abs() < 1e-9,
        "{round:#?}"
    );
    assert!((report.median_cpu_ratio - round.cpu_ratio).abs() < 1e-9);
}
