//! Worlds for the `apply_delta` target and the seed generator (both include this file
//! with `#[path]`): a random but valid schema built from a few bytes (or the demo's), a
//! small held world that fits any schema, and views and byte-driven edits that turn a
//! world into a plausible next one.
//!
//! Schema bytes: one byte for the component count (1–8), then per component one byte for
//! its field count (0–5) and three bytes per field (the encoding's kind and two
//! parameters), then one byte choosing the position (none, or two numeric fields of one
//! component). Every byte string of the right length builds a valid schema.

use std::sync::{Arc, LazyLock};

use tickwire_server::Game;
use tickwire_server::games::demo::{Demo, DemoConfig};
use tickwire_shared::schema::bits;
use tickwire_shared::{
    ComponentDef, Encoding, Entity, FieldDef, NetId, PositionDef, Relevance, Schema, SchemaDef,
    Shape, Tick, View,
};

/// The tick the held world is at.
pub const HELD: Tick = Tick(100);

/// The demo's schema, built once.
pub static DEMO: LazyLock<Arc<Schema>> = LazyLock::new(|| {
    Demo::replicate(&DemoConfig::default())
        .build(Demo::NAME)
        .expect("the demo's schema is valid")
        .schema()
        .clone()
});

/// Takes one byte off the front of `bytes`.
pub fn take(bytes: &mut &[u8]) -> Option<u8> {
    let (&b, rest) = bytes.split_first()?;
    *bytes = rest;
    Some(b)
}

/// A byte argument as an index (0 when the bytes have run out).
fn arg(bytes: &mut &[u8]) -> usize {
    usize::from(take(bytes).unwrap_or(0))
}

/// A schema as the bytes describe it: per component, its fields' (kind, p1, p2); and the
/// position byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaSpec {
    /// The fields of each component, 1 to 8 components of 0 to 5 fields.
    pub components: Vec<Vec<[u8; 3]>>,
    /// Chooses the position: none when a multiple of 4, else a component and two of its
    /// numeric fields.
    pub position: u8,
}

/// The kinds of encoding a field byte chooses from, in `kind % 7` order.
pub const KINDS: u8 = 7;

impl SchemaSpec {
    /// Reads a spec off the front of `bytes`; `None` if they run out.
    pub fn parse(bytes: &mut &[u8]) -> Option<SchemaSpec> {
        let n = usize::from(take(bytes)?) % 8 + 1;
        let mut components = Vec::with_capacity(n);
        for _ in 0..n {
            let f = usize::from(take(bytes)?) % 6;
            let mut fields = Vec::with_capacity(f);
            for _ in 0..f {
                fields.push([take(bytes)?, take(bytes)?, take(bytes)?]);
            }
            components.push(fields);
        }
        Some(SchemaSpec {
            components,
            position: take(bytes)?,
        })
    }

    /// The bytes `parse` reads this spec from.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![(self.components.len() as u8).wrapping_sub(1)];
        for fields in &self.components {
            out.push(fields.len() as u8);
            out.extend(fields.iter().flatten());
        }
        out.push(self.position);
        out
    }

    /// The checked schema.
    pub fn schema(&self) -> Arc<Schema> {
        let components: Vec<ComponentDef> = self
            .components
            .iter()
            .enumerate()
            .map(|(i, fields)| ComponentDef {
                name: format!("C{i}"),
                fields: fields
                    .iter()
                    .enumerate()
                    .map(|(j, &f)| FieldDef::new(&format!("f{j}"), encoding(f)))
                    .collect(),
            })
            .collect();
        let position = position(&components, self.position);
        let def = SchemaDef {
            game: "fuzz".into(),
            components,
            position,
            ..SchemaDef::default()
        };
        match Schema::new(def.clone()) {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("the generator made an invalid schema ({e}): {def:?}"),
        }
    }
}

/// A field's encoding from its three bytes: every kind, with ranges from narrow to the
/// whole of `i32` (and fixed-point ranges as wide as the schema allows).
fn encoding([kind, p1, p2]: [u8; 3]) -> Encoding {
    match kind % KINDS {
        0 => {
            let scale = [0.25, 1.0, 2.0, 4.0, 16.0, 64.0, 100.0, 0.01][usize::from(p1 % 8)];
            let (min, max) = match p2 % 4 {
                0 => (0.0, 1000.0),
                1 => (-5000.0, 5000.0),
                2 => (-100_000.0, 100_000.0),
                _ => (-16_777_216.0, 16_777_216.0),
            };
            Encoding::fixed(scale, min, max)
        }
        1 => Encoding::angle(p1 % 16 + 1),
        2 => {
            let p = i32::from(p2);
            let (min, max) = match p1 % 4 {
                0 => (i32::MIN, i32::MAX),
                1 => (0, 255),
                2 => (-p, p),
                _ => (p, p),
            };
            Encoding::int(min, max)
        }
        3 => Encoding::Bool,
        4 => Encoding::Enum {
            variants: (0..=p1 % 5).map(|i| format!("v{i}")).collect(),
        },
        5 => Encoding::Player,
        _ => Encoding::string(u16::from(p1 % 33)),
    }
}

