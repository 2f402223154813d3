// The bit-packed update list (shared/src/packed.rs): one bit stream, least significant
// bit first, zero-padded to a byte —
//   entry count and column count C, one width (0..=32, 6 bits) per column;
//   per entity: id gap in Elias gamma (the first gap is id + 1), a bit for "the previous
//   entity's mask" or else the mask, then each set mask bit's zigzag delta in its
//   column's width, where 2^w − 1 escapes to the zigzag delta in 32 bits (32 never does).
// Counts and masks are a 7-bit bit length and then the bits. Masks are Numbers below 2^32
// and BigInts from 2^32 up, as everywhere in the codec.

import { CodecError } from './bincode.js';

const RAW = 32;
const TWO32 = 4294967296;

const zigzag = (d) => ((d << 1) ^ (d >> 31)) >>> 0;
const unzigzag = (v) => (v >>> 1) ^ -(v & 1);

/** Significant bits of a Number below 2^53. */
function bitLen(v) {
  let n = 0;
  while (v >= TWO32) {
    v = Math.floor(v / TWO32);
    n += 32;
  }
  return n + (v === 0 ? 0 : 32 - Math.clz32(v));
}

/** The indices of a mask's set bits, ascending. */
function setBits(mask) {
  const out = [];
  if (typeof mask === 'bigint') {
    for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) out.push(i);
  } else {
    for (let i = 0; i < 32; i++) if ((mask >>> i) & 1) out.push(i);
  }
  return out;
}

function maskLen(mask) {
  if (typeof mask === 'bigint') return 32 + bitLen(Number(mask >> 32n));
  return bitLen(mask);
}

class BitReader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
  }

  left() {
    return this.b.length * 8 - this.pos;
  }

  /** `n` ≤ 32 bits as an unsigned Number. */
  bits(n) {
    if (n > this.left()) throw new CodecError('truncated update stream');
    let v = 0;
    let got = 0;
    while (got < n) {
      const offset = this.pos & 7;
      const take = Math.min(8 - offset, n - got);
      const chunk = (this.b[this.pos >>> 3] >>> offset) & ((1 << take) - 1);
      v += chunk * 2 ** got;
      got += take;
      this.pos += take;
    }
    return v;
  }

  /** A 7-bit length and that many bits: a Number below 2^32, else a BigInt. */
  sized() {
    const l = this.bits(7);
    if (l > 64) throw new CodecError('a value longer than 64 bits');
    const low = this.bits(Math.min(l, 32));
    const high = l > 32 ? this.bits(l - 32) : 0;
    const v = high === 0 ? low : (BigInt(high) << 32n) | BigInt(low);
    if ((typeof v === 'bigint' ? maskLen(v) : bitLen(v)) !== l) throw new CodecError("a value's length does not match it");
    return v;
  }

  gamma() {
    let zeros = 0;
    while (this.bits(1) === 0) {
      zeros += 1;
      if (zeros > 32) throw new CodecError('update id gap out of range');
    }
    return 2 ** zeros + this.bits(zeros);
  }

  end() {
    if (this.left() >= 8) throw new CodecError('bytes after the update stream');
    if (this.bits(this.left()) !== 0) throw new CodecError('nonzero padding after the update stream');
  }
}

class BitWriter {
  constructor() {
    this.out = [];
    this.acc = 0;
    this.filled = 0;
  }

  /** The low `n` ≤ 32 bits of a Number. */
  bits(v, n) {
    for (let i = 0; i < n; ) {
      const take = Math.min(8 - this.filled, n - i);
      const chunk = Math.floor(v / 2 ** i) % 2 ** take;
      this.acc |= chunk << this.filled;
      this.filled += take;
      i += take;
      if (this.filled === 8) {
        this.out.push(this.acc);
        this.acc = 0;
        this.filled = 0;
      }
    }
  }

  sized(v) {
    if (typeof v === 'bigint') {
      const l = maskLen(v);
      this.bits(l, 7);
      this.bits(Number(BigInt.asUintN(32, v)), 32);
      this.bits(Number(v >> 32n), l - 32);
    } else {
      const l = bitLen(v);
      this.bits(l, 7);
      this.bits(v, l);
    }
  }

