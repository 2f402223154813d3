//! End to end: record and replay. A 60 s demo match of 10 bots, recorded by the
//! `tickwire` binary (`--record`), replays headless tick for tick (`tickwire replay
//! --verify`: every replayed snapshot's checksum, and every keyframe, equal to the
//! recording's); the same recording with one input changed does not. A served replay,
//! steered over HTTP, shows a client exactly the replayed world at the tick it was
//! sought to, forward and back.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tickwire_client::Client;
use tickwire_server::games::controls::{Controls, DOWN, LEFT, RIGHT, UP};
use tickwire_server::games::demo::Demo;
use tickwire_server::record::{self, Applied, InputPart};
use tickwire_server::replay::Playback;
use tickwire_shared::codec::{decode_client_value, encode_value};
use tickwire_shared::{Entity, Tick};
use tickwire_tests::recording::{record_a_short_match, scratch, the_recording};
use tickwire_tests::{
    ServerProcess, TestServer, http, run_to_end, test_config, tickwire_binary, workspace_binary,
};

fn verify(file: &Path) -> (bool, String) {
    let mut command = Command::new(tickwire_binary());
    command.arg("replay").arg(file).arg("--verify");
    let out = run_to_end(command, Duration::from_secs(60));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn a_60_s_match_of_10_bots_replays_tick_for_tick_and_an_edited_one_does_not() {
    let dir = scratch("record-60s");
    let mut server = ServerProcess::start(&["--record", dir.to_str().unwrap()]);
    let mut bots = Command::new(workspace_binary("bots"));
    bots.args(["--url", &server.url(), "--count", "10", "--duration", "60s"])
        .args(["--behavior", "chase"]);
    let out = run_to_end(bots, Duration::from_secs(90));
    assert!(
        out.status.success(),
        "the bots failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.sigterm();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server stops");
    assert!(status.success(), "the server exited with {status}");
    let file = the_recording(&dir);

    let (ok, text) = verify(&file);
    assert!(ok, "the replay differs from the recording");
    assert!(text.contains("every tick equals the recording"), "{text}");
    let ticks: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tick count in {text:?}"));
    assert!(ticks >= 60 * 30, "the recording holds {ticks} ticks");
    let (header, records) = record::read(&file).unwrap();
    let inputs: usize = records
        .iter()
        .flat_map(|r| &r.applied)
        .filter(|a| matches!(a, Applied::Input { parts, .. } if parts.iter().any(|p| matches!(p, InputPart::Sent(_)))))
        .count();
    assert!(
        inputs > 1000,
        "the bots' inputs are in the recording ({inputs})"
    );
    assert_eq!(
        records.iter().filter(|r| r.keyframe.is_some()).count() as u64,
        ticks / 150
    );

    // Change one bot's input in a tick in the middle (it holds the opposite keys): from
    // there the replay differs. Not every edit can change the world (a knocked-out
    // player's keys, or one pinned against a wall either way), so up to 8 inputs after
    // the middle are tried, each alone, until one makes a difference.
    let middle = records.len() / 2;
    let sent = |a: &Applied| matches!(a, Applied::Input { parts, .. } if parts.iter().any(|p| matches!(p, InputPart::Sent(_))));
    let candidates: Vec<(usize, usize)> = (middle..records.len())
        .filter_map(|i| Some((i, records[i].applied.iter().position(sent)?)))
        .take(8)
        .collect();
    assert!(!candidates.is_empty(), "an input after the middle");
    let mut differed = None;
    for (at, k) in candidates {
        let mut edited_records = records.clone();
        let tick = edited_records[at].tick;
        let Applied::Input { parts, .. } = &mut edited_records[at].applied[k] else {
            unreachable!("found above")
        };
        for part in parts.iter_mut() {
            if let InputPart::Sent(bytes) = part {
                let mut c: Controls = decode_client_value(bytes).unwrap();
                c.buttons = if c.buttons & (UP | LEFT) != 0 {
                    DOWN | RIGHT
                } else {
                    UP | LEFT
                };
                *bytes = encode_value(&c);
            }
        }
        let edited = dir.join("edited.twrec");
        record::write(&edited, &header, &edited_records).unwrap();
        let (ok, text) = verify(&edited);
        if !ok {
            differed = Some((tick, text));
            break;
        }
        eprintln!(
            "the edit at tick {} changed nothing; trying the next input",
            tick.0
        );
    }
    let (tick, text) =
        differed.unwrap_or_else(|| panic!("a replay with a changed input must not pass"));
    let first: u32 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("tick ")?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no differing tick named in {text:?}"));
    assert!(
        first >= tick.0,
        "the replay differed at tick {first}, before the edit at {}",
        tick.0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_replay_pauses_seeks_and_shows_the_replayed_world() {
    let dir = scratch("served-replay");
    let file = record_a_short_match(&dir).await;
    let playback = Playback::<Demo>::open(&file).unwrap();
    let (first, last) = playback.span();
    let middle = Tick((first.0 + last.0) / 2);
    let server = TestServer::replay(test_config(), playback).await;
    let mut viewer = server.connect("viewer").await;
    tickwire_tests::next_snapshot(&mut viewer).await;
    // A viewer is nobody in the recording: its ids lie far from every recorded player's.
    let joined: Vec<(u32, u32)> = record::read(&file)
        .unwrap()
        .1
        .iter()
        .flat_map(|r| &r.applied)
        .filter_map(|a| match a {
            Applied::Join { player, entity, .. } => Some((player.0, entity.0)),
            _ => None,
        })
        .collect();
    let (me, mine) = (viewer.welcome().player.0, viewer.welcome().entity.0);
    assert_eq!(joined.len(), 3, "the three recorded players: {joined:?}");
    assert!(
        joined.iter().all(|&(p, e)| p != me && e != mine),
        "viewer {me}/{mine} vs {joined:?}"
    );

    let status = http(server.addr(), "GET", "/replay", "").await;
    assert!(status.contains("\"playing\":true"), "{status}");
    let refused = http(server.addr(), "POST", "/replay", "{\"speed\": 99}").await;
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    let accepted = http(
        server.addr(),
        "POST",
        "/replay",
        &format!("{{\"playing\": false, \"seek\": {}}}", middle.0),
    )
    .await;
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    let want = format!("\"tick\":{}", middle.0);
    tickwire_tests::within(Duration::from_secs(5), "the seek", async {
        while !http(server.addr(), "GET", "/replay", "")
            .await
            .contains(&want)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // Paused: every frame now shows the sought tick; the viewer's mirror becomes it.
    let shows = |tick: Tick| {
        let mut expected = Playback::<Demo>::open(&file).unwrap();
        expected.seek(tick).unwrap();
        assert_eq!(
            expected.checked(),
            (u64::from(tick.0), 0),
            "the expected replay matched too"
        );
        expected.snapshot().entities.clone()
    };
    let at_middle = shows(middle);
    viewer_shows(&mut viewer, &at_middle, "the middle").await;
    // Back to tick 10: the playback starts again from the first tick and stops there.
    let back = http(server.addr(), "POST", "/replay", "{\"seek\": 10}").await;
    assert!(back.starts_with("HTTP/1.1 202"), "{back}");
    let at_ten = shows(Tick(10));
    viewer_shows(&mut viewer, &at_ten, "tick 10").await;
    let status = http(server.addr(), "GET", "/replay", "").await;
    assert!(
        status.contains("\"tick\":10,") && status.contains("\"mismatched\":0"),
        "{status}"
    );
    assert_eq!(viewer.stats().desyncs, 0);
    viewer.close().await.unwrap();
    server.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits (at most 5 s) until the viewer's mirror holds exactly `entities`.
async fn viewer_shows(viewer: &mut Client, entities: &[Entity], what: &str) {
    tickwire_tests::within(
        Duration::from_secs(5),
        &format!("the viewer to show {what}"),
        async {
            while viewer.mirror().entities() != entities {
                tickwire_tests::next_snapshot(viewer).await;
            }
        },
    )
    .await;
}