/// The position the byte `p` chooses among the components' numeric fields.
fn position(components: &[ComponentDef], p: u8) -> Option<PositionDef> {
    if p.is_multiple_of(4) {
        return None;
    }
    let numeric: Vec<(&ComponentDef, Vec<&str>)> = components
        .iter()
        .map(|c| {
            let names = c.fields.iter().filter(|f| !f.encoding.is_str());
            (c, names.map(|f| f.name.as_str()).collect::<Vec<_>>())
        })
        .filter(|(_, names)| !names.is_empty())
        .collect();
    let i = usize::from(p >> 2);
    let (c, names) = numeric.get(i % numeric.len().max(1))?;
    Some(PositionDef {
        component: c.name.clone(),
        x: names[i % names.len()].to_owned(),
        y: names[(i / 3 + 1) % names.len()].to_owned(),
    })
}

/// Every registered component.
pub fn full_mask(schema: &Schema) -> u64 {
    match schema.component_count() {
        n if n >= 64 => u64::MAX,
        n => (1u64 << n) - 1,
    }
}

/// Which part of a field's range a generated value takes.
#[derive(Clone, Copy, Debug)]
pub enum Pick {
    /// The smallest value (and the empty string).
    Min,
    /// The largest value (and a string of exactly the longest length, in two-byte
    /// characters).
    Max,
    /// The middle (and a short string with a two-byte character, cut to fit).
    Mid,
}

impl Pick {
    fn from_byte(b: usize) -> Pick {
        [Pick::Min, Pick::Max, Pick::Mid][b % 3]
    }
}

