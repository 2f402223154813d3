//! Fuzz target: the client's side of replication over any schema. The first bytes build
//! a schema (or pick the demo's) and the client mirror holds a small world that fits it;
//! the rest is a server message or a bare snapshot body decoded and applied (what every
//! client does with every snapshot, so a hostile or buggy server must not crash it), or a
//! script that makes a next world, which is diffed, sent through the codec and applied
//! (so the fuzzer searches the diff/apply pair too).
//!
//! Input layout: byte 0 is the mode. Bit 2 set: the demo's schema; clear: the schema the
//! next bytes spell (`worlds::SchemaSpec`). Bits 0–1: 0, the rest is a whole
//! `ServerMsg`; 1, one byte picks the baseline (none, the held tick, or a tick the mirror
//! does not hold) and the rest is a `SnapshotBody`; 2 or 3, the rest picks the old and
//! new views and edits the held world into the next one (`worlds::edit`).
//!
//! Properties: nothing panics; the schema's tables agree with its definition (the
//! generated one and any a `Welcome` carries); a decoded value re-encodes to the same
//! bytes, no longer than the input, which decode to a value equal to it; a spliced
//! snapshot equals the derived encoding and its header can be peeked; an event decodes
//! the same by the demo's serde type and by its declared layout; a verified apply that
//! succeeds leaves the mirror at the new tick, sorted by id, with the body's checksum,
//! and every entity's mask valid and its value counts those of its components; one that
//! fails leaves the mirror exactly as it was; the unverified applier agrees with the
//! verified one, and a body carrying the right checksum is always accepted. For a diffed
//! world: the body is minimal (only new or reshaped entities spawned, only changed fields
//! updated, only vanished ones despawned), survives the wire, and the mirror reproduces
//! the new view exactly, from the old view and from nothing; an unchanged world diffs to
//! an empty body. The two library bugs this target found (a radius check overflowing i64, the
//! last net id's first update gap wrapping to 0) are fixed and have regression tests in
//! `shared/src/snapshot.rs` and `shared/src/delta.rs`.

#![no_main]

#[path = "common/worlds.rs"]
mod worlds;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tickwire_server::games::demo::DemoEvent;
use tickwire_shared::checksum::view_checksum;
use tickwire_shared::codec::{
    decode_body, decode_server, decode_server_value, encode_body, encode_server, encode_snapshot,
    peek_snapshot_header,
};
use tickwire_shared::layout::{Value, decode_event};
use tickwire_shared::mirror::apply_unverified;
use tickwire_shared::{
    ApplyError, Entity, InputSeq, Mirror, NetId, Schema, ServerMsg, SnapshotBody, SnapshotHeader,
    Tick, View, Welcome, WorldSnapshot, diff,
};
use worlds::{DEMO, HELD, SchemaSpec, edit, full_mask, held_world, take, view};

/// Checks that a schema's derived tables agree with its definition.
fn check_schema(schema: &Schema) {
    let n = schema.component_count();
    let full = full_mask(schema);
    assert!(schema.valid_mask(full));
    if n < 64 {
        assert!(
            !schema.valid_mask(1 << n),
            "a mask past the components is valid"
        );
    }
    let (mut nums, mut strs) = (0, 0);
    for c in 0..n {
        let def = schema
            .component(c)
            .expect("every index below the count is a component");
        assert_eq!(schema.component_index(&def.name), Some(c));
        let wraps: Vec<u8> = def
            .fields
            .iter()
            .filter(|f| !f.encoding.is_str())
            .map(|f| f.encoding.wrap_bits())
            .collect();
        let str_count = def.fields.len() - wraps.len();
        assert_eq!(schema.value_counts(1 << c), (wraps.len(), str_count));
        assert_eq!(schema.wraps(1 << c).collect::<Vec<_>>(), wraps);
        assert_eq!(schema.offsets(full, c), Some((nums, strs)));
        assert_eq!(schema.offsets(full & !(1 << c), c), None);
        let slots = schema.slots(c);
        assert_eq!(slots.len(), def.fields.len());
        let (mut sn, mut ss) = (0, 0);
        for (f, &(is_str, i)) in def.fields.iter().zip(slots) {
            assert_eq!(is_str, f.encoding.is_str());
            let next = if is_str { &mut ss } else { &mut sn };
            assert_eq!(i, *next, "slot of {}.{}", def.name, f.name);
            *next += 1;
        }
        nums += wraps.len();
        strs += str_count;
    }
    assert_eq!(schema.value_counts(full), (nums, strs));
    assert_eq!(schema.wraps(full).count(), nums);
    if schema.def().position.is_some() {
        assert!(schema.position_encoding().is_some());
        assert!(schema.position_of(full, &vec![0; nums]).is_some());
    }
}

