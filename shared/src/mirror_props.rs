//! Property tests of the delta model over random schemas: random component sets and field
//! encodings, random spawns, changes, component adds and removes, despawns, any baseline.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::codec::{decode_body, encode_body};
use crate::delta::diff;
use crate::schema::{ComponentDef, Encoding, FieldDef, PositionDef, SchemaDef};
use crate::snapshot::{Relevance, Shape, View, WorldSnapshot};

fn arb_encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        (1.0f32..64.0, -5000.0f32..0.0, 0.0f32..5000.0)
            .prop_map(|(s, lo, hi)| Encoding::fixed(s, lo, hi)),
        (1u8..=16).prop_map(Encoding::angle),
        (-100i32..0, 0i32..100).prop_map(|(lo, hi)| Encoding::int(lo, hi)),
        Just(Encoding::Bool),
        Just(Encoding::enumeration(&["a", "b", "c"])),
        Just(Encoding::Player),
        (0u16..12).prop_map(Encoding::string),
    ]
}

/// A random schema: 1 to 8 components of 0 to 5 fields; the first component is always
/// a numeric position, so views can use it.
fn arb_schema() -> impl Strategy<Value = Arc<Schema>> {
    proptest::collection::vec(proptest::collection::vec(arb_encoding(), 0..5), 0..8).prop_map(
        |comps| {
            let position = vec![
                FieldDef::new("x", Encoding::int(-3000, 3000)),
                FieldDef::new("y", Encoding::int(-3000, 3000)),
            ];
            let mut components = vec![ComponentDef::new("P", position)];
            for (i, fields) in comps.into_iter().enumerate() {
                let fields = fields
                    .into_iter()
                    .enumerate()
                    .map(|(j, e)| FieldDef::new(&format!("f{j}"), e))
                    .collect();
                components.push(ComponentDef::new(&format!("C{i}"), fields));
            }
            Arc::new(
                Schema::new(SchemaDef {
                    game: "random".into(),
                    components,
                    position: Some(PositionDef {
                        component: "P".into(),
                        x: "x".into(),
                        y: "y".into(),
                    }),
                    ..SchemaDef::default()
                })
                .expect("generated schemas are valid"),
            )
        },
    )
}

/// A value for a field: in range for its encoding (as the server's quantizer makes it).
fn value_for(e: &Encoding, seed: i64) -> i32 {
    match e {
        Encoding::Angle { bits } => (seed.rem_euclid(1 << bits)) as i32,
        Encoding::Fixed { .. } => (seed % 100_000) as i32,
        other => other.clamp_int(seed),
    }
}

/// Builds an entity with component set `mask` from seeds, as capture would.
fn build(schema: &Schema, id: u32, mask: u64, seed: i64) -> Entity {
    let mask = mask & ((1u64 << schema.component_count()) - 1);
    let mut e = Entity {
        id: NetId(id),
        components: mask,
        ..Entity::default()
    };
    let mut k = seed;
    for c in crate::schema::bits(mask) {
        for f in &schema.component(c).unwrap().fields {
            k = k
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            match f.encoding {
                Encoding::Str { max_bytes } => {
                    let n = (k.rem_euclid(i64::from(max_bytes) + 1)) as usize;
                    e.strs
                        .push(Arc::from("xyzé".repeat(4).get(..n).unwrap_or("")));
                }
                ref enc => e.nums.push(value_for(enc, k >> 20)),
            }
        }
    }
    e
}

/// One step of world history.
#[derive(Clone, Debug)]
enum Edit {
    Spawn(u32, u64, i64),
    Despawn(usize),
    Nudge(usize, usize, i64),
    Reshape(usize, u64, i64),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0u32..100, any::<u64>(), any::<i64>()).prop_map(|(id, m, s)| Edit::Spawn(id, m | 1, s)),
        any::<usize>().prop_map(Edit::Despawn),
        (any::<usize>(), any::<usize>(), -400i64..400).prop_map(|(i, f, d)| Edit::Nudge(i, f, d)),
        (any::<usize>(), any::<u64>(), any::<i64>()).prop_map(|(i, m, s)| Edit::Reshape(i, m, s)),
    ]
}

