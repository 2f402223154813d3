//! Golden byte vectors: the contract between the Rust codec and the browser's JS codec.
//!
//! This test builds one or more example of every `ClientMsg`, `ServerMsg`, `ByeCode`,
//! `GameEvent` and `EntityKind` variant, encodes each with the real codec, and writes the
//! bytes (hex) next to the expected values (JSON) into `tests/golden/vectors.json`. The
//! JavaScript test (`client-demo/web/test/`) decodes every vector and compares, re-encodes
//! the client messages, and replays the snapshot chain through its mirror, checksums
//! included.
//!
//! When the file exists, this test verifies it instead: a protocol change that alters any
//! byte fails here until the vectors are regenerated with `TICKWIRE_UPDATE_GOLDEN=1` — and
//! regenerating them makes the JS test fail until the JS codec follows. The JSON form is
//! built by exhaustive destructuring, so adding a field or a variant does not compile
//! until this file (and so the vectors) covers it.

use std::path::PathBuf;

use serde_json::{Value, json};
use tickwire_shared::checksum::entity_hash;
use tickwire_shared::codec::{decode_client, decode_server, encode_client, encode_server};
use tickwire_shared::{
    ArenaInfo, ByeCode, ClientMsg, Entity, EntityKind, EntityState, EntityUpdate, FieldChanges,
    GameEvent, InputSeq, Mirror, NetId, PROTOCOL_VERSION, PlayerId, ServerMsg, SnapshotBody,
    SnapshotHeader, Tick, View, WorldSnapshot, diff,
};

/// Where the vectors live, relative to this crate.
fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/vectors.json")
}

/// u64 values go to JSON as decimal strings: JavaScript numbers cannot hold them exactly.
fn u64s(v: u64) -> Value {
    Value::String(v.to_string())
}

fn kind_name(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Player => "Player",
        EntityKind::Orb => "Orb",
        EntityKind::Projectile => "Projectile",
        EntityKind::Cube => "Cube",
    }
}

fn bye_name(c: ByeCode) -> &'static str {
    match c {
        ByeCode::ServerShutdown => "ServerShutdown",
        ByeCode::ProtocolMismatch => "ProtocolMismatch",
        ByeCode::Malformed => "Malformed",
        ByeCode::ServerFull => "ServerFull",
        ByeCode::AuthFailed => "AuthFailed",
        ByeCode::Timeout => "Timeout",
        ByeCode::RateLimited => "RateLimited",
        ByeCode::TooLarge => "TooLarge",
        ByeCode::Replaced => "Replaced",
        ByeCode::InternalError => "InternalError",
        ByeCode::OriginRefused => "OriginRefused",
    }
}

/// Every `ByeCode`, in variant order (its wire index is the position here).
const ALL_BYE: [ByeCode; 11] = [
    ByeCode::ServerShutdown,
    ByeCode::ProtocolMismatch,
    ByeCode::Malformed,
    ByeCode::ServerFull,
    ByeCode::AuthFailed,
    ByeCode::Timeout,
    ByeCode::RateLimited,
    ByeCode::TooLarge,
    ByeCode::Replaced,
    ByeCode::InternalError,
    ByeCode::OriginRefused,
];

fn entity_json(e: &Entity) -> Value {
    let Entity { id, state } = e;
    let EntityState {
        kind,
        owner,
        name,
        x,
        y,
        angle,
        score,
        hp,
    } = state;
    json!({
        "id": id.0,
        "kind": kind_name(*kind),
        "owner": owner.map(|p| p.0),
        "name": &**name,
        "x": x, "y": y, "angle": angle, "score": score, "hp": hp,
    })
}

fn update_json(u: &EntityUpdate) -> Value {
    let EntityUpdate { id, changes } = u;
    let FieldChanges {
        x,
        y,
        angle,
        score,
        hp,
    } = changes;
    json!({ "id": id.0, "x": x, "y": y, "angle": angle, "score": score, "hp": hp })
}

fn body_json(b: &SnapshotBody) -> Value {
    let SnapshotBody {
        spawns,
        updates,
        despawns,
        checksum,
    } = b;
    json!({
        "spawns": spawns.iter().map(entity_json).collect::<Vec<_>>(),
        "updates": updates.iter().map(update_json).collect::<Vec<_>>(),
        "despawns": despawns.iter().map(|d| d.0).collect::<Vec<_>>(),
        "checksum": checksum,
    })
}

