// The browser's codec: decodes and encodes exactly the bytes of the Rust codec
// (shared/src/codec.rs: bincode 2 standard config — little-endian, varint integers,
// zigzag for signed ones). Checked against the golden vectors written by
// shared/tests/golden.rs, so the two cannot drift apart.
//
// Shapes: messages are plain objects with a `type` field and the Rust field names;
// u64 fields are BigInt; entities are flat {id, kind, owner, name, x, y, angle, score,
// hp}; updates are {id, x, y, angle, score, hp} with null for unchanged fields.
// Decoding never trusts a length beyond the bytes present and rejects trailing bytes.

/** Why bytes could not be decoded. */
export class CodecError extends Error {}

/** Variant names in wire order (the variant index is the position). */
export const CLIENT_TYPES = ['Hello', 'Input', 'Ack', 'Ping', 'Chat'];
export const SERVER_TYPES = ['Welcome', 'Snapshot', 'Pong', 'Chat', 'Event', 'Bye'];
export const EVENT_TYPES = ['Joined', 'Left', 'Knockout'];
export const KINDS = ['Player', 'Orb', 'Projectile', 'Cube'];
export const BYE_CODES = [
  'ServerShutdown', 'ProtocolMismatch', 'Malformed', 'ServerFull', 'AuthFailed', 'Timeout',
  'RateLimited', 'TooLarge', 'Replaced', 'InternalError', 'OriginRefused',
];

/** Bits of Input.buttons (protocol.rs `buttons`). */
export const BUTTONS = { UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8, FIRE: 16 };

/** Field mask bits of a packed update (delta.rs FIELD_*), in wire order. */
const FIELDS = ['x', 'y', 'angle', 'score', 'hp'];
const FIELD_ALL = 31;

// bincode varint markers: a first byte below 251 is the value itself.
const U16_BYTE = 251;
const U32_BYTE = 252;
const U64_BYTE = 253;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

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
    this.need(1);
    return this.b[this.p++];
  }

  /** A varint whose widest allowed form is `maxMarker`; u64s come back as BigInt. */
  varint(maxMarker) {
    const first = this.u8();
    if (first < U16_BYTE) return maxMarker === U64_BYTE ? BigInt(first) : first;
    if (first > maxMarker) throw new CodecError(`invalid varint marker ${first} at byte ${this.p - 1}`);
    let v;
    if (first === U16_BYTE) {
      this.need(2);
      v = this.view.getUint16(this.p, true);
      this.p += 2;
    } else if (first === U32_BYTE) {
      this.need(4);
      v = this.view.getUint32(this.p, true);
      this.p += 4;
    } else {
      this.need(8);
      const big = this.view.getBigUint64(this.p, true);
      this.p += 8;
      return big;
    }
    return maxMarker === U64_BYTE ? BigInt(v) : v;
  }

  u16() {
    return this.varint(U16_BYTE);
  }

  u32() {
    return this.varint(U32_BYTE);
  }

  u64() {
    return this.varint(U64_BYTE);
  }

  /** A zigzag varint i32. */
  i32() {
    const u = this.u32();
    return (u >>> 1) ^ -(u & 1);
  }

  /** A sequence length, refused when it claims more items than bytes remain. */
  len(minItemBytes = 1) {
    const n = this.u64();
    if (n > BigInt(Math.floor(this.remaining() / minItemBytes))) {
      throw new CodecError(`length ${n} exceeds the ${this.remaining()} bytes left`);
    }
    return Number(n);
  }

  string() {
    const n = this.len();
    const bytes = this.b.subarray(this.p, this.p + n);
    this.p += n;
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
    this.p = 0;
  }

  reserve(n) {
    if (this.p + n <= this.b.length) return;
    const next = new Uint8Array(Math.max(this.b.length * 2, this.p + n));
    next.set(this.b.subarray(0, this.p));
    this.b = next;
  }

  u8(v) {
    this.reserve(1);
    this.b[this.p++] = v & 0xff;
  }

  /** Any unsigned integer (Number or BigInt) as a varint, in its shortest form. */
  varint(v) {
    if (typeof v === 'bigint') {
      if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
      if (v > 0xffffffffn) {
        this.reserve(9);
        this.b[this.p++] = U64_BYTE;
        new DataView(this.b.buffer).setBigUint64(this.p, v, true);
        this.p += 8;
        return;
      }
      v = Number(v);
    }
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    this.reserve(5);
    const dv = new DataView(this.b.buffer);
    if (v < U16_BYTE) {
      this.b[this.p++] = v;
    } else if (v <= 0xffff) {
      this.b[this.p++] = U16_BYTE;
      dv.setUint16(this.p, v, true);
      this.p += 2;
    } else {
      this.b[this.p++] = U32_BYTE;
      dv.setUint32(this.p, v, true);
      this.p += 4;
    }
  }

  i32(v) {
    this.varint(((v << 1) ^ (v >> 31)) >>> 0);
  }

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

  variant(names, name) {
    const i = names.indexOf(name);
    if (i < 0) throw new RangeError(`unknown variant ${name}`);
    this.varint(i);
  }

  finish() {
    return this.b.slice(0, this.p);
  }
}

