// The browser's codec: decodes and encodes exactly the bytes of the Rust codec
// (shared/src/codec.rs: bincode 2 standard config — little-endian, varint integers,
// zigzag for signed ones) for protocol version 2. Checked against the golden vectors
// written by shared/tests/golden.rs, so the two cannot drift apart.
//
// Shapes: messages are plain objects with a `type` field and the Rust field names. u64
// fields (client_time, server_time_ms) are BigInt. Entities are the schema-driven
// {id, components, nums, strs}; updates are {id, mask, deltas}; component sets and field
// masks are Numbers below 2^32 and BigInts from 2^32 up (so the common case stays fast).
// Welcome's schema is a checked `Schema` (schema.js) whose JSON form is the SchemaDef's;
// Input and Event data are Uint8Arrays (layout.js reads and writes them by the schema).
// Decoding never trusts a length beyond the bytes present, rejects trailing bytes, and
// throws nothing but CodecError.

import { Schema, SchemaError } from './schema.js';

/** Why bytes could not be decoded. */
export class CodecError extends Error {}

/** Variant names in wire order (the variant index is the position). */
export const CLIENT_TYPES = ['Hello', 'Input', 'Ack', 'Ping', 'Chat'];
export const SERVER_TYPES = ['Welcome', 'Snapshot', 'Pong', 'Chat', 'Event', 'Bye', 'Joined', 'Left'];
export const BYE_CODES = [
  'ServerShutdown', 'ProtocolMismatch', 'Malformed', 'ServerFull', 'AuthFailed', 'Timeout',
  'RateLimited', 'TooLarge', 'Replaced', 'InternalError', 'OriginRefused',
];
/** Schema enums (schema.rs `Encoding`, layout.rs `Prim`), in wire order. */
export const ENCODINGS = ['Fixed', 'Angle', 'Int', 'Bool', 'Enum', 'Player', 'Str'];
export const PRIMS = ['U8', 'U16', 'U32', 'U64', 'I32', 'I64', 'Bool', 'F32', 'Str'];

// bincode varint markers: a first byte below 251 is the value itself.
const U16_BYTE = 251;
const U32_BYTE = 252;
const U64_BYTE = 253;
const TWO32 = 4294967296;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** A u64 as the codec's in-memory form: a Number below 2^32, a BigInt from 2^32 up. */
export function u64Value(v) {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  return big < 4294967296n ? Number(big) : big;
}