fn client_json(m: &ClientMsg) -> Value {
    match m {
        ClientMsg::Hello {
            protocol,
            name,
            resume,
            auth,
        } => {
            let resume = resume
                .as_ref()
                .map(|r| json!({"token": r.token, "tick": r.tick.map(|t| t.0)}));
            json!({"type": "Hello", "protocol": protocol, "name": name, "resume": resume, "auth": auth})
        }
        ClientMsg::Input { seq, buttons, aim } => {
            json!({"type": "Input", "seq": seq.0, "buttons": buttons, "aim": aim})
        }
        ClientMsg::Ack { tick } => json!({"type": "Ack", "tick": tick.0}),
        ClientMsg::Ping { client_time } => {
            json!({"type": "Ping", "client_time": u64s(*client_time)})
        }
        ClientMsg::Chat { text } => json!({"type": "Chat", "text": text}),
    }
}

fn event_json(e: &GameEvent) -> Value {
    match e {
        GameEvent::Joined { player, name } => {
            json!({"type": "Joined", "player": player.0, "name": name})
        }
        GameEvent::Left { player, name } => {
            json!({"type": "Left", "player": player.0, "name": name})
        }
        GameEvent::Knockout { by, victim } => {
            json!({"type": "Knockout", "by": by.0, "victim": victim.0})
        }
    }
}

fn server_json(m: &ServerMsg) -> Value {
    match m {
        ServerMsg::Welcome {
            player,
            entity,
            tick_hz,
            tick,
            resume_token,
            arena,
        } => {
            let ArenaInfo {
                scenario,
                width,
                height,
                player_speed,
                player_radius,
                view_radius,
            } = arena;
            json!({
                "type": "Welcome", "player": player.0, "entity": entity.0, "tick_hz": tick_hz,
                "tick": tick.0, "resume_token": resume_token,
                "arena": {
                    "scenario": scenario, "width": width, "height": height,
                    "player_speed": player_speed, "player_radius": player_radius,
                    "view_radius": view_radius,
                },
            })
        }
        ServerMsg::Snapshot { header, body } => {
            let SnapshotHeader {
                tick,
                baseline,
                input_ack,
            } = header;
            json!({
                "type": "Snapshot",
                "header": {"tick": tick.0, "baseline": baseline.map(|b| b.0), "input_ack": input_ack.0},
                "body": body_json(body),
            })
        }
        ServerMsg::Pong {
            client_time,
            server_tick,
            server_time_ms,
        } => json!({
            "type": "Pong", "client_time": u64s(*client_time), "server_tick": server_tick.0,
            "server_time_ms": u64s(*server_time_ms),
        }),
        ServerMsg::Chat { from, name, text } => {
            json!({"type": "Chat", "from": from.0, "name": name, "text": text})
        }
        ServerMsg::Event(e) => json!({"type": "Event", "event": event_json(e)}),
        ServerMsg::Bye { code, reason } => {
            json!({"type": "Bye", "code": bye_name(*code), "reason": reason})
        }
    }
}

fn ent(id: u32, kind: EntityKind, owner: Option<u32>, name: &str, xy: (i32, i32)) -> Entity {
    Entity {
        id: NetId(id),
        state: EntityState {
            kind,
            owner: owner.map(PlayerId),
            name: name.into(),
            x: xy.0,
            y: xy.1,
            angle: 0,
            score: 0,
            hp: 3,
        },
    }
}

