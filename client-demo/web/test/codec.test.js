// Checks the browser codec, schema, layouts, checksum and mirror against the golden
// vectors the Rust codec wrote (shared/tests/golden/vectors.json): every vector decodes
// to its expected value and re-encodes to the same bytes, the Welcome's schema decodes to
// the golden schema, inputs encode and events decode by the schema's layouts, the
// snapshot chain applies with verified checksums, bad schemas and bad snapshots are
// refused without changing anything, and hostile bytes only ever raise CodecError (or,
// applied, ApplyError).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CodecError, Reader, Writer, u64Value } from '../js/bincode.js';
import { readBody, writeBody } from '../js/snapshot-body.js';
import { packUpdates, unpackUpdates } from '../js/packed.js';
import { decodeClient, decodeServer, encodeClient, encodeServer } from '../js/codec.js';
import { entityHash } from '../js/checksum.js';
import { ApplyError, Mirror } from '../js/mirror.js';
import { Schema } from '../js/schema.js';
import { LayoutError, decodeEvent, decodeFields, encodeFields, inputWriter } from '../js/layout.js';
import { hex, plain, rng, unhex } from './model.js';
import { PROTOCOL_VERSION } from '../js/net.js';

const vectorsUrl = new URL('../../../shared/tests/golden/vectors.json', import.meta.url);
const golden = JSON.parse(readFileSync(fileURLToPath(vectorsUrl), 'utf8'));

/** The encoder's input from a JSON vector: u64 strings back to BigInt. */
const fromJson = (v) => {
  const out = { ...v };
  if (typeof out.client_time === 'string') out.client_time = BigInt(out.client_time);
  return out;
};

/** A golden entity (JSON form) as the mirror holds it. */
const entity = (j) => ({ id: j.id, components: u64Value(j.components), nums: j.nums, strs: j.strs });

const byName = new Map(golden.server.map((v) => [v.name, v]));
const decoded = (name) => decodeServer(unhex(byName.get(name).hex));
const schema = decoded('welcome').schema;

test("the vectors are for the page's protocol and cover every message, enum variant, encoding and input type", () => {
  assert.equal(golden.protocol_version, PROTOCOL_VERSION);
  const seen = new Set([
    ...golden.client.map((v) => `client/${v.value.type}`),
    ...golden.server.map((v) => `server/${v.value.type}`),
    ...golden.server.filter((v) => v.value.type === 'Bye').map((v) => `bye/${v.value.code}`),
    ...golden.schema.components.flatMap((c) => c.fields.map((f) => `encoding/${typeof f.encoding === 'string' ? f.encoding : Object.keys(f.encoding)[0]}`)),
    ...golden.schema.input.map((f) => `prim/${f.prim}`),
  ]);
  for (const t of [
    'client/Hello', 'client/Input', 'client/Ack', 'client/Ping', 'client/Chat',
    'server/Welcome', 'server/Snapshot', 'server/Pong', 'server/Chat', 'server/Event', 'server/Bye',
    'server/Joined', 'server/Left',
    'bye/ServerShutdown', 'bye/ProtocolMismatch', 'bye/Malformed', 'bye/ServerFull', 'bye/AuthFailed',
    'bye/Timeout', 'bye/RateLimited', 'bye/TooLarge', 'bye/Replaced', 'bye/InternalError', 'bye/OriginRefused',
    'encoding/Fixed', 'encoding/Angle', 'encoding/Int', 'encoding/Bool', 'encoding/Enum', 'encoding/Player', 'encoding/Str',
    'prim/U8', 'prim/U16', 'prim/U32', 'prim/U64', 'prim/I32', 'prim/I64', 'prim/Bool', 'prim/F32', 'prim/Str',
  ]) {
    assert.ok(seen.has(t), `no golden vector for ${t}`);
  }
});

for (const v of golden.client) {
  test(`client vector ${v.name} decodes and re-encodes byte for byte`, () => {
    const bytes = unhex(v.hex);
    const msg = decodeClient(bytes);
    assert.deepEqual(plain(msg), v.value);
    assert.equal(hex(encodeClient(msg)), v.hex);
    assert.equal(hex(encodeClient(fromJson(v.value))), v.hex);
  });
}

