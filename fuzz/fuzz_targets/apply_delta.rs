//! Fuzz target: arbitrary bytes decoded as a server message or a bare snapshot body, then
//! applied to a client mirror that already holds a small world. This is what every client
//! does with every snapshot, so a hostile or buggy server must not be able to crash it.
//!
//! Input layout: byte 0 picks the mode (even: the rest is a whole `ServerMsg`; odd: byte 1
//! picks the baseline — none, the held tick, or a tick the mirror does not hold — and the
//! rest is a `SnapshotBody`).
//!
//! Properties: nothing panics; a decoded value re-encodes to bytes that decode to it
//! again; a verified apply that succeeds leaves the mirror at the new tick, sorted by id,
//! with the body's checksum; one that fails leaves the mirror exactly as it was; and the
//! unverified applier agrees with the verified one (same entities when both succeed, and
//! a body carrying the right checksum is always accepted).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_shared::checksum::view_checksum;
use tickwire_shared::codec::{decode_body, decode_server, encode_body, encode_server};
use tickwire_shared::mirror::apply_unverified;
use tickwire_shared::{
    ApplyError, Entity, EntityKind, EntityState, Mirror, NetId, PlayerId, ServerMsg, SnapshotBody,
    Tick,
};

/// The tick the pre-filled mirror holds.
const HELD: Tick = Tick(100);

/// A small world with every kind of entity, a name, an owner, and gaps between ids.
fn world() -> Vec<Entity> {
    let e = |id: u32, kind, owner: Option<u32>, name: &str, x, y, angle, score, hp| Entity {
        id: NetId(id),
        state: EntityState {
            kind,
            owner: owner.map(PlayerId),
            name: name.into(),
            x,
            y,
            angle,
            score,
            hp,
        },
    };
    vec![
        e(0, EntityKind::Orb, None, "", 0, 0, 0, 0, 1),
        e(
            1,
            EntityKind::Player,
            Some(1),
            "ann",
            12_800,
            6_400,
            64,
            3,
            100,
        ),
        e(
            2,
            EntityKind::Player,
            Some(2),
            "bö",
            -5,
            i32::MAX,
            255,
            -7,
            0,
        ),
        e(3, EntityKind::Projectile, Some(1), "", 100, 200, 128, 0, 0),
        e(7, EntityKind::Orb, None, "", i32::MIN, 42, 3, i32::MAX, 255),
        e(8, EntityKind::Cube, None, "", 1, 1, 1, 1, 1),
        e(1000, EntityKind::Orb, None, "", 77, 77, 77, 0, 2),
        e(u32::MAX, EntityKind::Cube, None, "", -1, -1, 9, 0, 0),
    ]
}

fn assert_sorted(entities: &[Entity]) {
    assert!(
        entities.windows(2).all(|w| w[0].id < w[1].id),
        "entities are not strictly sorted by id"
    );
}

/// Applies `body` every way a client can and checks the applier's promises.
fn check_apply(tick: Tick, baseline: Option<Tick>, body: &SnapshotBody) {
    let base = Mirror::from_entities(HELD, world());
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
            assert_sorted(mirror.entities());
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
    match apply_unverified(start, body) {
        Ok(next) => {
            assert_sorted(&next);
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

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(msg) = decode_server(rest) else {
            return;
        };
        let again = decode_server(&encode_server(&msg)).expect("a re-encoded message decodes");
        assert_eq!(again, msg, "decode(encode(x)) != x");
        if let ServerMsg::Snapshot { header, body } = msg {
            check_apply(header.tick, header.baseline, &body);
        }
    } else {
        let Some((&pick, rest)) = rest.split_first() else {
            return;
        };
        let Ok(body) = decode_body(rest) else {
            return;
        };
        let again = decode_body(&encode_body(&body)).expect("a re-encoded body decodes");
        assert_eq!(again, body, "decode(encode(x)) != x");
        let baseline = match pick % 3 {
            0 => None,
            1 => Some(HELD),
            _ => Some(Tick(HELD.0 - 1)),
        };
        check_apply(HELD.next(), baseline, &body);
    }
});
