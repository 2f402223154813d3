//! The golden cases: a schema that uses every field encoding and every input type,
//! example messages covering every variant, and world states whose deltas exercise
//! spawns, every kind of field change, wrapping angles, extreme values, component adds
//! and removes, string changes, despawns and id gaps that need multi-byte varints.

use std::sync::Arc;

use tickwire_shared::layout::{Value, encode_fields};
use tickwire_shared::{
    ChatLine, ClientMsg, ComponentDef, Encoding, Entity, EventDef, FieldDef, InputSeq, LayoutField,
    NetId, PROTOCOL_VERSION, Param, PlayerId, PositionDef, Presence, Prim, Schema, SchemaDef,
    ServerMsg, SnapshotBody, SnapshotHeader, Tick, View, Welcome, WorldSnapshot, diff,
};

use crate::forms::{ALL_BYE, bye_name};

/// Component indices of the golden schema.
pub const BODY: u64 = 1;
pub const CARD: u64 = 2;
pub const MARKER: u64 = 4;
pub const TURRET: u64 = 8;

/// The golden schema: every encoding, every input type, two event variants, parameters.
pub fn schema() -> Arc<Schema> {
    let input = [
        ("buttons", Prim::U8),
        ("aim", Prim::U16),
        ("view", Prim::U32),
        ("big", Prim::U64),
        ("lean", Prim::I32),
        ("drift", Prim::I64),
        ("boost", Prim::Bool),
        ("power", Prim::F32),
        ("note", Prim::Str),
    ];
    Arc::new(
        Schema::new(SchemaDef {
            game: "golden".into(),
            components: vec![
                ComponentDef::new(
                    "Body",
                    vec![
                        FieldDef::new("x", Encoding::fixed(16.0, -134_217_000.0, 134_217_000.0)),
                        FieldDef::new("y", Encoding::fixed(16.0, -134_217_000.0, 134_217_000.0)),
                        FieldDef::new("angle", Encoding::angle(8)),
                    ],
                ),
                ComponentDef::new(
                    "Card",
                    vec![
                        FieldDef::new("owner", Encoding::Player),
                        FieldDef::new("name", Encoding::string(16)),
                        FieldDef::new("score", Encoding::int(i32::MIN, i32::MAX)),
                        FieldDef::new("alive", Encoding::Bool),
                        FieldDef::new("team", Encoding::enumeration(&["red", "blue", "green"])),
                        FieldDef::new("tag", Encoding::string(8)),
                    ],
                ),
                ComponentDef::new("Marker", vec![]),
                ComponentDef::new(
                    "Turret",
                    vec![FieldDef::new("heading", Encoding::angle(12))],
                ),
            ],
            position: Some(PositionDef {
                component: "Body".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            input: input.iter().map(|(n, p)| LayoutField::new(n, *p)).collect(),
            events: vec![
                EventDef::new("Knockout", &[("by", Prim::U32), ("victim", Prim::U32)]),
                EventDef::new("Note", &[("text", Prim::Str), ("loud", Prim::Bool)]),
            ],
            params: vec![
                Param {
                    name: "width".into(),
                    value: 2000.0,
                },
                Param {
                    name: "player_speed".into(),
                    value: 240.5,
                },
            ],
        })
        .expect("the golden schema is valid"),
    )
}

fn body(x: i32, y: i32, angle: i32) -> [i32; 3] {
    [x, y, angle]
}

/// An entity of the golden schema: a body, optionally a card (owner+1, score, alive,
/// team, and its two strings), a marker, a turret heading.
fn ent(
    id: u32,
    b: [i32; 3],
    card: Option<(i32, i32, i32, i32, &str, &str)>,
    marker: bool,
    turret: Option<i32>,
) -> Entity {
    let mut e = Entity {
        id: NetId(id),
        components: BODY,
        nums: tickwire_shared::Nums::from_slice(&b),
        strs: tickwire_shared::Strs::new(),
    };
    if let Some((owner, score, alive, team, name, tag)) = card {
        e.components |= CARD;
        e.nums.extend([owner, score, alive, team]);
        e.strs.extend([Arc::from(name), Arc::from(tag)]);
    }
    if marker {
        e.components |= MARKER;
    }
    if let Some(h) = turret {
        e.components |= TURRET;
        e.nums.push(h);
    }
    e
}

/// Four world states: `a` spawns everything; `b` changes single fields, big and wrapping
/// deltas, adds and removes components, changes a string, despawns and spawns; `c`
/// wraps angles across zero and despawns more; `d` is `c` unchanged (an empty delta).
pub fn worlds() -> [WorldSnapshot; 4] {
    let a = vec![
        ent(
            0,
            body(16_000, 9_600, 255),
            Some((2, 12, 1, 0, "ann", "")),
            false,
            None,
        ),
        ent(
            1,
            body(-32, -1, 0),
            Some((3, -5, 0, 2, "Zoë ✓", "gold")),
            true,
            Some(4_095),
        ),
        ent(2, body(4_000, 4_000, 10), None, false, None),
        ent(3, body(16_100, 9_600, 0), None, true, None),
        ent(7, body(i32::MAX, i32::MIN, 128), None, false, Some(0)),
        ent(250, body(1, 2, 3), None, false, None),
        ent(300, body(65_535, 65_536, 0), None, false, None),
        ent(
            70_000,
            body(-70_000, 123_456_789, 7),
            Some((0, i32::MIN, 1, 1, "", "x")),
            false,
            None,
        ),
    ];
    let wa = WorldSnapshot::new(Tick(1_000), a.clone());

    let mut b = a.clone();
    b[0].nums[0] += 7; // x only
    b[1].nums[1] -= 300; // y only, multi-byte
    b[2].nums[2] = 3; // angle only
    b[5].nums[1] = 250; // a delta of 248
    b[6].nums[0] = 65_536; // +1 across a varint width
    b[7].nums = tickwire_shared::Nums::from_slice(&[70_000, -123_456_789, 200, 5, i32::MAX, 0, 2]); // every numeric field
    b[4].nums[0] = i32::MIN; // wrapping 32-bit delta
    b[4].nums[1] = i32::MAX;
    b[4].nums[3] = 2_048; // 12-bit angle, half a turn
    b[1].strs[1] = "silver".into(); // a string changes: sent whole
    b[3].components &= !MARKER; // a component removed: sent whole
    b[2].components |= TURRET; // a component added: sent whole
    b[2].nums.push(1);
    b.retain(|e| e.id != NetId(250)); // despawned
    b.push(ent(
        4,
        body(0, 0, 0),
        Some((1, 0, 1, 1, "bo", "")),
        false,
        None,
    ));
    b.push(ent(1_000_000, body(5, 5, 5), None, true, None));
    let wb = WorldSnapshot::new(Tick(1_001), b.clone());

    let mut c = b.clone();
    c.retain(|e| e.id != NetId(300) && e.id != NetId(1_000_000));
    for e in &mut c {
        match e.id.0 {
            0 => {
                e.nums[0] -= 3;
                e.nums[1] += 1;
                e.nums[2] = 0; // 255 → 0 wraps to +1
            }
            1 => *e.nums.last_mut().expect("turret") = 0, // 4095 → 0 wraps to +1 (12 bits)
            7 => e.nums[2] = 127,                         // 128 → 127: −1
            _ => {}
        }
    }
    let wc = WorldSnapshot::new(Tick(1_003), c.clone());
    let wd = WorldSnapshot::new(Tick(1_004), c);
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

/// Example inputs by the golden schema's layout: each as its values.
pub fn inputs() -> Vec<(&'static str, Vec<Value>)> {
    use Value::{Bool, F32, Int, Str};
    vec![
        (
            "input_small",
            vec![
                Int(9),
                Int(0),
                Int(0),
                Int(0),
                Int(0),
                Int(0),
                Bool(false),
                F32(0.0),
                Str(String::new()),
            ],
        ),
        (
            "input_edges",
            vec![
                Int(255),
                Int(65_535),
                Int(i64::from(u32::MAX)),
                Int(-1),
                Int(i64::from(i32::MIN)),
                Int(i64::MIN),
                Bool(true),
                F32(-1.5),
                Str("gg 🎯".into()),
            ],
        ),
        (
            "input_251",
            vec![
                Int(251),
                Int(251),
                Int(65_536),
                Int(1 << 40),
                Int(-64),
                Int(1 << 33),
                Bool(true),
                F32(1e-3),
                Str("a".into()),
            ],
        ),
    ]
}

/// The bytes of an input by the golden layout.
pub fn input_bytes(values: &[Value]) -> Vec<u8> {
    encode_fields(&schema().def().input, values).expect("golden inputs fit their layout")
}

/// Example events: the variant index, then its fields by the layout.
pub fn events() -> Vec<(&'static str, u32, Vec<Value>)> {
    vec![
        ("event_knockout", 0, vec![Value::Int(1), Value::Int(70_000)]),
        (
            "event_note",
            1,
            vec![Value::Str("Zoë wins".into()), Value::Bool(true)],
        ),
    ]
}

/// The bytes of an event.
pub fn event_bytes(variant: u32, values: &[Value]) -> Vec<u8> {
    let s = schema();
    let fields = &s.def().events[variant as usize].fields;
    let mut out = tickwire_shared::codec::encode_value(&variant);
    out.extend(encode_fields(fields, values).expect("golden events fit their layout"));
    out
}

pub fn client_vectors() -> Vec<(String, ClientMsg)> {
    let mut v: Vec<(String, ClientMsg)> = vec![
        (
            "hello".into(),
            ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                name: "ann".into(),
                resume: None,
                auth: None,
            },
        ),
        (
            "hello_resume_auth_unicode".into(),
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
    ];
    for (i, (name, values)) in inputs().into_iter().enumerate() {
        let seq = [1, 251, u32::MAX][i];
        // No ack yet, a one-byte varint's edge, and the largest.
        let ack = [None, Some(Tick(250)), Some(Tick(u32::MAX))][i];
        // No view said, a view behind the ack, and the largest.
        let view = [None, Some(Tick(244)), Some(Tick(u32::MAX))][i];
        v.push((
            name.into(),
            ClientMsg::Input {
                seq: InputSeq(seq),
                data: input_bytes(&values),
                ack,
                view,
            },
        ));
    }
    v.extend([
        ("ack_zero".into(), ClientMsg::Ack { tick: Tick(0) }),
        ("ack_65536".into(), ClientMsg::Ack { tick: Tick(65_536) }),
        ("ping_zero".into(), ClientMsg::Ping { client_time: 0 }),
        (
            "ping_u32_edge".into(),
            ClientMsg::Ping {
                client_time: u64::from(u32::MAX) + 1,
            },
        ),
        (
            "ping_max".into(),
            ClientMsg::Ping {
                client_time: u64::MAX,
            },
        ),
        (
            "chat".into(),
            ClientMsg::Chat {
                text: "gg — nice shot! 🎯".into(),
            },
        ),
        (
            "chat_empty".into(),
            ClientMsg::Chat {
                text: String::new(),
            },
        ),
    ]);
    v
}

pub fn server_vectors() -> Vec<(String, ServerMsg)> {
    let s = schema();
    let [wa, wb, wc, wd] = worlds();
    let mut v: Vec<(String, ServerMsg)> = vec![
        (
            "welcome".into(),
            ServerMsg::Welcome(Welcome {
                room: 3,
                player: PlayerId(1),
                entity: NetId(0),
                spectator: true,
                tick_hz: 30,
                tick: Tick(999),
                resume_token: "3f2a-resume".into(),
                schema: s.clone(),
            }),
        ),
        (
            "snapshot_full".into(),
            snapshot(wa.tick, None, 0, diff(&s, None, &wa, View::All)),
        ),
        (
            "snapshot_delta".into(),
            snapshot(
                wb.tick,
                Some(wa.tick),
                251,
                diff(&s, Some((&wa, View::All)), &wb, View::All),
            ),
        ),
        (
            "snapshot_coalesced".into(),
            snapshot(
                wc.tick,
                Some(wb.tick),
                70_000,
                diff(&s, Some((&wb, View::All)), &wc, View::All),
            ),
        ),
        (
            "snapshot_empty".into(),
            snapshot(
                wd.tick,
                Some(wc.tick),
                u32::MAX,
                diff(&s, Some((&wc, View::All)), &wd, View::All),
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
            "chat".into(),
            ServerMsg::Chat(ChatLine {
                from: PlayerId(2),
                name: "Zoë ✓".into(),
                text: "gg".into(),
            }),
        ),
        (
            "joined".into(),
            ServerMsg::Joined(Presence {
                player: PlayerId(300),
                name: "bot-12".into(),
            }),
        ),
        (
            "left".into(),
            ServerMsg::Left(Presence {
                player: PlayerId(1),
                name: "ann".into(),
            }),
        ),
    ];
    for (name, variant, values) in events() {
        v.push((
            name.into(),
            ServerMsg::Event {
                data: event_bytes(variant, &values),
            },
        ));
    }
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