  gamma(v) {
    const l = bitLen(v);
    this.bits(0, l - 1);
    this.bits(1, 1);
    this.bits(v - 2 ** (l - 1), l - 1);
  }

  finish() {
    if (this.filled > 0) this.out.push(this.acc);
    return Uint8Array.from(this.out);
  }
}

/** Reads the update list from its stream's bytes: [{id, mask, deltas}]. */
export function unpackUpdates(bytes) {
  const r = new BitReader(bytes);
  const count = r.sized();
  if (typeof count === 'bigint' || count > r.left() / 2) throw new CodecError('update count exceeds the stream');
  const columns = r.bits(7);
  if (columns > 64) throw new CodecError('more than 64 update columns');
  const widths = [];
  for (let i = 0; i < columns; i++) {
    const w = r.bits(6);
    if (w > RAW) throw new CodecError('update column wider than 32 bits');
    widths.push(w);
  }
  const out = [];
  let prev = -1;
  let prevMask = 0;
  for (let n = 0; n < count; n++) {
    const gap = r.gamma();
    const id = prev < 0 ? gap - 1 : prev + gap;
    if (id > 0xffffffff) throw new CodecError('update ids must be strictly ascending');
    const mask = r.bits(1) === 1 ? prevMask : r.sized();
    if (mask === 0) throw new CodecError('empty field mask');
    if (maskLen(mask) > columns) throw new CodecError('field mask past the update columns');
    const deltas = [];
    for (const col of setBits(mask)) {
      const w = widths[col];
      let v = r.bits(w);
      if (w < RAW && v === 2 ** w - 1) v = r.bits(RAW);
      deltas.push(unzigzag(v));
    }
    out.push({ id, mask, deltas });
    prev = id;
    prevMask = mask;
  }
  r.end();
  return out;
}

/** The column width that makes the stream shortest (as packed.rs chooses it). */
function bestWidth(hist, ones) {
  const total = hist.reduce((a, c) => a + c, 0);
  let longer = total;
  let best = [RAW * total, RAW];
  for (let w = 0; w < RAW; w++) {
    longer -= hist[w];
    const cost = w * total + RAW * (longer + ones[w]);
    if (cost < best[0]) best = [cost, w];
  }
  return best[1];
}

/** Writes an update list ([{id, mask, deltas}], ids ascending) as its stream's bytes. */
export function packUpdates(updates) {
  let columns = 0;
  for (const u of updates) columns = Math.max(columns, maskLen(u.mask));
  const hist = Array.from({ length: columns }, () => new Array(33).fill(0));
  const ones = Array.from({ length: columns }, () => new Array(33).fill(0));
  for (const u of updates) {
    setBits(u.mask).forEach((col, k) => {
      const v = zigzag(u.deltas[k]);
      const l = bitLen(v);
      hist[col][l] += 1;
      if (v === 2 ** l - 1) ones[col][l] += 1;
    });
  }
  const widths = hist.map((h, i) => bestWidth(h, ones[i]));
  const w = new BitWriter();
  w.sized(updates.length);
  w.bits(columns, 7);
  for (const width of widths) w.bits(width, 6);
  let prev = null;
  let prevMask = 0;
  for (const u of updates) {
    w.gamma(prev === null ? u.id + 1 : u.id - prev);
    if (u.mask === prevMask) {
      w.bits(1, 1);
    } else {
      w.bits(0, 1);
      w.sized(u.mask);
    }
    setBits(u.mask).forEach((col, k) => {
      const width = widths[col];
      const v = zigzag(u.deltas[k]);
      if (width === RAW) {
        w.bits(v, RAW);
      } else if (v < 2 ** width - 1) {
        w.bits(v, width);
      } else {
        w.bits(2 ** width - 1, width);
        w.bits(v, RAW);
      }
    });
    prev = u.id;
    prevMask = u.mask;
  }
  return w.finish();
}
