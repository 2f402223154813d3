//! End to end with the real binary: SIGTERM with players connected sends each of them a
//! `Bye` and a close frame, and the process exits 0 within 2 s.

use std::time::{Duration, Instant};

use tickwire_client::{Client, ClientEvent, ConnectOptions};
use tickwire_shared::ByeCode;
use tickwire_tests::{ServerProcess, next_snapshot, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_bye_to_everyone_and_exits_zero_within_2s() {
    let mut process = ServerProcess::start(&[]);
    let url = process.url();
    let mut players = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        let mut c = Client::connect(&url, ConnectOptions::new(name))
            .await
            .unwrap_or_else(|e| panic!("{name} could not connect to the binary: {e}"));
        next_snapshot(&mut c).await;
        players.push(c);
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