for (const v of golden.server) {
  test(`server vector ${v.name} decodes to its value and re-encodes byte for byte`, () => {
    const msg = decodeServer(unhex(v.hex));
    assert.deepEqual(plain(msg), v.value);
    assert.equal(hex(encodeServer(msg)), v.hex);
  });
}

test("the Welcome's schema decodes to the golden schema, checked, with its tables", () => {
  assert.ok(schema instanceof Schema);
  assert.deepEqual(plain(schema), golden.schema);
  assert.deepEqual(plain(decoded('welcome').schema), byName.get('welcome').value.schema);
  assert.equal(schema.game, 'golden');
  assert.equal(schema.param('width'), 2000);
  assert.equal(schema.param('player_speed'), 240.5);
  assert.equal(schema.param('height'), undefined);
  assert.deepEqual(schema.position, { c: 0, x: 0, y: 1 });
  // Body 3 numbers; Card 4 numbers and 2 strings; Marker none; Turret one 12-bit angle.
  const l = schema.layout(0b1111);
  assert.deepEqual([l.valid, l.nums, l.strs], [true, 8, 2]);
  assert.deepEqual(l.wraps, [0, 0, 8, 0, 0, 0, 0, 12]);
  assert.deepEqual(l.offsets[3], [7, 2]);
  assert.equal(schema.layout(0b10000).valid, false);
  const e = entity(golden.mirror_chain.final_entities[1]);
  const shown = schema.read(e);
  assert.equal(shown.Body.x, -2);
  assert.equal(shown.Card.owner, 2);
  assert.equal(shown.Card.team, 'green');
  assert.equal(shown.Card.name, 'Zoë ✓');
  assert.equal(shown.Turret.heading, 0);
  assert.deepEqual(schema.positionOf(e), [-32, -301]);
});

test('inputs encode by the schema\'s input layout byte for byte, and decode back', () => {
  for (const v of golden.inputs) {
    assert.equal(hex(encodeFields(schema.def.input, v.values)), v.hex, v.name);
    assert.deepEqual(plain(decodeFields(schema.def.input, unhex(v.hex))), v.values, v.name);
    // The same bytes as the Input message of the same name carries.
    const msg = golden.client.find((c) => c.name === v.name);
    assert.equal(hex(Uint8Array.from(msg.value.data)), v.hex);
  }
  // The writer the page uses: named fields, the rest sent as zeros.
  const w = inputWriter(schema.def.input);
  assert.ok(w.hasButtons && w.hasAim);
  assert.equal(hex(w.encode({ buttons: 9 })), golden.inputs.find((v) => v.name === 'input_small').hex);
  assert.throws(() => encodeFields(schema.def.input, [256, 0, 0, 0, 0, 0, false, 0, '']), LayoutError);
  assert.throws(() => encodeFields(schema.def.input, [1]), LayoutError);
  assert.throws(() => encodeFields(schema.def.input, [1, 0, 0, 0, 0, 0, 'yes', 0, '']), LayoutError);
});

test("events decode by the schema's event layout", () => {
  for (const v of golden.events) {
    const ev = decodeEvent(schema.def.events, unhex(v.hex));
    assert.equal(ev.variant, v.variant, v.name);
    assert.deepEqual(plain(ev.values), v.values, v.name);
    // The Event message of the same name carries these bytes.
    assert.equal(hex(decoded(v.name).data), v.hex);
  }
  const ko = decodeEvent(schema.def.events, unhex(golden.events[0].hex));
  assert.deepEqual(ko.fields, { by: 1, victim: 70000 });
  assert.throws(() => decodeEvent(schema.def.events, Uint8Array.of(9)), CodecError);
  assert.throws(() => decodeEvent(schema.def.events, Uint8Array.of(0, 1, 2, 3)), CodecError);
});

test('every entity hash matches the Rust checksum, and the pinned vector holds', () => {
  for (const { entity: j, hash } of golden.entity_hashes) assert.equal(entityHash(entity(j)), hash, JSON.stringify(j));
  // The known vector pinned in shared/src/checksum.rs.
  assert.equal(entityHash({ id: 7, components: 0b101, nums: [160, 0, 7], strs: ['ann'] }), 0xdafcca73);
  // A component set past 32 bits hashes its high word (the same value as a BigInt or not).
  const lo = { id: 1, components: 5, nums: [], strs: [] };
  const hi = { id: 1, components: (1n << 40n) | 5n, nums: [], strs: [] };
  assert.notEqual(entityHash(lo), entityHash(hi));
  assert.equal(entityHash({ ...lo, components: u64Value(5n) }), entityHash(lo));
});

