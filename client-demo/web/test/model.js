// Test helpers, not a test: hex and JSON forms, a seeded random generator, a tiny JS port
// of shared/src/delta.rs `diff` (the server's side of a snapshot), generators of random
// schemas, entities and world changes for property tests, and the schema the built-in
// games send (server/src/games/components.rs and demo/mod.rs), for the game tests.

import { Schema, isStr, wrapBits } from '../js/schema.js';
import { viewChecksum } from '../js/checksum.js';

export const unhex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The golden JSON form of a decoded value: BigInts and the u64 fields `components` and
 * `mask` as decimal strings, byte arrays as arrays of numbers, a Schema as its definition.
 */
export const plain = (v) =>
  JSON.parse(
    JSON.stringify(v, (k, x) => {
      if (typeof x === 'bigint') return x.toString();
      if (x instanceof Uint8Array) return Array.from(x);
      if ((k === 'components' || k === 'mask') && typeof x === 'number') return String(x);
      return x;
    }),
  );

/** A seeded uniform [0, 1) generator. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    s ^= s >>> 15;
    return (s >>> 0) / 2 ** 32;
  };
}

// --- delta.rs, ported ---

/** field_delta: the delta from `a` to `b`, wrapping in `wrap` bits (0: in 32). */
export function fieldDelta(a, b, wrap) {
  const d = (b - a) | 0;
  if (wrap === 0 || wrap >= 32) return d;
  const steps = 1 << wrap;
  const m = d & (steps - 1);
  return m >= steps >> 1 ? m - steps : m;
}

const sameStrs = (a, b) => a.length === b.length && a.every((s, i) => s === b[i]);

/** A mask with bits `bits` set: a Number below 2^32, else a BigInt. */
export function maskOf(bits) {
  if (bits.every((i) => i < 32)) return bits.reduce((m, i) => (m | (1 << i)) >>> 0, 0);
  const big = bits.reduce((m, i) => m | (1n << BigInt(i)), 0n);
  return big < 4294967296n ? Number(big) : big;
}

/**
 * diff(schema, baseline, latest) with View::All: what carries a client holding `old`
 * (entities, any order) to `next`, and the checksum of `next`.
 */
export function diff(schema, old, next) {
  const a = [...old].sort((x, y) => x.id - y.id);
  const b = [...next].sort((x, y) => x.id - y.id);
  const body = { spawns: [], updates: [], despawns: [], checksum: viewChecksum(b) };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const o = a[i];
    const n = b[j];
    if (n === undefined || (o !== undefined && o.id < n.id)) {
      body.despawns.push(o.id);
      i++;
    } else if (o === undefined || n.id < o.id) {
      body.spawns.push(n);
      j++;
    } else {
      if (o.components !== n.components || !sameStrs(o.strs, n.strs)) body.spawns.push(n);
      else {
        const wraps = schema.layout(n.components).wraps;
        const bits = [];
        const deltas = [];
        n.nums.forEach((v, k) => {
          if (o.nums[k] !== v) {
            bits.push(k);
            deltas.push(fieldDelta(o.nums[k], v, wraps[k]));
          }
        });
        if (bits.length > 0) body.updates.push({ id: n.id, mask: maskOf(bits), deltas });
      }
      i++;
      j++;
    }
  }
  return body;
}

// --- Random schemas and worlds ---

const STRINGS = ['', 'ann', 'Zoë ✓', '🎯 gg', 'a'.repeat(40), 'bo', 'x'];

/** A random field encoding. */
function randomEncoding(r) {
  const int = (n) => Math.floor(r() * n);
  switch (int(7)) {
    case 0: {
      const scale = [1, 4, 16, 100, 0.5][int(5)];
      return { Fixed: { scale, min: -1e6, max: 1e6 } };
    }
    case 1:
      return { Angle: { bits: 1 + int(16) } };
    case 2:
      return r() < 0.5 ? { Int: { min: -2147483648, max: 2147483647 } } : { Int: { min: 0, max: 255 } };
    case 3:
      return 'Bool';
    case 4:
      return { Enum: { variants: ['a', 'b', 'c'].slice(0, 1 + int(3)) } };
    case 5:
      return 'Player';
    default:
      return { Str: { max_bytes: 64 } };
  }
}

/**
 * A random valid schema: usually a few components, sometimes many (up to 64, so
 * component sets pass 32 bits), sometimes one wide component (over 32 numeric values, so
 * field masks pass 32 bits).
 */
export function randomSchema(r) {
  const int = (n) => Math.floor(r() * n);
  const shape = int(4);
  const count = shape === 0 ? 33 + int(32) : 1 + int(6);
  const components = [];
  let nums = 0;
  for (let c = 0; c < count; c++) {
    const fields = [];
    const n = shape === 1 && c === 0 ? 33 + int(20) : shape === 0 ? int(2) : int(5);
    for (let f = 0; f < n; f++) {
      let enc = randomEncoding(r);
      if (!isStr(enc)) {
        if (nums >= 64) enc = { Str: { max_bytes: 8 } };
        else nums += 1;
      }
      fields.push({ name: `f${f}`, encoding: enc });
    }
    components.push({ name: `C${c}`, fields });
  }
  const withPos = components[0].fields.filter((f) => !isStr(f.encoding));
  const position = withPos.length >= 2 ? { component: 'C0', x: withPos[0].name, y: withPos[1].name } : null;
  return new Schema({
    game: 'random',
    components,
    position,
    input: [{ name: 'buttons', prim: 'U8' }],
    events: [],
    params: [{ name: 'width', value: 100 }],
  });
}

