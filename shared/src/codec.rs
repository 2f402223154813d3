//! The codec: the only module that knows the wire encoding (bincode 2, standard config:
//! little-endian, varint integers, zigzag for signed ones).
//!
//! Decoding is always bounded by a byte limit, rejects trailing bytes, and never panics,
//! whatever the input.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use thiserror::Error;

use crate::delta::SnapshotBody;
use crate::protocol::{ClientMsg, ServerMsg, SnapshotHeader};

/// Most bytes any client message may decode to (and the largest a client may send).
/// Inputs are a few bytes; the largest legitimate message is a `Hello` or `Chat`.
pub const CLIENT_DECODE_LIMIT: usize = 4 * 1024;

/// Most bytes a server message may decode to (a full snapshot of a large world).
pub const SERVER_DECODE_LIMIT: usize = 64 * 1024 * 1024;

type ClientConfig = Configuration<LittleEndian, Varint, Limit<CLIENT_DECODE_LIMIT>>;
type ServerConfig = Configuration<LittleEndian, Varint, Limit<SERVER_DECODE_LIMIT>>;

fn client_config() -> ClientConfig {
    config::standard().with_limit::<CLIENT_DECODE_LIMIT>()
}

fn server_config() -> ServerConfig {
    config::standard().with_limit::<SERVER_DECODE_LIMIT>()
}

/// Why bytes could not be decoded.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The bytes are not a valid message (bad tag, truncated, over the limit, bad UTF-8…).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A valid message was followed by extra bytes.
    #[error("{0} unexpected bytes after the message")]
    TrailingBytes(usize),
    /// The message is longer than the decode limit allows.
    #[error("message of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The message length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

fn encode_with<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) {
    // Encoding our own in-memory values into a Vec cannot fail: every sequence states its
    // length and no limit applies when encoding.
    bincode::serde::encode_into_std_write(value, out, config::standard())
        .expect("encoding a protocol value into a Vec is infallible");
}

fn decode_with<T, C>(bytes: &[u8], cfg: C, limit: usize) -> Result<T, CodecError>
where
    T: serde::de::DeserializeOwned,
    C: bincode::config::Config,
{
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (value, used) = bincode::serde::decode_from_slice::<T, C>(bytes, cfg)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

/// Encodes one layout value as `prim` (bincode's bytes for that Rust type), or says why
/// it does not fit.
pub(crate) fn encode_prim(
    prim: crate::layout::Prim,
    v: &crate::layout::Value,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use crate::layout::{Prim, Value};
    let int = |v: &Value| match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        other => Err(format!("expected an integer, got {other:?}")),
    };
    let range = |i: i64, lo: i64, hi: i64| {
        if (lo..=hi).contains(&i) {
            Ok(i)
        } else {
            Err(format!("{i} is out of range {lo}..={hi}"))
        }
    };
    match prim {
        Prim::U8 => encode_with(&(range(int(v)?, 0, 255)? as u8), out),
        Prim::U16 => encode_with(&(range(int(v)?, 0, 65_535)? as u16), out),
        Prim::U32 => encode_with(&(range(int(v)?, 0, i64::from(u32::MAX))? as u32), out),
        // A u64 above i64::MAX travels as its i64 bit pattern.
        Prim::U64 => encode_with(&(int(v)? as u64), out),
        Prim::I32 => encode_with(
            &(range(int(v)?, i64::from(i32::MIN), i64::from(i32::MAX))? as i32),
            out,
        ),
        Prim::I64 => encode_with(&int(v)?, out),
        Prim::Bool => match v {
            Value::Bool(b) => encode_with(b, out),
            Value::Int(i @ (0 | 1)) => encode_with(&(*i == 1), out),
            other => return Err(format!("expected a bool, got {other:?}")),
        },
        Prim::F32 => match v {
            Value::F32(f) => encode_with(f, out),
            Value::Int(i) => encode_with(&(*i as f32), out),
            other => return Err(format!("expected a number, got {other:?}")),
        },
        Prim::Str => match v {
            Value::Str(s) => encode_with(s, out),
            other => return Err(format!("expected a string, got {other:?}")),
        },
    }
    Ok(())
}

