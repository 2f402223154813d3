//! The browser client in real headless Chromium, against in-process servers: the demo
//! with 20 bots, and the `tag` example (a game the page has no code for) with 3.
//!
//! `tests/browser/demo.mjs` (Playwright driving Debian's Chromium) plays the page and
//! measures what it draws; this test starts the server, the bots and an observer client,
//! answers the script's questions from the observer's own mirror (did the browser
//! player's entity move on the server? did the chat line arrive?) and asserts on the
//! script's measurements. Two runs: no added latency (including a dropped connection
//! that must resume as the same player), then `sim_latency_ms = 100`.
//!
//! A third: a page in a cluster of two processes on a real redis-server, whose server
//! drains under it, matchmakes again and plays on in the other.
//!
//! Without Chromium, Node or the script's packages the test is skipped with a message —
//! unless `TICKWIRE_REQUIRE_BROWSER` is set (the README's test command sets it), in which
//! case a missing piece fails it, so CI can never skip it silently.

#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/script.rs"]
mod script;
#[path = "../../server/examples/tag.rs"]
#[allow(dead_code)]
mod tag;

use std::time::Duration;

use serde_json::{Value, json};
use tickwire_client::{ClientEvent, ConnectOptions, Mode};
use tickwire_tests::{TestServer, test_config};
use tokio_util::sync::CancellationToken;

use harness::{BOTS, Harness};

/// One browser at a time: two Chromiums, their servers and bots on a two-core machine
/// would measure each other's load instead of the page.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
use script::{browser_ready, run_generic, run_lobby, run_relocate, run_replay, run_script};

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("no number at {path:?} in {v:#}"))
}

/// Checks common to both runs: clean console, bots drawn, the server saw the key.
fn check_common(r: &Value) {
    eprintln!("browser {} run: {r}", r["phase"]);
    let errors = r["consoleErrors"].as_array().expect("consoleErrors");
    assert!(errors.is_empty(), "console errors on the page: {errors:?}");
    assert_eq!(
        num(r, &["stats", "applyErrors"]),
        0.0,
        "every snapshot applied with a matching checksum"
    );
    assert!(
        num(r, &["remote", "maxPlayersDrawn"]) >= (BOTS + 1) as f64,
        "the page draws all {BOTS} bots and the observer"
    );
    let speed = num(r, &["stats", "arena", "player_speed"]);
    let dx = num(r, &["own", "serverReply", "dx"]);
    let dy = num(r, &["own", "serverReply", "dy"]);
    assert!(
        dx > 0.5 * speed && dx < 1.5 * speed && dy.abs() < 1.0,
        "holding the key for 1 s moved the entity ({dx:.1}, {dy:.1}) on the server; expected about {speed} along x"
    );
    let shot = &r["screenshot"];
    assert!(
        num(shot, &["stddevLuma"]) > 8.0 && num(shot, &["colours"]) > 64.0,
        "the screenshot is not blank: {shot}"
    );
}

/// Remote players move without stutter: no frame steps further than the player speed
/// allows in that frame's time (plus the playout clock's 10 % slew and a margin).
fn check_smooth(r: &Value, which: &str) {
    let ratio = num(r, &[which, "maxStepRatio"]);
    assert!(
        ratio <= 1.5,
        "a remote player jumped {ratio:.2}× its speed in one frame ({which}: {})",
        r[which]
    );
    assert!(
        num(r, &[which, "samples"]) > 100.0,
        "enough frames were measured: {}",
        r[which]
    );
}

