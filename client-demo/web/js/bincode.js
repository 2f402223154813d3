// bincode's primitives, as the Rust codec uses them (shared/src/codec.rs: bincode 2
// standard config — little-endian, varint integers, zigzag for signed ones): a Reader
// over received bytes and a growable Writer, which the message codecs (codec.js,
// snapshot-body.js, schema-wire.js) and the game layouts (layout.js) are written with.
// A Reader never trusts a length beyond the bytes present and throws nothing but
// CodecError; u64s are Numbers below 2^32 and BigInts from 2^32 up (see `u64Value`).

/** Why bytes could not be decoded. */
export class CodecError extends Error {}

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
export function narrow(big) {
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

/** The UTF-8 bytes of a string (strings are hashed byte by byte). */
export function utf8(s) {
  return utf8Encoder.encode(s);
}