/// A value of a numeric field, in its range as the server's quantizer makes it.
fn value(e: &Encoding, pick: Pick) -> i32 {
    let (lo, hi) = match e {
        Encoding::Fixed { min, max, .. } => (e.quantize(*min), e.quantize(*max)),
        _ => (e.clamp_int(i64::MIN), e.clamp_int(i64::MAX)),
    };
    match pick {
        Pick::Min => lo,
        Pick::Max => hi,
        Pick::Mid => ((i64::from(lo) + i64::from(hi)) / 2) as i32,
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A value of a string field of at most `max_bytes` bytes.
fn string(max_bytes: u16, pick: Pick) -> Arc<str> {
    let max = usize::from(max_bytes);
    match pick {
        Pick::Min => Arc::from(""),
        Pick::Max => {
            let mut s = "é".repeat(max / 2);
            if max % 2 == 1 {
                s.push('x');
            }
            Arc::from(s)
        }
        Pick::Mid => Arc::from(cut("bö ann", max)),
    }
}

/// One component's values within an entity: the component, its numeric values and its
/// strings.
type Part = (usize, Vec<i32>, Vec<Arc<str>>);

/// Component `c` with every field at `pick`.
fn part(schema: &Schema, c: usize, pick: Pick) -> Part {
    let (mut nums, mut strs) = (Vec::new(), Vec::new());
    let def = schema.component(c).expect("a registered component");
    for f in &def.fields {
        match f.encoding {
            Encoding::Str { max_bytes } => strs.push(string(max_bytes, pick)),
            ref e => nums.push(value(e, pick)),
        }
    }
    (c, nums, strs)
}

/// An entity's values by component (the entity fits the schema).
fn split(schema: &Schema, e: &Entity) -> Vec<Part> {
    let (mut n, mut s) = (0, 0);
    bits(e.components)
        .map(|c| {
            let (cn, cs) = schema.value_counts(1 << c);
            let part = (c, e.nums[n..n + cn].to_vec(), e.strs[s..s + cs].to_vec());
            n += cn;
            s += cs;
            part
        })
        .collect()
}

/// The entity with these parts (sorted by component).
fn join(id: NetId, parts: Vec<Part>) -> Entity {
    let mut e = Entity {
        id,
        ..Entity::default()
    };
    for (c, nums, strs) in parts {
        e.components |= 1 << c;
        e.nums.extend(nums);
        e.strs.extend(strs);
    }
    e
}

/// An entity with the registered components of `mask`, every field at `pick`.
pub fn build(schema: &Schema, id: u32, mask: u64, pick: Pick) -> Entity {
    let mask = mask & full_mask(schema);
    join(
        NetId(id),
        bits(mask).map(|c| part(schema, c, pick)).collect(),
    )
}

/// The ids of the held world: gaps between them, and the largest id there is.
pub const HELD_IDS: [u32; 8] = [0, 1, 2, 3, 7, 8, 1000, u32::MAX];

/// The world a client holds before a fuzzed message: a bare id, every component at its
/// smallest, largest and middle values (strings empty, full and cut), single components,
/// alternating component sets, sorted by id.
pub fn held_world(schema: &Schema) -> Vec<Entity> {
    let full = full_mask(schema);
    let last = 1u64 << (schema.component_count().max(1) - 1);
    let even = 0x5555_5555_5555_5555 & full;
    let odd = 0xAAAA_AAAA_AAAA_AAAA & full;
    let masks = [
        (0, Pick::Min),
        (full, Pick::Min),
        (full, Pick::Max),
        (1, Pick::Mid),
        (even, Pick::Max),
        (last, Pick::Min),
        (odd, Pick::Mid),
        (full, Pick::Mid),
    ];
    HELD_IDS
        .iter()
        .zip(masks)
        .map(|(&id, (mask, pick))| build(schema, id, mask, pick))
        .collect()
}

/// A view read off the bytes: everything, or a radius around a world entity's position
/// (the origin for one without), maybe always showing that entity.
pub fn view(schema: &Schema, world: &[Entity], bytes: &mut &[u8]) -> View {
    let Some(b) = take(bytes) else {
        return View::All;
    };
    if b % 3 == 0 {
        return View::All;
    }
    let centre = world.get(arg(bytes) % world.len().max(1));
    let (cx, cy) = centre
        .and_then(|e| schema.position_of(e.components, &e.nums))
        .unwrap_or((0, 0));
    let radius = (arg(bytes) as i32) << (arg(bytes) % 24);
    let shape = match arg(bytes) % 2 {
        0 => Shape::Circle { radius },
        _ => Shape::Rect {
            half_width: radius,
            half_height: (arg(bytes) as i32) << (arg(bytes) % 24),
        },
    };
    View::Area {
        cx,
        cy,
        shape,
        always: centre.filter(|_| b % 3 == 2).map(|e| e.id),
        // Any of the first components seen from anywhere, the rest by the area.
        relevant: Relevance {
            components: (arg(bytes) % 8) as u64,
            group: None,
        },
        team: None,
    }
}

/// The next world: `world` changed by the edits the bytes spell (at most 64), each an
/// op byte and its arguments: numeric values nudged or set to extremes (angles stay in
/// their range, as the quantizer keeps them), components added and removed, strings
/// changed, entities despawned, spawned (new ids, far ids, reused ids) and rebuilt.
/// Unsorted; `WorldSnapshot::new` sorts it (a reused id keeps the later entity).
pub fn edit(schema: &Schema, world: &[Entity], bytes: &mut &[u8]) -> Vec<Entity> {
    let count = schema.component_count().max(1);
    let mut ents = world.to_vec();
    for _ in 0..64 {
        let Some(op) = take(bytes) else { break };
        let n = ents.len();
        match op % 8 {
            op @ (0 | 1) if n > 0 => {
                let e = &mut ents[arg(bytes) % n];
                let (f, k) = (arg(bytes), take(bytes).unwrap_or(0));
                if e.nums.is_empty() {
                    continue;
                }
                let f = f % e.nums.len();
                let wrap = schema.wraps(e.components).nth(f).unwrap_or(0);
                let v = if op == 0 {
                    e.nums[f].wrapping_add(i32::from(k as i8))
                } else {
                    [i32::MIN, i32::MAX, 0, -1, 1][usize::from(k) % 5]
                };
                e.nums[f] = if wrap == 0 {
                    v
                } else {
                    v.rem_euclid(1 << wrap)
                };
            }
            op @ (2 | 3) if n > 0 => {
                let i = arg(bytes) % n;
                let (c, pick) = (arg(bytes) % count, Pick::from_byte(arg(bytes)));
                let mut parts = split(schema, &ents[i]);
                let had = parts.iter().any(|p| p.0 == c);
                if op == 2 && !had && c < schema.component_count() {
                    parts.push(part(schema, c, pick));
                    parts.sort_by_key(|p| p.0);
                } else if op == 3 {
                    parts.retain(|p| p.0 != c);
                }
                ents[i] = join(ents[i].id, parts);
            }
            4 if n > 0 => {
                let e = &mut ents[arg(bytes) % n];
                let (s, len) = (arg(bytes), arg(bytes) % 40);
                let (text, rest) = bytes.split_at(len.min(bytes.len()));
                *bytes = rest;
                if !e.strs.is_empty() {
                    let s = s % e.strs.len();
                    e.strs[s] = Arc::from(String::from_utf8_lossy(text).as_ref());
                }
            }
            5 if n > 0 => {
                ents.remove(arg(bytes) % n);
            }
            6 => {
                let id = match arg(bytes) % 4 {
                    0 => {
                        let top = ents.iter().map(|e| e.id.0).max().unwrap_or(0);
                        top.wrapping_add(1 + arg(bytes) as u32)
                    }
                    1 => u32::from_le_bytes([0; 4].map(|_| take(bytes).unwrap_or(0xFF))),
                    2 if n > 0 => ents[arg(bytes) % n].id.0,
                    _ => (arg(bytes) % 12) as u32,
                };
                let (mask, pick) = (arg(bytes) as u64, Pick::from_byte(arg(bytes)));
                ents.push(build(schema, id, mask, pick));
            }
            7 if n > 0 => {
                let i = arg(bytes) % n;
                let (mask, pick) = (arg(bytes) as u64, Pick::from_byte(arg(bytes)));
                ents[i] = build(schema, ents[i].id.0, mask, pick);
            }
            _ => {}
        }
    }
    ents
}
