//! End to end: a malformed message and a wrong protocol version each get a `Bye` with the
//! reason and a close frame, while the server and the other players carry on.

use std::time::Duration;

use tickwire_client::ClientEvent;
use tickwire_shared::codec::encode_client;
use tickwire_shared::{ByeCode, ClientMsg, PROTOCOL_VERSION, ServerMsg};
use tickwire_tests::raw::{RawEvent, raw_connect, raw_next, raw_send};
use tickwire_tests::{
    TestServer, keep_reading, next_event, read_until_caught_up, test_config, wait_for,
};

const WAIT: Duration = Duration::from_secs(5);

/// Asserts the bystander catches up with the server and then still gets a steady
/// stream of snapshots.
async fn assert_still_playing(server: &TestServer, bystander: &mut tickwire_client::Client) {
    let latest = server.server().latest_snapshot().tick;
    read_until_caught_up(bystander, latest, WAIT).await;
    let events = keep_reading(bystander, Duration::from_secs(1)).await;
    let snaps = events
        .iter()
        .filter(|t| matches!(t.event, ClientEvent::Snapshot(_)))
        .count();
    assert!(
        snaps >= 25,
        "the other player got only {snaps} snapshots in 1 s"
    );
    assert_eq!(bystander.stats().desyncs, 0);
}

/// Reads a raw socket's next two things: a Bye with `code`, then a close frame with
/// `close_code`. Returns the Bye's reason.
async fn expect_bye_and_close(
    ws: &mut tickwire_tests::raw::RawSocket,
    code: ByeCode,
    close_code: u16,
) -> String {
    let reason = match raw_next(ws).await {
        RawEvent::Msg(ServerMsg::Bye { code: c, reason }) => {
            assert_eq!(c, code, "Bye code (reason {reason:?})");
            reason
        }
        other => panic!("expected Bye({code:?}), got {other:?}"),
    };
    assert!(!reason.trim().is_empty(), "the Bye gives no reason");
    match raw_next(ws).await {
        RawEvent::Close(Some((c, _))) => assert_eq!(c, close_code, "close code"),
        other => panic!("expected a close frame after Bye, got {other:?}"),
    }
    reason
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_protocol_version_gets_bye_and_close_and_others_carry_on() {
    let server = TestServer::start(test_config()).await;
    let mut bystander = server.connect("bystander").await;

    let mut ws = raw_connect(&server.url()).await;
    let hello = ClientMsg::Hello {
        protocol: PROTOCOL_VERSION.wrapping_add(1),
        name: "from the future".into(),
        resume: None,
        auth: None,
    };
    raw_send(&mut ws, encode_client(&hello)).await;
    let reason = expect_bye_and_close(&mut ws, ByeCode::ProtocolMismatch, 1002).await;
    println!("protocol mismatch reason: {reason}");
    assert!(
        reason.contains(&PROTOCOL_VERSION.to_string()),
        "the reason should name the server's version: {reason:?}"
    );

    assert_still_playing(&server, &mut bystander).await;
    // New players are still welcome.
    let mut late = server.connect("late").await;
    tickwire_tests::next_snapshot(&mut late).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_bye_and_close_and_others_carry_on() {
    let server = TestServer::start(test_config()).await;
    let mut bystander = server.connect("bystander").await;

    // Garbage instead of a Hello.
    let mut ws = raw_connect(&server.url()).await;
    raw_send(&mut ws, vec![0xFF, 0x00, 0xFF, 0x13, 0x37]).await;
    let reason = expect_bye_and_close(&mut ws, ByeCode::Malformed, 1002).await;
    println!("malformed hello reason: {reason}");

    // Garbage from a player in the middle of a game.
    let mut rogue = server.connect("rogue").await;
    tickwire_tests::next_snapshot(&mut rogue).await;
    rogue
        .send_raw(vec![0xFF, 0xFF, 0xFF, 0xFF])
        .await
        .unwrap_or_else(|e| panic!("sending garbage: {e}"));
    let bye = wait_for(&mut rogue, WAIT, "a Bye for the garbage", |_, e| {
        matches!(e, ClientEvent::Bye { .. })
    })
    .await;
    let ClientEvent::Bye { code, reason } = bye else {
        unreachable!()
    };
    assert_eq!(code, ByeCode::Malformed, "reason {reason:?}");
    assert!(!reason.trim().is_empty(), "the Bye gives no reason");
    match next_event(&mut rogue).await {
        ClientEvent::Closed(Some(info)) => assert_eq!(info.code, 1002, "{info:?}"),
        other => panic!("expected a close frame after Bye, got {other:?}"),
    }
    assert!(
        rogue.next_event().await.is_err(),
        "a closed client reports Closed"
    );

    assert_still_playing(&server, &mut bystander).await;
    let rogue_e = rogue.welcome().entity;
    wait_for(
        &mut bystander,
        WAIT,
        "the rogue's entity to be despawned",
        |c, _| c.mirror().entity(rogue_e).is_none(),
    )
    .await;
    server.stop().await;
}