/// Checks that entities are strictly sorted by id and each fits the schema.
fn check_entities(schema: &Schema, entities: &[Entity]) {
    assert!(
        entities.windows(2).all(|w| w[0].id < w[1].id),
        "entities are not strictly sorted by id"
    );
    for e in entities {
        assert!(
            schema.valid_mask(e.components),
            "entity {} has an unknown component",
            e.id
        );
        assert_eq!(
            schema.value_counts(e.components),
            (e.nums.len(), e.strs.len()),
            "entity {} does not fit its components",
            e.id
        );
    }
}

/// Applies `body` every way a client can to a mirror holding `held` at `HELD`, and
/// checks the applier's promises.
fn check_apply(
    schema: &Arc<Schema>,
    held: &[Entity],
    tick: Tick,
    baseline: Option<Tick>,
    body: &SnapshotBody,
) {
    let base = Mirror::from_entities(schema.clone(), HELD, held.to_vec());
    let mut mirror = base.clone();
    let verified = mirror.apply(tick, baseline, body);
    match &verified {
        Ok(()) => {
            assert_eq!(
                mirror.checksum(),
                body.checksum,
                "applied but checksum differs"
            );
            assert_eq!(mirror.tick(), Some(tick));
            check_entities(schema, mirror.entities());
        }
        Err(_) => assert_eq!(mirror, base, "a failed apply changed the mirror"),
    }

    // The same body without the checksum gate, from what the verified path started from.
    let start: &[Entity] = match baseline {
        None => &[],
        Some(b) if b == HELD => base.entities(),
        Some(_) => {
            assert!(matches!(verified, Err(ApplyError::WrongBaseline { .. })));
            return;
        }
    };
    match apply_unverified(schema, start, body) {
        Ok(next) => {
            check_entities(schema, &next);
            match &verified {
                Ok(()) => assert_eq!(mirror.entities(), next.as_slice()),
                Err(e) => assert!(
                    matches!(e, ApplyError::ChecksumMismatch { .. }),
                    "unverified apply succeeded but verified failed with {e:?}"
                ),
            }
            // With the right checksum, the verified path must accept it.
            let fixed = SnapshotBody {
                checksum: view_checksum(&next),
                ..body.clone()
            };
            let mut again = base.clone();
            again
                .apply(tick, baseline, &fixed)
                .unwrap_or_else(|e| panic!("a body with the right checksum was refused: {e}"));
            assert_eq!(again.entities(), next.as_slice());
        }
        Err(e) => assert_eq!(verified, Err(e), "the two appliers disagree"),
    }
}

/// An event decodes the same by the demo's serde type and by the layout its schema
/// declares: both succeed with the same values, or both fail.
fn check_event(data: &[u8]) {
    let typed = decode_server_value::<DemoEvent>(data);
    let by_layout = decode_event(&DEMO.def().events, data);
    match (typed, by_layout) {
        (Ok(DemoEvent::Knockout { by, victim }), Ok((def, values))) => {
            assert_eq!(def.name, "Knockout");
            let want = [Value::Int(by.0.into()), Value::Int(victim.0.into())];
            assert_eq!(values, want, "the layout read other values than serde");
        }
        (Err(_), Err(_)) => {}
        (typed, by_layout) => {
            panic!("serde and the layout disagree on {data:?}: {typed:?} vs {by_layout:?}")
        }
    }
}