/// Three world states whose deltas exercise spawns, every update field combination,
/// wrapping and extreme values, despawns, respawn-by-identity-change and id gaps that
/// need multi-byte varints.
fn worlds() -> [WorldSnapshot; 4] {
    let mut a = vec![
        ent(0, EntityKind::Player, Some(1), "ann", (16_000, 9_600)),
        ent(1, EntityKind::Player, Some(2), "Zoë ✓", (-32, -1)),
        ent(2, EntityKind::Orb, None, "", (4_000, 4_000)),
        ent(3, EntityKind::Projectile, Some(1), "", (16_100, 9_600)),
        ent(7, EntityKind::Cube, None, "", (i32::MAX, i32::MIN)),
        ent(250, EntityKind::Orb, None, "", (1, 2)),
        ent(300, EntityKind::Orb, None, "", (65_535, 65_536)),
        ent(70_000, EntityKind::Orb, None, "", (-70_000, 123_456_789)),
    ];
    a[0].state.score = 12;
    a[0].state.angle = 255;
    a[0].state.hp = 255;
    a[1].state.score = -5;
    a[4].state.score = i32::MIN;
    a[4].state.hp = 0;
    let wa = WorldSnapshot::new(Tick(1_000), a.clone());

    let mut b = a.clone();
    b[0].state.x += 7; // x only
    b[1].state.y -= 300; // y only, multi-byte
    b[2].state.angle = 3; // angle only
    b[5].state.score = 1; // score only
    b[6].state.hp = 1; // hp only
    b[7].state.x = 70_000; // every field, big deltas
    b[7].state.y = -123_456_789;
    b[7].state.angle = 200;
    b[7].state.score = i32::MAX;
    b[7].state.hp = 0;
    b[4].state.x = i32::MIN; // wrapping delta
    b[4].state.y = i32::MAX;
    b[4].state.angle = 128;
    b.remove(3); // projectile despawned
    b.push(ent(4, EntityKind::Projectile, Some(2), "", (0, 0)));
    b.push(ent(1_000_000, EntityKind::Orb, None, "", (5, 5)));
    let wb = WorldSnapshot::new(Tick(1_001), b.clone());

    let mut c = b.clone();
    c.retain(|e| e.id != NetId(250) && e.id != NetId(1_000_000));
    for e in &mut c {
        if e.id == NetId(0) {
            e.state.x -= 3;
            e.state.y += 1;
            e.state.angle = 0; // 255 → 0 wraps to +1
        }
        if e.id == NetId(2) {
            // Same id, new identity: sent as a spawn, not an update.
            e.state.kind = EntityKind::Cube;
        }
    }
    c.push(ent(5, EntityKind::Player, Some(3), "bot-12", (800, 800)));
    let wc = WorldSnapshot::new(Tick(1_003), c);
    let wd = WorldSnapshot::new(Tick(1_004), wc.entities.clone());
    [wa, wb, wc, wd]
}

fn snapshot(tick: Tick, baseline: Option<Tick>, ack: u32, body: SnapshotBody) -> ServerMsg {
    ServerMsg::Snapshot {
        header: SnapshotHeader {
            tick,
            baseline,
            input_ack: InputSeq(ack),
        },
        body,
    }
}

fn client_vectors() -> Vec<(&'static str, ClientMsg)> {
    vec![
        (
            "hello",
            ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                name: "ann".into(),
                resume: None,
                auth: None,
            },
        ),
        (
            "hello_resume_auth_unicode",
            ClientMsg::Hello {
                protocol: 300,
                name: "Zoë ✓ 🚀".into(),
                resume: Some(tickwire_shared::Resume {
                    token: "3f2a-resume".into(),
                    tick: Some(Tick(70_000)),
                }),
                auth: Some("a".repeat(260)),
            },
        ),
        (
            "input_small",
            ClientMsg::Input {
                seq: InputSeq(1),
                buttons: 9,
                aim: 0,
            },
        ),
        (
            "input_fire_250",
            ClientMsg::Input {
                seq: InputSeq(250),
                buttons: 16,
                aim: 250,
            },
        ),
        (
            "input_251",
            ClientMsg::Input {
                seq: InputSeq(251),
                buttons: 31,
                aim: 251,
            },
        ),
        (
            "input_max",
            ClientMsg::Input {
                seq: InputSeq(u32::MAX),
                buttons: 255,
                aim: u16::MAX,
            },
        ),
        ("ack_zero", ClientMsg::Ack { tick: Tick(0) }),
        ("ack_65536", ClientMsg::Ack { tick: Tick(65_536) }),
        ("ping_zero", ClientMsg::Ping { client_time: 0 }),
        (
            "ping_u32_edge",
            ClientMsg::Ping {
                client_time: u64::from(u32::MAX) + 1,
            },
        ),
        (
            "ping_max",
            ClientMsg::Ping {
                client_time: u64::MAX,
            },
        ),
        (
            "chat",
            ClientMsg::Chat {
                text: "gg — nice shot! 🎯".into(),
            },
        ),
        (
            "chat_empty",
            ClientMsg::Chat {
                text: String::new(),
            },
        ),
    ]
}

