// Message layouts, ported from shared/src/layout.rs: a game's input and events are
// bincode's bytes of its own Rust types, and the schema lists their fields (name and
// primitive type) so this page can write any game's input and read any game's events.
//
// Values: integers are Numbers, or BigInts when not exact in a double (u64 and i64; a
// u64 above 2^63 − 1 reads back as its i64 bit pattern, as in Rust); bools; f32s as
// Numbers; strings. To encode, an integer may also be a decimal string (the golden JSON
// form). Decoding throws only CodecError; encoding a value that does not fit its field
// throws LayoutError.

import { CodecError, Reader, Writer, narrow } from './bincode.js';

/** A value that does not fit its layout field (the page's own mistake, not the server's). */
export class LayoutError extends Error {}

const RANGES = {
  U8: [0n, 255n],
  U16: [0n, 65535n],
  U32: [0n, 4294967295n],
  // A u64 travels as the bit pattern of an i64 value; accept both readings.
  U64: [-(2n ** 63n), 2n ** 64n - 1n],
  I32: [-(2n ** 31n), 2n ** 31n - 1n],
  I64: [-(2n ** 63n), 2n ** 63n - 1n],
};

function asInt(field, v) {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new LayoutError(`field ${field.name}: expected an integer, got ${String(v)}`);
}

function writePrim(w, field, v) {
  switch (field.prim) {
    case 'Bool':
      if (v === true || v === false) w.bool(v);
      else if (v === 0 || v === 1) w.bool(v === 1);
      else throw new LayoutError(`field ${field.name}: expected a bool, got ${String(v)}`);
      return;
    case 'F32':
      if (typeof v !== 'number') throw new LayoutError(`field ${field.name}: expected a number, got ${String(v)}`);
      w.f32(v);
      return;
    case 'Str':
      if (typeof v !== 'string') throw new LayoutError(`field ${field.name}: expected a string, got ${String(v)}`);
      w.string(v);
      return;
    default: {
      const range = RANGES[field.prim];
      if (range === undefined) throw new LayoutError(`field ${field.name}: unknown type ${field.prim}`);
      const i = asInt(field, v);
      if (i < range[0] || i > range[1]) throw new LayoutError(`field ${field.name}: ${i} is out of range ${range[0]}..=${range[1]}`);
      if (field.prim === 'U8') w.u8(Number(i));
      else if (field.prim === 'I32') w.i32(Number(i));
      else if (field.prim === 'I64') w.i64(i);
      else if (field.prim === 'U64') w.varint(BigInt.asUintN(64, i));
      else w.varint(Number(i));
    }
  }
}

function readPrim(r, prim) {
  switch (prim) {
    case 'U8':
      return r.u8();
    case 'U16':
      return r.u16();
    case 'U32':
      return r.u32();
    case 'U64':
      return narrow(BigInt.asIntN(64, r.u64()));
    case 'I32':
      return r.i32();
    case 'I64':
      return r.i64();
    case 'Bool':
      return r.bool();
    case 'F32':
      return r.f32();
    case 'Str':
      return r.string();
    default:
      throw new CodecError(`unknown layout type ${prim}`);
  }
}

/** Encodes `values` (one per field, in order) by `fields`. */
export function encodeFields(fields, values) {
  if (values.length !== fields.length) throw new LayoutError(`${values.length} values for a layout of ${fields.length} fields`);
  const w = new Writer(16);
  fields.forEach((f, i) => writePrim(w, f, values[i]));
  return w.finish();
}

/** Decodes a whole message of `fields` from `bytes`. */
export function decodeFields(fields, bytes) {
  const r = new Reader(bytes);
  const values = fields.map((f) => readPrim(r, f.prim));
  r.end();
  return values;
}

/**
 * Decodes an event (variant index, then its fields) by `events` (the schema's event
 * layout): {variant: name, values: [...], fields: {name: value}}.
 */
export function decodeEvent(events, bytes) {
  const r = new Reader(bytes);
  const index = r.u32();
  const def = events[index];
  if (def === undefined) throw new CodecError(`unknown event variant ${index}`);
  const values = def.fields.map((f) => readPrim(r, f.prim));
  r.end();
  const fields = {};
  def.fields.forEach((f, i) => {
    fields[f.name] = values[i];
  });
  return { variant: def.name, values, fields };
}

/** The zero value of a primitive type (what an unused input field is sent as). */
export function zeroOf(prim) {
  if (prim === 'Bool') return false;
  if (prim === 'Str') return '';
  if (prim === 'F32') return 0;
  return 0;
}

/**
 * A game's input writer: `encode({name: value})` gives the input's bytes, every field not
 * named sent as its zero. `hasButtons` / `hasAim` say whether the layout has the
 * built-in games' `buttons: U8` and `aim: U16` fields, which the keyboard and mouse drive.
 */
export function inputWriter(fields) {
  const zeros = fields.map((f) => zeroOf(f.prim));
  const at = new Map(fields.map((f, i) => [f.name, i]));
  return {
    fields,
    hasButtons: fields.some((f) => f.name === 'buttons' && f.prim === 'U8'),
    hasAim: fields.some((f) => f.name === 'aim' && f.prim === 'U16'),
    encode(named) {
      const values = zeros.slice();
      for (const [k, v] of Object.entries(named)) {
        const i = at.get(k);
        if (i !== undefined) values[i] = v;
      }
      return encodeFields(fields, values);
    },
  };
}
