//! Message layouts: the field-by-field shape of a game's input and event types, sent in
//! the schema so a client without the game's Rust types (the browser, a generic bot) can
//! encode inputs and decode events. The bytes are bincode's for the same serde type: a
//! struct's fields in order; an enum as its variant index, then that variant's fields.
//!
//! `encode_fields` / `decode_fields` speak that format from a layout and a list of
//! `Value`s; the engine checks at start that a game's declared input layout reads the
//! bytes of its real input type.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec::{decode_prim, encode_prim};

/// The primitive types a layout field can have (bincode's encoding of each: `u8` and
/// `bool` as one byte, wider integers as varints, signed ones zigzagged, `f32` as four
/// little-endian bytes, strings as a varint length and UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prim {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32` (and `PlayerId`, `NetId`, `Tick`).
    U32,
    /// `u64`.
    U64,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `bool`.
    Bool,
    /// `f32`.
    F32,
    /// `String`.
    Str,
}

/// One field of a message layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutField {
    /// The field's name (the Rust field name).
    pub name: String,
    /// Its type.
    pub prim: Prim,
}

impl LayoutField {
    /// A field named `name` of type `prim`.
    #[must_use]
    pub fn new(name: &str, prim: Prim) -> LayoutField {
        LayoutField {
            name: name.to_owned(),
            prim,
        }
    }
}

/// One variant of a game's event enum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDef {
    /// The variant's name.
    pub name: String,
    /// Its fields, in order.
    pub fields: Vec<LayoutField>,
}

impl EventDef {
    /// A variant named `name` with `fields`.
    #[must_use]
    pub fn new(name: &str, fields: &[(&str, Prim)]) -> EventDef {
        EventDef {
            name: name.to_owned(),
            fields: fields
                .iter()
                .map(|(n, p)| LayoutField::new(n, *p))
                .collect(),
        }
    }
}

/// A field value of a message decoded (or to be encoded) by layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// Any integer type.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An `f32`.
    F32(f32),
    /// A string.
    Str(String),
}

impl Value {
    /// The value as an integer (bools as 0/1, floats truncated); 0 for a string.
    #[must_use]
    pub fn as_int(&self) -> i64 {
        match self {
            Value::Int(v) => *v,
            Value::Bool(b) => i64::from(*b),
            Value::F32(f) => *f as i64,
            Value::Str(_) => 0,
        }
    }
}

/// Why a layout could not encode or decode a message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    /// Fewer or more values than the layout has fields.
    #[error("{got} values for a layout of {want} fields")]
    Count {
        /// Values given.
        got: usize,
        /// Fields in the layout.
        want: usize,
    },
    /// A value does not fit its field's type.
    #[error("field {field}: {why}")]
    Type {
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// The bytes do not decode (truncated, bad varint, bad UTF-8).
    #[error("malformed: {0}")]
    Malformed(String),
    /// An event's variant index is not in the layout.
    #[error("unknown event variant {0}")]
    UnknownVariant(u32),
    /// Bytes were left after the message.
    #[error("{0} unexpected bytes after the message")]
    Trailing(usize),
}

/// Encodes `values` by `fields` (bincode's bytes for the struct they describe).
pub fn encode_fields(fields: &[LayoutField], values: &[Value]) -> Result<Vec<u8>, LayoutError> {
    if fields.len() != values.len() {
        return Err(LayoutError::Count {
            got: values.len(),
            want: fields.len(),
        });
    }
    let mut out = Vec::with_capacity(8);
    for (f, v) in fields.iter().zip(values) {
        encode_prim(f.prim, v, &mut out).map_err(|why| LayoutError::Type {
            field: f.name.clone(),
            why,
        })?;
    }
    Ok(out)
}

/// Decodes a whole message of `fields` from `bytes`.
pub fn decode_fields(fields: &[LayoutField], bytes: &[u8]) -> Result<Vec<Value>, LayoutError> {
    let mut at = 0;
    let values = decode_fields_at(fields, bytes, &mut at)?;
    if at != bytes.len() {
        return Err(LayoutError::Trailing(bytes.len() - at));
    }
    Ok(values)
}

