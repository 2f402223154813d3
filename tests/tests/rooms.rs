//! Rooms end to end: quick match fills the fullest room with a seat and opens another
//! when all are full; a private room needs its code; refusals say why; an empty room is
//! disposed of after its grace (the standing room stays); a room whose game panics ends
//! alone while the others keep ticking.

use std::time::{Duration, Instant};

use hecs::World;
use tickwire_client::{Client, ClientError, ClientEvent, ConnectOptions};
use tickwire_server::games::controls::Controls;
use tickwire_server::games::demo::{Demo, DemoConfig, DemoEvent};
use tickwire_server::shared::{ByeCode, PlayerId};
use tickwire_server::{Config, Ctx, Game, PlayerInfo, Replicate, RoomListing, RoomTypes};
use tickwire_tests::wait::eventually;
use tickwire_tests::{TestServer, demo_config, http, next_snapshot, test_config, wait_for};

const WAIT: Duration = Duration::from_secs(5);

/// Rooms of at most `players`, empty ones disposed of after `grace_secs`.
fn rooms_config(players: usize, grace_secs: u64) -> Config {
    Config {
        room_players: players,
        room_grace_secs: grace_secs,
        ..test_config()
    }
}

async fn connect(server: &TestServer, query: &str, name: &str) -> Result<Client, ClientError> {
    Client::connect(&server.url_with(query), ConnectOptions::new(name)).await
}

async fn seated(server: &TestServer, query: &str, name: &str) -> Client {
    connect(server, query, name)
        .await
        .unwrap_or_else(|e| panic!("{name} was not seated by {query:?}: {e}"))
}

async fn refused(server: &TestServer, query: &str) -> (ByeCode, String) {
    match connect(server, query, "x").await {
        Err(ClientError::Refused { code, reason }) => (code, reason),
        Err(e) => panic!("{query:?} failed without a Bye: {e}"),
        Ok(c) => panic!("{query:?} was seated in room {}", c.welcome().room),
    }
}

/// `GET /rooms` (with `query`), parsed.
async fn rooms(server: &TestServer, query: &str) -> Vec<RoomListing> {
    let answer = http(server.addr(), "GET", &format!("/rooms{query}"), "").await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("/rooms is not a room list: {e}\n{body}"))
}

