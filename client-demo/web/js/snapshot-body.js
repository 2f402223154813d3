// Snapshot bodies on the wire (delta.rs SnapshotBody): spawned entities as
// {id, components, nums, strs}, the bit-packed update list as {id, mask, deltas} (ids
// strictly ascending, each mask's set bits counting its deltas), despawned ids and the
// view checksum. Component sets and field masks are Numbers below 2^32 and BigInts
// from 2^32 up.

import { packUpdates, unpackUpdates } from './packed.js';

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

/** The update list: one byte string holding the bit-packed stream (packed.js). */
function readUpdates(r) {
  return unpackUpdates(r.bytes());
}

function writeUpdates(w, updates) {
  w.bytes(packUpdates(updates));
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
