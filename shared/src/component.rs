//! Typed replicated components: the trait a game's component implements so the server can
//! quantize it into a snapshot and a client can read it back from a mirror.
//!
//! A component names itself, declares its fields with their encodings, and writes or reads
//! them in that order through a `FieldWriter` / `FieldReader`, which quantize by the
//! declared encoding. The same type serves the server (as a hecs component) and clients
//! (`Mirror::get::<C>`).
//!
//! ```
//! use tickwire_shared::component::{FieldReader, FieldWriter, Replicated};
//! use tickwire_shared::schema::{Encoding, FieldDef};
//!
//! struct Position { x: f32, y: f32 }
//!
//! impl Replicated for Position {
//!     const NAME: &'static str = "Position";
//!     fn fields() -> Vec<FieldDef> {
//!         let e = Encoding::fixed(16.0, 0.0, 4000.0);
//!         vec![FieldDef::new("x", e.clone()), FieldDef::new("y", e)]
//!     }
//!     fn write(&self, w: &mut FieldWriter<'_>) { w.f32(self.x); w.f32(self.y); }
//!     fn read(r: &mut FieldReader<'_>) -> Self { Position { x: r.f32(), y: r.f32() } }
//! }
//! ```

use std::sync::Arc;

use crate::ids::PlayerId;
use crate::schema::{ComponentDef, Encoding, FieldDef, Schema};
use crate::snapshot::{Entity, Nums, Strs};

/// A component a game replicates.
///
/// `write` and `read` must visit the fields in the order `fields` declares them, one call
/// per field; a field a `write` skips is sent as zero (or an empty string).
pub trait Replicated: Sized + Send + Sync + 'static {
    /// The component's name in the schema (unique per game).
    const NAME: &'static str;

    /// Its fields and their encodings, in order.
    fn fields() -> Vec<FieldDef>;

    /// Writes every field, in order.
    fn write(&self, w: &mut FieldWriter<'_>);

    /// Reads every field back, in order.
    fn read(r: &mut FieldReader<'_>) -> Self;

    /// The definition that goes into the schema.
    #[must_use]
    fn def() -> ComponentDef {
        ComponentDef::new(Self::NAME, Self::fields())
    }
}

/// Quantizes one component's fields into an entity's value lists.
pub struct FieldWriter<'a> {
    /// The component's declared fields.
    fields: &'a [FieldDef],
    /// The next field to write.
    next: usize,
    /// Where numeric values go.
    nums: &'a mut Nums,
    /// Where string values go.
    strs: &'a mut Strs,
}

impl<'a> FieldWriter<'a> {
    /// A writer of `fields` appending to `nums` and `strs`.
    pub fn new(fields: &'a [FieldDef], nums: &'a mut Nums, strs: &'a mut Strs) -> FieldWriter<'a> {
        FieldWriter {
            fields,
            next: 0,
            nums,
            strs,
        }
    }

    /// The next field's encoding (advancing), `None` past the last.
    fn field(&mut self) -> Option<&'a Encoding> {
        let f = self.fields.get(self.next)?;
        self.next += 1;
        Some(&f.encoding)
    }

    fn num(&mut self, value: impl FnOnce(&Encoding) -> i32) {
        if let Some(e) = self.field() {
            if e.is_str() {
                self.strs.push(Arc::from(""));
            } else {
                self.nums.push(value(e));
            }
        }
    }

    /// A real value (position, angle in radians, or a number for an integer field).
    pub fn f32(&mut self, v: f32) {
        self.num(|e| e.quantize(v));
    }

    /// An integer (enum index, count, score); for a fixed-point field, in units.
    pub fn int(&mut self, v: i64) {
        self.num(|e| match e {
            Encoding::Fixed { .. } | Encoding::Angle { .. } => e.quantize(v as f32),
            _ => e.clamp_int(v),
        });
    }

    /// A flag.
    pub fn bool(&mut self, b: bool) {
        self.int(i64::from(b));
    }

    /// An optional player id.
    pub fn player(&mut self, p: Option<PlayerId>) {
        self.num(|_| Encoding::player_value(p));
    }

    /// A string, cut to the field's length on a character boundary.
    pub fn str(&mut self, s: &Arc<str>) {
        let Some(e) = self.field() else { return };
        match e {
            Encoding::Str { max_bytes } => {
                let max = usize::from(*max_bytes);
                if s.len() <= max {
                    self.strs.push(s.clone());
                } else {
                    let mut end = max;
                    while !s.is_char_boundary(end) {
                        end -= 1;
                    }
                    self.strs.push(Arc::from(&s[..end]));
                }
            }
            _ => self.nums.push(0),
        }
    }

    /// Pads any field `write` skipped, so the value counts always fit the schema.
    pub fn finish(mut self) {
        while let Some(e) = self.field() {
            if e.is_str() {
                self.strs.push(Arc::from(""));
            } else {
                self.nums.push(0);
            }
        }
    }
}

