//! The `tag` example, a game written only against Tickwire's public API, end to end: two
//! clients join, "it" chases and touches the other, the tag passes (with its event and a
//! point), every mirrored tick equals the server's snapshot, and the example's own
//! binary serves the game.

use std::time::Duration;

use tickwire_client::{Client, ClientEvent};
use tickwire_shared::codec::decode_server_value;
use tickwire_tests::{
    ServerProcess, TestServer, example_binary, next_snapshot, test_config, wait_for,
};

#[path = "../../server/examples/tag.rs"]
#[allow(dead_code)]
mod tag;

use tag::{Keys, Position, Runner, Tag, TagConfig, TagEvent};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_passes_and_mirrors_equal_the_server() {
    let server = TestServer::start_game::<Tag>(test_config(), TagConfig::default()).await;
    let mut ann = server.connect("ann").await;
    let mut bob = server.connect("bob").await;
    assert_eq!(ann.welcome().schema.game(), "tag");
    let (ann_e, bob_e) = (ann.welcome().entity, bob.welcome().entity);
    let (ann_id, bob_id) = (ann.welcome().player, bob.welcome().player);
    wait_for(&mut bob, WAIT, "both runners", |c, _| {
        c.mirror().get::<Runner>(ann_e).is_some() && c.mirror().get::<Runner>(bob_e).is_some()
    })
    .await;
    let runner = |c: &Client, e| {
        c.mirror()
            .get::<Runner>(e)
            .unwrap_or_else(|| panic!("runner {e} is not mirrored"))
    };
    assert!(runner(&bob, ann_e).it, "the first to join is it");
    assert!(!runner(&bob, bob_e).it);
    assert_eq!(&*runner(&bob, bob_e).name, "bob");

    // Ann (it) runs at Bob, who stands still, until she touches him.
    let (a, b) = (
        bob.mirror().get::<Position>(ann_e).map(|p| p.x),
        bob.mirror().get::<Position>(bob_e).map(|p| p.x),
    );
    let toward = if b > a { 8 } else { 4 };
    ann.send_input(&Keys { buttons: toward })
        .await
        .unwrap_or_else(|e| panic!("ann's input: {e}"));
    let tagged = wait_for(&mut bob, WAIT, "the tag event", |_, e| {
        matches!(e, ClientEvent::Game { .. })
    })
    .await;
    let ClientEvent::Game { data } = tagged else {
        unreachable!()
    };
    let event: TagEvent =
        decode_server_value(&data).unwrap_or_else(|e| panic!("the event decodes: {e}"));
    assert_eq!(
        event,
        TagEvent::Tagged {
            by: ann_id,
            it: bob_id
        }
    );
    ann.send_input(&Keys::default())
        .await
        .unwrap_or_else(|e| panic!("ann's stop: {e}"));
    wait_for(&mut bob, WAIT, "bob to be it", |c, _| {
        c.mirror().get::<Runner>(bob_e).is_some_and(|r| r.it)
    })
    .await;
    assert!(!runner(&bob, ann_e).it, "the tag passed");
    assert_eq!(runner(&bob, ann_e).score, 1, "the tagger scores");

    // Keep both moving for a second and compare every mirrored tick.
    bob.send_input(&Keys { buttons: 2 })
        .await
        .unwrap_or_else(|e| panic!("bob's input: {e}"));
    for _ in 0..30 {
        next_snapshot(&mut ann).await;
        server.assert_mirror_matches(&ann, "ann");
    }
    next_snapshot(&mut bob).await;
    let latest = server.server().latest_snapshot().tick;
    tickwire_tests::read_until_caught_up(&mut bob, latest, WAIT).await;
    server.assert_mirror_matches(&bob, "bob");
    assert_eq!(ann.stats().desyncs + bob.stats().desyncs, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_binary_serves_tag_with_its_settings() {
    let process =
        ServerProcess::start_program(&example_binary("tag"), &["--game-set", "width=640"]);
    let mut client = Client::connect(&process.url(), tickwire_client::ConnectOptions::new("cy"))
        .await
        .unwrap_or_else(|e| panic!("connecting to the tag binary: {e}"));
    let schema = client.welcome().schema.clone();
    assert_eq!(schema.game(), "tag");
    assert_eq!(
        schema.param("width"),
        Some(640.0),
        "--game-set reaches the game"
    );
    // The same schema is served as JSON on /schema.
    let served = tickwire_tests::http(process.addr(), "GET", "/schema", "").await;
    let (head, body) = served
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP body in {served:?}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("/schema is JSON: {e}: {body}"));
    assert_eq!(
        json,
        serde_json::to_value(&*schema).expect("a schema is JSON")
    );
    let me = client.welcome().entity;
    wait_for(&mut client, WAIT, "the own runner", |c, _| {
        c.mirror().get::<Runner>(me).is_some()
    })
    .await;
    // Alone, cy is "it".
    assert!(client.mirror().get::<Runner>(me).is_some_and(|r| r.it));
    client
        .close()
        .await
        .unwrap_or_else(|e| panic!("closing: {e}"));
}