fn step(schema: &Schema, prev: &WorldSnapshot, edits: &[Edit]) -> WorldSnapshot {
    let mut ents = prev.entities.clone();
    for edit in edits {
        let n = ents.len();
        match *edit {
            Edit::Spawn(id, mask, seed) => ents.push(build(schema, id, mask, seed)),
            Edit::Despawn(i) if n > 0 => {
                ents.remove(i % n);
            }
            Edit::Nudge(i, f, d) if n > 0 => {
                let e = &mut ents[i % n];
                let wraps: Vec<u8> = schema.wraps(e.components).collect();
                if !e.nums.is_empty() {
                    let f = f % e.nums.len();
                    let v = i64::from(e.nums[f]) + d;
                    e.nums[f] = match wraps[f] {
                        0 => v as i32,
                        b => v.rem_euclid(1 << b) as i32,
                    };
                }
            }
            // A component added or removed (or strings changed) on a live entity.
            Edit::Reshape(i, mask, seed) if n > 0 => {
                let id = ents[i % n].id.0;
                ents[i % n] = build(schema, id, mask, seed);
            }
            _ => {}
        }
    }
    WorldSnapshot::new(prev.tick.next(), ents)
}

fn arb_view() -> impl Strategy<Value = View> {
    prop_oneof![
        Just(View::All),
        (
            -3000i32..3000,
            -3000i32..3000,
            0i32..4000,
            proptest::option::of(0i32..4000),
            proptest::option::of(0u32..100),
            0u64..4,
        )
            .prop_map(|(cx, cy, radius, height, always, relevant)| View::Area {
                cx,
                cy,
                shape: match height {
                    Some(h) => Shape::Rect {
                        half_width: radius,
                        half_height: h
                    },
                    None => Shape::Circle { radius },
                },
                always: always.map(NetId),
                relevant: Relevance {
                    components: relevant,
                    group: None
                },
                team: None,
            }),
    ]
}

fn visible(schema: &Schema, s: &WorldSnapshot, v: View) -> Vec<Entity> {
    v.visible(schema, &s.entities).cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any schema, any history and any choice of baseline, applying
    /// delta(baseline → latest) to the baseline view reproduces the latest view exactly,
    /// checksum included; the delta survives the wire; a full state does the same.
    #[test]
    fn delta_from_any_baseline_reproduces_latest(
        schema in arb_schema(),
        history in proptest::collection::vec(proptest::collection::vec(arb_edit(), 0..12), 1..10),
        pick in any::<usize>(),
        v_old in arb_view(),
        v_new in arb_view(),
    ) {
        let mut snaps = vec![WorldSnapshot::default()];
        for edits in &history {
            let next = step(&schema, snaps.last().unwrap(), edits);
            snaps.push(next);
        }
        let latest = snaps.last().unwrap();
        let base = &snaps[pick % snaps.len()];
        let mut mirror = Mirror::from_entities(schema.clone(), base.tick, visible(&schema, base, v_old));
        let body = diff(&schema, Some((base, v_old)), latest, v_new);
        let back = decode_body(&encode_body(&body)).unwrap();
        prop_assert_eq!(&back, &body);
        mirror.apply(latest.tick, Some(base.tick), &back).unwrap();
        let want = visible(&schema, latest, v_new);
        prop_assert_eq!(mirror.entities(), want.as_slice());

        let mut fresh = Mirror::new(schema.clone());
        fresh.apply(latest.tick, None, &diff(&schema, None, latest, v_new)).unwrap();
        prop_assert_eq!(fresh.entities(), want.as_slice());
    }

    /// Chaining deltas tick by tick gives the server's state at every tick, and entities
    /// that did not change cost nothing.
    #[test]
    fn applying_a_delta_chain_matches_the_server(
        schema in arb_schema(),
        history in proptest::collection::vec(proptest::collection::vec(arb_edit(), 0..8), 1..12),
    ) {
        let mut prev = WorldSnapshot::default();
        let mut mirror = Mirror::from_entities(schema.clone(), Tick(0), vec![]);
        for edits in &history {
            let next = step(&schema, &prev, edits);
            let body = diff(&schema, Some((&prev, View::All)), &next, View::All);
            for id in body.updates.ids() {
                prop_assert_ne!(prev.get(id), next.get(id), "an unchanged entity was sent");
            }
            mirror.apply(next.tick, Some(prev.tick), &body).unwrap();
            prop_assert_eq!(mirror.entities(), next.entities.as_slice());
            prev = next;
        }
        let rest = diff(&schema, Some((&prev, View::All)), &prev, View::All);
        prop_assert!(rest.is_empty());
    }

    /// Random bytes decoded as a body and applied never panic the generic decoder or the
    /// mirror, whatever the schema.
    #[test]
    fn random_bodies_never_panic(
        schema in arb_schema(),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        seed in any::<i64>(),
    ) {
        let held = vec![build(&schema, 3, u64::MAX, seed), build(&schema, 9, 1, seed ^ 5)];
        let mut m = Mirror::from_entities(schema.clone(), Tick(1), held);
        if let Ok(body) = decode_body(&bytes) {
            let _ = m.apply(Tick(2), Some(Tick(1)), &body);
        }
    }
}

