//! The replication schema: which components a game replicates and how each field is
//! quantized, plus the layout of the game's input and events and a few named parameters.
//!
//! A game declares it once; the server sends it to every client in `Welcome` (and serves
//! it as JSON on `/schema`), so the Rust client library and the browser decode, apply and
//! checksum any game's snapshots with no per-game decoder.
//!
//! Quantized values: every field but a string is one `i32` (fixed point, angle steps, an
//! integer, a bool, an enum index, or a player id + 1). Strings are kept apart. An entity
//! lists the values of the components it has, in schema order, fields in declared order.

use std::collections::HashMap;
use std::f32::consts::TAU;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::PlayerId;
use crate::layout::{EventDef, LayoutField};

/// Most components a schema may register (an entity's component set is a `u64` mask).
pub const MAX_COMPONENTS: usize = 64;

/// Most numeric fields a schema may declare in all (an update's field mask is a `u64`).
pub const MAX_NUMERIC_FIELDS: usize = 64;

/// How one replicated field is quantized and sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Encoding {
    /// A real number in fixed point: `round(v · scale)`, clamped to `[min, max]` (in world
    /// units). Jitter below `1 / scale` never produces a diff.
    Fixed {
        /// Steps per unit.
        scale: f32,
        /// Smallest value, in units.
        min: f32,
        /// Largest value, in units.
        max: f32,
    },
    /// An angle in radians as `bits` bits per full turn (1..=16); deltas wrap around, so a
    /// turn across zero still costs one small number.
    Angle {
        /// Bits per turn.
        bits: u8,
    },
    /// An integer clamped to `[min, max]`.
    Int {
        /// Smallest value.
        min: i32,
        /// Largest value.
        max: i32,
    },
    /// A flag, 0 or 1.
    Bool,
    /// One of a few named values, sent as its index.
    Enum {
        /// The names, in index order.
        variants: Vec<String>,
    },
    /// An optional player id (an owner, a target): 0 is none, otherwise the id + 1.
    Player,
    /// A short UTF-8 string (a name), at most `max_bytes` bytes. A change re-sends the
    /// entity whole, so strings suit values that rarely change.
    Str {
        /// Longest string, in bytes (longer ones are cut on a character boundary).
        max_bytes: u16,
    },
}

impl Encoding {
    /// Fixed point with `scale` steps per unit over `[min, max]`.
    #[must_use]
    pub fn fixed(scale: f32, min: f32, max: f32) -> Encoding {
        Encoding::Fixed { scale, min, max }
    }

    /// An angle in `bits` bits per turn.
    #[must_use]
    pub fn angle(bits: u8) -> Encoding {
        Encoding::Angle { bits }
    }

    /// An integer in `[min, max]`.
    #[must_use]
    pub fn int(min: i32, max: i32) -> Encoding {
        Encoding::Int { min, max }
    }

