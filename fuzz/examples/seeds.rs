//! Writes the seed corpora in `fuzz/seeds/<target>/` (replacing what was there): valid
//! messages made by the real encoder, so each fuzzer starts from inputs that reach deep
//! into its target instead of having to discover the encoding byte by byte. Run from
//! `fuzz/`: `cargo run --example seeds` (the files are committed; rerun after a protocol
//! or input-layout change). `server_handler` makes its well-formed messages itself and
//! has no seeds.

// The target's world builders, shared by path; the seeds use only some of them.
#[allow(dead_code)]
#[path = "../fuzz_targets/common/worlds.rs"]
mod worlds;

use std::path::Path;
use std::sync::Arc;

use tickwire_server::Sim;
use tickwire_server::games::controls::{self, Controls};
use tickwire_server::games::demo::{Demo, DemoConfig, DemoEvent};
use tickwire_shared::codec::{encode_body, encode_client, encode_server, encode_value};
use tickwire_shared::{
    ByeCode, ChatLine, ClientMsg, InputSeq, NetId, PROTOCOL_VERSION, PlayerId, Presence, Resume,
    Schema, ServerMsg, SnapshotBody, SnapshotHeader, Tick, View, Welcome, WorldSnapshot, diff,
};
use worlds::{DEMO, HELD, SchemaSpec, edit, held_world};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("seeds").join(target);
    std::fs::create_dir_all(&dir).expect("creating the seed directory");
    std::fs::write(dir.join(name), bytes).expect("writing a seed");
}

/// An input carrying `data`.
fn input(seq: u32, data: Vec<u8>) -> ClientMsg {
    ClientMsg::Input {
        seq: InputSeq(seq),
        data,
        ack: Some(HELD),
        view: Some(HELD),
    }
}

/// One of each client message, as the real client sends them, and inputs whose payloads
/// are the demo's `Controls` (one- and three-byte aims, undefined key bits) or near
/// misses of it.
fn client_messages() -> Vec<(&'static str, ClientMsg)> {
    let controls = |buttons, aim| encode_value(&Controls::new(buttons, aim));
    let mut trailing = controls(controls::UP, 7);
    trailing.push(0);
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
            "hello_resume_auth",
            ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                name: "bob".into(),
                resume: Some(Resume {
                    token: "00112233445566778899aabbccddeeff".into(),
                    tick: Some(Tick(41)),
                }),
                auth: Some("bob.1999999999.c2lnbmF0dXJl".into()),
            },
        ),
        (
            "input",
            input(
                7,
                controls(controls::UP | controls::RIGHT | controls::FIRE, 16_384),
            ),
        ),
        ("input_small_aim", input(8, controls(controls::LEFT, 9))),
        ("input_undefined_bits", input(9, controls(0xFF, u16::MAX))),
        ("input_trailing", input(10, trailing)),
        ("input_empty", input(11, Vec::new())),
        ("ack", ClientMsg::Ack { tick: Tick(40) }),
        (
            "ping",
            ClientMsg::Ping {
                client_time: 123_456,
            },
        ),
        (
            "chat",
            ClientMsg::Chat {
                text: "gg wp".into(),
            },
        ),
    ]
}

/// Schemas spelled in bytes: every kind of encoding with the position on the first
/// component; a single small component without a position; eight full components.
fn specs() -> Vec<(&'static str, SchemaSpec)> {
    let every_kind = SchemaSpec {
        components: vec![
            vec![[0, 4, 2], [0, 7, 3], [1, 7, 0]],
            vec![],
            vec![[6, 16, 0], [2, 0, 0], [5, 0, 0]],
            vec![[3, 0, 0], [4, 2, 0], [1, 15, 0], [6, 0, 0]],
            vec![[2, 1, 0], [2, 3, 9], [1, 0, 0], [0, 5, 3], [2, 2, 50]],
        ],
        position: 1,
    };
    let small = SchemaSpec {
        components: vec![vec![[2, 2, 100], [2, 1, 0]]],
        position: 0,
    };
    let eight = SchemaSpec {
        components: (0..8u8)
            .map(|c| (0..5u8).map(|f| [c + f, c * 5 + f, f * 3]).collect())
            .collect(),
        position: 6,
    };
    vec![
        ("every_kind", every_kind),
        ("small", small),
        ("eight", eight),
    ]
}

/// Edit scripts for the diff mode: views (everything, or radii around held entities)
/// then edits of every kind.
fn scripts() -> Vec<(&'static str, Vec<u8>)> {
    let edits: Vec<u8> = [
        &[0u8, 1, 0, 5][..],             // nudge a value
        &[1, 2, 1, 1],                   // set one to i32::MAX (an angle stays in range)
        &[2, 0, 1, 0],                   // add a component to the bare entity
        &[3, 1, 0, 0],                   // remove one
        &[4, 2, 0, 3, b'a', 0xC3, 0xA9], // change a string
        &[5, 3],                         // despawn
        &[6, 0, 5, 0xFF, 1],             // spawn past the highest id
        &[6, 3, 4, 3, 2],                // spawn a low id
        &[7, 4, 0x0F, 2],                // rebuild one with other components
    ]
    .concat();
    let mut all = vec![0, 0];
    all.extend(&edits);
    let mut radius = vec![1, 1, 10, 8, 2, 2, 200, 12];
    radius.extend(&edits);
    vec![
        ("all_views", all),
        ("radius_views", radius),
        ("nudges", vec![0, 0, 0, 1, 0, 1, 0, 2, 1, 255, 0, 7, 2, 9]),
    ]
}