/// Decodes one `prim` from the front of `bytes` (bounded by the client limit); returns
/// the value and the bytes used.
pub(crate) fn decode_prim(
    prim: crate::layout::Prim,
    bytes: &[u8],
) -> Result<(crate::layout::Value, usize), String> {
    use crate::layout::{Prim, Value};
    fn one<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), String> {
        bincode::serde::decode_from_slice::<T, _>(bytes, client_config()).map_err(|e| e.to_string())
    }
    Ok(match prim {
        Prim::U8 => one::<u8>(bytes).map(|(v, n)| (Value::Int(i64::from(v)), n))?,
        Prim::U16 => one::<u16>(bytes).map(|(v, n)| (Value::Int(i64::from(v)), n))?,
        Prim::U32 => one::<u32>(bytes).map(|(v, n)| (Value::Int(i64::from(v)), n))?,
        Prim::U64 => one::<u64>(bytes).map(|(v, n)| (Value::Int(v as i64), n))?,
        Prim::I32 => one::<i32>(bytes).map(|(v, n)| (Value::Int(i64::from(v)), n))?,
        Prim::I64 => one::<i64>(bytes).map(|(v, n)| (Value::Int(v), n))?,
        Prim::Bool => one::<bool>(bytes).map(|(v, n)| (Value::Bool(v), n))?,
        Prim::F32 => one::<f32>(bytes).map(|(v, n)| (Value::F32(v), n))?,
        Prim::Str => one::<String>(bytes).map(|(v, n)| (Value::Str(v), n))?,
    })
}

/// Encodes any serde value the way every message is encoded (a game's input or event).
#[must_use]
pub fn encode_value<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_with(value, &mut out);
    out
}

/// Decodes a serde value that came from a client (a game's input), bounded by the client
/// limit and refusing trailing bytes.
pub fn decode_client_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    decode_with(bytes, client_config(), CLIENT_DECODE_LIMIT)
}

/// Decodes a serde value that came from the server (a game's event).
pub fn decode_server_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    decode_with(bytes, server_config(), SERVER_DECODE_LIMIT)
}

/// Encodes a client message.
#[must_use]
pub fn encode_client(msg: &ClientMsg) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_with(msg, &mut out);
    out
}

/// Decodes a client message (bounded by `CLIENT_DECODE_LIMIT`).
pub fn decode_client(bytes: &[u8]) -> Result<ClientMsg, CodecError> {
    decode_with(bytes, client_config(), CLIENT_DECODE_LIMIT)
}

/// Encodes a server message.
#[must_use]
pub fn encode_server(msg: &ServerMsg) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_with(msg, &mut out);
    out
}

/// Decodes a server message (bounded by `SERVER_DECODE_LIMIT`).
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg, CodecError> {
    decode_with(bytes, server_config(), SERVER_DECODE_LIMIT)
}

/// Encodes a snapshot body alone, to be shared by every client with the same view.
#[must_use]
pub fn encode_body(body: &SnapshotBody) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + body.spawns.len() * 16 + body.updates.len() * 5);
    encode_with(body, &mut out);
    out
}

/// Decodes a snapshot body alone.
pub fn decode_body(bytes: &[u8]) -> Result<SnapshotBody, CodecError> {
    decode_with(bytes, server_config(), SERVER_DECODE_LIMIT)
}

/// Builds the bytes of `ServerMsg::Snapshot { header, body }` from a per-client header and
/// a body already encoded by `encode_body`, without re-encoding the body. The result is
/// byte-for-byte what `encode_server` gives for the same message.
#[must_use]
pub fn encode_snapshot(header: &SnapshotHeader, body_bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + body_bytes.len());
    // The variant index of `ServerMsg::Snapshot`, as bincode writes it (a varint u32).
    encode_with(&SNAPSHOT_VARIANT, &mut out);
    encode_with(header, &mut out);
    out.extend_from_slice(body_bytes);
    out
}