    /// One of `variants`.
    #[must_use]
    pub fn enumeration(variants: &[&str]) -> Encoding {
        Encoding::Enum {
            variants: variants.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// A string of at most `max_bytes` bytes.
    #[must_use]
    pub fn string(max_bytes: u16) -> Encoding {
        Encoding::Str { max_bytes }
    }

    /// Whether this field is a string (kept apart from the numeric values).
    #[must_use]
    pub fn is_str(&self) -> bool {
        matches!(self, Encoding::Str { .. })
    }

    /// For an angle, the bits its deltas wrap in; 0 for everything else (deltas wrap in
    /// 32 bits, which never happens within a field's range).
    #[must_use]
    pub fn wrap_bits(&self) -> u8 {
        match self {
            Encoding::Angle { bits } => *bits,
            _ => 0,
        }
    }

    /// Quantizes a real value for this field (non-finite values become 0).
    #[must_use]
    pub fn quantize(&self, v: f32) -> i32 {
        if !v.is_finite() {
            return 0;
        }
        match self {
            Encoding::Fixed { scale, min, max } => {
                let q = (v.clamp(*min, *max) * scale).round();
                q.clamp(i32::MIN as f32, i32::MAX as f32) as i32
            }
            Encoding::Angle { bits } => {
                let steps = 1i64 << bits;
                let q = ((v / TAU) * steps as f32).round() as i64;
                q.rem_euclid(steps) as i32
            }
            _ => self.clamp_int(v.round() as i64),
        }
    }

    /// A quantized value back as a real number (an angle in (−π, π]).
    #[must_use]
    pub fn dequantize(&self, q: i32) -> f32 {
        match self {
            Encoding::Fixed { scale, .. } => q as f32 / scale,
            Encoding::Angle { bits } => {
                let steps = (1i64 << bits) as f32;
                let r = q as f32 / steps * TAU;
                if r > std::f32::consts::PI { r - TAU } else { r }
            }
            _ => q as f32,
        }
    }

    /// Clamps an integer into this field's range (enum indices, bools and player ids
    /// included).
    #[must_use]
    pub fn clamp_int(&self, v: i64) -> i32 {
        let (lo, hi) = match self {
            Encoding::Int { min, max } => (i64::from(*min), i64::from(*max)),
            Encoding::Bool => (0, 1),
            Encoding::Enum { variants } => (0, variants.len().saturating_sub(1) as i64),
            Encoding::Angle { bits } => (0, (1i64 << bits) - 1),
            Encoding::Player => (0, i64::from(u32::MAX >> 1)),
            Encoding::Fixed { .. } | Encoding::Str { .. } => {
                (i64::from(i32::MIN), i64::from(i32::MAX))
            }
        };
        v.clamp(lo, hi) as i32
    }

    /// An optional player id as this field's value.
    #[must_use]
    pub fn player_value(p: Option<PlayerId>) -> i32 {
        p.map_or(0, |p| (p.0 as i32).wrapping_add(1))
    }

    /// A field value back as an optional player id.
    #[must_use]
    pub fn value_player(v: i32) -> Option<PlayerId> {
        (v != 0).then(|| PlayerId(v.wrapping_sub(1) as u32))
    }
}

/// One field of a replicated component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Its name, for clients and tools.
    pub name: String,
    /// How it is quantized.
    pub encoding: Encoding,
}

impl FieldDef {
    /// A field named `name`, encoded as `encoding`.
    #[must_use]
    pub fn new(name: &str, encoding: Encoding) -> FieldDef {
        FieldDef {
            name: name.to_owned(),
            encoding,
        }
    }
}

/// One replicated component: a name and its fields (none for a marker).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentDef {
    /// Its name, unique in the schema.
    pub name: String,
    /// Its fields, in the order their values are sent.
    pub fields: Vec<FieldDef>,
}

impl ComponentDef {
    /// A component named `name` with these fields.
    #[must_use]
    pub fn new(name: &str, fields: Vec<FieldDef>) -> ComponentDef {
        ComponentDef {
            name: name.to_owned(),
            fields,
        }
    }
}

/// Where an entity's position is: a component and its x and y fields (numeric). Used for
/// interest management and by generic renderers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionDef {
    /// The component's name.
    pub component: String,
    /// The x field's name.
    pub x: String,
    /// The y field's name.
    pub y: String,
}

/// A named number the game tells every client (world size, speeds, radii).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// The schema as written and sent: plain data, checked by `Schema::new`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaDef {
    /// The game's name (`demo`, `arena`, `tag`, …).
    pub game: String,
    /// Replicated components, in the order of their bits in an entity's component set.
    pub components: Vec<ComponentDef>,
    /// Which component holds an entity's position, if any.
    pub position: Option<PositionDef>,
    /// The fields of the game's input message, in wire order.
    pub input: Vec<LayoutField>,
    /// The variants of the game's event type, in wire order.
    pub events: Vec<EventDef>,
    /// Named numbers for clients.
    pub params: Vec<Param>,
}

impl SchemaDef {
    /// The definition of game `game` with these components and nothing else: no
    /// position, no input fields, no events, no parameters.
    #[must_use]
    pub fn new(game: &str, components: Vec<ComponentDef>) -> SchemaDef {
        SchemaDef {
            game: game.to_owned(),
            components,
            ..SchemaDef::default()
        }
    }
}