/// A real demo game's snapshots: two players, one firing while moving, some ticks.
fn sim_snapshots() -> (WorldSnapshot, WorldSnapshot) {
    let mut sim = Sim::<Demo>::new(&DemoConfig::default(), 30).expect("the demo's schema is valid");
    sim.join_new("ann");
    sim.join_new("bö");
    for _ in 0..10 {
        sim.input(
            PlayerId(1),
            Controls::new(controls::FIRE | controls::RIGHT, 1000),
        );
        sim.input(PlayerId(2), Controls::new(controls::DOWN, 0));
        sim.step();
    }
    let before = sim.capture();
    let after = sim.step();
    (before, (*after).clone())
}

/// The mode-0 messages of a schema: deltas and full states from the held world, and
/// the other server messages.
fn server_messages(schema: &Arc<Schema>, next: &WorldSnapshot) -> Vec<(&'static str, ServerMsg)> {
    let held = WorldSnapshot::new(HELD, held_world(schema));
    let header = |baseline| SnapshotHeader {
        tick: next.tick,
        baseline,
        input_ack: InputSeq(3),
    };
    vec![
        (
            "snapshot_delta",
            ServerMsg::Snapshot {
                header: header(Some(HELD)),
                body: diff(schema, Some((&held, View::All)), next, View::All),
            },
        ),
        (
            "snapshot_full",
            ServerMsg::Snapshot {
                header: header(None),
                body: diff(schema, None, next, View::All),
            },
        ),
        (
            "welcome",
            ServerMsg::Welcome(Welcome {
                room: 1,
                player: PlayerId(1),
                entity: NetId(25),
                spectator: false,
                tick_hz: 30,
                tick: HELD,
                resume_token: "00112233445566778899aabbccddeeff".into(),
                schema: schema.clone(),
            }),
        ),
    ]
}

/// The body seeds of a schema: a delta from the held world and a full state.
fn bodies(schema: &Schema, next: &WorldSnapshot) -> [(&'static str, u8, SnapshotBody); 2] {
    let held = WorldSnapshot::new(HELD, held_world(schema));
    [
        (
            "body_delta",
            1,
            diff(schema, Some((&held, View::All)), next, View::All),
        ),
        ("body_full", 0, diff(schema, None, next, View::All)),
    ]
}

fn main() {
    for target in ["decode_client", "apply_delta", "server_handler"] {
        let dir = Path::new("seeds").join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("removing stale seeds");
        }
    }
    for (name, msg) in client_messages() {
        write("decode_client", name, &encode_client(&msg));
    }

    let seed = |name: &str, prefix: &[u8], bytes: &[u8]| {
        write("apply_delta", name, &[prefix, bytes].concat());
    };
    let (_, edits) = &scripts()[0];
    let next_of = |schema: &Schema| {
        let mut script = &edits[2..];
        WorldSnapshot::new(HELD.next(), edit(schema, &held_world(schema), &mut script))
    };

    // The demo's schema (mode bit 2).
    let next = next_of(&DEMO);
    for (name, msg) in server_messages(&DEMO, &next) {
        seed(&format!("demo_{name}"), &[4], &encode_server(&msg));
    }
    for (name, msg) in [
        (
            "event",
            ServerMsg::Event {
                data: encode_value(&DemoEvent::Knockout {
                    by: PlayerId(1),
                    victim: PlayerId(2),
                }),
            },
        ),
        (
            "joined",
            ServerMsg::Joined(Presence {
                player: PlayerId(2),
                name: "bö".into(),
            }),
        ),
        (
            "left",
            ServerMsg::Left(Presence {
                player: PlayerId(2),
                name: "bö".into(),
            }),
        ),
        (
            "pong",
            ServerMsg::Pong {
                client_time: 123_456,
                server_tick: HELD,
                server_time_ms: 1_760_000_000_000,
            },
        ),
        (
            "bye",
            ServerMsg::Bye {
                code: ByeCode::RateLimited,
                reason: "slow down".into(),
            },
        ),
        (
            "chat",
            ServerMsg::Chat(ChatLine {
                from: PlayerId(1),
                name: "ann".into(),
                text: "hi".into(),
            }),
        ),
    ] {
        seed(&format!("demo_{name}"), &[4], &encode_server(&msg));
    }
    let (before, after) = sim_snapshots();
    seed(
        "demo_sim_full",
        &[4],
        &encode_server(&ServerMsg::Snapshot {
            header: SnapshotHeader {
                tick: after.tick,
                baseline: None,
                input_ack: InputSeq(10),
            },
            body: diff(&DEMO, None, &after, View::All),
        }),
    );
    // A real game's delta: not from the held world, so it is refused, but its shapes
    // (bodies, players with names, shots) are the demo's.
    let sim_delta = diff(&DEMO, Some((&before, View::All)), &after, View::All);
    seed("demo_sim_body_delta", &[5, 1], &encode_body(&sim_delta));
    for (name, pick, body) in bodies(&DEMO, &next) {
        seed(&format!("demo_{name}"), &[5, pick], &encode_body(&body));
    }
    for (name, script) in scripts() {
        seed(&format!("demo_diff_{name}"), &[6], &script);
    }

    // Schemas built from bytes.
    for (spec_name, spec) in specs() {
        let prefix = |mode: u8| [&[mode][..], &spec.to_bytes()].concat();
        let schema = spec.schema();
        let next = next_of(&schema);
        for (name, msg) in server_messages(&schema, &next) {
            seed(
                &format!("{spec_name}_{name}"),
                &prefix(0),
                &encode_server(&msg),
            );
        }
        for (name, pick, body) in bodies(&schema, &next) {
            let mut p = prefix(1);
            p.push(pick);
            seed(&format!("{spec_name}_{name}"), &p, &encode_body(&body));
        }
        for (name, script) in scripts() {
            seed(&format!("{spec_name}_diff_{name}"), &prefix(2), &script);
        }
    }
}
