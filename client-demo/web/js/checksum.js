// The view checksum, ported from shared/src/checksum.rs: FNV-1a style mixing of an
// entity's id, component set (low then high 32 bits), every numeric value and every
// string's UTF-8 length and bytes, a murmur3 finaliser, and a wrapping u32 sum over the
// view. Math.imul and `>>> 0` give exactly Rust's wrapping u32 arithmetic.

import { utf8 } from './bincode.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function mix(h, word) {
  return Math.imul(h ^ word, FNV_PRIME) >>> 0;
}

function finish(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Strings repeat (a player keeps its name for life), so their bytes are cached.
const strBytes = new Map();
function bytesOf(s) {
  let b = strBytes.get(s);
  if (b === undefined) {
    b = utf8(s);
    if (strBytes.size > 4096) strBytes.clear();
    strBytes.set(s, b);
  }
  return b;
}

/** The hash of one entity {id, components, nums, strs} (components: Number or BigInt). */
export function entityHash(e) {
  let h = FNV_OFFSET;
  h = mix(h, e.id);
  const c = e.components;
  if (typeof c === 'bigint') {
    h = mix(h, Number(BigInt.asUintN(32, c)));
    h = mix(h, Number(BigInt.asUintN(32, c >> 32n)));
  } else {
    h = mix(h, c);
    h = mix(h, 0);
  }
  const nums = e.nums;
  for (let i = 0; i < nums.length; i++) h = mix(h, nums[i]);
  for (const s of e.strs) {
    const b = bytesOf(s);
    h = mix(h, b.length);
    for (let i = 0; i < b.length; i++) h = mix(h, b[i]);
  }
  return finish(h);
}

/** The checksum of a whole view: the wrapping u32 sum of its entities' hashes. */
export function viewChecksum(entities) {
  let sum = 0;
  for (const e of entities) sum = (sum + entityHash(e)) >>> 0;
  return sum;
}