/// Reads one component's fields back from an entity's values.
pub struct FieldReader<'a> {
    /// The component's declared fields.
    fields: &'a [FieldDef],
    /// The next field to read.
    next: usize,
    /// The component's numeric values.
    nums: &'a [i32],
    /// The component's string values.
    strs: &'a [Arc<str>],
    /// Numeric values read so far.
    n: usize,
    /// String values read so far.
    s: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader of `fields` over the component's values.
    #[must_use]
    pub fn new(fields: &'a [FieldDef], nums: &'a [i32], strs: &'a [Arc<str>]) -> FieldReader<'a> {
        FieldReader {
            fields,
            next: 0,
            nums,
            strs,
            n: 0,
            s: 0,
        }
    }

    /// The next numeric field's encoding and raw value (0 when absent).
    fn raw(&mut self) -> (Option<&'a Encoding>, i32) {
        let Some(f) = self.fields.get(self.next) else {
            return (None, 0);
        };
        self.next += 1;
        if f.encoding.is_str() {
            self.s += 1;
            return (None, 0);
        }
        let v = self.nums.get(self.n).copied().unwrap_or(0);
        self.n += 1;
        (Some(&f.encoding), v)
    }

    /// A real value (an angle in (−π, π]).
    pub fn f32(&mut self) -> f32 {
        match self.raw() {
            (Some(e), v) => e.dequantize(v),
            (None, _) => 0.0,
        }
    }

    /// An integer (a fixed-point field in whole units).
    pub fn int(&mut self) -> i64 {
        match self.raw() {
            (Some(e @ (Encoding::Fixed { .. } | Encoding::Angle { .. })), v) => {
                e.dequantize(v).round() as i64
            }
            (_, v) => i64::from(v),
        }
    }

    /// A flag.
    pub fn bool(&mut self) -> bool {
        self.raw().1 != 0
    }

    /// An optional player id.
    pub fn player(&mut self) -> Option<PlayerId> {
        Encoding::value_player(self.raw().1)
    }

    /// A string.
    pub fn str(&mut self) -> Arc<str> {
        let Some(f) = self.fields.get(self.next) else {
            return Arc::from("");
        };
        self.next += 1;
        if !f.encoding.is_str() {
            self.n += 1;
            return Arc::from("");
        }
        let s = self
            .strs
            .get(self.s)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        self.s += 1;
        s
    }
}

/// Reads component `C` of `entity` by `schema`; `None` if the entity lacks it or the
/// schema has no `C`.
#[must_use]
pub fn read_component<C: Replicated>(schema: &Schema, entity: &Entity) -> Option<C> {
    let c = schema.component_index(C::NAME)?;
    let (n, s) = schema.offsets(entity.components, c)?;
    let def = schema.component(c)?;
    let nums = entity.nums.get(n..)?;
    let strs = entity.strs.get(s..)?;
    Some(C::read(&mut FieldReader::new(&def.fields, nums, strs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NetId;
    use crate::schema::SchemaDef;

    #[derive(Debug, PartialEq)]
    struct Tagged {
        name: Arc<str>,
        it: bool,
        owner: Option<PlayerId>,
        turn: f32,
    }

    impl Replicated for Tagged {
        const NAME: &'static str = "Tagged";
        fn fields() -> Vec<FieldDef> {
            vec![
                FieldDef::new("name", Encoding::string(4)),
                FieldDef::new("it", Encoding::Bool),
                FieldDef::new("owner", Encoding::Player),
                FieldDef::new("turn", Encoding::angle(8)),
            ]
        }
        fn write(&self, w: &mut FieldWriter<'_>) {
            w.str(&self.name);
            w.bool(self.it);
            w.player(self.owner);
            w.f32(self.turn);
        }
        fn read(r: &mut FieldReader<'_>) -> Self {
            Tagged {
                name: r.str(),
                it: r.bool(),
                owner: r.player(),
                turn: r.f32(),
            }
        }
    }

    #[test]
    fn a_component_round_trips_through_an_entity_and_strings_are_cut() {
        let schema = Schema::new(SchemaDef {
            game: "t".into(),
            components: vec![
                ComponentDef {
                    name: "Other".into(),
                    fields: vec![FieldDef::new("v", Encoding::int(0, 9))],
                },
                Tagged::def(),
            ],
            ..SchemaDef::default()
        })
        .unwrap();
        let t = Tagged {
            name: "héllo".into(),
            it: true,
            owner: Some(PlayerId(3)),
            turn: 1.0,
        };
        let mut e = Entity {
            id: NetId(1),
            components: 0b11,
            nums: crate::Nums::from_slice(&[5]),
            strs: crate::Strs::new(),
        };
        let fields = &schema.component(1).unwrap().fields;
        let mut w = FieldWriter::new(fields, &mut e.nums, &mut e.strs);
        t.write(&mut w);
        w.finish();
        assert_eq!(
            schema.value_counts(e.components),
            (e.nums.len(), e.strs.len())
        );
        let back: Tagged = read_component(&schema, &e).unwrap();
        assert_eq!(&*back.name, "hél");
        assert!(back.it);
        assert_eq!(back.owner, Some(PlayerId(3)));
        assert!((back.turn - 1.0).abs() < 0.03);
        e.components = 0b01;
        assert!(read_component::<Tagged>(&schema, &e).is_none());
    }
}