/// Reads only the header of an encoded `ServerMsg::Snapshot`, without decoding the body:
/// what a load-generating client needs in order to ack a snapshot it does not mirror.
/// Returns `None` for any other message or malformed bytes.
#[must_use]
pub fn peek_snapshot_header(bytes: &[u8]) -> Option<SnapshotHeader> {
    let cfg = client_config();
    let (variant, used) = bincode::serde::decode_from_slice::<u32, _>(bytes, cfg).ok()?;
    if variant != SNAPSHOT_VARIANT {
        return None;
    }
    let rest = bytes.get(used..)?;
    let (header, _) = bincode::serde::decode_from_slice::<SnapshotHeader, _>(rest, cfg).ok()?;
    Some(header)
}

/// `ServerMsg::Snapshot`'s variant index; checked against the derived encoding in tests.
const SNAPSHOT_VARIANT: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::diff;
    use crate::ids::{InputSeq, NetId, PlayerId, Tick};
    use crate::protocol::{ByeCode, ChatLine, PROTOCOL_VERSION, Presence};
    use crate::schema::{ComponentDef, Encoding, FieldDef, Schema, SchemaDef};
    use crate::snapshot::{Entity, View, WorldSnapshot};
    use proptest::prelude::*;

    /// A schema of one component: x, y (fixed point) and an 8-bit angle.
    fn schema() -> Schema {
        let body = ComponentDef::new(
            "Body",
            vec![
                FieldDef::new("x", Encoding::fixed(16.0, -1e5, 1e5)),
                FieldDef::new("y", Encoding::fixed(16.0, -1e5, 1e5)),
                FieldDef::new("angle", Encoding::angle(8)),
            ],
        );
        Schema::new(SchemaDef::new("t", vec![body])).unwrap()
    }

    fn npc(id: u32, x: i32, y: i32, angle: u8) -> Entity {
        Entity {
            id: NetId(id),
            components: 1,
            nums: crate::Nums::from_slice(&[x, y, i32::from(angle)]),
            strs: crate::Strs::new(),
        }
    }

    #[test]
    fn spliced_snapshot_equals_the_derived_encoding() {
        let a = WorldSnapshot::new(Tick(1), vec![npc(1, 0, 0, 0), npc(2, 5, 5, 5)]);
        let b = WorldSnapshot::new(Tick(2), vec![npc(2, 9, 5, 7), npc(3, 1, 1, 1)]);
        let body = diff(&schema(), Some((&a, View::All)), &b, View::All);
        let header = SnapshotHeader {
            tick: Tick(2),
            baseline: Some(Tick(1)),
            input_ack: InputSeq(77),
        };
        let spliced = encode_snapshot(&header, &encode_body(&body));
        let derived = encode_server(&ServerMsg::Snapshot {
            header,
            body: body.clone(),
        });
        assert_eq!(spliced, derived);
        assert_eq!(peek_snapshot_header(&spliced), Some(header));
        assert_eq!(
            peek_snapshot_header(&encode_server(&ServerMsg::Left(Presence {
                player: PlayerId(1),
                name: String::new()
            }))),
            None
        );
        match decode_server(&spliced).unwrap() {
            ServerMsg::Snapshot {
                header: h,
                body: b2,
            } => {
                assert_eq!(h, header);
                assert_eq!(b2, body);
            }
            other => panic!("decoded {other:?}"),
        }
    }

    #[test]
    fn a_moving_entity_costs_five_bytes_and_a_resting_one_nothing() {
        let before: Vec<Entity> = (0..500).map(|i| npc(i, 1000, 1000, 10)).collect();
        let mut after = before.clone();
        for e in after.iter_mut().step_by(2) {
            e.nums[0] += 27;
            e.nums[1] -= 12;
            e.nums[2] = (e.nums[2] - 9).rem_euclid(256);
        }
        let a = WorldSnapshot::new(Tick(1), before);
        let b = WorldSnapshot::new(Tick(2), after);
        let s = schema();
        let rest = encode_body(&diff(&s, Some((&a, View::All)), &a, View::All)).len();
        let moved = encode_body(&diff(&s, Some((&a, View::All)), &b, View::All)).len();
        // 250 moving entities at one byte each for gap, mask, dx, dy, dangle; the gaps of 2
        // still fit one byte. Fixed overhead: three lengths and the checksum.
        assert!(rest <= 10, "an unchanged world costs {rest} bytes");
        let per_entity = (moved - rest) as f64 / 250.0;
        assert!(
            per_entity <= 5.05,
            "a moving entity costs {per_entity} bytes"
        );
    }

    #[test]
    fn trailing_bytes_and_oversize_input_are_refused() {
        let mut bytes = encode_client(&ClientMsg::Ping { client_time: 5 });
        assert!(decode_client(&bytes).is_ok());
        bytes.push(0);
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::TrailingBytes(1))
        ));
        let huge = vec![0u8; CLIENT_DECODE_LIMIT + 1];
        assert!(matches!(
            decode_client(&huge),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_length_prefix_claiming_gigabytes_is_refused_without_allocating() {
        // Chat (variant 4) with a string length of 2^62 (varint marker 253 + u64).
        let mut bytes = vec![4u8, 253];
        bytes.extend_from_slice(&(1u64 << 62).to_le_bytes());
        assert!(decode_client(&bytes).is_err());
        // Snapshot whose spawn list claims 2^40 entities.
        let mut snap = vec![1u8, 5, 0, 0, 253];
        snap.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(decode_server(&snap).is_err());
    }

    #[test]
    fn every_message_round_trips() {
        let msgs = vec![
            ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                name: "ann".into(),
                resume: Some(crate::Resume {
                    token: "r".into(),
                    tick: Some(Tick(4)),
                }),
                auth: None,
            },
            ClientMsg::Input {
                seq: InputSeq(3),
                data: vec![17, 251, 64, 156],
                ack: Some(Tick(41)),
                view: Some(Tick(36)),
            },
            ClientMsg::Ack { tick: Tick(99) },
            ClientMsg::Ping {
                client_time: u64::MAX,
            },
            ClientMsg::Chat { text: "hé".into() },
        ];
        for m in msgs {
            assert_eq!(decode_client(&encode_client(&m)).unwrap(), m);
        }
        let bye = ServerMsg::Bye {
            code: ByeCode::ServerFull,
            reason: "server full".into(),
        };
        assert_eq!(decode_server(&encode_server(&bye)).unwrap(), bye);
        let chat = ServerMsg::Chat(ChatLine {
            from: PlayerId(1),
            name: "a".into(),
            text: "b".into(),
        });
        assert_eq!(decode_server(&encode_server(&chat)).unwrap(), chat);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_client(&bytes);
            let _ = decode_server(&bytes);
            let _ = decode_body(&bytes);
        }

        #[test]
        fn mutated_snapshots_never_panic(flip in any::<(usize, u8)>(), cut in any::<usize>()) {
            let a = WorldSnapshot::new(Tick(1), (0..20).map(|i| npc(i, i as i32, 0, 0)).collect());
            let b = WorldSnapshot::new(Tick(2), (5..25).map(|i| npc(i, i as i32 * 3, 1, 2)).collect());
            let header = SnapshotHeader { tick: Tick(2), baseline: Some(Tick(1)), input_ack: InputSeq(1) };
            let s = std::sync::Arc::new(schema());
            let mut bytes = encode_snapshot(&header, &encode_body(&diff(&s, Some((&a, View::All)), &b, View::All)));
            let i = flip.0 % bytes.len();
            bytes[i] ^= flip.1;
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(ServerMsg::Snapshot { header, body }) = decode_server(&bytes) {
                let mut m = crate::Mirror::from_entities(s.clone(), Tick(1), a.entities.clone());
                let _ = m.apply(header.tick, header.baseline, &body);
            }
        }
    }
}
