//! Golden byte vectors: the contract between the Rust codec and the browser's JS codec.
//!
//! This test builds one or more example of every `ClientMsg`, `ServerMsg` and `ByeCode`
//! variant, for a golden schema that uses every field encoding and input type, encodes
//! each with the real codec, and writes the bytes (hex) next to the expected values
//! (JSON) into `tests/golden/vectors.json`, with inputs encoded and events decoded by the
//! schema's layouts. The JavaScript test (`client-demo/web/test/`) reads the schema from
//! the Welcome vector, decodes every vector and compares, re-encodes the client messages
//! and the inputs, and replays the snapshot chain through its schema-driven mirror,
//! checksums included.
//!
//! When the file exists, this test verifies it instead: a protocol change that alters any
//! byte fails here until the vectors are regenerated with `TICKWIRE_UPDATE_GOLDEN=1` — and
//! regenerating them makes the JS test fail until the JS codec follows. The JSON form
//! (golden/forms.rs) is built by exhaustive destructuring, so adding a field or a variant
//! does not compile until it has a form, and `covered` fails until a case
//! (golden/cases.rs) uses it.

#[path = "golden/cases.rs"]
mod cases;
#[path = "golden/forms.rs"]
mod forms;

use std::path::PathBuf;

use serde_json::{Value, json};
use tickwire_shared::checksum::entity_hash;
use tickwire_shared::codec::{decode_client, decode_server, encode_client, encode_server};
use tickwire_shared::layout::{decode_event, decode_fields};
use tickwire_shared::{ClientMsg, Encoding, Mirror, PROTOCOL_VERSION, Prim, ServerMsg, Welcome};

use cases::{
    client_vectors, event_bytes, events, input_bytes, inputs, schema, server_vectors, worlds,
};
use forms::{ALL_BYE, bye_name, client_json, entity_json, layout_json, server_json};

/// Where the vectors live, relative to this crate.
fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/vectors.json")
}

/// The names every message-type variant must appear under at least once, so a new
/// variant cannot be added without a vector (the matches above do not compile without
/// it, and this list makes the coverage explicit).
fn covered(client: &[(String, ClientMsg)], server: &[(String, ServerMsg)]) -> Vec<String> {
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
        if let ServerMsg::Bye { code, .. } = m {
            out.push(format!("bye/{}", bye_name(*code)));
        }
        if let ServerMsg::Welcome(Welcome { schema, .. }) = m {
            for c in &schema.def().components {
                for f in &c.fields {
                    out.push(format!("encoding/{}", encoding_name(&f.encoding)));
                }
            }
            for f in &schema.def().input {
                out.push(format!("prim/{:?}", f.prim));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn encoding_name(e: &Encoding) -> &'static str {
    match e {
        Encoding::Fixed { .. } => "Fixed",
        Encoding::Angle { .. } => "Angle",
        Encoding::Int { .. } => "Int",
        Encoding::Bool => "Bool",
        Encoding::Enum { .. } => "Enum",
        Encoding::Player => "Player",
        Encoding::Str { .. } => "Str",
    }
}

fn prim_name(p: Prim) -> String {
    format!("prim/{p:?}")
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
            "server/Joined",
            "server/Left",
            "encoding/Fixed",
            "encoding/Angle",
            "encoding/Int",
            "encoding/Bool",
            "encoding/Enum",
            "encoding/Player",
            "encoding/Str",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(ALL_BYE.iter().map(|c| format!("bye/{}", bye_name(*c))))
        .chain(
            [
                Prim::U8,
                Prim::U16,
                Prim::U32,
                Prim::U64,
                Prim::I32,
                Prim::I64,
                Prim::Bool,
                Prim::F32,
                Prim::Str,
            ]
            .into_iter()
            .map(prim_name),
        )
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
    let s = schema();
    let mut mirror = Mirror::new(s.clone());
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

    // Inputs encoded by the layout, and the same bytes decoded back.
    let input_list: Vec<Value> = inputs()
        .iter()
        .map(|(name, values)| {
            let bytes = input_bytes(values);
            assert_eq!(&decode_fields(&s.def().input, &bytes).expect("decodes"), values);
            json!({"name": name, "values": values.iter().map(layout_json).collect::<Vec<_>>(), "hex": hex(&bytes)})
        })
        .collect();
    let event_list: Vec<Value> = events()
        .iter()
        .map(|(name, variant, values)| {
            let bytes = event_bytes(*variant, values);
            let (def, back) = decode_event(&s.def().events, &bytes).expect("decodes");
            assert_eq!(&back, values);
            json!({"name": name, "variant": def.name, "values": values.iter().map(layout_json).collect::<Vec<_>>(), "hex": hex(&bytes)})
        })
        .collect();

    json!({
        "about": "Generated by shared/tests/golden.rs from the Rust codec; checked by client-demo/web/test/. Regenerate with TICKWIRE_UPDATE_GOLDEN=1 cargo test -p tickwire-shared --test golden.",
        "protocol_version": PROTOCOL_VERSION,
        "schema": serde_json::to_value(&*s).expect("a schema is JSON"),
        "client": client_json_list,
        "server": server_json_list,
        "inputs": input_list,
        "events": event_list,
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
