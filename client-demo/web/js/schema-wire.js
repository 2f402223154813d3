// The schema's wire form in Welcome (schema.rs SchemaDef and its parts, as bincode
// writes them): read into a checked `Schema` (schema.js), refused as a CodecError when
// the Rust side's checks would refuse it, and written back from a Schema or its
// definition (for tests and tools).

import { CodecError } from './bincode.js';
import { Schema, SchemaError, encodingKind } from './schema.js';

/** Schema enums (schema.rs `Encoding`, layout.rs `Prim`), in wire order. */
export const ENCODINGS = ['Fixed', 'Angle', 'Int', 'Bool', 'Enum', 'Player', 'Str'];
export const PRIMS = ['U8', 'U16', 'U32', 'U64', 'I32', 'I64', 'Bool', 'F32', 'Str'];

function readEncoding(r) {
  const kind = r.variant(ENCODINGS, 'Encoding');
  switch (kind) {
    case 'Fixed':
      return { Fixed: { scale: r.f32(), min: r.f32(), max: r.f32() } };
    case 'Angle':
      return { Angle: { bits: r.u8() } };
    case 'Int':
      return { Int: { min: r.i32(), max: r.i32() } };
    case 'Enum':
      return { Enum: { variants: r.vec(() => r.string()) } };
    case 'Str':
      return { Str: { max_bytes: r.u16() } };
    default:
      return kind; // Bool, Player
  }
}

function writeEncoding(w, enc) {
  const kind = encodingKind(enc);
  w.variant(ENCODINGS, kind);
  const a = typeof enc === 'string' ? null : enc[kind];
  switch (kind) {
    case 'Fixed':
      w.f32(a.scale);
      w.f32(a.min);
      w.f32(a.max);
      break;
    case 'Angle':
      w.u8(a.bits);
      break;
    case 'Int':
      w.i32(a.min);
      w.i32(a.max);
      break;
    case 'Enum':
      w.vec(a.variants, (s) => w.string(s));
      break;
    case 'Str':
      w.varint(a.max_bytes);
      break;
    default:
  }
}

function readLayoutFields(r) {
  return r.vec(() => ({ name: r.string(), prim: r.variant(PRIMS, 'Prim') }), 2);
}

function writeLayoutFields(w, fields) {
  w.vec(fields, (f) => {
    w.string(f.name);
    w.variant(PRIMS, f.prim);
  });
}

/** Reads a SchemaDef and checks it as the Rust side does (`Schema`'s try_from). */
export function readSchema(r) {
  const def = {
    game: r.string(),
    components: r.vec(() => ({
      name: r.string(),
      fields: r.vec(() => ({ name: r.string(), encoding: readEncoding(r) }), 2),
    }), 2),
    position: r.option(() => ({ component: r.string(), x: r.string(), y: r.string() })),
    input: readLayoutFields(r),
    events: r.vec(() => ({ name: r.string(), fields: readLayoutFields(r) }), 2),
    params: r.vec(() => ({ name: r.string(), value: r.f64() }), 9),
  };
  try {
    return new Schema(def);
  } catch (err) {
    if (err instanceof SchemaError) throw new CodecError(`invalid schema: ${err.message}`);
    throw err;
  }
}

/** Writes a SchemaDef (a checked `Schema` or its JSON-form definition). */
export function writeSchema(w, schema) {
  const def = schema instanceof Schema ? schema.def : schema;
  w.string(def.game);
  w.vec(def.components, (c) => {
    w.string(c.name);
    w.vec(c.fields, (f) => {
      w.string(f.name);
      writeEncoding(w, f.encoding);
    });
  });
  w.option(def.position, (p) => {
    w.string(p.component);
    w.string(p.x);
    w.string(p.y);
  });
  writeLayoutFields(w, def.input);
  w.vec(def.events, (e) => {
    w.string(e.name);
    writeLayoutFields(w, e.fields);
  });
  w.vec(def.params, (p) => {
    w.string(p.name);
    w.f64(p.value);
  });
}
