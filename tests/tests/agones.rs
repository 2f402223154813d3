//! End to end with the real binary under a fake Agones SDK server: `--agones` says
//! Ready, pings Health at its period, labels its player count, Allocates when its room
//! fills and asks for Shutdown (and exits by itself) once its players have left; and a
//! frozen server stops pinging, so Agones would see it unhealthy.

use std::process::Command;
use std::time::{Duration, Instant};

use tickwire_client::{Client, ConnectOptions};
use tickwire_tests::fake_agones::{Call, FakeAgones, Record};
use tickwire_tests::{ServerProcess, next_snapshot, tickwire_binary};

/// The Health period the servers run with (`--agones-health-secs`).
const PERIOD: Duration = Duration::from_secs(1);

/// Starts `tickwire --agones` at a 1 s Health period, rooms of 2 players, talking to
/// `fake`.
fn start_server(fake: &FakeAgones) -> ServerProcess {
    let mut command = Command::new(tickwire_binary());
    command
        .args(["--bind", "127.0.0.1", "--port", "0", "--agones"])
        .args(["--agones-health-secs", "1", "--room-players", "2"])
        .args(["--room-grace-secs", "1"])
        .env("AGONES_SDK_GRPC_PORT", fake.port().to_string());
    ServerProcess::spawn(command)
}

/// Where `call` first appears in `calls`.
fn first(calls: &[Record], call: &Call) -> Option<usize> {
    calls.iter().position(|r| &r.call == call)
}

/// How many times `call` appears in `calls`.
fn count(calls: &[Record], call: &Call) -> usize {
    calls.iter().filter(|r| &r.call == call).count()
}

/// Connects a player and waits for its first snapshot.
async fn player(url: &str, name: &str) -> Client {
    let mut c = Client::connect(url, ConnectOptions::new(name))
        .await
        .unwrap_or_else(|e| panic!("{name} could not connect: {e}"));
    next_snapshot(&mut c).await;
    c
}

/// Sends `signal` (`-STOP`, `-CONT`) to `pid`.
fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(status.success(), "kill {signal} {pid} failed: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_goes_ready_allocated_and_shutdown_and_the_server_exits() {
    let started = Instant::now();
    let fake = FakeAgones::start().await;
    let mut process = start_server(&fake);
    fake.wait_until("Ready", Duration::from_secs(15), |c| {
        first(c, &Call::Ready).is_some()
    })
    .await;
    // A few periods of pings with nobody on, then the match.
    fake.wait_until("4 Health pings", Duration::from_secs(8), |c| {
        count(c, &Call::Health) >= 4
    })
    .await;
    assert_eq!(fake.state(), "Ready");
    assert_eq!(
        count(&fake.calls(), &Call::Allocate),
        0,
        "nobody has played yet"
    );

    let url = process.url();
    let mut ann = player(&url, "ann").await;
    assert_eq!(ann.welcome().room, 1);
    assert_eq!(
        count(&fake.calls(), &Call::Allocate),
        0,
        "one of two seats taken is no match yet"
    );
    let mut bob = player(&url, "bob").await;
    assert_eq!(bob.welcome().room, 1, "quick match fills room 1");
    fake.wait_until("Allocate", Duration::from_secs(2), |c| {
        first(c, &Call::Allocate).is_some()
    })
    .await;
    assert_eq!(fake.state(), "Allocated");
    let players_2 = Call::SetLabel("players".into(), "2".into());
    fake.wait_until("the label players=2", PERIOD * 3, |c| {
        first(c, &players_2).is_some()
    })
    .await;
    assert_eq!(fake.label("players").as_deref(), Some("2"));
    assert_eq!(fake.label("rooms").as_deref(), Some("1"));

    ann.close().await.expect("ann closes cleanly");
    bob.close().await.expect("bob closes cleanly");
    fake.wait_until("Shutdown", Duration::from_secs(3), |c| {
        first(c, &Call::Shutdown).is_some()
    })
    .await;
    let status = tokio::task::spawn_blocking(move || process.wait_exit(Duration::from_secs(5)))
        .await
        .unwrap_or_else(|e| panic!("the wait task failed: {e}"));
    match status {
        Some(s) => assert!(s.success(), "tickwire exited with {s}"),
        None => panic!("tickwire still running 5 s after asking Agones for Shutdown"),
    }

    let calls = fake.calls();
    let order: Vec<&Call> = calls
        .iter()
        .map(|r| &r.call)
        .filter(|c| !matches!(c, Call::Health | Call::SetLabel(..) | Call::GetGameServer))
        .collect();
    assert_eq!(
        order,
        [&Call::Ready, &Call::Allocate, &Call::Shutdown],
        "the lifecycle calls, each once, in order: {calls:?}"
    );
    let ready = first(&calls, &Call::Ready).unwrap_or_default();
    let health = first(&calls, &Call::Health).unwrap_or_default();
    assert!(ready < health, "Health pings start after Ready: {calls:?}");
    // Connected before anything else: the crate's check is a GetGameServer.
    assert_eq!(calls[0].call, Call::GetGameServer, "{calls:?}");

    // Pings at the period, from Ready to Shutdown.
    let pings: Vec<Instant> = calls
        .iter()
        .filter(|r| r.call == Call::Health)
        .map(|r| r.at)
        .collect();
    let mut gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort();
    assert!(
        gaps.len() >= 4,
        "too few pings to judge the period: {gaps:?}"
    );
    let median = gaps[gaps.len() / 2];
    assert!(
        median >= PERIOD.mul_f64(0.7) && median <= PERIOD.mul_f64(1.5),
        "median Health interval {median:?}, period {PERIOD:?}: {gaps:?}"
    );
    let longest = gaps.last().copied().unwrap_or_default();
    assert!(
        longest <= PERIOD * 2,
        "a Health gap of {longest:?} while the server ran: {gaps:?}"
    );
    // Labels go only when the counts change: never the same value twice in a row.
    let players: Vec<&str> = calls
        .iter()
        .filter_map(|r| match &r.call {
            Call::SetLabel(k, v) if k == "players" => Some(v.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(players.first(), Some(&"0"), "{players:?}");
    assert!(players.contains(&"2"), "{players:?}");
    assert!(
        players.windows(2).all(|w| w[0] != w[1]),
        "a label repeated: {players:?}"
    );
    println!(
        "{} pings, median interval {median:?}, longest {longest:?}; whole test {:?}",
        pings.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_stops_its_health_pings() {
    let fake = FakeAgones::start().await;
    let process = start_server(&fake);
    fake.wait_until("3 Health pings", Duration::from_secs(15), |c| {
        count(c, &Call::Health) >= 3
    })
    .await;
    // What Agones would judge by: no ping within 2.5 periods is unhealthy.
    let threshold = PERIOD.mul_f64(2.5);
    assert!(fake.healthy(threshold), "healthy while running");

    signal(process.pid(), "-STOP");
    let frozen = Instant::now();
    tokio::time::sleep(threshold + PERIOD / 2).await;
    let unhealthy = !fake.healthy(threshold);
    let during = fake
        .health_pings()
        .iter()
        .filter(|at| **at > frozen + Duration::from_millis(100))
        .count();
    signal(process.pid(), "-CONT");
    assert!(unhealthy, "a frozen server still looked healthy");
    assert_eq!(during, 0, "pings arrived from a frozen process");

    // Thawed, it pings again within a period or two.
    let thawed = Instant::now();
    fake.wait_until("a Health ping after the thaw", PERIOD * 3, |c| {
        c.iter().any(|r| r.call == Call::Health && r.at > thawed)
    })
    .await;
    assert!(fake.healthy(threshold));
    drop(process);
}
