//! End to end over real sockets: players see each other, inputs move entities in other
//! players' mirrors, chat reaches everyone, a late joiner gets the full current state, a
//! leaver is despawned, and every mirrored tick equals the server's snapshot.

use std::time::Duration;

use tickwire_client::{Client, ClientEvent};
use tickwire_server::Config;
use tickwire_server::games::components::{Body, Player};
use tickwire_server::games::controls::{Controls, DOWN, FIRE, LEFT, RIGHT, UP};
use tickwire_shared::{ChatLine, NetId};
use tickwire_tests::{TestServer, next_snapshot, test_config, wait_for};

const WAIT: Duration = Duration::from_secs(5);

/// The x of `entity` in `client`'s mirror, in world units.
fn x_of(client: &Client, entity: NetId) -> f32 {
    client
        .mirror()
        .get::<Body>(entity)
        .unwrap_or_else(|| panic!("entity {entity} has no mirrored body"))
        .x
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_see_move_chat_late_join_and_leave() {
    // A normal closure is a player leaving for good: the avatar goes at once, not after
    // the resume grace (which stays long here so waiting for it would fail the test).
    let server = TestServer::start(Config {
        resume_grace_secs: 60,
        ..test_config()
    })
    .await;
    let mut ann = server.connect("ann").await;
    let mut bob = server.connect("bob").await;
    let (ann_id, bob_id) = (ann.welcome().player, bob.welcome().player);
    let (ann_e, bob_e) = (ann.welcome().entity, bob.welcome().entity);
    assert_ne!(ann_id, bob_id);
    assert_ne!(ann_e, bob_e);

    // Each sees the other's entity, as a player owned by the other, with the name.
    for (me, other_e, other_id, other_name) in [
        (&mut ann, bob_e, bob_id, "bob"),
        (&mut bob, ann_e, ann_id, "ann"),
    ] {
        wait_for(me, WAIT, "the other player's entity", |c, _| {
            c.mirror().entity(other_e).is_some()
        })
        .await;
        let other = me.mirror().get::<Player>(other_e);
        let other = other.unwrap_or_else(|| panic!("entity {other_e} is no player"));
        assert_eq!(other.owner, other_id);
        assert_eq!(&*other.name, other_name);
    }

    // Ann walks towards the middle; Bob's mirror shows her moving that way.
    let start = x_of(&bob, ann_e);
    let width = ann.welcome().schema.param("width").unwrap_or(0.0) as f32;
    let (dir, sign) = if start < width / 2.0 {
        (RIGHT, 1.0)
    } else {
        (LEFT, -1.0)
    };
    let seq = ann
        .send_input(&Controls::new(dir, 0))
        .await
        .unwrap_or_else(|e| panic!("ann's input: {e}"));
    wait_for(&mut bob, WAIT, "ann to move in bob's mirror", |c, _| {
        c.mirror()
            .get::<Body>(ann_e)
            .is_some_and(|b| (b.x - start) * sign > 30.0)
    })
    .await;
    // Ann's own snapshots report her input as processed (for reconciliation).
    wait_for(
        &mut ann,
        WAIT,
        "ann's input to be acked",
        |_, e| matches!(e, ClientEvent::Snapshot(s) if s.input_ack == seq),
    )
    .await;
    ann.send_input(&Controls::default())
        .await
        .unwrap_or_else(|e| panic!("ann's stop input: {e}"));

    // A chat line from Ann reaches both.
    ann.chat("hello bob")
        .await
        .unwrap_or_else(|e| panic!("ann's chat: {e}"));
    for (me, who) in [(&mut ann, "ann"), (&mut bob, "bob")] {
        let chat = wait_for(me, WAIT, "ann's chat line", |_, e| {
            matches!(e, ClientEvent::Chat(_))
        })
        .await;
        let ClientEvent::Chat(ChatLine { from, name, text }) = chat else {
            unreachable!()
        };
        assert_eq!(
            (from, name.as_str(), text.as_str()),
            (ann_id, "ann", "hello bob"),
            "{who}"
        );
    }

    // A late joiner's first snapshot is the full current state, equal to the server's.
    let mut cyd = server.connect("cyd").await;
    let first = next_snapshot(&mut cyd).await;
    assert_eq!(
        first.baseline, None,
        "a new player's first snapshot is a full state"
    );
    server.assert_mirror_matches(&cyd, "cyd");
    for e in [ann_e, bob_e] {
        assert!(
            cyd.mirror().entity(e).is_some(),
            "cyd's full state lacks entity {e}"
        );
    }
    assert!(
        cyd.mirror().entities().len() > 3,
        "the demo world has orbs besides the players"
    );
    let moved = x_of(&cyd, ann_e);
    assert!(
        (moved - start) * sign > 30.0,
        "cyd sees ann where she walked to"
    );
    // Cyd's own avatar spawns on the tick after the join.
    let cyd_e = cyd.welcome().entity;
    wait_for(&mut cyd, WAIT, "cyd's own entity", |c, _| {
        c.mirror().entity(cyd_e).is_some()
    })
    .await;

    // Ann leaves; her entity is despawned for the others.
    ann.close()
        .await
        .unwrap_or_else(|e| panic!("ann's close: {e}"));
    for (me, who) in [(&mut bob, "bob"), (&mut cyd, "cyd")] {
        wait_for(me, WAIT, "ann's entity to be despawned", |c, _| {
            c.mirror().entity(ann_e).is_none()
        })
        .await;
        assert!(me.mirror().entity(bob_e).is_some(), "{who} lost bob");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mirrored_tick_equals_the_server_snapshot() {
    let server = TestServer::start(test_config()).await;
    let mut ann = server.connect("ann").await;
    let mut bob = server.connect("bob").await;
    // Keep things changing: both players move and Ann fires, so projectiles spawn and
    // despawn while we compare.
    let plan = [RIGHT | FIRE, DOWN, LEFT | UP | FIRE, UP, FIRE, 0];
    bob.send_input(&Controls::new(DOWN | FIRE, 16_000))
        .await
        .unwrap_or_else(|e| panic!("bob's input: {e}"));
    let mut compared = 0;
    let mut saw_delta = false;
    for i in 0..90 {
        if i % 15 == 0 {
            let aim = (i as u16).wrapping_mul(4_000);
            ann.send_input(&Controls::new(plan[(i / 15) % plan.len()], aim))
                .await
                .unwrap_or_else(|e| panic!("ann's input: {e}"));
        }
        let s = next_snapshot(&mut ann).await;
        saw_delta |= s.baseline.is_some();
        server.assert_mirror_matches(&ann, "ann");
        compared += 1;
    }
    assert_eq!(compared, 90);
    assert!(saw_delta, "after the first, snapshots are deltas");
    assert_eq!(ann.stats().desyncs, 0);
    // Bob, who was not read meanwhile, catches up and still matches.
    next_snapshot(&mut bob).await;
    let latest = server.server().latest_snapshot().tick;
    tickwire_tests::read_until_caught_up(&mut bob, latest, WAIT).await;
    server.assert_mirror_matches(&bob, "bob");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_resumes_with_a_delta_and_keeps_its_entity() {
    let server = TestServer::start(test_config()).await;
    let mut ann = server.connect("ann").await;
    let mut bob = server.connect("bob").await;
    let (ann_id, ann_e) = (ann.welcome().player, ann.welcome().entity);
    wait_for(&mut ann, WAIT, "ann's own entity", |c, _| {
        c.mirror().entity(ann_e).is_some()
    })
    .await;
    let held = ann
        .mirror()
        .tick()
        .unwrap_or_else(|| panic!("ann holds no tick"));

    // The connection drops without a close frame; Ann's avatar waits for her.
    ann.abort();
    assert!(ann.is_closed());
    assert!(
        ann.next_event().await.is_err(),
        "an aborted client is closed"
    );
    let events = tickwire_tests::keep_reading(&mut bob, Duration::from_millis(300)).await;
    assert!(!events.is_empty());
    assert!(
        bob.mirror().entity(ann_e).is_some(),
        "a dropped player's avatar is kept for a resume"
    );

    ann.reconnect()
        .await
        .unwrap_or_else(|e| panic!("ann could not resume: {e}"));
    assert_eq!(ann.welcome().player, ann_id, "resumed as the same player");
    assert_eq!(ann.welcome().entity, ann_e, "with the same avatar");
    let first = next_snapshot(&mut ann).await;
    assert_eq!(
        first.baseline,
        Some(held),
        "the first snapshot after a resume is a delta from the tick the client held"
    );
    server.assert_mirror_matches(&ann, "ann");
    assert_eq!(ann.stats().desyncs, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_frame_served_is_in_the_history() {
    // A client can connect before the tick thread's first tick and be served the frame
    // captured at start; the history must answer for it like for any later tick.
    let server = TestServer::start(test_config()).await;
    let first = server
        .server()
        .snapshot_at(tickwire_shared::Tick(0))
        .unwrap_or_else(|| panic!("the history lacks the start frame"));
    assert_eq!(first.tick, tickwire_shared::Tick(0));
    server.stop().await;
}