fn server_vectors() -> Vec<(String, ServerMsg)> {
    let [wa, wb, wc, wd] = worlds();
    let mut v: Vec<(String, ServerMsg)> = vec![
        (
            "welcome".into(),
            ServerMsg::Welcome {
                player: PlayerId(1),
                entity: NetId(0),
                tick_hz: 30,
                tick: Tick(999),
                resume_token: "3f2a-resume".into(),
                arena: ArenaInfo {
                    scenario: "demo".into(),
                    width: 2_000,
                    height: 1_200,
                    player_speed: 220,
                    player_radius: 18,
                    view_radius: 0,
                },
            },
        ),
        (
            "welcome_big".into(),
            ServerMsg::Welcome {
                player: PlayerId(u32::MAX),
                entity: NetId(70_000),
                tick_hz: 65_535,
                tick: Tick(u32::MAX),
                resume_token: String::new(),
                arena: ArenaInfo {
                    scenario: "crowd".into(),
                    width: 4_000,
                    height: 4_000,
                    player_speed: 100,
                    player_radius: 251,
                    view_radius: 600,
                },
            },
        ),
        (
            "snapshot_full".into(),
            snapshot(wa.tick, None, 0, diff(None, &wa, View::All)),
        ),
        (
            "snapshot_delta".into(),
            snapshot(
                wb.tick,
                Some(wa.tick),
                251,
                diff(Some((&wa, View::All)), &wb, View::All),
            ),
        ),
        (
            "snapshot_coalesced".into(),
            snapshot(
                wc.tick,
                Some(wb.tick),
                70_000,
                diff(Some((&wb, View::All)), &wc, View::All),
            ),
        ),
        (
            "snapshot_empty".into(),
            snapshot(
                wd.tick,
                Some(wc.tick),
                u32::MAX,
                diff(Some((&wc, View::All)), &wd, View::All),
            ),
        ),
        (
            "pong".into(),
            ServerMsg::Pong {
                client_time: 123_456,
                server_tick: Tick(1_004),
                server_time_ms: 1_767_225_600_000,
            },
        ),
        (
            "pong_max".into(),
            ServerMsg::Pong {
                client_time: u64::MAX,
                server_tick: Tick(u32::MAX),
                server_time_ms: u64::MAX - 1,
            },
        ),
        (
            "chat".into(),
            ServerMsg::Chat {
                from: PlayerId(2),
                name: "Zoë ✓".into(),
                text: "hello 🌍".into(),
            },
        ),
        (
            "event_joined".into(),
            ServerMsg::Event(GameEvent::Joined {
                player: PlayerId(3),
                name: "bot-12".into(),
            }),
        ),
        (
            "event_left".into(),
            ServerMsg::Event(GameEvent::Left {
                player: PlayerId(300),
                name: "ann".into(),
            }),
        ),
        (
            "event_knockout".into(),
            ServerMsg::Event(GameEvent::Knockout {
                by: PlayerId(1),
                victim: PlayerId(65_536),
            }),
        ),
    ];
    for code in ALL_BYE {
        v.push((
            format!("bye_{}", bye_name(code)),
            ServerMsg::Bye {
                code,
                reason: format!("because {}", bye_name(code)),
            },
        ));
    }
    v
}