/// Why a schema was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SchemaError {
    /// More components than an entity's component set can hold.
    #[error("{0} components registered; at most {MAX_COMPONENTS} are supported")]
    TooManyComponents(usize),
    /// More numeric fields than an update's field mask can hold.
    #[error("{0} numeric fields declared; at most {MAX_NUMERIC_FIELDS} are supported")]
    TooManyFields(usize),
    /// Two components share a name.
    #[error("component {0} is registered twice")]
    DuplicateComponent(String),
    /// A field's encoding makes no sense.
    #[error("field {component}.{field}: {why}")]
    BadField {
        /// The component.
        component: String,
        /// The field.
        field: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The position names a component or field that is not there (or is a string).
    #[error("position {0} names no numeric field of a registered component")]
    BadPosition(String),
    /// A view declaration that cannot work (a size of 0, an unknown component, a team
    /// field that is not numeric).
    #[error("view: {0}")]
    BadView(String),
    /// A base priority for a component that is not registered, or not a finite weight
    /// above zero.
    #[error("priority of {component}: {why}")]
    BadPriority {
        /// The component.
        component: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// Per-component facts derived once from the definition.
#[derive(Clone, Debug, PartialEq)]
struct ComponentTable {
    /// Numeric fields.
    nums: usize,
    /// String fields.
    strs: usize,
    /// Wrap bits of each numeric field, in order (0 = none).
    wraps: Vec<u8>,
    /// For each declared field: whether it is a string, and its index among the
    /// component's numeric (or string) fields.
    slots: Vec<(bool, usize)>,
}

/// A checked schema with the tables diff, apply and typed access need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SchemaDef", into = "SchemaDef")]
pub struct Schema {
    /// The definition.
    def: SchemaDef,
    /// One table per component.
    tables: Vec<ComponentTable>,
    /// Component index by name.
    by_name: HashMap<String, usize>,
    /// The position: component index and the x and y numeric slots within it.
    position: Option<(usize, usize, usize)>,
}

impl TryFrom<SchemaDef> for Schema {
    type Error = SchemaError;

    fn try_from(def: SchemaDef) -> Result<Schema, SchemaError> {
        Schema::new(def)
    }
}

impl From<Schema> for SchemaDef {
    fn from(s: Schema) -> SchemaDef {
        s.def
    }
}

impl Schema {
    /// Checks `def` and derives its tables.
    pub fn new(def: SchemaDef) -> Result<Schema, SchemaError> {
        if def.components.len() > MAX_COMPONENTS {
            return Err(SchemaError::TooManyComponents(def.components.len()));
        }
        let mut tables = Vec::with_capacity(def.components.len());
        let mut by_name = HashMap::new();
        let mut total_nums = 0;
        for (i, c) in def.components.iter().enumerate() {
            if by_name.insert(c.name.clone(), i).is_some() {
                return Err(SchemaError::DuplicateComponent(c.name.clone()));
            }
            let mut t = ComponentTable {
                nums: 0,
                strs: 0,
                wraps: Vec::new(),
                slots: Vec::new(),
            };
            for f in &c.fields {
                check_field(&c.name, f)?;
                if f.encoding.is_str() {
                    t.slots.push((true, t.strs));
                    t.strs += 1;
                } else {
                    t.slots.push((false, t.nums));
                    t.wraps.push(f.encoding.wrap_bits());
                    t.nums += 1;
                }
            }
            total_nums += t.nums;
            tables.push(t);
        }
        if total_nums > MAX_NUMERIC_FIELDS {
            return Err(SchemaError::TooManyFields(total_nums));
        }
        let position = match &def.position {
            None => None,
            Some(p) => {
                let bad = || SchemaError::BadPosition(format!("{}.{}/{}", p.component, p.x, p.y));
                let &c = by_name.get(&p.component).ok_or_else(bad)?;
                let slot = |name: &str| {
                    let i = def.components[c]
                        .fields
                        .iter()
                        .position(|f| f.name == name)?;
                    match tables[c].slots[i] {
                        (false, n) => Some(n),
                        (true, _) => None,
                    }
                };
                Some((c, slot(&p.x).ok_or_else(bad)?, slot(&p.y).ok_or_else(bad)?))
            }
        };
        Ok(Schema {
            def,
            tables,
            by_name,
            position,
        })
    }

    /// The definition.
    #[must_use]
    pub fn def(&self) -> &SchemaDef {
        &self.def
    }

    /// The game's name.
    #[must_use]
    pub fn game(&self) -> &str {
        &self.def.game
    }

    /// A parameter's value by name.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<f64> {
        self.def
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value)
    }

    /// The index of the component named `name`.
    #[must_use]
    pub fn component_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// How many components are registered.
    #[must_use]
    pub fn component_count(&self) -> usize {
        self.tables.len()
    }

    /// The definition of component `c`.
    #[must_use]
    pub fn component(&self, c: usize) -> Option<&ComponentDef> {
        self.def.components.get(c)
    }

    /// Whether `mask` names only registered components.
    #[must_use]
    pub fn valid_mask(&self, mask: u64) -> bool {
        let n = self.tables.len();
        n >= 64 || mask >> n == 0
    }

    /// How many numeric and string values an entity with component set `mask` has.
    #[must_use]
    pub fn value_counts(&self, mask: u64) -> (usize, usize) {
        bits(mask)
            .filter_map(|c| self.tables.get(c))
            .fold((0, 0), |(n, s), t| (n + t.nums, s + t.strs))
    }

    /// The wrap bits of each numeric value of an entity with component set `mask`.
    pub fn wraps(&self, mask: u64) -> impl Iterator<Item = u8> + '_ {
        bits(mask)
            .filter_map(|c| self.tables.get(c))
            .flat_map(|t| t.wraps.iter().copied())
    }

    /// Where component `c`'s values start in an entity with component set `mask`: the
    /// offsets into its numeric and string values. `None` if the entity lacks `c`.
    #[must_use]
    pub fn offsets(&self, mask: u64, c: usize) -> Option<(usize, usize)> {
        if c >= 64 || mask & (1 << c) == 0 {
            return None;
        }
        let before = mask & ((1u64 << c) - 1);
        Some(self.value_counts(before))
    }

    /// Component `c`'s field slots: for each declared field, whether it is a string and
    /// its index among the component's numeric (or string) values.
    #[must_use]
    pub fn slots(&self, c: usize) -> &[(bool, usize)] {
        self.tables.get(c).map_or(&[], |t| t.slots.as_slice())
    }

    /// The position of an entity with component set `mask` and numeric values `nums`.
    #[must_use]
    pub fn position_of(&self, mask: u64, nums: &[i32]) -> Option<(i32, i32)> {
        let (c, x, y) = self.position?;
        let (n, _) = self.offsets(mask, c)?;
        Some((*nums.get(n + x)?, *nums.get(n + y)?))
    }

    /// The position component's x encoding (to turn a radius in units into its steps).
    #[must_use]
    pub fn position_encoding(&self) -> Option<&Encoding> {
        let (c, _, _) = self.position?;
        let comp = &self.def.components[c];
        let p = self.def.position.as_ref()?;
        comp.fields
            .iter()
            .find(|f| f.name == p.x)
            .map(|f| &f.encoding)
    }

    /// A distance of `units` world units in the position's quantized steps, which views
    /// compare (units themselves when the position is not fixed-point).
    #[must_use]
    pub fn position_steps(&self, units: f32) -> i32 {
        match self.position_encoding() {
            Some(Encoding::Fixed { scale, .. }) => (units * scale).round() as i32,
            _ => units.round() as i32,
        }
    }
}