/** A BigInt as a Number when it is exact in a double, else unchanged. */
function narrow(big) {
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** A cursor over received bytes. Every read checks the bytes are there. */
export class Reader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.b = bytes;
    this.p = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining() {
    return this.b.length - this.p;
  }

  need(n) {
    if (this.p + n > this.b.length) throw new CodecError(`truncated at byte ${this.p}`);
  }

  u8() {
    if (this.p >= this.b.length) throw new CodecError(`truncated at byte ${this.p}`);
    return this.b[this.p++];
  }

  bool() {
    const v = this.u8();
    if (v > 1) throw new CodecError(`invalid bool ${v} at byte ${this.p - 1}`);
    return v === 1;
  }

  /** A varint whose widest allowed form is `maxMarker` (U16_BYTE or U32_BYTE), as a Number. */
  small(maxMarker) {
    const first = this.u8();
    if (first < U16_BYTE) return first;
    if (first > maxMarker) throw new CodecError(`invalid varint marker ${first} at byte ${this.p - 1}`);
    let v;
    if (first === U16_BYTE) {
      this.need(2);
      v = this.view.getUint16(this.p, true);
      this.p += 2;
    } else {
      this.need(4);
      v = this.view.getUint32(this.p, true);
      this.p += 4;
    }
    return v;
  }

  u16() {
    return this.small(U16_BYTE);
  }

  u32() {
    return this.small(U32_BYTE);
  }

  /** A u64 varint as BigInt. */
  u64() {
    const v = this.u64n();
    return typeof v === 'bigint' ? v : BigInt(v);
  }

  /** A u64 varint: a Number below 2^32, a BigInt from 2^32 up. */
  u64n() {
    const first = this.u8();
    if (first < U16_BYTE) return first;
    if (first < U64_BYTE) {
      this.p -= 1;
      return this.u32();
    }
    if (first > U64_BYTE) throw new CodecError(`invalid varint marker ${first} at byte ${this.p - 1}`);
    this.need(8);
    const lo = this.view.getUint32(this.p, true);
    const hi = this.view.getUint32(this.p + 4, true);
    this.p += 8;
    return hi === 0 ? lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A zigzag varint i32. */
  i32() {
    const u = this.small(U32_BYTE);
    return (u >>> 1) ^ -(u & 1);
  }

  /** A zigzag varint i64: a Number when exact in a double, else BigInt. */
  i64() {
    const u = this.u64();
    return narrow((u >> 1n) ^ -(u & 1n));
  }

  f32() {
    this.need(4);
    const v = this.view.getFloat32(this.p, true);
    this.p += 4;
    return v;
  }

  f64() {
    this.need(8);
    const v = this.view.getFloat64(this.p, true);
    this.p += 8;
    return v;
  }

  /** A sequence length, refused when it claims more items than bytes remain. */
  len(minItemBytes = 1) {
    const n = this.u64n();
    if (typeof n === 'bigint' || n > Math.floor(this.remaining() / minItemBytes)) {
      throw new CodecError(`length ${n} exceeds the ${this.remaining()} bytes left`);
    }
    return n;
  }

  /** A Vec<u8>. */
  bytes() {
    const n = this.len();
    const out = this.b.slice(this.p, this.p + n);
    this.p += n;
    return out;
  }

  string() {
    const n = this.len();
    const bytes = this.b.subarray(this.p, this.p + n);
    this.p += n;
    // Short ASCII (names, most strings) is decoded without the TextDecoder call.
    if (n <= 16) {
      let s = '';
      for (let i = 0; i < n; i++) {
        const c = bytes[i];
        if (c >= 0x80) {
          s = null;
          break;
        }
        s += String.fromCharCode(c);
      }
      if (s !== null) return s;
    }
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new CodecError('string is not valid UTF-8');
    }
  }

  option(read) {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return read();
    throw new CodecError(`invalid option tag ${tag}`);
  }

  vec(read, minItemBytes = 1) {
    const out = [];
    for (let n = this.len(minItemBytes); n > 0; n--) out.push(read());
    return out;
  }

  variant(names, what) {
    const i = this.u32();
    if (i >= names.length) throw new CodecError(`unknown ${what} variant ${i}`);
    return names[i];
  }

  end() {
    if (this.p !== this.b.length) throw new CodecError(`${this.b.length - this.p} unexpected bytes after the message`);
  }
}

/** A growable byte buffer for encoding. */
export class Writer {
  constructor(capacity = 32) {
    this.b = new Uint8Array(capacity);
    this.view = new DataView(this.b.buffer);
    this.p = 0;
  }

  reserve(n) {
    if (this.p + n <= this.b.length) return;
    const next = new Uint8Array(Math.max(this.b.length * 2, this.p + n));
    next.set(this.b.subarray(0, this.p));
    this.b = next;
    this.view = new DataView(next.buffer);
  }

  u8(v) {
    this.reserve(1);
    this.b[this.p++] = v & 0xff;
  }

  bool(v) {
    this.u8(v ? 1 : 0);
  }

  /** Any unsigned integer up to 2^64 − 1 (Number or BigInt) as a varint, shortest form. */
  varint(v) {
    if (typeof v === 'bigint') {
      if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
      if (v >= 4294967296n) {
        this.reserve(9);
        this.b[this.p++] = U64_BYTE;
        this.view.setBigUint64(this.p, v, true);
        this.p += 8;
        return;
      }
      v = Number(v);
    }
    if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new RangeError(`varint out of range: ${v}`);
    this.reserve(9);
    if (v < U16_BYTE) {
      this.b[this.p++] = v;
    } else if (v <= 0xffff) {
      this.b[this.p++] = U16_BYTE;
      this.view.setUint16(this.p, v, true);
      this.p += 2;
    } else if (v < TWO32) {
      this.b[this.p++] = U32_BYTE;
      this.view.setUint32(this.p, v, true);
      this.p += 4;
    } else {
      this.b[this.p++] = U64_BYTE;
      this.view.setUint32(this.p, v % TWO32, true);
      this.view.setUint32(this.p + 4, Math.floor(v / TWO32), true);
      this.p += 8;
    }
  }