test('the snapshot chain applies with verified checksums and ends at the server state', () => {
  const m = new Mirror(schema);
  for (const step of golden.mirror_chain.steps) {
    const msg = decoded(step);
    m.apply(msg.header.tick, msg.header.baseline, msg.body);
  }
  assert.equal(m.tick, golden.mirror_chain.final_tick);
  assert.equal(m.checksum(), golden.mirror_chain.final_checksum);
  assert.deepEqual(plain(m.sorted()), golden.mirror_chain.final_entities);
});

test('a wrong baseline, an unknown or duplicate id, a bad shape or a bad checksum is refused and changes nothing', () => {
  const full = decoded('snapshot_full');
  const delta = decoded('snapshot_delta');
  const m = new Mirror(schema);
  assert.throws(() => m.apply(delta.header.tick, delta.header.baseline, delta.body), (e) => e instanceof ApplyError && e.kind === 'WrongBaseline');
  assert.equal(m.tick, null);
  m.apply(full.header.tick, null, full.body);
  const before = plain(m.sorted());
  const sum = m.checksum();
  const { tick, baseline } = delta.header;
  const body = delta.body;
  const bad = [
    ['ChecksumMismatch', { ...body, checksum: (body.checksum ^ 1) >>> 0 }],
    ['UnknownEntity', { ...body, updates: [...body.updates, { id: 999, mask: 1, deltas: [1] }] }],
    ['UnknownEntity', { ...body, despawns: [...body.despawns, 999] }],
    ['Duplicate', { ...body, despawns: [250, 250] }],
    ['Duplicate', { ...body, spawns: [...body.spawns, body.spawns[0]] }],
    ['Shape', { ...body, spawns: [...body.spawns, { id: 5000, components: 1, nums: [1, 2], strs: [] }] }],
    ['Shape', { ...body, spawns: [...body.spawns, { id: 5000, components: 1, nums: [1, 2, 3], strs: ['x'] }] }],
    ['Shape', { ...body, spawns: [...body.spawns, { id: 5000, components: 0b10001, nums: [1, 2, 3], strs: [] }] }],
    // Entity 2 becomes Body+Turret (4 numbers) in this body; bit 4 is past them.
    ['Shape', { ...body, updates: [...body.updates, { id: 1000000, mask: 0b1000, deltas: [1] }] }],
    ['Shape', { ...body, updates: [{ id: 0, mask: 2n ** 40n, deltas: [1] }] }],
  ];
  for (const [kind, b] of bad) {
    assert.throws(() => m.apply(tick, baseline, b), (e) => e instanceof ApplyError && e.kind === kind, kind);
    assert.deepEqual(plain(m.sorted()), before, `${kind} left the mirror as it was`);
    assert.equal(m.checksum(), sum);
    assert.equal(m.tick, full.header.tick);
  }
  // A failed full snapshot keeps the old state too.
  assert.throws(() => m.apply(5, null, { ...full.body, checksum: 1 }), ApplyError);
  assert.deepEqual(plain(m.sorted()), before);
  m.apply(tick, baseline, body);
  assert.equal(m.tick, tick);
});