function readEntity(r) {
  const id = r.u32();
  const kind = r.variant(KINDS, 'EntityKind');
  const owner = r.option(() => r.u32());
  const name = r.string();
  const x = r.i32();
  const y = r.i32();
  const angle = r.u8();
  const score = r.i32();
  const hp = r.u8();
  return { id, kind, owner, name, x, y, angle, score, hp };
}

/** The packed update list (delta.rs `packed_updates`): zigzag i32s `[id gap, mask, values…]`. */
function readUpdates(r) {
  let left = r.len();
  const out = [];
  let prev = -1;
  const next = () => {
    if (left === 0) return null;
    left -= 1;
    return r.i32();
  };
  for (;;) {
    const g = next();
    if (g === null) break;
    const gap = g >>> 0;
    let id;
    if (prev < 0) {
      if (gap === 0) throw new CodecError('update ids must be strictly ascending');
      id = gap - 1;
    } else {
      id = prev + gap;
      if (gap === 0 || id > 0xffffffff) throw new CodecError('update ids must be strictly ascending');
    }
    prev = id;
    const mask = next();
    if (mask === null) throw new CodecError('truncated update: no field mask');
    if (mask <= 0 || mask > FIELD_ALL) throw new CodecError('invalid field mask');
    const u = { id, x: null, y: null, angle: null, score: null, hp: null };
    for (let i = 0; i < FIELDS.length; i++) {
      if (mask & (1 << i)) {
        const v = next();
        if (v === null) throw new CodecError('truncated update: missing field');
        u[FIELDS[i]] = v;
      }
    }
    out.push(u);
  }
  return out;
}

function readBody(r) {
  const spawns = [];
  for (let n = r.len(); n > 0; n--) spawns.push(readEntity(r));
  const updates = readUpdates(r);
  const despawns = [];
  for (let n = r.len(); n > 0; n--) despawns.push(r.u32());
  const checksum = r.u32();
  return { spawns, updates, despawns, checksum };
}

function readEvent(r) {
  const type = r.variant(EVENT_TYPES, 'GameEvent');
  switch (type) {
    case 'Joined':
    case 'Left':
      return { type, player: r.u32(), name: r.string() };
    default:
      return { type, by: r.u32(), victim: r.u32() };
  }
}

/** Decodes one server message. Throws CodecError on anything malformed. */
export function decodeServer(bytes) {
  const r = new Reader(bytes);
  const type = r.variant(SERVER_TYPES, 'ServerMsg');
  let msg;
  switch (type) {
    case 'Welcome': {
      const player = r.u32();
      const entity = r.u32();
      const tick_hz = r.u16();
      const tick = r.u32();
      const resume_token = r.string();
      const arena = {
        scenario: r.string(),
        width: r.u32(),
        height: r.u32(),
        player_speed: r.u32(),
        player_radius: r.u32(),
        view_radius: r.u32(),
      };
      msg = { type, player, entity, tick_hz, tick, resume_token, arena };
      break;
    }
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
      msg = { type, event: readEvent(r) };
      break;
    default:
      msg = { type, code: r.variant(BYE_CODES, 'ByeCode'), reason: r.string() };
  }
  r.end();
  return msg;
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
      msg = { type, seq: r.u32(), buttons: r.u8(), aim: r.u16() };
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
      w.u8(msg.buttons);
      w.varint(msg.aim & 0xffff);
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

/** The UTF-8 bytes of a string (names are hashed byte by byte). */
export function utf8(s) {
  return utf8Encoder.encode(s);
}