/** A random value for a numeric field (angles within their turn, so wraps reproduce). */
function randomNum(r, enc) {
  const w = wrapBits(enc);
  if (w > 0) return Math.floor(r() * 2 ** w);
  const k = r();
  if (k < 0.05) return 2147483647;
  if (k < 0.1) return -2147483648;
  if (k < 0.5) return Math.floor(r() * 400) - 200;
  return (Math.floor(r() * 2 ** 32) | 0);
}

/** A random entity of `schema` with id `id`. */
export function randomEntity(r, schema, id) {
  const n = schema.componentCount;
  const bits = [];
  for (let c = 0; c < n; c++) if (r() < 0.5 || (c === 0 && r() < 0.5)) bits.push(c);
  const components = maskOf(bits);
  const nums = [];
  const strs = [];
  for (const c of bits) {
    for (const f of schema.def.components[c].fields) {
      if (isStr(f.encoding)) strs.push(STRINGS[Math.floor(r() * STRINGS.length)]);
      else nums.push(randomNum(r, f.encoding));
    }
  }
  return { id, components, nums, strs };
}

/** The encodings of an entity's numeric values, in order. */
function numEncodings(schema, e) {
  const out = [];
  for (const c of schema.layout(e.components).components) {
    for (const f of schema.def.components[c].fields) if (!isStr(f.encoding)) out.push(f.encoding);
  }
  return out;
}

/** A random world of up to `size` entities with random (sometimes huge) id gaps. */
export function randomWorld(r, schema, size) {
  const out = [];
  let id = Math.floor(r() * 3);
  for (let k = Math.floor(r() * size); k > 0; k--) {
    out.push(randomEntity(r, schema, id));
    id += 1 + (r() < 0.1 ? Math.floor(r() * 100000) : r() < 0.02 ? 2 ** 31 : Math.floor(r() * 3));
    if (id > 0xffffffff) break;
  }
  return out;
}

/** `world` changed at random: moves, wraps, respawns, component changes, despawns, spawns. */
export function mutateWorld(r, schema, world) {
  const out = [];
  let maxId = 0;
  for (const e of world) {
    maxId = Math.max(maxId, e.id);
    const k = r();
    if (k < 0.1) continue; // despawned
    if (k < 0.15) {
      out.push(randomEntity(r, schema, e.id)); // replaced (new components or strings)
      continue;
    }
    if (k < 0.2 && e.strs.length > 0) {
      out.push({ ...e, strs: e.strs.map((s, i) => (i === 0 ? `${s}!` : s)) });
      continue;
    }
    const encs = numEncodings(schema, e);
    const nums = e.nums.map((v, i) => {
      if (r() < 0.6) return v;
      const w = wrapBits(encs[i]);
      if (w > 0) return (v + Math.floor(r() * 2 ** w)) & ((1 << w) - 1);
      return r() < 0.8 ? (v + Math.floor(r() * 64) - 32) | 0 : randomNum(r, encs[i]);
    });
    out.push({ ...e, nums });
  }
  for (let k = Math.floor(r() * 4); k > 0 && maxId < 0xfffffff0; k--) out.push(randomEntity(r, schema, (maxId += 1 + Math.floor(r() * 300))));
  return out;
}

// --- The built-in games' schema ---

const POS = { Fixed: { scale: 16, min: -100000, max: 100000 } };

/** The schema the server's demo game sends (arena and cubes differ in a few parts). */
export function demoSchemaDef({ game = 'demo', speed = 240 } = {}) {
  const components = [
    { name: 'Body', fields: [{ name: 'x', encoding: POS }, { name: 'y', encoding: POS }, { name: 'angle', encoding: { Angle: { bits: 8 } } }] },
    {
      name: 'Player',
      fields: [
        { name: 'owner', encoding: 'Player' },
        { name: 'name', encoding: { Str: { max_bytes: 64 } } },
        { name: 'score', encoding: { Int: { min: -2147483648, max: 2147483647 } } },
        { name: 'hp', encoding: { Int: { min: 0, max: 255 } } },
      ],
    },
    { name: 'Orb', fields: [{ name: 'hp', encoding: { Int: { min: 0, max: 255 } } }] },
    { name: 'Shot', fields: [{ name: 'owner', encoding: 'Player' }] },
  ];
  if (game === 'cubes') components.splice(2, 2, { name: 'Cube', fields: [] });
  const params = [{ name: 'width', value: 2000 }, { name: 'height', value: 1200 }];
  if (speed !== null) params.push({ name: 'player_speed', value: speed });
  if (game === 'demo') params.push({ name: 'player_radius', value: 18 }, { name: 'orb_radius', value: 14 });
  return {
    game,
    components,
    position: { component: 'Body', x: 'x', y: 'y' },
    input: [{ name: 'buttons', prim: 'U8' }, { name: 'aim', prim: 'U16' }],
    events: game === 'demo' ? [{ name: 'Knockout', fields: [{ name: 'by', prim: 'U32' }, { name: 'victim', prim: 'U32' }] }] : [],
    params,
  };
}

/** A demo player's entity: Body + Player (owner is the player id). */
export function demoPlayer(id, owner, name, x, y, { score = 0, hp = 3, angle = 0 } = {}) {
  return { id, components: 0b11, nums: [Math.round(x * 16), Math.round(y * 16), angle, owner + 1, score, hp], strs: [name] };
}

/** A demo orb: Body + Orb. */
export function demoOrb(id, x, y, hp = 1) {
  return { id, components: 0b101, nums: [Math.round(x * 16), Math.round(y * 16), 0, hp], strs: [] };
}