test('an invalid schema in Welcome is refused as malformed', () => {
  const welcome = decoded('welcome');
  const def = () => JSON.parse(JSON.stringify(golden.schema));
  const cases = {
    'duplicate component': (d) => d.components.push(d.components[0]),
    'angle bits 0': (d) => { d.components[0].fields[2].encoding = { Angle: { bits: 0 } }; },
    'angle bits 17': (d) => { d.components[0].fields[2].encoding = { Angle: { bits: 17 } }; },
    'fixed scale 0': (d) => { d.components[0].fields[0].encoding = { Fixed: { scale: 0, min: 0, max: 1 } }; },
    'fixed min > max': (d) => { d.components[0].fields[0].encoding = { Fixed: { scale: 1, min: 2, max: 1 } }; },
    'fixed range over 32 bits': (d) => { d.components[0].fields[0].encoding = { Fixed: { scale: 1024, min: 0, max: 3e6 } }; },
    'int min > max': (d) => { d.components[1].fields[2].encoding = { Int: { min: 1, max: 0 } }; },
    'empty enum': (d) => { d.components[1].fields[4].encoding = { Enum: { variants: [] } }; },
    'position on a string': (d) => { d.position.x = 'name'; d.position.component = 'Card'; },
    'position on a missing component': (d) => { d.position.component = 'Nope'; },
    'position on a missing field': (d) => { d.position.y = 'z'; },
    '65 components': (d) => { for (let i = 0; i < 61; i++) d.components.push({ name: `M${i}`, fields: [] }); },
    '65 numeric fields': (d) => { d.components.push({ name: 'Wide', fields: Array.from({ length: 57 }, (_, i) => ({ name: `f${i}`, encoding: 'Bool' })) }); },
  };
  for (const [what, edit] of Object.entries(cases)) {
    const d = def();
    edit(d);
    const bytes = encodeServer({ ...welcome, schema: d });
    assert.throws(() => decodeServer(bytes), CodecError, what);
  }
  // At the limits it is fine: 64 components, 64 numeric fields.
  const d = def();
  for (let i = 0; i < 60; i++) d.components.push({ name: `M${i}`, fields: i < 56 ? [{ name: 'b', encoding: 'Bool' }] : [] });
  assert.equal(decodeServer(encodeServer({ ...welcome, schema: d })).schema.componentCount, 64);
});

test('every strict prefix and any trailing byte is refused', () => {
  for (const [side, decode] of [['client', decodeClient], ['server', decodeServer]]) {
    for (const v of golden[side]) {
      const bytes = unhex(v.hex);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decode(bytes.subarray(0, n)), CodecError, `${v.name} cut at ${n}`);
      }
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      assert.throws(() => decode(longer), CodecError, `${v.name} with a trailing byte`);
    }
  }
  for (const v of golden.inputs) {
    const bytes = unhex(v.hex);
    for (let n = 0; n < bytes.length; n++) assert.throws(() => decodeFields(schema.def.input, bytes.subarray(0, n)), CodecError);
  }
});

test('hostile bytes only ever raise CodecError, and applied only ApplyError', () => {
  const rand = rng(12345);
  const int = (n) => Math.floor(rand() * n);
  const samples = golden.server.map((v) => unhex(v.hex)).concat(golden.client.map((v) => unhex(v.hex)));
  const check = (fn, what, ...kinds) => {
    try {
      fn();
    } catch (e) {
      assert.ok(kinds.some((k) => e instanceof k), `${e?.stack ?? e} for ${what}`);
    }
  };
  const m = new Mirror(schema);
  const full = decoded('snapshot_full');
  m.apply(full.header.tick, null, full.body);
  for (let i = 0; i < 20000; i++) {
    let bytes;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: int(64) }, () => int(256));
    } else {
      bytes = samples[int(samples.length)].slice();
      for (let k = int(4); k >= 0; k--) bytes[int(bytes.length)] ^= 1 << int(8);
    }
    for (const decode of [decodeServer, decodeClient]) check(() => decode(bytes), hex(bytes), CodecError);
    check(() => decodeEvent(schema.def.events, bytes), hex(bytes), CodecError);
    check(() => decodeFields(schema.def.input, bytes), hex(bytes), CodecError);
    let msg = null;
    try {
      msg = decodeServer(bytes);
    } catch {
      // Counted above.
    }
    if (msg !== null && msg.type === 'Snapshot') {
      const before = m.checksum();
      check(() => m.apply(msg.header.tick, msg.header.baseline, msg.body), hex(bytes), ApplyError);
      if (m.tick !== msg.header.tick) assert.equal(m.checksum(), before);
      else m.apply(full.header.tick, null, full.body);
    }
  }
});