/// Whether a message holds a NaN (a parameter), which no value equals, itself included.
fn has_nan(msg: &ServerMsg) -> bool {
    match msg {
        ServerMsg::Welcome(Welcome { schema, .. }) => {
            schema.def().params.iter().any(|p| p.value.is_nan())
        }
        _ => false,
    }
}

/// Mode 0: a whole server message.
fn check_message(schema: &Arc<Schema>, held: &[Entity], input: &[u8]) {
    let Ok(msg) = decode_server(input) else {
        return;
    };
    let bytes = encode_server(&msg);
    assert!(
        bytes.len() <= input.len(),
        "re-encoding grew {} bytes to {}",
        input.len(),
        bytes.len()
    );
    let again = decode_server(&bytes).expect("a re-encoded message decodes");
    assert_eq!(
        encode_server(&again),
        bytes,
        "encode(decode(encode(x))) != encode(x)"
    );
    if !has_nan(&msg) {
        assert_eq!(again, msg, "decode(encode(x)) != x");
    }
    let peeked = peek_snapshot_header(&bytes);
    match msg {
        ServerMsg::Snapshot { header, body } => {
            assert_eq!(peeked, Some(header));
            assert_eq!(encode_snapshot(&header, &encode_body(&body)), bytes);
            check_apply(schema, held, header.tick, header.baseline, &body);
        }
        ServerMsg::Welcome(Welcome { schema, .. }) => {
            assert_eq!(peeked, None);
            check_schema(&schema);
        }
        ServerMsg::Event { data } => {
            assert_eq!(peeked, None);
            check_event(&data);
        }
        _ => assert_eq!(peeked, None, "a header peeked out of a non-snapshot"),
    }
}

/// Mode 1: a bare body, relative to a baseline the byte picks.
fn check_body(schema: &Arc<Schema>, held: &[Entity], input: &[u8]) {
    let Some((&pick, input)) = input.split_first() else {
        return;
    };
    let Ok(body) = decode_body(input) else {
        return;
    };
    let bytes = encode_body(&body);
    assert!(
        bytes.len() <= input.len(),
        "re-encoding grew {} bytes to {}",
        input.len(),
        bytes.len()
    );
    let again = decode_body(&bytes).expect("a re-encoded body decodes");
    assert_eq!(again, body, "decode(encode(x)) != x");
    let baseline = match pick % 3 {
        0 => None,
        1 => Some(HELD),
        _ => Some(Tick(HELD.0 - 1)),
    };
    check_apply(schema, held, HELD.next(), baseline, &body);
}

/// The entities of `s` visible in `v`.
fn visible(schema: &Schema, s: &WorldSnapshot, v: View) -> Vec<Entity> {
    v.visible(schema, &s.entities).cloned().collect()
}

/// Checks that `body` carries `old` to `new` with nothing extra: spawns are exactly the
/// entities new to the view or reshaped, updates exactly those whose numeric values
/// changed (each mask naming exactly the changed values), despawns exactly those gone.
fn check_minimal(old: &[Entity], new: &[Entity], body: &SnapshotBody) {
    let find = |list: &[Entity], id: NetId| {
        list.binary_search_by_key(&id, |e| e.id)
            .ok()
            .map(|i| list[i].clone())
    };
    let mut spawns = Vec::new();
    let mut updates = Vec::new();
    for n in new {
        match find(old, n.id) {
            Some(o) if o.same_shape(n) => {
                let mask = o
                    .nums
                    .iter()
                    .zip(&n.nums)
                    .enumerate()
                    .filter(|(_, (a, b))| a != b)
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                if mask != 0 {
                    updates.push((n.id, mask));
                }
            }
            _ => spawns.push(n.clone()),
        }
    }
    let despawns: Vec<NetId> = old
        .iter()
        .filter(|o| find(new, o.id).is_none())
        .map(|o| o.id)
        .collect();
    assert_eq!(
        body.spawns, spawns,
        "spawns are not exactly the new and reshaped"
    );
    let sent: Vec<(NetId, u64)> = body.updates.iter().map(|(id, m, _)| (id, m)).collect();
    assert_eq!(sent, updates, "updates are not exactly the changed values");
    assert!(
        body.updates
            .iter()
            .all(|(_, m, d)| m.count_ones() as usize == d.len())
    );
    assert_eq!(
        body.despawns, despawns,
        "despawns are not exactly the vanished"
    );
    assert_eq!(body.checksum, view_checksum(new));
}

