//! Writes the seed corpora in `fuzz/seeds/<target>/`: valid messages made by the real
//! encoder, so each fuzzer starts from inputs that reach deep into its target instead of
//! having to discover the encoding byte by byte. Run from `fuzz/`:
//! `cargo run --example seeds` (the files are committed; rerun after a protocol change).

use std::path::Path;

use tickwire_shared::codec::{encode_body, encode_client, encode_server};
use tickwire_shared::{
    ByeCode, ClientMsg, Entity, EntityState, InputSeq, NetId, PROTOCOL_VERSION, PlayerId, Resume,
    ServerMsg, SnapshotHeader, Tick, View, WorldSnapshot, diff,
};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("seeds").join(target);
    std::fs::create_dir_all(&dir).expect("creating the seed directory");
    std::fs::write(dir.join(name), bytes).expect("writing a seed");
}

fn orb(id: u32, x: i32, y: i32) -> Entity {
    Entity {
        id: NetId(id),
        state: EntityState::orb(x, y),
    }
}

/// One of each client message, as the real client sends them.
fn client_messages() -> Vec<(&'static str, ClientMsg)> {
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
            ClientMsg::Input {
                seq: InputSeq(7),
                buttons: 1 | 8 | 16,
                aim: 16_384,
            },
        ),
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

fn main() {
    for (name, msg) in client_messages() {
        write("decode_client", name, &encode_client(&msg));
    }

    // Deltas from the apply_delta target's pre-filled world is hard to reproduce here, so
    // seed with deltas between small worlds; the fuzzer mutates them from there.
    let a = WorldSnapshot::new(
        Tick(100),
        (0..6).map(|i| orb(i, i as i32 * 10, 5)).collect(),
    );
    let b = WorldSnapshot::new(
        Tick(101),
        (2..9)
            .map(|i| orb(i, i as i32 * 11, 5 - i as i32))
            .collect(),
    );
    let delta = diff(Some((&a, View::All)), &b, View::All);
    let full = diff(None, &b, View::All);
    let header = |baseline| SnapshotHeader {
        tick: Tick(101),
        baseline,
        input_ack: InputSeq(3),
    };
    let seed = |name: &str, mode: &[u8], bytes: Vec<u8>| {
        let mut v = mode.to_vec();
        v.extend_from_slice(&bytes);
        write("apply_delta", name, &v);
    };
    seed(
        "snapshot_delta",
        &[0],
        encode_server(&ServerMsg::Snapshot {
            header: header(Some(Tick(100))),
            body: delta.clone(),
        }),
    );
    seed(
        "snapshot_full",
        &[0],
        encode_server(&ServerMsg::Snapshot {
            header: header(None),
            body: full.clone(),
        }),
    );
    seed(
        "bye",
        &[0],
        encode_server(&ServerMsg::Bye {
            code: ByeCode::RateLimited,
            reason: "slow down".into(),
        }),
    );
    seed(
        "chat",
        &[0],
        encode_server(&ServerMsg::Chat {
            from: PlayerId(1),
            name: "ann".into(),
            text: "hi".into(),
        }),
    );
    seed("body_delta", &[1, 1], encode_body(&delta));
    seed("body_full", &[1, 0], encode_body(&full));
}