/// Whether the browser test can run; without a browser it fails under
/// `TICKWIRE_REQUIRE_BROWSER` and is skipped (loudly) otherwise.
fn browser_or_skip() -> bool {
    match browser_ready() {
        Ok(()) => true,
        Err(why) if std::env::var_os("TICKWIRE_REQUIRE_BROWSER").is_some() => {
            panic!("the browser test is required (TICKWIRE_REQUIRE_BROWSER) but cannot run: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED the browser test: {why}. Set TICKWIRE_REQUIRE_BROWSER=1 to make this a failure."
            );
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plays_in_headless_chromium() {
    if !browser_or_skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;

    // No added latency: load, name, play, chat, screenshot.
    let h = Harness::start(0).await;
    let r = run_script(&h, "basic").await;
    h.stop().await;
    check_common(&r);
    check_smooth(&r, "remote");
    // On loopback the HUD's ping is the network's round trip, not the page's own delay:
    // well under one frame (16.7 ms), which is what a Pong waiting behind a paint adds.
    let samples = r["ping"]["samples"].as_array().map_or(0, Vec::len);
    assert!(
        samples >= 3 && num(&r, &["ping", "ms"]) < 2.0,
        "the HUD's ping on loopback should be under 2 ms: {}",
        r["ping"]
    );
    assert_eq!(
        r["chat"]["received"],
        json!(true),
        "the chat line typed in the page reached a Rust client"
    );
    let resume = &r["resume"];
    assert!(
        resume["notice"]
            .as_str()
            .is_some_and(|n| n.starts_with("Disconnected")),
        "a dropped connection is announced on the page: {resume}"
    );
    assert_eq!(
        resume["samePlayer"],
        json!(true),
        "the page resumed as the same player: {resume}"
    );
    assert_eq!(
        resume["sameScore"],
        json!(true),
        "the resumed player kept its score: {resume}"
    );
    assert_eq!(
        resume["firstIsDelta"],
        json!(true),
        "the first snapshot after the resume is a delta, not a full state: {resume}"
    );
    assert_eq!(
        resume["noticeHiddenAfter"],
        json!(true),
        "the notice goes once reconnected: {resume}"
    );

    // 100 ms each way: prediction and interpolation have to earn their keep.
    let h = Harness::start(100).await;
    let r = run_script(&h, "latency").await;
    h.stop().await;
    check_common(&r);
    check_smooth(&r, "remote");
    check_smooth(&r, "moveRemote");
    assert_eq!(
        num(&r, &["own", "framesToMove"]),
        0.0,
        "the own player moves on the first frame after the key press: {}",
        r["own"]
    );
    // Corrections ease out at 30 units/s at most; a rubber-band would pull the player back
    // much faster (it moves at 240).
    assert!(
        num(&r, &["own", "maxBackwardsUnitsPerSec"]) < 60.0
            && num(&r, &["own", "maxBackwardsUnits"]) < 3.0,
        "the own player never snaps back against the held key (no rubber-banding): {}",
        r["own"]
    );
    assert!(
        num(&r, &["own", "drawnMinusServer"]) < 2.0,
        "at rest the drawn player settles on the server's position: {}",
        r["own"]
    );
}

/// Tag bots: run about in the field, changing direction every second.
async fn tag_bot(url: String, index: u8, stop: CancellationToken) {
    let options = ConnectOptions::new(format!("runner{index}")).mode(Mode::CountOnly);
    let Ok(mut client) = tickwire_client::Client::connect(&url, options).await else {
        return;
    };
    let dirs = [8u8, 2, 4, 1, 10, 5];
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let mut sent = 0usize;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => {
                let buttons = dirs[(sent / 10 + usize::from(index)) % dirs.len()];
                sent += 1;
                if client.send_input(&tag::Keys { buttons }).await.is_err() {
                    break;
                }
            }
            event = client.next_event() => if matches!(event, Err(_) | Ok(ClientEvent::Closed(_))) {
                break;
            },
        }
    }
    let _ = client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_example_plays_in_headless_chromium_with_the_generic_renderer() {
    if !browser_or_skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    const RUNNERS: u8 = 3;
    let server = TestServer::start_game::<tag::Tag>(test_config(), tag::TagConfig::default()).await;
    let stop = CancellationToken::new();
    let bots: Vec<_> = (0..RUNNERS)
        .map(|i| tokio::spawn(tag_bot(server.url(), i, stop.clone())))
        .collect();
    let r = run_generic(&format!("http://{}/", server.addr()), usize::from(RUNNERS)).await;
    stop.cancel();
    for b in bots {
        let _ = b.await;
    }
    server.stop().await;
    eprintln!("browser tag run: {r}");
    let errors = r["consoleErrors"].as_array().expect("consoleErrors");
    assert!(errors.is_empty(), "console errors on the page: {errors:?}");
    for check in [
        "connected",
        "generic",
        "players",
        "noConsoleErrors",
        "inputSent",
    ] {
        assert_eq!(
            r["checks"][check],
            json!(true),
            "check {check} failed: {r:#}"
        );
    }
    assert_eq!(r["stats"]["game"], json!("tag"));
    assert!(
        num(&r, &["others"]) >= f64::from(RUNNERS),
        "the page draws the other runners"
    );
    assert_eq!(
        num(&r, &["stats", "applyErrors"]),
        0.0,
        "every snapshot verified"
    );
    // Holding D (right) for a second moves the page's runner right on the server (tag's
    // speed is 200 units/s; the field's wall may cut it short).
    let dx = num(&r, &["own", "dx"]);
    assert!(
        dx > 50.0 || num(&r, &["own", "after", "x"]) > 1150.0,
        "held D moved the runner right: {}",
        r["own"]
    );
    let shot = &r["screenshot"];
    assert!(
        num(shot, &["stddevLuma"]) > 4.0 && num(shot, &["colours"]) > 16.0,
        "the screenshot is not blank: {shot}"
    );
}

/// A recorded match served by `Server::replay`: the page shows the replay bar, pauses,
/// seeks to the middle with the slider, and then holds exactly the replayed world at that
/// tick; at 2× it plays on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_seeks_to_the_middle_in_headless_chromium() {
    use tickwire_server::games::demo::Demo;
    use tickwire_server::replay::Playback;
    use tickwire_shared::Tick;
    use tickwire_tests::recording::{record_a_short_match, scratch};

    if !browser_or_skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let dir = scratch("browser-replay");
    let file = record_a_short_match(&dir).await;
    let playback = Playback::<Demo>::open(&file).expect("the recording opens");
    let (first, last) = playback.span();
    let middle = (first.0 + last.0) / 2;
    let server = TestServer::replay(test_config(), playback).await;
    let r = run_replay(&format!("http://{}/", server.addr()), middle).await;
    server.stop().await;
    eprintln!("browser replay run: {r}");
    let errors = r["consoleErrors"].as_array().expect("consoleErrors");
    assert!(errors.is_empty(), "console errors on the page: {errors:?}");
    assert_eq!(r["bar"], json!(true), "the replay bar is shown");
    assert_eq!(r["paused"]["playing"], json!(false));
    assert_eq!(num(&r, &["seeked", "tick"]), f64::from(middle));
    let mut expected = Playback::<Demo>::open(&file).expect("the recording opens");
    expected.seek(Tick(middle)).expect("seeking");
    let ids: Vec<u64> = expected
        .snapshot()
        .entities
        .iter()
        .map(|e| u64::from(e.id.0))
        .collect();
    assert!(
        ids.len() > 20,
        "the demo's orbs and players ({})",
        ids.len()
    );
    assert_eq!(
        r["ids"],
        json!(ids),
        "the page holds the replayed world at tick {middle}"
    );
    assert_eq!(num(&r, &["speed", "speed"]), 2.0);
    assert!(num(&r, &["played", "tick"]) > f64::from(middle) + 10.0);
    assert_eq!(
        num(&r, &["played", "mismatched"]),
        0.0,
        "every replayed tick matched"
    );
    std::fs::remove_dir_all(&dir).expect("removing the scratch directory");
}

/// The lobby lists the rooms and seats a player in the one they pick; a spectator who
/// picks Watch on it holds, tick for tick, exactly what the player holds; the dashboard
/// shows that room's live scoreboard from its event feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_joins_a_room_and_a_spectator_sees_what_its_player_sees() {
    if !browser_or_skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let server = TestServer::start(test_config()).await;
    let created = tickwire_tests::http(server.addr(), "POST", "/rooms", "{}").await;
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let room: serde_json::Value =
        serde_json::from_str(created.split_once("\r\n\r\n").expect("a body").1).expect("JSON");
    let room = room["id"].as_u64().expect("an id") as u32;
    // Someone already plays there, so the room is more than the page's own avatar.
    let mut ann = tickwire_client::Client::connect(
        &server.url_with(&format!("room={room}")),
        ConnectOptions::new("ann"),
    )
    .await
    .expect("ann joins");
    let reading = tokio::spawn(async move { while ann.next_event().await.is_ok() {} });
    let r = run_lobby(&format!("http://{}/", server.addr()), room).await;
    reading.abort();
    eprintln!("browser lobby run: {r}");
    let errors = r["consoleErrors"].as_array().expect("consoleErrors");
    assert!(errors.is_empty(), "console errors on the pages: {errors:?}");
    let listed: Vec<u64> = serde_json::from_value(r["listed"].clone()).expect("ids");
    assert!(
        listed.contains(&1) && listed.contains(&u64::from(room)),
        "{listed:?}"
    );
    assert_eq!(r["player"]["room"], json!(room));
    assert_eq!(r["player"]["spectator"], json!(false));
    assert_eq!(r["spectator"]["room"], json!(room));
    assert_eq!(r["spectator"]["spectator"], json!(true));
    let own = &r["player"]["entity"];
    let ids = r["playerIds"].as_array().expect("ids");
    assert!(ids.contains(own), "the player holds its own avatar");
    assert!(
        ids.len() > 20,
        "the demo's orbs and two players ({})",
        ids.len()
    );
    assert_eq!(
        r["spectatorIds"], r["playerIds"],
        "at tick {}, the spectator holds exactly what the player holds",
        r["tick"]
    );
    let scores = r["scores"].as_array().expect("scores");
    let names: Vec<&str> = scores.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(
        names.contains(&"pat") && names.contains(&"ann"),
        "the dashboard's scoreboard: {names:?}"
    );
    assert!(
        !names.contains(&"eve"),
        "a spectator is no player: {names:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_whose_server_drains_matchmakes_again_and_plays_on_another() {
    if !browser_or_skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let redis = tickwire_tests::redis::RedisServer::start();
    let redis_url = redis.url();
    let cluster = ["--redis-url", &redis_url, "--directory-ttl-secs", "3"];
    // The page comes from `front`, and plays first on `draining`, whose drain it lives
    // through.
    let front = tickwire_tests::ServerProcess::start(&cluster);
    let origin = format!("http://{}", front.addr());
    let mut args = cluster.to_vec();
    args.extend(["--drain-secs", "2", "--allow-origin", &origin]);
    let draining = tickwire_tests::ServerProcess::start(&args);
    let (front_addr, drain_addr) = (front.addr(), draining.addr());
    tickwire_tests::wait::eventually(
        Duration::from_secs(10),
        "both processes listed",
        move || async move {
            let answer = tickwire_tests::http(front_addr, "GET", "/cluster", "").await;
            answer.matches("\"node\":").count() == 2
        },
    )
    .await;
    let page = format!("{origin}/?name=rel&ws=ws://{}/ws", draining.addr());
    let script = tokio::spawn(async move { run_relocate(&page).await });
    tickwire_tests::wait::eventually(
        Duration::from_secs(30),
        "the page seated on the second process",
        move || async move {
            let rooms = tickwire_tests::http(drain_addr, "GET", "/rooms", "").await;
            rooms.contains("\"players\":1")
        },
    )
    .await;
    draining.sigterm();
    let r = script.await.expect("the script's task");
    eprintln!("browser relocation run: {r}");
    let errors = r["consoleErrors"].as_array().expect("consoleErrors");
    assert!(errors.is_empty(), "console errors on the page: {errors:?}");
    let (before, after) = (&r["before"], &r["after"]);
    let first = format!("ws://{}/ws", draining.addr());
    assert_eq!(
        before["url"],
        json!(first),
        "the page played first on the draining process"
    );
    let next = after["url"].as_str().expect("a url");
    assert!(
        next.starts_with(&format!("ws://{}/ws?seat=", front.addr())),
        "relocated through POST /matchmake to a seat on the other process: {next}"
    );
    assert_eq!(
        after["applyErrors"],
        json!(0),
        "every snapshot applied: {after}"
    );
    assert!(
        after["entities"]["total"].as_u64().unwrap_or(0) > 20,
        "the new world: {after}"
    );
    let notices: Vec<&str> = r["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notices.iter().any(|n| n.contains("Finding another server")),
        "the page said why it moved: {notices:?}"
    );
    let rooms = tickwire_tests::http(front.addr(), "GET", "/rooms", "").await;
    assert!(
        rooms.contains("\"players\":1"),
        "the page is a player of the other process: {rooms}"
    );
    let mut draining = draining;
    let exited = tokio::task::spawn_blocking(move || draining.wait_exit(Duration::from_secs(10)))
        .await
        .expect("the wait task");
    assert!(
        exited.is_some_and(|s| s.success()),
        "the drained process exited cleanly: {exited:?}"
    );
    front.sigterm();
}