/// Modes 2 and 3: a next world made from the held one, diffed and applied.
fn check_diff(schema: &Arc<Schema>, held: &[Entity], mut script: &[u8]) {
    let base = WorldSnapshot::new(HELD, held.to_vec());
    let v_old = view(schema, &base.entities, &mut script);
    let v_new = view(schema, &base.entities, &mut script);
    let latest = WorldSnapshot::new(HELD.next(), edit(schema, &base.entities, &mut script));
    check_entities(schema, &latest.entities);
    let old = visible(schema, &base, v_old);
    let new = visible(schema, &latest, v_new);

    let body = diff(schema, Some((&base, v_old)), &latest, v_new);
    check_minimal(&old, &new, &body);
    let back = {
        let bytes = encode_body(&body);
        let back = decode_body(&bytes).expect("a diffed body decodes");
        assert_eq!(back, body, "a diffed body did not survive the wire");
        let header = SnapshotHeader {
            tick: latest.tick,
            baseline: Some(base.tick),
            input_ack: InputSeq(0),
        };
        match decode_server(&encode_snapshot(&header, &bytes)) {
            Ok(ServerMsg::Snapshot { header: h, body: b }) => {
                assert_eq!(h, header);
                assert_eq!(b, body);
            }
            other => panic!("a spliced snapshot decoded as {other:?}"),
        }
        back
    };
    let mut mirror = Mirror::from_entities(schema.clone(), base.tick, old.clone());
    mirror
        .apply(latest.tick, Some(base.tick), &back)
        .unwrap_or_else(|e| panic!("a diffed body was refused: {e}"));
    assert_eq!(
        mirror.entities(),
        new.as_slice(),
        "the mirror did not reproduce the view"
    );
    check_apply(schema, &old, latest.tick, Some(HELD), &back);

    let full = diff(schema, None, &latest, v_new);
    assert!(full.updates.is_empty() && full.despawns.is_empty());
    assert_eq!(full.spawns, new, "a full state is not the whole view");
    let full = decode_body(&encode_body(&full)).expect("a full state decodes");
    let mut fresh = Mirror::new(schema.clone());
    fresh
        .apply(latest.tick, None, &full)
        .unwrap_or_else(|e| panic!("a full state was refused: {e}"));
    assert_eq!(fresh.entities(), new.as_slice());

    let rest = diff(schema, Some((&latest, v_new)), &latest, v_new);
    assert!(rest.is_empty(), "an unchanged world diffs to {rest:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let Some(mode) = take(&mut rest) else {
        return;
    };
    let schema = if mode & 4 != 0 {
        DEMO.clone()
    } else {
        let Some(spec) = SchemaSpec::parse(&mut rest) else {
            return;
        };
        let again = SchemaSpec::parse(&mut spec.to_bytes().as_slice());
        assert_eq!(
            again.as_ref(),
            Some(&spec),
            "a spec does not round-trip its bytes"
        );
        spec.schema()
    };
    check_schema(&schema);
    let held = held_world(&schema);
    check_entities(&schema, &held);
    match mode & 3 {
        0 => check_message(&schema, &held, rest),
        1 => check_body(&schema, &held, rest),
        _ => check_diff(&schema, &held, rest),
    }
});
