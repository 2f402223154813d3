//! A room's event feed end to end: Server-Sent Events resume after `Last-Event-ID`
//! with no event lost or repeated; a reader further behind than the ring is told which
//! ids are gone; the scoreboard comes each second; a long poll answers at once when
//! behind, as soon as an event comes when caught up, and after its timeout when not; readers are capped; a private room's feed
//! needs its code.

use std::time::{Duration, Instant};

use tickwire_server::Config;
use tickwire_tests::sse::{SseEvent, SseReader};
use tickwire_tests::{TestServer, http, test_config};

const WAIT: Duration = Duration::from_secs(5);

fn feed_config() -> Config {
    Config {
        chat_burst: 50,
        chat_per_minute: 600,
        feed_poll_secs: 1,
        ..test_config()
    }
}

/// Reads events until one of kind `kind` satisfies `done`; returns every event read.
async fn read_until(sse: &mut SseReader, mut done: impl FnMut(&SseEvent) -> bool) -> Vec<SseEvent> {
    let mut seen = Vec::new();
    loop {
        let e = sse.next(WAIT).await.expect("the stream ended early");
        let stop = done(&e);
        seen.push(e);
        if stop {
            return seen;
        }
    }
}

fn chat_text(e: &SseEvent) -> Option<String> {
    (e.event == "chat").then(|| {
        let v: serde_json::Value = serde_json::from_str(&e.data).expect("chat data is JSON");
        v["text"].as_str().expect("a text").to_owned()
    })
}