/// The names every message-type variant must appear under at least once, so a new
/// variant cannot be added without a vector (the matches above do not compile without
/// it, and this list makes the coverage explicit).
fn covered(client: &[(&str, ClientMsg)], server: &[(String, ServerMsg)]) -> Vec<String> {
    let mut out = Vec::new();
    for (_, m) in client {
        out.push(format!(
            "client/{}",
            client_json(m)["type"].as_str().unwrap_or("")
        ));
    }
    for (_, m) in server {
        let j = server_json(m);
        out.push(format!("server/{}", j["type"].as_str().unwrap_or("")));
        if let ServerMsg::Event(e) = m {
            out.push(format!(
                "event/{}",
                event_json(e)["type"].as_str().unwrap_or("")
            ));
        }
        if let ServerMsg::Bye { code, .. } = m {
            out.push(format!("bye/{}", bye_name(*code)));
        }
        if let ServerMsg::Snapshot { body, .. } = m {
            for s in &body.spawns {
                out.push(format!("kind/{}", kind_name(s.state.kind)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn build() -> Value {
    let client = client_vectors();
    let server = server_vectors();

    let expected_coverage: Vec<String> = {
        let mut v: Vec<String> = [
            "client/Hello",
            "client/Input",
            "client/Ack",
            "client/Ping",
            "client/Chat",
            "server/Welcome",
            "server/Snapshot",
            "server/Pong",
            "server/Chat",
            "server/Event",
            "server/Bye",
            "event/Joined",
            "event/Left",
            "event/Knockout",
            "kind/Player",
            "kind/Orb",
            "kind/Projectile",
            "kind/Cube",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(ALL_BYE.iter().map(|c| format!("bye/{}", bye_name(*c))))
        .collect();
        v.sort();
        v
    };
    assert_eq!(covered(&client, &server), expected_coverage);

    let mut client_json_list = Vec::new();
    for (name, m) in &client {
        let bytes = encode_client(m);
        assert_eq!(&decode_client(&bytes).expect("own bytes decode"), m);
        client_json_list.push(json!({"name": name, "value": client_json(m), "hex": hex(&bytes)}));
    }
    let mut server_json_list = Vec::new();
    for (name, m) in &server {
        let bytes = encode_server(m);
        assert_eq!(&decode_server(&bytes).expect("own bytes decode"), m);
        server_json_list.push(json!({"name": name, "value": server_json(m), "hex": hex(&bytes)}));
    }

    // The snapshot chain a mirror must follow, checksums verified at each step.
    let chain = [
        "snapshot_full",
        "snapshot_delta",
        "snapshot_coalesced",
        "snapshot_empty",
    ];
    let mut mirror = Mirror::new();
    for step in chain {
        let Some((_, ServerMsg::Snapshot { header, body })) =
            server.iter().find(|(n, _)| n == step)
        else {
            panic!("chain step {step} is not a snapshot vector");
        };
        mirror
            .apply(header.tick, header.baseline, body)
            .expect("the chain applies");
    }
    let [.., wd] = worlds();
    assert_eq!(mirror.entities(), wd.entities.as_slice());

    let hashes: Vec<Value> = worlds()[0]
        .entities
        .iter()
        .chain(wd.entities.iter())
        .map(|e| json!({"entity": entity_json(e), "hash": entity_hash(e)}))
        .collect();

    json!({
        "about": "Generated by shared/tests/golden.rs from the Rust codec; checked by client-demo/web/test/. Regenerate with TICKWIRE_UPDATE_GOLDEN=1 cargo test -p tickwire-shared --test golden.",
        "protocol_version": PROTOCOL_VERSION,
        "client": client_json_list,
        "server": server_json_list,
        "mirror_chain": {
            "steps": chain,
            "final_tick": mirror.tick().map(|t| t.0),
            "final_entities": mirror.entities().iter().map(entity_json).collect::<Vec<_>>(),
            "final_checksum": mirror.checksum(),
        },
        "entity_hashes": hashes,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn golden_vectors_match_the_codec() {
    let built = build();
    let path = vectors_path();
    let update = std::env::var("TICKWIRE_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    if update || !path.exists() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir golden");
        let text = serde_json::to_string_pretty(&built).expect("json") + "\n";
        std::fs::write(&path, text).expect("write vectors");
        eprintln!("wrote {}", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).expect("read vectors");
    let stored: Value = serde_json::from_str(&text).expect("vectors.json is JSON");

    // Every stored byte string must still decode to its stored value with today's codec.
    for (side, decode) in [
        (
            "client",
            &(|b: &[u8]| decode_client(b).map(|m| client_json(&m)).ok()) as &dyn Fn(&[u8]) -> _,
        ),
        (
            "server",
            &(|b: &[u8]| decode_server(b).map(|m| server_json(&m)).ok()),
        ),
    ] {
        for v in stored[side].as_array().expect("list") {
            let bytes = unhex(v["hex"].as_str().expect("hex string"));
            assert_eq!(
                decode(&bytes).as_ref(),
                Some(&v["value"]),
                "stored {side} vector {} no longer decodes to its value",
                v["name"]
            );
        }
    }
    assert!(
        stored == built,
        "the codec's output no longer matches {}; if the protocol change is intended, run \
         TICKWIRE_UPDATE_GOLDEN=1 cargo test -p tickwire-shared --test golden, then make \
         `node --test client-demo/web/test/` pass",
        path.display()
    );
}
