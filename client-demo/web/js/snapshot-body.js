// Snapshot bodies on the wire (delta.rs SnapshotBody): spawned entities as
// {id, components, nums, strs}, the packed update list as {id, mask, deltas} (ids
// strictly ascending, each mask's set bits counting its deltas), despawned ids and the
// view checksum. Component sets and field masks are Numbers below 2^32 and BigInts
// from 2^32 up.

import { CodecError } from './bincode.js';

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
    let gap = r.u64n();
    // The first gap is id + 1: 2^32 (a BigInt) for the last id, u32::MAX.
    if (prev < 0 && gap === 0x100000000n) gap = 0x100000000;
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
  let prev = null;
  for (const u of updates) {
    // Gaps in 64 bits: the first is id + 1, which is 2^32 for id u32::MAX.
    w.varint(prev === null ? BigInt(u.id) + 1n : u.id - prev);
    w.varint(u.mask);
    for (const d of u.deltas) w.i32(d);
    prev = u.id;
  }
}

/** Reads a SnapshotBody: {spawns, updates, despawns, checksum}. */
export function readBody(r) {
  const spawns = r.vec(() => readEntity(r), 4);
  const updates = readUpdates(r);
  const despawns = r.vec(() => r.u32());
  const checksum = r.u32();
  return { spawns, updates, despawns, checksum };
}

/** Writes a SnapshotBody. */
export function writeBody(w, body) {
  w.vec(body.spawns, (e) => writeEntity(w, e));
  writeUpdates(w, body.updates);
  w.vec(body.despawns, (id) => w.varint(id));
  w.varint(body.checksum >>> 0);
}