fn seats(list: &[RoomListing]) -> Vec<(u32, usize)> {
    list.iter().map(|r| (r.id, r.players)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_match_fills_rooms_in_order_and_opens_one_when_all_are_full() {
    let config = Config {
        metrics_rooms: 2,
        ..rooms_config(2, 30)
    };
    let server = TestServer::start(config).await;
    let mut clients = Vec::new();
    for (i, query) in ["", "type=demo", "", "", "type=demo"].iter().enumerate() {
        clients.push(seated(&server, query, &format!("p{i}")).await);
    }
    let placed: Vec<u32> = clients.iter().map(|c| c.welcome().room).collect();
    assert_eq!(placed, vec![1, 1, 2, 2, 3], "two to a room, in order");
    assert_eq!(
        seats(&rooms(&server, "").await),
        vec![(1, 2), (2, 2), (3, 1)]
    );
    let listed = rooms(&server, "?type=demo").await;
    assert!(
        listed
            .iter()
            .all(|r| r.kind == "demo" && r.max_players == 2 && !r.private)
    );
    assert!(rooms(&server, "?type=arena").await.is_empty());
    // /metrics labels the busiest rooms only (metrics_rooms = 2), and counts every room.
    let metrics = http(server.addr(), "GET", "/metrics", "").await;
    assert!(
        metrics.contains("tickwire_rooms_by_type{type=\"demo\"} 3\n"),
        "{metrics}"
    );
    for room in ["1", "2"] {
        let line = format!("tickwire_room_players{{room=\"{room}\",type=\"demo\"}} 2\n");
        assert!(metrics.contains(&line), "missing {line} in {metrics}");
    }
    assert!(
        !metrics.contains("room=\"3\""),
        "room 3 is past metrics_rooms: {metrics}"
    );
    // Every room ticks on its own and its player mirrors it.
    for c in &mut clients {
        next_snapshot(c).await;
    }
    // One leaves room 1: the fullest room with a seat is now room 1 or 3 (one each), and
    // the older one is taken first.
    clients[0].close().await.expect("a clean close");
    eventually(WAIT, "room 1 to free a seat", || async {
        seats(&rooms(&server, "").await).first() == Some(&(1, 1))
    })
    .await;
    let back = seated(&server, "", "p5").await;
    assert_eq!(back.welcome().room, 1);
    drop(clients);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_needs_its_code_and_refusals_say_why() {
    let server = TestServer::start(rooms_config(1, 30)).await;
    let answer = http(server.addr(), "POST", "/rooms", r#"{"private": true}"#).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let body = answer.split_once("\r\n\r\n").expect("a body").1;
    let created: serde_json::Value = serde_json::from_str(body).expect("JSON");
    let id = created["id"].as_u64().expect("an id") as u32;
    let code = created["code"].as_str().expect("a code").to_owned();
    assert_eq!((id, code.len()), (2, 6));
    assert!(
        rooms(&server, "")
            .await
            .iter()
            .any(|r| r.id == id && r.private)
    );

    let (c, why) = refused(&server, &format!("room={id}")).await;
    assert_eq!(c, ByeCode::WrongCode, "{why}");
    let (c, why) = refused(&server, &format!("room={id}&code=WRONG1")).await;
    assert_eq!(c, ByeCode::WrongCode, "{why}");
    let inside = seated(&server, &format!("room={id}&code={code}"), "in").await;
    assert_eq!(inside.welcome().room, id);
    let (c, why) = refused(&server, &format!("room={id}&code={code}")).await;
    assert_eq!(c, ByeCode::RoomFull, "{why}");
    assert!(why.contains("full"), "{why}");

    // Quick match never seats anyone in a private room: with the standing room full,
    // it opens a new public one.
    let first = seated(&server, "", "a").await;
    assert_eq!(first.welcome().room, 1);
    let next = seated(&server, "", "b").await;
    assert_eq!(next.welcome().room, 3);

    for (query, code) in [
        ("room=999", ByeCode::NoSuchRoom),
        ("type=nonesuch", ByeCode::NoSuchRoom),
        ("room=abc", ByeCode::NoSuchRoom),
        ("room=1&type=demo", ByeCode::NoSuchRoom),
        ("code=ABCDEF", ByeCode::NoSuchRoom),
        ("room=1", ByeCode::RoomFull),
    ] {
        let (got, why) = refused(&server, query).await;
        assert_eq!(got, code, "{query}: {why}");
    }
    let (_, why) = refused(&server, "type=nonesuch").await;
    assert!(
        why.contains("demo"),
        "the refusal names the types there are: {why}"
    );
    let answer = http(server.addr(), "POST", "/rooms", r#"{"type": "nonesuch"}"#).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let answer = http(server.addr(), "POST", "/rooms", r#"{"players": 3}"#).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    drop((inside, first, next));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_room_is_disposed_of_after_its_grace_and_the_standing_room_stays() {
    let server = TestServer::start(rooms_config(1, 1)).await;
    let a = seated(&server, "", "a").await;
    let mut b = seated(&server, "", "b").await;
    assert_eq!((a.welcome().room, b.welcome().room), (1, 2));
    // Occupied, room 2 outlives its grace.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(seats(&rooms(&server, "").await), vec![(1, 1), (2, 1)]);
    next_snapshot(&mut b).await;
    b.close().await.expect("a clean close");
    let left = Instant::now();
    eventually(WAIT, "room 2 to be disposed of", || async {
        rooms(&server, "").await.iter().all(|r| r.id != 2)
    })
    .await;
    let took = left.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "disposed of after {took:?}, before its 1 s grace"
    );
    // (A dropped connection would keep its seat for the resume grace: a clean close.)
    let mut a = a;
    a.close().await.expect("a clean close");
    // The standing room stays, empty, past its grace too.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(seats(&rooms(&server, "").await), vec![(1, 0)]);
    let metrics = server.server().metrics_text();
    assert!(metrics.contains("tickwire_rooms 1\n"), "{metrics}");
    assert!(
        metrics.contains("tickwire_rooms_opened_total 2\n"),
        "{metrics}"
    );
    // A disposed room's id is never handed out again.
    let c = seated(&server, "", "c").await;
    let d = seated(&server, "", "d").await;
    assert_eq!((c.welcome().room, d.welcome().room), (1, 3));
    server.stop().await;
}

/// The demo, except that a player named "boom" makes the game panic on the tick thread.
struct Fragile(Demo);

impl Game for Fragile {
    type Config = DemoConfig;
    type Input = Controls;
    type Event = DemoEvent;
    const NAME: &'static str = "fragile";

    fn replicate(config: &DemoConfig) -> Replicate {
        Demo::replicate(config)
    }

    fn new(config: &DemoConfig, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>) -> Self {
        Fragile(Demo::new(config, world, ctx))
    }

    fn join(&mut self, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>, player: &PlayerInfo) {
        assert!(
            &*player.name != "boom",
            "the fragile game cannot take a boom"
        );
        self.0.join(world, ctx, player);
    }

    fn leave(&mut self, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>, player: PlayerId) {
        self.0.leave(world, ctx, player);
    }

    fn input(
        &mut self,
        world: &mut World,
        ctx: &mut Ctx<'_, DemoEvent>,
        player: PlayerId,
        input: Controls,
    ) {
        self.0.input(world, ctx, player, input);
    }

    fn step(&mut self, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>) {
        self.0.step(world, ctx);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_room_ends_alone_while_the_others_keep_ticking() {
    let config = rooms_config(0, 30);
    let types = RoomTypes::new()
        .add::<Demo>("demo", config.clone(), demo_config())
        .add::<Fragile>("fragile", config.clone(), demo_config());
    let server = TestServer::start_rooms(config, types).await;
    let mut steady = seated(&server, "", "steady").await;
    let mut doomed = seated(&server, "type=fragile", "doomed").await;
    assert_eq!((steady.welcome().room, doomed.welcome().room), (1, 2));
    assert_eq!(doomed.welcome().schema.game(), "fragile");
    next_snapshot(&mut doomed).await;
    let mut feed =
        tickwire_tests::sse::SseReader::open(server.addr(), "/rooms/2/events", None).await;
    let _boom = seated(&server, "type=fragile", "boom").await;
    // The fragile room's players are told it failed.
    let bye = wait_for(&mut doomed, WAIT, "the fragile room's Bye", |_, e| {
        matches!(e, ClientEvent::Bye { .. })
    })
    .await;
    let ClientEvent::Bye { code, reason } = bye else {
        unreachable!("wait_for returned what it waited for")
    };
    assert_eq!(code, ByeCode::InternalError, "{reason}");
    assert!(reason.contains("failed"), "{reason}");
    // Its event feed ends saying so.
    let end = loop {
        let e = feed
            .next(WAIT)
            .await
            .expect("the feed ends with an end event");
        if e.event == "end" {
            break e;
        }
    };
    assert!(end.data.contains("its game failed"), "{end:?}");
    assert!(feed.next(WAIT).await.is_none(), "nothing after the end");
    // The demo room never missed a beat: its ticks keep coming on time and its mirror
    // equals the server.
    let before = next_snapshot(&mut steady).await.tick;
    let t0 = Instant::now();
    let mut last = before;
    while t0.elapsed() < Duration::from_secs(1) {
        last = next_snapshot(&mut steady).await.tick;
    }
    assert!(
        last.0 - before.0 >= 25,
        "{} ticks in a second after the panic",
        last.0 - before.0
    );
    server.assert_mirror_matches(&steady, "steady");
    eventually(WAIT, "the failed room to leave the listing", || async {
        seats(&rooms(&server, "").await) == vec![(1, 1)]
    })
    .await;
    let metrics = server.server().metrics_text();
    assert!(
        metrics.contains("tickwire_rooms_failed_total 1\n"),
        "{metrics}"
    );
    // The type still works: a new fragile room opens for the next player.
    let again = seated(&server, "type=fragile", "again").await;
    assert_eq!(again.welcome().room, 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spectator_mirrors_the_room_exactly_holds_nothing_and_is_refused_input() {
    let config = Config {
        room_spectators: 1,
        ..rooms_config(0, 30)
    };
    let server = TestServer::start(config).await;
    let mut player = seated(&server, "", "ann").await;
    let ann = (player.welcome().player, player.welcome().entity);
    wait_for(&mut player, WAIT, "ann's avatar", |c, _| {
        c.mirror().entities().iter().any(|e| e.id == ann.1)
    })
    .await;
    let mut watcher = seated(&server, "room=1&spectate=1", "eve").await;
    let welcome = watcher.welcome().clone();
    assert!(welcome.spectator && welcome.room == 1);
    assert_eq!((welcome.player.0, welcome.entity.0), (0, 0));
    assert!(
        welcome.resume_token.is_empty(),
        "a spectator has nothing to resume"
    );
    // Avatars take their ids from 2^30 up, the game's own entities below.
    let avatars = || {
        let snap = server.server().latest_snapshot();
        snap.entities
            .iter()
            .filter(|e| e.id.0 >= 1 << 30)
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(avatars(), vec![ann.1]);
    // The player moves; the spectator's mirror is the room, tick for tick.
    let walk = Controls::new(tickwire_server::games::controls::RIGHT, 0);
    let start = server.server().latest_snapshot();
    for _ in 0..20 {
        player.send_input(&walk).await.expect("an input");
        // In mirror mode every snapshot is applied and checksum-verified, or
        // next_event fails.
        next_snapshot(&mut watcher).await;
        server.assert_mirror_matches(&watcher, "eve");
    }
    assert_ne!(
        start.get(ann.1),
        server.server().latest_snapshot().get(ann.1),
        "the player moved while watched"
    );
    // A spectator's inputs and chat are refused; they add nothing to the world.
    for _ in 0..5 {
        watcher.send_input(&walk).await.expect("sent");
    }
    watcher.chat("hello").await.expect("sent");
    for _ in 0..5 {
        next_snapshot(&mut watcher).await;
    }
    server.assert_mirror_matches(&watcher, "eve");
    assert_eq!(avatars(), vec![ann.1], "the spectator has no avatar");
    let metrics = server.server().metrics_text();
    assert!(
        metrics.contains("tickwire_messages_dropped_total{reason=\"spectator_input\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tickwire_messages_dropped_total{reason=\"spectator_chat\"} 1"),
        "{metrics}"
    );
    let listed = rooms(&server, "").await;
    assert_eq!(
        (listed[0].players, listed[0].spectators),
        (1, 1),
        "a spectator is no player"
    );

    // The cap holds; following needs a player who is there.
    let (code, why) = refused(&server, "room=1&spectate=1").await;
    assert_eq!(code, ByeCode::RoomFull, "{why}");
    drop(watcher);
    eventually(WAIT, "the spectator's place to free", || async {
        rooms(&server, "").await[0].spectators == 0
    })
    .await;
    let (code, why) = refused(&server, "room=1&spectate=1&follow=77").await;
    assert_eq!(code, ByeCode::NoSuchRoom, "{why}");
    let (code, why) = refused(&server, "spectate=1").await;
    assert_eq!(code, ByeCode::NoSuchRoom, "{why}");
    let (code, why) = refused(&server, "follow=1").await;
    assert_eq!(code, ByeCode::NoSuchRoom, "{why}");
    let follower = seated(
        &server,
        &format!("room=1&spectate=1&follow={}", ann.0.0),
        "fan",
    )
    .await;
    assert!(follower.welcome().spectator);
    assert_eq!(
        follower.welcome().entity,
        ann.1,
        "a follower's view centres on the player"
    );
    drop(player);
    server.stop().await;
}

/// The body of an HTTP answer with `status`, as JSON.
async fn json_of(
    server: &TestServer,
    method: &str,
    path: &str,
    body: &str,
    status: &str,
) -> serde_json::Value {
    let answer = http(server.addr(), method, path, body).await;
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "{method} {path} {body}: {answer}"
    );
    let body = answer.split_once("\r\n\r\n").expect("a body").1;
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matchmade_seat_is_held_claimed_once_and_freed_when_unused() {
    let config = Config {
        seat_reservation_secs: 1,
        ..rooms_config(1, 30)
    };
    let server = TestServer::start(config).await;
    let m = json_of(&server, "POST", "/matchmake", "", "200").await;
    assert_eq!(
        (m["room"].as_u64(), m["type"].as_str()),
        (Some(1), Some("demo")),
        "{m}"
    );
    assert_eq!(m["expires_in_ms"], 1000);
    let token = m["seat"].as_str().expect("a seat token").to_owned();
    let url = m["url"].as_str().expect("a url").to_owned();
    assert_eq!(url, format!("ws://{}/ws?seat={token}", server.addr()));
    // The reserved seat counts: room 1 holds one player, so a quick match opens room 2.
    let other = seated(&server, "", "other").await;
    assert_eq!(other.welcome().room, 2);
    let mine = Client::connect(&url, ConnectOptions::new("mine"))
        .await
        .expect("the reserved seat is claimed");
    assert_eq!(mine.welcome().room, 1);
    // A seat is claimed once; a forged token claims nothing.
    let (code, why) = refused(&server, &format!("seat={token}")).await;
    assert_eq!(code, ByeCode::NoSeat, "{why}");
    let forged = token.replacen("seat.", "seat.9", 1);
    let (code, why) = refused(&server, &format!("seat={forged}")).await;
    assert_eq!(code, ByeCode::NoSeat, "{why}");
    let (code, why) = refused(&server, &format!("seat={token}&room=1")).await;
    assert_eq!(code, ByeCode::NoSuchRoom, "{why}");

    // A reservation nobody claims is freed after its time.
    let created = json_of(&server, "POST", "/rooms", "{}", "201").await;
    let id = created["id"].as_u64().expect("an id");
    let m = json_of(
        &server,
        "POST",
        "/matchmake",
        &format!(r#"{{"room": {id}}}"#),
        "200",
    )
    .await;
    let lapsing = m["seat"].as_str().expect("a seat token").to_owned();
    let held = |list: Vec<RoomListing>| {
        list.iter()
            .find(|r| u64::from(r.id) == id)
            .map(|r| r.players)
    };
    assert_eq!(
        held(rooms(&server, "").await),
        Some(1),
        "the reservation holds the seat"
    );
    eventually(WAIT, "the unclaimed seat to be freed", || async {
        held(rooms(&server, "").await) == Some(0)
    })
    .await;
    let (code, why) = refused(&server, &format!("seat={lapsing}")).await;
    assert_eq!(code, ByeCode::NoSeat, "{why}");

    // Clear refusals.
    json_of(&server, "POST", "/matchmake", r#"{"room": 99}"#, "404").await;
    json_of(&server, "POST", "/matchmake", r#"{"room": 1}"#, "409").await;
    json_of(
        &server,
        "POST",
        "/matchmake",
        r#"{"type": "nonesuch"}"#,
        "404",
    )
    .await;
    json_of(
        &server,
        "POST",
        "/matchmake",
        r#"{"room": 1, "type": "demo"}"#,
        "400",
    )
    .await;
    json_of(
        &server,
        "POST",
        "/matchmake",
        r#"{"code": "ABCDEF"}"#,
        "400",
    )
    .await;
    let private = json_of(&server, "POST", "/rooms", r#"{"private": true}"#, "201").await;
    let pid = private["id"].as_u64().expect("an id");
    json_of(
        &server,
        "POST",
        "/matchmake",
        &format!(r#"{{"room": {pid}}}"#),
        "403",
    )
    .await;
    let code = private["code"].as_str().expect("a code");
    json_of(
        &server,
        "POST",
        "/matchmake",
        &format!(r#"{{"room": {pid}, "code": "{code}"}}"#),
        "200",
    )
    .await;
    drop((other, mine));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standing_room_whose_game_fails_is_replaced() {
    let config = rooms_config(0, 30);
    let types = RoomTypes::new().add::<Fragile>("fragile", config.clone(), demo_config());
    let server = TestServer::start_rooms(config, types).await;
    let _boom = seated(&server, "", "boom").await;
    eventually(
        WAIT,
        "a new standing room in place of the failed one",
        || async { seats(&rooms(&server, "").await) == vec![(2, 0)] },
    )
    .await;
    assert_eq!(server.server().standing_room().id, 2);
    let next = seated(&server, "", "next").await;
    assert_eq!(
        next.welcome().room,
        2,
        "quick match seats the next player there"
    );
    let metrics = server.server().metrics_text();
    assert!(
        metrics.contains("tickwire_rooms 1\n"),
        "the failed room left the gauge: {metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_seats_unjoined_rooms_and_feed_readers_count_against_the_address() {
    let config = Config {
        limit_loopback: true,
        max_connections_per_ip: 2,
        seat_reservation_secs: 1,
        ..rooms_config(0, 30)
    };
    let server = TestServer::start(config).await;
    // A reserved seat and an unjoined room each hold one of the address's two slots.
    json_of(&server, "POST", "/matchmake", "", "200").await;
    let created = json_of(&server, "POST", "/rooms", "{}", "201").await;
    let answer = http(server.addr(), "POST", "/matchmake", "").await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("limit 2"), "{answer}");
    let answer = http(server.addr(), "GET", "/rooms/1/events?after=0&wait=0", "").await;
    assert!(
        answer.starts_with("HTTP/1.1 429"),
        "a feed reader is a connection too: {answer}"
    );
    // The unclaimed reservation lapses and gives its slot back; joining the room (on
    // that slot) frees its opener's; a long poll then fits, and closes its connection.
    let id = created["id"].as_u64().expect("an id");
    eventually(WAIT, "the reservation to lapse", || async {
        rooms(&server, "").await[0].players == 0
    })
    .await;
    let _joined = seated(&server, &format!("room={id}"), "ann").await;
    let answer = http(server.addr(), "GET", "/rooms/1/events?after=0&wait=0", "").await;
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    server.stop().await;
}
