// The view checksum, ported from shared/src/checksum.rs: FNV-1a style mixing of every
// entity field, a murmur finaliser, and a wrapping u32 sum over the view. Math.imul and
// `>>> 0` give exactly Rust's wrapping u32 arithmetic.

import { KINDS, utf8 } from './codec.js';

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

// Names repeat (every player entity keeps its name for life), so their bytes are cached.
const nameBytes = new Map();
function bytesOf(name) {
  let b = nameBytes.get(name);
  if (b === undefined) {
    b = utf8(name);
    if (nameBytes.size > 4096) nameBytes.clear();
    nameBytes.set(name, b);
  }
  return b;
}

/** The hash of one entity ({id, kind, owner, name, x, y, angle, score, hp}). */
export function entityHash(e) {
  let h = FNV_OFFSET;
  h = mix(h, e.id);
  h = mix(h, KINDS.indexOf(e.kind));
  h = mix(h, e.owner === null ? 0xffffffff : e.owner);
  h = mix(h, e.x);
  h = mix(h, e.y);
  h = mix(h, e.angle);
  h = mix(h, e.score);
  h = mix(h, e.hp);
  const b = bytesOf(e.name);
  h = mix(h, b.length);
  for (let i = 0; i < b.length; i++) h = mix(h, b[i]);
  return finish(h);
}

/** The checksum of a whole view: the wrapping u32 sum of its entities' hashes. */
export function viewChecksum(entities) {
  let sum = 0;
  for (const e of entities) sum = (sum + entityHash(e)) >>> 0;
  return sum;
}