fn one_schema() -> Arc<Schema> {
    let p = ComponentDef::new("P", vec![FieldDef::new("x", Encoding::int(-9, 9))]);
    Arc::new(Schema::new(SchemaDef::new("t", vec![p])).unwrap())
}

#[test]
fn wrong_baseline_and_bad_checksum_are_refused_without_change() {
    let schema = one_schema();
    let snap = WorldSnapshot::new(Tick(5), vec![]);
    let body = diff(&schema, None, &snap, View::All);
    let mut m = Mirror::new(schema);
    assert!(matches!(
        m.apply(Tick(6), Some(Tick(5)), &body),
        Err(ApplyError::WrongBaseline { .. })
    ));
    let mut bad = body.clone();
    bad.checksum ^= 1;
    assert!(matches!(
        m.apply(Tick(5), None, &bad),
        Err(ApplyError::ChecksumMismatch { .. })
    ));
    assert_eq!(m.tick(), None);
    m.apply(Tick(5), None, &body).unwrap();
    assert_eq!(m.tick(), Some(Tick(5)));
}

#[test]
fn unknown_ids_and_misshapen_entities_are_refused() {
    let schema = one_schema();
    let body = SnapshotBody {
        despawns: vec![NetId(9)],
        ..SnapshotBody::default()
    };
    assert_eq!(
        apply_unverified(&schema, &[], &body),
        Err(ApplyError::UnknownEntity(NetId(9)))
    );
    let misfit = SnapshotBody {
        spawns: vec![Entity {
            id: NetId(1),
            components: 1,
            nums: crate::Nums::new(),
            strs: crate::Strs::new(),
        }],
        ..SnapshotBody::default()
    };
    assert!(matches!(
        apply_unverified(&schema, &[], &misfit),
        Err(ApplyError::Shape(NetId(1), _))
    ));
    let held = [Entity {
        id: NetId(1),
        components: 1,
        nums: crate::Nums::from_slice(&[0]),
        strs: crate::Strs::new(),
    }];
    let mut updates = crate::delta::Updates::default();
    updates.push(NetId(1), 0b10, [1]);
    let wide = SnapshotBody {
        updates,
        ..SnapshotBody::default()
    };
    assert!(matches!(
        apply_unverified(&schema, &held, &wide),
        Err(ApplyError::Shape(NetId(1), _))
    ));
}
