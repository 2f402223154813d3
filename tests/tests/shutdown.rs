//! End to end with the real binary: SIGTERM with players connected sends each of them a
//! `Bye` and a close frame, and the process exits 0 within 2 s. With `--drain-secs` it
//! drains instead: no new players or seats, `/healthz` says so, the players on play on,
//! and it stops at the deadline, or as soon as the last of them leaves.

use std::time::{Duration, Instant};

use tickwire_client::{Client, ClientError, ClientEvent, ConnectOptions};
use tickwire_shared::ByeCode;
use tickwire_tests::{ServerProcess, http, keep_reading, next_snapshot, snapshots_of, wait_for};

/// Connects `name` to `url` and waits for its first snapshot.
async fn player(url: &str, name: &str) -> Client {
    let mut c = Client::connect(url, ConnectOptions::new(name))
        .await
        .unwrap_or_else(|e| panic!("{name} could not connect to the binary: {e}"));
    next_snapshot(&mut c).await;
    c
}

/// The status code of an HTTP answer.
fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

/// Waits (off the runtime) for the process to exit within `limit`; its exit status.
async fn exit_within(mut process: ServerProcess, limit: Duration) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || process.wait_exit(limit))
        .await
        .unwrap_or_else(|e| panic!("the wait task failed: {e}"))
        .unwrap_or_else(|| panic!("tickwire still running {limit:?} later"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_bye_to_everyone_and_exits_zero_within_2s() {
    let mut process = ServerProcess::start(&[]);
    let url = process.url();
    let mut players = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        players.push(player(&url, name).await);
    }

    let signalled = Instant::now();
    process.sigterm();
    let byes = players.iter_mut().map(|c: &mut Client| async move {
        let bye = wait_for(c, Duration::from_secs(2), "Bye after SIGTERM", |_, e| {
            matches!(e, ClientEvent::Bye { .. })
        })
        .await;
        let close = tickwire_tests::next_event(c).await;
        (bye, close)
    });
    for (bye, close) in futures_util::future::join_all(byes).await {
        match bye {
            ClientEvent::Bye { code, reason } => {
                assert_eq!(code, ByeCode::ServerShutdown, "reason {reason:?}");
                assert!(!reason.trim().is_empty());
            }
            other => panic!("expected Bye, got {other:?}"),
        }
        match close {
            ClientEvent::Closed(Some(info)) => assert_eq!(info.code, 1001, "{info:?}"),
            other => panic!("expected a close frame after Bye, got {other:?}"),
        }
    }
    let left = Duration::from_secs(2).saturating_sub(signalled.elapsed());
    let status = tokio::task::spawn_blocking(move || (process.wait_exit(left), process))
        .await
        .unwrap_or_else(|e| panic!("the wait task failed: {e}"));
    match status.0 {
        Some(s) => assert!(s.success(), "tickwire exited with {s}"),
        None => panic!("tickwire still running 2 s after SIGTERM"),
    }
    println!("exited {:?} after SIGTERM", signalled.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_server_takes_nobody_new_keeps_its_players_and_stops_at_the_deadline() {
    const DRAIN: Duration = Duration::from_secs(3);
    let process = ServerProcess::start(&["--drain-secs", "3"]);
    let (url, addr) = (process.url(), process.addr());
    let mut ann = player(&url, "ann").await;
    assert_eq!(status(&http(addr, "GET", "/healthz", "").await), 200);

    let signalled = Instant::now();
    process.sigterm();
    tickwire_tests::wait::eventually(
        Duration::from_secs(2),
        "/healthz saying draining",
        || async {
            let answer = http(addr, "GET", "/healthz", "").await;
            status(&answer) == 503 && answer.contains("draining")
        },
    )
    .await;
    // Nobody new: alone, a join is told the server is going away; a seat is refused.
    match Client::connect(&url, ConnectOptions::new("bob")).await {
        Err(ClientError::Refused { code, reason }) => {
            assert_eq!(code, ByeCode::ServerShutdown, "{reason}");
            assert!(reason.contains("takes no new players"), "{reason}");
        }
        other => panic!(
            "a newcomer to a draining server: {:?}",
            other.map(|_| "welcomed")
        ),
    }
    let seat = http(addr, "POST", "/matchmake", "").await;
    assert_eq!(status(&seat), 503, "{seat}");

    // The player on plays on, at the full tick rate, until the deadline.
    let events = keep_reading(&mut ann, Duration::from_secs(1)).await;
    let snapshots = snapshots_of(&events).len();
    assert!(
        snapshots >= 20,
        "{snapshots} snapshots in the draining second"
    );
    let bye = wait_for(
        &mut ann,
        DRAIN + Duration::from_secs(2),
        "Bye at the drain deadline",
        |_, e| matches!(e, ClientEvent::Bye { .. }),
    )
    .await;
    let at = signalled.elapsed();
    match bye {
        // Alone, there is no other server to go to.
        ClientEvent::Bye { code, reason } => assert_eq!(code, ByeCode::ServerShutdown, "{reason}"),
        other => panic!("expected Bye, got {other:?}"),
    }
    assert!(
        at >= DRAIN - Duration::from_millis(200),
        "the goodbye came {at:?} after SIGTERM, before the {DRAIN:?} deadline"
    );
    let exited = exit_within(process, Duration::from_secs(3)).await;
    assert!(exited.success(), "tickwire exited with {exited}");
    println!("drained to its deadline: goodbye {at:?} after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_server_stops_once_its_last_player_leaves_and_frees_reserved_seats() {
    let process = ServerProcess::start(&["--drain-secs", "60"]);
    let (url, addr) = (process.url(), process.addr());
    let mut ann = player(&url, "ann").await;
    // A seat reserved and never claimed must not hold the drain up.
    let seat = http(addr, "POST", "/matchmake", "").await;
    assert_eq!(status(&seat), 200, "{seat}");

    process.sigterm();
    tickwire_tests::wait::eventually(
        Duration::from_secs(2),
        "/healthz saying draining",
        || async { status(&http(addr, "GET", "/healthz", "").await) == 503 },
    )
    .await;
    let rooms = http(addr, "GET", "/rooms", "").await;
    assert!(
        rooms.contains("\"players\":1"),
        "the reserved seat is freed: {rooms}"
    );
    let left = Instant::now();
    ann.close()
        .await
        .unwrap_or_else(|e| panic!("ann could not leave: {e}"));
    let exited = exit_within(process, Duration::from_secs(5)).await;
    assert!(exited.success(), "tickwire exited with {exited}");
    println!("stopped {:?} after the last player left", left.elapsed());
}