test('huge length prefixes are refused before any allocation', () => {
  // 2^62, as a u64 varint.
  const huge = [253, 0, 0, 0, 0, 0, 0, 0, 0x40];
  const big32 = [252, 0xff, 0xff, 0xff, 0x7f];
  for (const len of [huge, big32]) {
    // Chat text, an Input's data, an Event's data, a Welcome's game name and components,
    // a snapshot's spawns, updates, an entity's nums.
    for (const bytes of [
      [4, ...len],
      [1, 1, ...len],
      [4, ...len],
      [0, 1, 0, 30, 0, 0, ...len],
      [0, 1, 0, 30, 0, 0, 1, 0x61, ...len],
      [1, 1, 0, 0, ...len],
      [1, 1, 0, 0, 0, ...len],
      [1, 1, 0, 0, 1, 7, 1, ...len],
    ]) {
      const b = Uint8Array.from(bytes);
      assert.throws(() => decodeServer(b), CodecError, hex(b));
      assert.throws(() => decodeClient(b), CodecError, hex(b));
    }
  }
  // An update list whose length is fine but whose entries claim more than is there.
  assert.throws(() => decodeServer(Uint8Array.of(1, 1, 0, 0, 0, 3, 1, 3, 5, 0, 0)), CodecError);
  // Varint widths the type does not allow.
  assert.throws(() => decodeClient(Uint8Array.of(2, 253, 0, 0, 0, 0, 0, 0, 0, 0)), CodecError);
  assert.throws(() => decodeClient(Uint8Array.of(0, 252, 2, 0, 0, 0, 0, 0, 0)), CodecError);
});

test('an update of the last net id (u32::MAX) survives the wire, as in Rust', () => {
  // The first id gap is id + 1, which for u32::MAX is 2^32 (found by the Rust fuzzer).
  for (const ids of [[0xffffffff], [0, 0xffffffff], [0xfffffffe, 0xffffffff]]) {
    const body = { spawns: [], updates: ids.map((id) => ({ id, mask: 1, deltas: [3] })), despawns: [], checksum: 0 };
    const w = new Writer();
    writeBody(w, body);
    const r = new Reader(w.b.subarray(0, w.p));
    const back = readBody(r);
    r.end();
    assert.deepEqual(back.updates.map((u) => u.id), ids);
  }
  // One past the last id is refused: one entry, one 4-bit column, a first gap of 2^32 + 1
  // (Elias gamma: 32 zeros, a one, 32 low bits), an explicit mask of 1 and its delta.
  const fields = [[1, 7], [1, 1], [1, 7], [4, 6], [0, 32], [1, 1], [1, 32], [0, 1], [1, 7], [1, 1], [2, 4]];
  const bits = fields.flatMap(([v, n]) => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** i) % 2));
  const stream = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => (stream[i >> 3] |= b << (i & 7)));
  const past = new Writer();
  past.varint(0);
  past.bytes(stream);
  past.varint(0);
  past.varint(0);
  const pastBytes = past.b.subarray(0, past.p);
  assert.throws(() => readBody(new Reader(pastBytes)), /strictly ascending/);
  // The same stream with a first gap of 2^32 is the last id, and decodes.
  fields[6] = [0, 32];
  const lastBits = fields.flatMap(([v, n]) => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** i) % 2));
  const last = new Uint8Array(Math.ceil(lastBits.length / 8));
  lastBits.forEach((b, i) => (last[i >> 3] |= b << (i & 7)));
  assert.deepEqual(unpackUpdates(last), [{ id: 0xffffffff, mask: 1, deltas: [1] }]);
});

test('bit-packed updates: a walking crowd costs under three bytes an entity; an outlier escapes', () => {
  let seed = 7;
  const next = (m) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return ((seed >>> 8) % (2 * m + 1)) - m;
  };
  const crowd = [];
  for (let id = 100; id < 600; id++) crowd.push({ id, mask: 7, deltas: [next(27), next(27), next(10)] });
  const bytes = packUpdates(crowd);
  assert.ok(bytes.length < 3 * 500, `${bytes.length} bytes`);
  assert.deepEqual(unpackUpdates(bytes), crowd);
  const outlier = crowd.map((u, i) => (i === 250 ? { ...u, deltas: [1 << 30, -(2 ** 31), 0] } : u));
  assert.ok(packUpdates(outlier).length <= bytes.length + 12);
  assert.deepEqual(unpackUpdates(packUpdates(outlier)), outlier);
  const wide = [{ id: 0, mask: 0xffffffffffffffffn, deltas: new Array(64).fill(-1) }, { id: 9, mask: 1n << 63n, deltas: [2147483647] }];
  assert.deepEqual(unpackUpdates(packUpdates(wide)), wide);
  // Every truncation of a stream is refused.
  for (let cut = 0; cut < bytes.length; cut++) assert.throws(() => unpackUpdates(bytes.subarray(0, cut)), CodecError);
});
