//! Scale-out end to end: a real redis-server and three `tickwire` processes sharing it
//! as their room directory; 300 bots matchmade through one process's `POST /matchmake`.
//! They land on all three, balanced, each on the process that holds its room; a
//! `kill -9` of one takes its rooms out of the directory within the TTL and its bots
//! land on the others; a SIGTERM drains another, whose bots are told to relocate and
//! land on the last. Nobody else is disconnected at any point.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickwire_load::bots::{Behavior, FleetConfig, Live, fleet};
use tickwire_load::rooms::Matchmaker;
use tickwire_shared::stats::{NodeListing, RoomListing};
use tickwire_tests::ServerProcess;
use tickwire_tests::http;
use tickwire_tests::redis::RedisServer;
use tokio_util::sync::CancellationToken;

/// The directory's TTL the processes run with, seconds.
const TTL_SECS: u64 = 3;

/// How long a draining process lets its rooms go on, seconds.
const DRAIN_SECS: u64 = 3;

const BOTS: usize = 300;

/// The JSON body of `GET path` on `addr`.
async fn get_json<T: serde::de::DeserializeOwned>(addr: SocketAddr, path: &str) -> T {
    let answer = http(addr, "GET", path, "").await;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no body in {answer:?}"));
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Seated players over every room of the process at `addr`.
async fn players(addr: SocketAddr) -> usize {
    let rooms: Vec<RoomListing> = get_json(addr, "/rooms").await;
    rooms.iter().map(|r| r.players).sum()
}

/// Polls `check` every 100 ms until it holds, for at most `limit`; how long it took.
async fn until<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start_node(redis: &RedisServer) -> ServerProcess {
    ServerProcess::start(&[
        "--redis-url",
        &redis.url(),
        "--directory-ttl-secs",
        &TTL_SECS.to_string(),
        "--drain-secs",
        &DRAIN_SECS.to_string(),
        "--room-players",
        "10",
        "--room-grace-secs",
        "2",
        "--tick-threads",
        "1",
        "--tick-priority",
        "normal",
        "--log-summary-secs",
        "0",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_the_players_survive_a_kill_and_drain_on_sigterm() {
    let redis = RedisServer::start();
    let (mut a, mut b, mut c) = (start_node(&redis), start_node(&redis), start_node(&redis));
    let front = a.addr();
    until(
        Duration::from_secs(10),
        "three processes in the directory",
        || async { get_json::<Vec<NodeListing>>(front, "/cluster").await.len() == 3 },
    )
    .await;
    let nodes: Vec<NodeListing> = get_json(front, "/cluster").await;
    let node_of = |addr: SocketAddr| {
        nodes
            .iter()
            .find(|n| n.url == format!("http://{addr}"))
            .unwrap_or_else(|| panic!("no directory entry lists {addr}: {nodes:?}"))
            .node
            .clone()
    };
    let (node_b, node_c) = (node_of(b.addr()), node_of(c.addr()));

    // 300 bots, every one matchmade through the first process.
    let matchmaker = Matchmaker::new(&[format!("http://{front}")], None, None, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let config = FleetConfig {
        url: a.url(),
        count: BOTS,
        duration: Duration::from_secs(90),
        behavior: Behavior::Wander,
        decode: 5,
        ramp: Duration::from_secs(3),
        matchmaker: Some(matchmaker),
        ..FleetConfig::default()
    };
    let live = Arc::new(Live::default());
    let stop = CancellationToken::new();
    let fleet = tokio::spawn({
        let (live, stop) = (live.clone(), stop.clone());
        async move { fleet::run(&config, live, stop).await }
    });
    let all_in = |addrs: Vec<SocketAddr>| {
        let live = live.clone();
        move || {
            let (live, addrs) = (live.clone(), addrs.clone());
            async move {
                let mut seated = 0;
                for addr in addrs {
                    seated += players(addr).await;
                }
                seated == BOTS && live.read().connected == BOTS as u64
            }
        }
    };
    until(
        Duration::from_secs(30),
        "300 bots connected and seated over the three processes",
        all_in(vec![a.addr(), b.addr(), c.addr()]),
    )
    .await;
    let spread = [
        players(a.addr()).await,
        players(b.addr()).await,
        players(c.addr()).await,
    ];
    println!("players per process: {spread:?}");
    for n in spread {
        assert!(
            (80..=120).contains(&n),
            "each process should hold 100 players within 20%: {spread:?}"
        );
    }

    // kill -9 of the third: its entry lapses within the TTL, its bots land elsewhere.
    let on_c = spread[2];
    c.kill9();
    let killed = Instant::now();
    let gone = until(
        Duration::from_secs(TTL_SECS + 3),
        "the killed process out of the directory",
        || async {
            let nodes: Vec<NodeListing> = get_json(front, "/cluster").await;
            !nodes.iter().any(|n| n.node == node_c)
        },
    )
    .await;
    println!("the killed process left the directory after {gone:?}");
    assert!(
        killed.elapsed() <= Duration::from_millis(TTL_SECS * 1000 + 1500),
        "the killed process lingered {:?} in the directory (TTL {TTL_SECS} s)",
        killed.elapsed()
    );
    let landed = until(
        Duration::from_secs(20),
        "the killed process's bots playing on the other two",
        all_in(vec![a.addr(), b.addr()]),
    )
    .await;
    println!(
        "its {on_c} bots all landed again within {:?}",
        killed.elapsed().max(landed)
    );

    // SIGTERM of the second: it stops taking players at once, lets its rooms run to the
    // drain deadline, then relocates its bots, which land on the first.
    let on_b = players(b.addr()).await;
    b.sigterm();
    let termed = Instant::now();
    until(
        Duration::from_secs(2),
        "the draining process marked draining",
        || async {
            let nodes: Vec<NodeListing> = get_json(front, "/cluster").await;
            nodes.iter().any(|n| n.node == node_b && n.draining)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        players(b.addr()).await <= on_b,
        "a draining process took new players"
    );
    let exited = b
        .wait_exit(Duration::from_secs(DRAIN_SECS + 8))
        .unwrap_or_else(|| panic!("the draining process did not exit"));
    assert!(exited.success(), "the drained process exited with {exited}");
    assert!(
        termed.elapsed() >= Duration::from_secs(DRAIN_SECS) - Duration::from_millis(300),
        "the draining process stopped before its deadline ({:?}) with players in its rooms",
        termed.elapsed()
    );
    until(
        Duration::from_secs(20),
        "every bot playing on the last process",
        all_in(vec![a.addr()]),
    )
    .await;
    println!(
        "the drained process's {on_b} bots landed within {:?} of SIGTERM",
        termed.elapsed()
    );

    stop.cancel();
    let summary = fleet
        .await
        .unwrap_or_else(|e| panic!("the fleet failed: {e}"));
    println!("{}", summary.to_text());
    assert_eq!(summary.desyncs, 0, "{:?}", summary.errors);
    assert_eq!(
        summary.failed, 0,
        "a bot failed to land somewhere: {:?}",
        summary.errors
    );
    assert!(
        !summary
            .errors
            .iter()
            .any(|(e, _)| e.starts_with("seated in room")),
        "a bot was seated elsewhere than its matchmade room: {:?}",
        summary.errors
    );
    // Exactly the sessions on the killed and the drained process ended; nobody else's.
    assert_eq!(
        summary.disconnected,
        (on_c + on_b) as u64,
        "sessions lost: {:?}",
        summary.errors
    );
    assert_eq!(summary.relocated, on_b as u64, "{:?}", summary.errors);
    a.sigterm();
    let _ = a.wait_exit(Duration::from_secs(DRAIN_SECS + 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matchmaking_goes_on_when_the_shared_secret_changes_in_redis() {
    // As when Redis restarts empty and a newer process puts its own secret there: the
    // processes' cached secrets disagree with Redis (and, for a while, each other).
    let redis = RedisServer::start();
    let (a, b) = (start_node(&redis), start_node(&redis));
    let front = a.addr();
    until(
        Duration::from_secs(10),
        "two processes in the directory",
        || async { get_json::<Vec<NodeListing>>(front, "/cluster").await.len() == 2 },
    )
    .await;
    assert_eq!(redis.command("SET tickwire:secret a-new-secret"), "+OK");
    // Quick matches into rooms of 10: rooms fill in turn and new ones open on the less
    // loaded process, so the front process asks its peer for seats meanwhile.
    let mut on_peer = 0;
    for i in 0..30 {
        let answer = http(front, "POST", "/matchmake", "").await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "matchmake {i}: {answer}"
        );
        if answer.contains(&format!("ws://{}/", b.addr())) {
            on_peer += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(on_peer > 0, "no seat was placed on the peer");
    println!("{on_peer} of 30 seats on the peer after the secret changed");
}