fn decode_fields_at(
    fields: &[LayoutField],
    bytes: &[u8],
    at: &mut usize,
) -> Result<Vec<Value>, LayoutError> {
    fields
        .iter()
        .map(|f| {
            let (v, used) = decode_prim(f.prim, bytes.get(*at..).unwrap_or_default())
                .map_err(LayoutError::Malformed)?;
            *at += used;
            Ok(v)
        })
        .collect()
}

/// Decodes an event (variant index, then its fields) by `events`: its variant name and
/// field values.
pub fn decode_event<'a>(
    events: &'a [EventDef],
    bytes: &[u8],
) -> Result<(&'a EventDef, Vec<Value>), LayoutError> {
    let (index, mut at) = match decode_prim(Prim::U32, bytes).map_err(LayoutError::Malformed)? {
        (Value::Int(i), used) => (i as u32, used),
        _ => return Err(LayoutError::Malformed("variant index".into())),
    };
    let def = events
        .get(index as usize)
        .ok_or(LayoutError::UnknownVariant(index))?;
    let values = decode_fields_at(&def.fields, bytes, &mut at)?;
    if at != bytes.len() {
        return Err(LayoutError::Trailing(bytes.len() - at));
    }
    Ok((def, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct In {
        buttons: u8,
        aim: u16,
        view: u32,
        lean: i32,
        fast: bool,
        power: f32,
        big: u64,
        neg: i64,
        says: String,
    }

    #[derive(Serialize)]
    enum Ev {
        Quiet,
        Hit { by: u32, damage: i32 },
    }

    fn layout() -> Vec<LayoutField> {
        [
            ("buttons", Prim::U8),
            ("aim", Prim::U16),
            ("view", Prim::U32),
            ("lean", Prim::I32),
            ("fast", Prim::Bool),
            ("power", Prim::F32),
            ("big", Prim::U64),
            ("neg", Prim::I64),
            ("says", Prim::Str),
        ]
        .iter()
        .map(|(n, p)| LayoutField::new(n, *p))
        .collect()
    }

    fn serde_bytes<T: Serialize>(v: &T) -> Vec<u8> {
        bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap()
    }

    #[test]
    fn a_layout_speaks_the_bytes_of_the_serde_type() {
        let v = In {
            buttons: 200,
            aim: 40_000,
            view: 70_000,
            lean: -3,
            fast: true,
            power: 1.5,
            big: u64::MAX,
            neg: -9_000_000_000,
            says: "hé".into(),
        };
        let values = vec![
            Value::Int(200),
            Value::Int(40_000),
            Value::Int(70_000),
            Value::Int(-3),
            Value::Bool(true),
            Value::F32(1.5),
            Value::Int(-1),
            Value::Int(-9_000_000_000),
            Value::Str("hé".into()),
        ];
        let bytes = serde_bytes(&v);
        // u64::MAX travels as the i64 bit pattern −1.
        assert_eq!(encode_fields(&layout(), &values).unwrap(), bytes);
        assert_eq!(decode_fields(&layout(), &bytes).unwrap(), values);
        assert!(matches!(
            decode_fields(&layout(), &bytes[..bytes.len() - 1]),
            Err(LayoutError::Malformed(_))
        ));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            decode_fields(&layout(), &long),
            Err(LayoutError::Trailing(1))
        );
    }

    #[test]
    fn events_decode_by_variant() {
        let defs = vec![
            EventDef::new("Quiet", &[]),
            EventDef::new("Hit", &[("by", Prim::U32), ("damage", Prim::I32)]),
        ];
        let (def, values) =
            decode_event(&defs, &serde_bytes(&Ev::Hit { by: 7, damage: -2 })).unwrap();
        assert_eq!(def.name, "Hit");
        assert_eq!(values, vec![Value::Int(7), Value::Int(-2)]);
        let (def, values) = decode_event(&defs, &serde_bytes(&Ev::Quiet)).unwrap();
        assert_eq!((def.name.as_str(), values.len()), ("Quiet", 0));
        assert_eq!(
            decode_event(&defs, &[9]),
            Err(LayoutError::UnknownVariant(9))
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let f = vec![LayoutField::new("b", Prim::U8)];
        assert!(matches!(
            encode_fields(&f, &[Value::Int(300)]),
            Err(LayoutError::Type { .. })
        ));
        assert!(matches!(
            encode_fields(&f, &[]),
            Err(LayoutError::Count { got: 0, want: 1 })
        ));
    }
}
