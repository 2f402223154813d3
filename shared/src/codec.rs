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
    use crate::protocol::{ByeCode, PROTOCOL_VERSION};
    use crate::snapshot::{Entity, EntityState, View, WorldSnapshot};
    use proptest::prelude::*;

    fn npc(id: u32, x: i32, y: i32, angle: u8) -> Entity {
        Entity {
            id: NetId(id),
            state: EntityState {
                angle,
                ..EntityState::orb(x, y)
            },
        }
    }

    #[test]
    fn spliced_snapshot_equals_the_derived_encoding() {
        let a = WorldSnapshot::new(Tick(1), vec![npc(1, 0, 0, 0), npc(2, 5, 5, 5)]);
        let b = WorldSnapshot::new(Tick(2), vec![npc(2, 9, 5, 7), npc(3, 1, 1, 1)]);
        let body = diff(Some((&a, View::All)), &b, View::All);
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
            peek_snapshot_header(&encode_server(&ServerMsg::Event(crate::GameEvent::Left {
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
            e.state.x += 27;
            e.state.y -= 12;
            e.state.angle = e.state.angle.wrapping_sub(9);
        }
        let a = WorldSnapshot::new(Tick(1), before);
        let b = WorldSnapshot::new(Tick(2), after);
        let rest = encode_body(&diff(Some((&a, View::All)), &a, View::All)).len();
        let moved = encode_body(&diff(Some((&a, View::All)), &b, View::All)).len();
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
                buttons: 17,
                aim: 40_000,
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
        let chat = ServerMsg::Chat {
            from: PlayerId(1),
            name: "a".into(),
            text: "b".into(),
        };
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
            let mut bytes = encode_snapshot(&header, &encode_body(&diff(Some((&a, View::All)), &b, View::All)));
            let i = flip.0 % bytes.len();
            bytes[i] ^= flip.1;
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(ServerMsg::Snapshot { header, body }) = decode_server(&bytes) {
                let mut m = crate::Mirror::from_entities(Tick(1), a.entities.clone());
                let _ = m.apply(header.tick, header.baseline, &body);
            }
        }
    }
}