  i32(v) {
    this.varint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** An i64 (Number or BigInt in range) as a zigzag varint. */
  i64(v) {
    const big = BigInt(v);
    if (big < -(2n ** 63n) || big >= 2n ** 63n) throw new RangeError(`i64 out of range: ${v}`);
    this.varint(BigInt.asUintN(64, (big << 1n) ^ (big >> 63n)));
  }

  f32(v) {
    this.reserve(4);
    this.view.setFloat32(this.p, v, true);
    this.p += 4;
  }

  f64(v) {
    this.reserve(8);
    this.view.setFloat64(this.p, v, true);
    this.p += 8;
  }

  /** A Vec<u8> (Uint8Array or an array of byte values). */
  bytes(b) {
    this.varint(b.length);
    this.reserve(b.length);
    this.b.set(b, this.p);
    this.p += b.length;
  }

  string(s) {
    this.bytes(utf8Encoder.encode(s));
  }

  option(v, write) {
    if (v === null || v === undefined) {
      this.u8(0);
    } else {
      this.u8(1);
      write(v);
    }
  }

  vec(items, write) {
    this.varint(items.length);
    for (const x of items) write(x);
  }

  variant(names, name) {
    const i = names.indexOf(name);
    if (i < 0) throw new RangeError(`unknown variant ${name}`);
    this.varint(i);
  }

  finish() {
    return this.b.slice(0, this.p);
  }
}

// --- The schema (schema.rs SchemaDef and its parts) ---

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
  const kind = typeof enc === 'string' ? enc : Object.keys(enc)[0];
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
function readSchema(r) {
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

function writeSchema(w, schema) {
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

// --- Snapshot bodies (delta.rs SnapshotBody) ---

function readEntity(r) {
  const id = r.u32();
  const components = r.u64n();
  const n = r.len();
  const nums = new Array(n);
  for (let i = 0; i < n; i++) nums[i] = r.i32();
  const s = r.len();
  const strs = new Array(s);
  for (let i = 0; i < s; i++) strs[i] = r.string();
  return { id, components, nums, strs };
}

function writeEntity(w, e) {
  w.varint(e.id);
  w.varint(e.components);
  w.varint(e.nums.length);
  for (const v of e.nums) w.i32(v);
  w.vec(e.strs, (s) => w.string(s));
}

/** The number of set bits of a mask (Number < 2^32 or BigInt). */
function popcount(mask) {
  if (typeof mask === 'bigint') {
    return popcount(Number(BigInt.asUintN(32, mask))) + popcount(Number(BigInt.asUintN(32, mask >> 32n)));
  }
  let v = mask - ((mask >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * The packed update list (delta.rs `packed_updates`): one sequence whose length counts
 * its elements, `[id gap (u64), mask (u64), delta (zigzag i32)…]` per changed entity.
 */
function readUpdates(r) {
  let left = r.len();
  const out = [];
  let prev = -1;
  while (left > 0) {
    left -= 1;
    const gap = r.u64n();
    if (typeof gap === 'bigint') throw new CodecError('update id gap out of range');
    let id;
    if (prev < 0) {
      if (gap === 0) throw new CodecError('update ids must be strictly ascending');
      id = gap - 1;
    } else {
      id = prev + gap;
      if (gap === 0 || id > 0xffffffff) throw new CodecError('update ids must be strictly ascending');
    }
    prev = id;
    if (left === 0) throw new CodecError('truncated update: no field mask');
    left -= 1;
    const mask = r.u64n();
    if (mask === 0) throw new CodecError('empty field mask');
    const k = popcount(mask);
    if (k > left) throw new CodecError('truncated update: missing field');
    left -= k;
    const deltas = new Array(k);
    for (let i = 0; i < k; i++) deltas[i] = r.i32();
    out.push({ id, mask, deltas });
  }
  return out;
}

function writeUpdates(w, updates) {
  let len = 0;
  for (const u of updates) len += 2 + u.deltas.length;
  w.varint(len);
  let prev = 0xffffffff;
  for (const u of updates) {
    w.varint((u.id - prev) >>> 0);
    w.varint(u.mask);
    for (const d of u.deltas) w.i32(d);
    prev = u.id;
  }
}

function readBody(r) {
  const spawns = r.vec(() => readEntity(r), 4);
  const updates = readUpdates(r);
  const despawns = r.vec(() => r.u32());
  const checksum = r.u32();
  return { spawns, updates, despawns, checksum };
}

function writeBody(w, body) {
  w.vec(body.spawns, (e) => writeEntity(w, e));
  writeUpdates(w, body.updates);
  w.vec(body.despawns, (id) => w.varint(id));
  w.varint(body.checksum >>> 0);
}

// --- Messages ---

/** Decodes one server message. Throws CodecError on anything malformed. */
export function decodeServer(bytes) {
  const r = new Reader(bytes);
  const type = r.variant(SERVER_TYPES, 'ServerMsg');
  let msg;
  switch (type) {
    case 'Welcome':
      msg = {
        type,
        player: r.u32(),
        entity: r.u32(),
        tick_hz: r.u16(),
        tick: r.u32(),
        resume_token: r.string(),
        schema: readSchema(r),
      };
      break;
    case 'Snapshot': {
      const header = { tick: r.u32(), baseline: r.option(() => r.u32()), input_ack: r.u32() };
      msg = { type, header, body: readBody(r) };
      break;
    }
    case 'Pong':
      msg = { type, client_time: r.u64(), server_tick: r.u32(), server_time_ms: r.u64() };
      break;
    case 'Chat':
      msg = { type, from: r.u32(), name: r.string(), text: r.string() };
      break;
    case 'Event':
      msg = { type, data: r.bytes() };
      break;
    case 'Bye':
      msg = { type, code: r.variant(BYE_CODES, 'ByeCode'), reason: r.string() };
      break;
    default: // Joined, Left
      msg = { type, player: r.u32(), name: r.string() };
  }
  r.end();
  return msg;
}

/** Encodes one server message (for tests and tools; the page only decodes them). */
export function encodeServer(msg) {
  const w = new Writer(64);
  w.variant(SERVER_TYPES, msg.type);
  switch (msg.type) {
    case 'Welcome':
      w.varint(msg.player);
      w.varint(msg.entity);
      w.varint(msg.tick_hz);
      w.varint(msg.tick);
      w.string(msg.resume_token);
      writeSchema(w, msg.schema);
      break;
    case 'Snapshot':
      w.varint(msg.header.tick);
      w.option(msg.header.baseline, (b) => w.varint(b));
      w.varint(msg.header.input_ack);
      writeBody(w, msg.body);
      break;
    case 'Pong':
      w.varint(BigInt(msg.client_time));
      w.varint(msg.server_tick);
      w.varint(BigInt(msg.server_time_ms));
      break;
    case 'Chat':
      w.varint(msg.from);
      w.string(msg.name);
      w.string(msg.text);
      break;
    case 'Event':
      w.bytes(msg.data);
      break;
    case 'Bye':
      w.variant(BYE_CODES, msg.code);
      w.string(msg.reason);
      break;
    default:
      w.varint(msg.player);
      w.string(msg.name);
  }
  return w.finish();
}

/** Decodes one client message (what the server reads; used by the tests). */
export function decodeClient(bytes) {
  const r = new Reader(bytes);
  const type = r.variant(CLIENT_TYPES, 'ClientMsg');
  let msg;
  switch (type) {
    case 'Hello':
      msg = {
        type,
        protocol: r.u16(),
        name: r.string(),
        resume: r.option(() => ({ token: r.string(), tick: r.option(() => r.u32()) })),
        auth: r.option(() => r.string()),
      };
      break;
    case 'Input':
      msg = { type, seq: r.u32(), data: r.bytes() };
      break;
    case 'Ack':
      msg = { type, tick: r.u32() };
      break;
    case 'Ping':
      msg = { type, client_time: r.u64() };
      break;
    default:
      msg = { type, text: r.string() };
  }
  r.end();
  return msg;
}

/** Encodes one client message into the bytes of one WebSocket binary message. */
export function encodeClient(msg) {
  const w = new Writer();
  w.variant(CLIENT_TYPES, msg.type);
  switch (msg.type) {
    case 'Hello':
      w.varint(msg.protocol);
      w.string(msg.name);
      // resume is {token, tick|null}; a bare token string means "holding nothing".
      w.option(msg.resume, (v) => {
        const res = typeof v === 'string' ? { token: v, tick: null } : v;
        w.string(res.token);
        w.option(res.tick, (t) => w.varint(t >>> 0));
      });
      w.option(msg.auth, (s) => w.string(s));
      break;
    case 'Input':
      w.varint(msg.seq >>> 0);
      w.bytes(msg.data);
      break;
    case 'Ack':
      w.varint(msg.tick >>> 0);
      break;
    case 'Ping':
      w.varint(typeof msg.client_time === 'bigint' ? msg.client_time : BigInt(Math.max(0, Math.floor(msg.client_time))));
      break;
    case 'Chat':
      w.string(msg.text);
      break;
    default:
      throw new RangeError(`unknown client message ${msg.type}`);
  }
  return w.finish();
}

/** The UTF-8 bytes of a string (strings are hashed byte by byte). */
export function utf8(s) {
  return utf8Encoder.encode(s);
}
