//! The JSON form of every protocol value, as the JS codec's decoder returns it. Built by
//! exhaustive destructuring and matching, so a new field or variant does not compile
//! until it has a form here (and so a golden vector).

use serde_json::{Value, json};
use tickwire_shared::layout::Value as LayoutValue;
use tickwire_shared::{
    ByeCode, ChatLine, ClientMsg, Entity, Presence, ServerMsg, SnapshotBody, SnapshotHeader,
    Updates, Welcome,
};

pub fn u64s(v: u64) -> Value {
    Value::String(v.to_string())
}

/// A layout value: integers as JSON numbers when exact in a double, else strings.
pub fn layout_json(v: &LayoutValue) -> Value {
    match v {
        LayoutValue::Int(i) if i.unsigned_abs() < (1u64 << 53) => json!(i),
        LayoutValue::Int(i) => Value::String(i.to_string()),
        LayoutValue::Bool(b) => json!(b),
        LayoutValue::F32(f) => json!(f64::from(*f)),
        LayoutValue::Str(s) => json!(s),
    }
}

pub fn bye_name(c: ByeCode) -> &'static str {
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
        ByeCode::NoSuchRoom => "NoSuchRoom",
        ByeCode::RoomFull => "RoomFull",
        ByeCode::WrongCode => "WrongCode",
        ByeCode::NoSeat => "NoSeat",
        ByeCode::Relocate => "Relocate",
    }
}

/// Every `ByeCode`, in variant order (its wire index is the position here).
pub const ALL_BYE: [ByeCode; 16] = [
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
    ByeCode::NoSuchRoom,
    ByeCode::RoomFull,
    ByeCode::WrongCode,
    ByeCode::NoSeat,
    ByeCode::Relocate,
];

pub fn entity_json(e: &Entity) -> Value {
    let Entity {
        id,
        components,
        nums,
        strs,
    } = e;
    json!({
        "id": id.0,
        "components": u64s(*components),
        "nums": nums,
        "strs": strs.iter().map(|s| &**s).collect::<Vec<_>>(),
    })
}

pub fn updates_json(u: &Updates) -> Value {
    u.iter()
        .map(|(id, mask, deltas)| json!({ "id": id.0, "mask": u64s(mask), "deltas": deltas }))
        .collect()
}

pub fn body_json(b: &SnapshotBody) -> Value {
    let SnapshotBody {
        spawns,
        updates,
        despawns,
        checksum,
    } = b;
    json!({
        "spawns": spawns.iter().map(entity_json).collect::<Vec<_>>(),
        "updates": updates_json(updates),
        "despawns": despawns.iter().map(|d| d.0).collect::<Vec<_>>(),
        "checksum": checksum,
    })
}

pub fn client_json(m: &ClientMsg) -> Value {
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
        ClientMsg::Input {
            seq,
            data,
            ack,
            view,
        } => json!({
            "type": "Input",
            "seq": seq.0,
            "data": data,
            "ack": ack.map(|t| t.0),
            "view": view.map(|t| t.0),
        }),
        ClientMsg::Ack { tick } => json!({"type": "Ack", "tick": tick.0}),
        ClientMsg::Ping { client_time } => {
            json!({"type": "Ping", "client_time": u64s(*client_time)})
        }
        ClientMsg::Chat { text } => json!({"type": "Chat", "text": text}),
    }
}

pub fn server_json(m: &ServerMsg) -> Value {
    match m {
        ServerMsg::Welcome(Welcome {
            room,
            player,
            entity,
            spectator,
            tick_hz,
            tick,
            resume_token,
            schema,
        }) => {
            json!({
                "type": "Welcome", "room": room, "player": player.0, "entity": entity.0, "spectator": spectator, "tick_hz": tick_hz,
                "tick": tick.0, "resume_token": resume_token,
                "schema": serde_json::to_value(&**schema).expect("a schema is JSON"),
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
        ServerMsg::Chat(ChatLine { from, name, text }) => {
            json!({"type": "Chat", "from": from.0, "name": name, "text": text})
        }
        ServerMsg::Event { data } => json!({"type": "Event", "data": data}),
        ServerMsg::Bye { code, reason } => {
            json!({"type": "Bye", "code": bye_name(*code), "reason": reason})
        }
        ServerMsg::Joined(Presence { player, name }) => {
            json!({"type": "Joined", "player": player.0, "name": name})
        }
        ServerMsg::Left(Presence { player, name }) => {
            json!({"type": "Left", "player": player.0, "name": name})
        }
    }
}