fn body(answer: &str) -> serde_json::Value {
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_resumes_after_last_event_id_with_nothing_lost_or_repeated() {
    let server = TestServer::start(feed_config()).await;
    let mut sse = SseReader::open(server.addr(), "/rooms/1/events", None).await;
    assert!(sse.head().starts_with("HTTP/1.0 200"), "{}", sse.head());
    assert!(sse.head().contains("text/event-stream"), "{}", sse.head());
    let mut ann = server.connect("ann").await;
    let joined = read_until(&mut sse, |e| e.event == "joined").await;
    let joined = joined.last().expect("the join");
    assert!(joined.data.contains(r#""name":"ann""#), "{joined:?}");
    // A scoreboard each second names who is there; it is state, with no id.
    let board = read_until(&mut sse, |e| e.event == "scoreboard").await;
    let board = board.last().expect("a scoreboard");
    assert_eq!(board.id, None, "{board:?}");
    let board: serde_json::Value = serde_json::from_str(&board.data).expect("JSON");
    assert_eq!(board["players"][0]["name"], "ann", "{board}");
    assert_eq!(board["players"][0]["score"], 0, "{board}");

    for i in 0..5 {
        ann.chat(format!("m{i}")).await.expect("chat sent");
    }
    let first = read_until(&mut sse, |e| chat_text(e).as_deref() == Some("m4")).await;
    let last_id = first.last().and_then(|e| e.id).expect("events carry ids");
    drop(sse);
    // While nobody reads, more happens.
    for i in 5..10 {
        ann.chat(format!("m{i}")).await.expect("chat sent");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = SseReader::open(server.addr(), "/rooms/1/events", Some(last_id)).await;
    let rest = read_until(&mut again, |e| chat_text(e).as_deref() == Some("m9")).await;
    let ids: Vec<u64> = rest.iter().filter_map(|e| e.id).collect();
    let expected: Vec<u64> = (last_id + 1..=last_id + ids.len() as u64).collect();
    assert_eq!(ids, expected, "every id after {last_id}, once, in order");
    assert!(rest.iter().all(|e| e.event != "gap"));
    let texts: Vec<String> = first.iter().chain(&rest).filter_map(chat_text).collect();
    let want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, want, "every chat line exactly once");
    drop(ann);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_behind_the_ring_is_told_which_events_are_gone() {
    let config = Config {
        feed_events: 4,
        ..feed_config()
    };
    let server = TestServer::start(config).await;
    let mut ann = server.connect("ann").await;
    for i in 0..8 {
        ann.chat(format!("m{i}")).await.expect("chat sent");
    }
    // Long-poll until the last line is in.
    let mut newest = 0;
    let t0 = Instant::now();
    while t0.elapsed() < WAIT {
        let got = body(
            &http(
                server.addr(),
                "GET",
                &format!("/rooms/1/events?after={newest}"),
                "",
            )
            .await,
        );
        newest = got["next"].as_u64().expect("next");
        if got["events"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["data"]["text"] == "m7"))
        {
            break;
        }
    }
    let mut sse = SseReader::open(server.addr(), "/rooms/1/events", Some(1)).await;
    let gap = sse.next(WAIT).await.expect("an event");
    assert_eq!(gap.event, "gap", "{gap:?}");
    let gap: serde_json::Value = serde_json::from_str(&gap.data).expect("JSON");
    let next = sse.next(WAIT).await.expect("an event");
    assert_eq!(gap["from"], 2);
    assert_eq!(
        gap["to"].as_u64().map(|t| t + 1),
        next.id,
        "the gap ends where the ring starts"
    );
    drop(ann);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_at_once_when_behind_and_after_its_timeout_when_not() {
    let server = TestServer::start(feed_config()).await;
    let mut ann = server.connect("ann").await;
    ann.chat("hello").await.expect("chat sent");
    // Long enough for the first scoreboard (once a second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Behind: at once, with every event from the start.
    let t0 = Instant::now();
    let got = body(&http(server.addr(), "GET", "/rooms/1/events?after=0", "").await);
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "took {:?}",
        t0.elapsed()
    );
    let events = got["events"].as_array().expect("events");
    assert_eq!(events[0]["id"], 1);
    // (A chat line sent at once may come before the join, applied at the next tick.)
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "joined" && e["data"]["name"] == "ann"),
        "{got}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "chat" && e["data"]["text"] == "hello"),
        "{got}"
    );
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e["id"].as_u64().expect("an id"))
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    let next = got["next"].as_u64().expect("next");
    assert_eq!(next, *ids.last().expect("some"));
    assert_eq!(got["gap"], serde_json::Value::Null);
    // Every answer carries the room's newest scoreboard (state, not an event).
    let board = &got["scoreboard"];
    assert_eq!(board["players"][0]["name"], "ann", "{got}");
    // Caught up: a new event answers the poll as soon as it comes.
    let addr = server.addr();
    let poll = tokio::spawn(async move {
        let t0 = Instant::now();
        let got = body(&http(addr, "GET", &format!("/rooms/1/events?after={next}"), "").await);
        (got, t0.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    ann.chat("now").await.expect("chat sent");
    let (got, waited) = poll.await.expect("the poll ran");
    assert!(
        waited < Duration::from_millis(900),
        "answered after {waited:?}"
    );
    assert_eq!(got["events"][0]["data"]["text"], "now", "{got}");
    let newest = got["next"].as_u64().expect("next");
    assert_eq!(newest, next + 1, "{got}");
    // Caught up and nothing happens (scoreboards renew, but are not events): the poll
    // answers, empty, after its timeout (`feed_poll_secs` = 1).
    let t0 = Instant::now();
    let got = body(
        &http(
            server.addr(),
            "GET",
            &format!("/rooms/1/events?after={newest}"),
            "",
        )
        .await,
    );
    let waited = t0.elapsed();
    assert_eq!(got["events"], serde_json::json!([]), "{got}");
    assert_eq!(got["next"].as_u64(), Some(newest));
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(2000)).contains(&waited),
        "a 1 s poll took {waited:?}"
    );
    // `wait` shortens it (never lengthens it past the setting).
    let t0 = Instant::now();
    let _ = body(
        &http(
            server.addr(),
            "GET",
            &format!("/rooms/1/events?after={newest}&wait=0"),
            "",
        )
        .await,
    );
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "wait=0 took {:?}",
        t0.elapsed()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_readers_are_capped_and_a_private_rooms_feed_needs_its_code() {
    let config = Config {
        max_feeds: 1,
        ..feed_config()
    };
    let server = TestServer::start(config).await;
    let first = SseReader::open(server.addr(), "/rooms/1/events", None).await;
    assert!(first.head().starts_with("HTTP/1.0 200"), "{}", first.head());
    let answer = http(server.addr(), "GET", "/rooms/1/events?after=0", "").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("limit 1"), "{answer}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let created = http(server.addr(), "POST", "/rooms", r#"{"private": true}"#).await;
    let created: serde_json::Value =
        serde_json::from_str(created.split_once("\r\n\r\n").expect("a body").1).expect("JSON");
    let (id, code) = (
        created["id"].as_u64().expect("id"),
        created["code"].as_str().expect("code"),
    );
    let answer = http(
        server.addr(),
        "GET",
        &format!("/rooms/{id}/events?after=0&wait=0"),
        "",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let got = body(
        &http(
            server.addr(),
            "GET",
            &format!("/rooms/{id}/events?after=0&wait=0&code={code}"),
            "",
        )
        .await,
    );
    assert_eq!(got["events"], serde_json::json!([]));
    let answer = http(server.addr(), "GET", "/rooms/99/events?after=0", "").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    server.stop().await;
}