/// The indices of the set bits of `mask`, lowest first.
pub fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(i)
    })
}

fn check_field(component: &str, f: &FieldDef) -> Result<(), SchemaError> {
    let bad = |why| {
        Err(SchemaError::BadField {
            component: component.to_owned(),
            field: f.name.clone(),
            why,
        })
    };
    match &f.encoding {
        Encoding::Fixed { scale, min, max } => {
            if !(scale.is_finite() && *scale > 0.0) {
                return bad("scale must be a positive number");
            }
            if !(min.is_finite() && max.is_finite() && min <= max) {
                return bad("min must not exceed max");
            }
            if (f64::from(*max) * f64::from(*scale)).abs() > f64::from(i32::MAX)
                || (f64::from(*min) * f64::from(*scale)).abs() > f64::from(i32::MAX)
            {
                return bad("range times scale exceeds 32 bits");
            }
        }
        Encoding::Angle { bits } => {
            if !(1..=16).contains(bits) {
                return bad("angle bits must be 1 to 16");
            }
        }
        Encoding::Int { min, max } => {
            if min > max {
                return bad("min must not exceed max");
            }
        }
        Encoding::Enum { variants } => {
            if variants.is_empty() {
                return bad("an enum needs at least one variant");
            }
        }
        Encoding::Bool | Encoding::Player | Encoding::Str { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SchemaDef {
        SchemaDef {
            game: "t".into(),
            components: vec![
                ComponentDef {
                    name: "Pos".into(),
                    fields: vec![
                        FieldDef::new("x", Encoding::fixed(16.0, 0.0, 1000.0)),
                        FieldDef::new("y", Encoding::fixed(16.0, 0.0, 1000.0)),
                    ],
                },
                ComponentDef {
                    name: "Tag".into(),
                    fields: vec![],
                },
                ComponentDef {
                    name: "Who".into(),
                    fields: vec![
                        FieldDef::new("name", Encoding::string(16)),
                        FieldDef::new("turn", Encoding::angle(8)),
                    ],
                },
            ],
            position: Some(PositionDef {
                component: "Pos".into(),
                x: "x".into(),
                y: "y".into(),
            }),
            ..SchemaDef::default()
        }
    }

    #[test]
    fn tables_give_offsets_counts_and_wraps() {
        let s = Schema::new(sample()).unwrap();
        assert_eq!(s.value_counts(0b111), (3, 1));
        assert_eq!(s.offsets(0b101, 2), Some((2, 0)));
        assert_eq!(s.offsets(0b100, 2), Some((0, 0)));
        assert_eq!(s.offsets(0b100, 0), None);
        assert_eq!(s.wraps(0b101).collect::<Vec<_>>(), vec![0, 0, 8]);
        assert_eq!(s.position_of(0b101, &[5, 6, 7]), Some((5, 6)));
        assert_eq!(s.position_of(0b100, &[7]), None);
        assert!(s.valid_mask(0b111) && !s.valid_mask(0b1000));
    }

    #[test]
    fn bad_schemas_are_refused_with_the_reason() {
        let mut d = sample();
        d.components.push(d.components[0].clone());
        assert_eq!(
            Schema::new(d),
            Err(SchemaError::DuplicateComponent("Pos".into()))
        );
        let mut d = sample();
        d.components[2].fields[1].encoding = Encoding::angle(0);
        assert!(matches!(Schema::new(d), Err(SchemaError::BadField { .. })));
        let mut d = sample();
        d.position.as_mut().unwrap().x = "name".into();
        assert!(matches!(Schema::new(d), Err(SchemaError::BadPosition(_))));
    }

    #[test]
    fn quantization_clamps_wraps_and_survives_nan() {
        let f = Encoding::fixed(16.0, 0.0, 100.0);
        assert_eq!(f.quantize(10.0), 160);
        assert_eq!(f.quantize(10.01), 160);
        assert_eq!(f.quantize(1e9), 1600);
        assert_eq!(f.quantize(f32::NAN), 0);
        let a = Encoding::angle(8);
        assert_eq!(a.quantize(-TAU / 256.0), 255);
        assert!((a.dequantize(a.quantize(1.0)) - 1.0).abs() < TAU / 256.0);
        assert_eq!(Encoding::enumeration(&["a", "b"]).clamp_int(7), 1);
        assert_eq!(
            Encoding::value_player(Encoding::player_value(Some(PlayerId(4)))),
            Some(PlayerId(4))
        );
        assert_eq!(Encoding::value_player(Encoding::player_value(None)), None);
    }

    #[test]
    fn a_schema_round_trips_through_its_serialized_form() {
        let s = Schema::new(sample()).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: Schema = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let mut bad = sample();
        bad.components[0].fields[0].encoding = Encoding::fixed(0.0, 0.0, 1.0);
        let json = serde_json::to_string(&bad).unwrap();
        assert!(serde_json::from_str::<Schema>(&json).is_err());
    }
}
