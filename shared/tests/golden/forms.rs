//! The JSON form of every protocol value, as the JS codec's decoder returns it. Built by
//! exhaustive destructuring and matching, so a new field or variant does not compile
//! until it has a form here (and so a golden vector).

use serde_json::{Value, json};
use tickwire_shared::{
    ArenaInfo, ByeCode, ClientMsg, Entity, EntityKind, EntityState, EntityUpdate, FieldChanges,
    GameEvent, ServerMsg, SnapshotBody, SnapshotHeader,
};

pub fn u64s(v: u64) -> Value {
    Value::String(v.to_string())
}

pub fn kind_name(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Player => "Player",
        EntityKind::Orb => "Orb",
        EntityKind::Projectile => "Projectile",
        EntityKind::Cube => "Cube",
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
    }
}

/// Every `ByeCode`, in variant order (its wire index is the position here).
pub const ALL_BYE: [ByeCode; 11] = [
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

pub fn entity_json(e: &Entity) -> Value {
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

pub fn update_json(u: &EntityUpdate) -> Value {
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

pub fn body_json(b: &SnapshotBody) -> Value {
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

pub fn event_json(e: &GameEvent) -> Value {
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

pub fn server_json(m: &ServerMsg) -> Value {
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
