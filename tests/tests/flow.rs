//! End to end: flow control. A client that stops reading costs the others nothing and
//! catches up with one coalesced delta; a count-only client's acks keep it fed.

use std::time::Duration;

use tickwire_client::ClientEvent;
use tickwire_tests::{TestServer, keep_reading, next_snapshot, read_until_caught_up, test_config};
use tokio::time::Instant;

/// Arrival times of the snapshots among `events`.
fn snapshot_times(events: &[tickwire_tests::Timed]) -> Vec<Instant> {
    events
        .iter()
        .filter(|t| matches!(t.event, ClientEvent::Snapshot(_)))
        .map(|t| t.at)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_costs_others_nothing_and_catches_up_in_one_delta() {
    let config = test_config();
    let hz = config.tick_hz;
    let server = TestServer::start(config).await;
    let mut slow = server.connect("slow").await;
    let mut fast = server.connect("fast").await;
    let now = server.server().latest_snapshot().tick;
    read_until_caught_up(&mut slow, now, Duration::from_secs(5)).await;
    read_until_caught_up(&mut fast, now, Duration::from_secs(5)).await;

    // `slow` reads nothing for 3 s while `fast` keeps playing.
    let stall = Duration::from_secs(3);
    let events = keep_reading(&mut fast, stall).await;
    let times = snapshot_times(&events);
    let expected = stall.as_secs_f64() * f64::from(hz);
    let max_gap = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(stall);
    println!(
        "fast reader during the stall: {} snapshots (expected ~{expected}), max gap {max_gap:?}",
        times.len()
    );
    assert!(
        times.len() as f64 >= expected * 0.9 && times.len() as f64 <= expected * 1.05,
        "the other player's cadence changed: {} snapshots in {stall:?}, expected ~{expected}",
        times.len()
    );
    assert!(
        max_gap < Duration::from_millis(250),
        "the other player waited {max_gap:?} between two snapshots"
    );

    // `slow` reads again: a few snapshots the socket already held, then one delta whose
    // baseline is far behind, not one message per missed tick.
    let latest = server.server().latest_snapshot().tick;
    let caught = read_until_caught_up(&mut slow, latest, Duration::from_secs(3)).await;
    let spans: Vec<u32> = caught.iter().filter_map(|s| s.span()).collect();
    let coalesced = spans.iter().filter(|&&s| s >= 30).count();
    println!(
        "slow reader caught up with {} snapshots, spans {spans:?}",
        caught.len()
    );
    assert!(
        caught.len() <= 30,
        "the slow reader got a backlog of {} snapshots",
        caught.len()
    );
    assert_eq!(
        coalesced, 1,
        "expected exactly one coalesced delta spanning >= 30 ticks, spans {spans:?}"
    );
    assert_eq!(slow.stats().desyncs, 0);
    // And it stays in step afterwards.
    let after = next_snapshot(&mut slow).await;
    assert!(after.span().is_some_and(|s| s <= 2), "{after:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_only_client_acks_without_decoding_and_measures_rtt() {
    let server = TestServer::start(test_config()).await;
    let mut bot = server
        .connect_with(
            tickwire_client::ConnectOptions::new("bot").mode(tickwire_client::Mode::CountOnly),
        )
        .await;
    // Far more snapshots than the send window holds: its acks must be reaching the
    // server, although it never decodes a body.
    let events = keep_reading(&mut bot, Duration::from_secs(2)).await;
    let snaps = tickwire_tests::snapshots_of(&events);
    assert!(snaps.len() >= 50, "only {} snapshots in 2 s", snaps.len());
    assert!(snaps.iter().all(|s| s.body.is_none()));
    assert!(bot.mirror().entities().is_empty());
    let stats = bot.stats();
    assert_eq!(stats.snapshots as usize, snaps.len());
    // With no inputs to carry them, its acks go out on their own, about every 100 ms
    // (not one per snapshot): enough to keep the 500 ms send window open.
    assert!(
        stats.messages_sent >= 12 && (stats.messages_sent as usize) < snaps.len() / 2,
        "{stats:?}"
    );
    assert!(stats.bytes_received > 0 && stats.desyncs == 0, "{stats:?}");

    bot.ping().await.unwrap_or_else(|e| panic!("ping: {e}"));
    let pong = tickwire_tests::wait_for(&mut bot, Duration::from_secs(5), "a Pong", |_, e| {
        matches!(e, ClientEvent::Pong { .. })
    })
    .await;
    let ClientEvent::Pong { rtt, .. } = pong else {
        unreachable!()
    };
    let rtt = rtt.unwrap_or_else(|| panic!("the Pong echoed a time we never sent"));
    assert!(rtt < Duration::from_secs(1), "rtt {rtt:?} on loopback");
    assert_eq!(bot.rtt(), Some(rtt));
    server.stop().await;
}

/// The server's `tickwire_bytes_sent_total`.
fn bytes_sent(server: &TestServer) -> f64 {
    server
        .server()
        .metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix("tickwire_bytes_sent_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tickwire_bytes_sent_total in the metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_still_has_its_inputs_applied() {
    use tickwire_server::games::arena::Arena;
    use tickwire_server::games::components::Body;
    use tickwire_server::games::controls::{Controls, LEFT, RIGHT};
    use tickwire_server::games::field::FieldConfig;
    use tickwire_shared::codec::{encode_client, encode_value};
    use tickwire_shared::component::read_component;
    use tickwire_shared::{ClientMsg, InputSeq, PROTOCOL_VERSION, ServerMsg, Welcome};
    use tickwire_tests::raw::{RawEvent, raw_connect, raw_next, raw_send};

    // A world big enough (about 200 KB a tick) to fill the socket buffers of a client that
    // reads nothing within a second, and a send window that never closes meanwhile, so
    // the server's writes to it block.
    let config = tickwire_server::Config {
        send_window_ms: 10_000,
        ..test_config()
    };
    let game = FieldConfig {
        npcs: Some(40_000),
        ..FieldConfig::default()
    };
    let server = TestServer::start_game::<Arena>(config, game).await;
    let mut ws = raw_connect(&server.url()).await;
    let hello = ClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        name: "deaf".into(),
        resume: None,
        auth: None,
    };
    raw_send(&mut ws, encode_client(&hello)).await;
    let RawEvent::Msg(ServerMsg::Welcome(Welcome { entity, .. })) = raw_next(&mut ws).await else {
        panic!("expected Welcome");
    };
    // From here the client reads nothing. The socket buffers fill within a second or
    // two (longer when the machine is busy); wait until a 300 ms window sends almost
    // nothing.
    let stalled_by = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let before = bytes_sent(&server);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let sent = bytes_sent(&server) - before;
        if sent < 50_000.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < stalled_by,
            "precondition: the writes to the deaf client never stalled ({sent} bytes went out in the last 300 ms)"
        );
    }

    let schema = server.server().schema().clone();
    let x = || {
        let snap = server.server().latest_snapshot();
        let e = snap
            .get(entity)
            .unwrap_or_else(|| panic!("the deaf client's avatar is gone"));
        read_component::<Body>(&schema, e)
            .unwrap_or_else(|| panic!("the avatar has no body"))
            .x
    };
    let start = x();
    let (keys, sign) = if start < 500.0 {
        (RIGHT, 1.0)
    } else {
        (LEFT, -1.0)
    };
    let input = ClientMsg::Input {
        seq: InputSeq(1),
        data: encode_value(&Controls::new(keys, 0)),
        ack: None,
        view: None,
    };
    raw_send(&mut ws, encode_client(&input)).await;
    // Within the same stall (3 s in all), the input reaches the game: the avatar walks.
    let deadline = Instant::now() + Duration::from_millis(1200);
    let mut moved = 0.0;
    while Instant::now() < deadline {
        moved = (x() - start) * sign;
        if moved > 30.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        moved > 30.0,
        "an input sent while the client was not reading was not applied (moved {moved:.1} units in 1.2 s)"
    );
    drop(ws);
    server.stop().await;
}
