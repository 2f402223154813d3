// Checks the browser codec, checksum and mirror against the golden vectors the Rust codec
// wrote (shared/tests/golden/vectors.json): every vector decodes to its expected value,
// every client message re-encodes to the same bytes, the snapshot chain applies with
// verified checksums, and hostile bytes only ever raise CodecError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CodecError, decodeClient, decodeServer, encodeClient } from '../js/codec.js';
import { entityHash } from '../js/checksum.js';
import { ApplyError, Mirror } from '../js/mirror.js';

const vectorsUrl = new URL('../../../shared/tests/golden/vectors.json', import.meta.url);
const golden = JSON.parse(readFileSync(fileURLToPath(vectorsUrl), 'utf8'));

const unhex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The JSON form of a decoded value: BigInt (u64) becomes its decimal string. */
const plain = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

/** The encoder's input from a JSON vector: u64 strings back to BigInt. */
const fromJson = (v) => {
  const out = { ...v };
  if (typeof out.client_time === 'string') out.client_time = BigInt(out.client_time);
  return out;
};

test('the vectors cover every message and enum variant', () => {
  const types = new Set([
    ...golden.client.map((v) => `client/${v.value.type}`),
    ...golden.server.map((v) => `server/${v.value.type}`),
    ...golden.server.filter((v) => v.value.type === 'Event').map((v) => `event/${v.value.event.type}`),
    ...golden.server.filter((v) => v.value.type === 'Bye').map((v) => `bye/${v.value.code}`),
    ...golden.server
      .filter((v) => v.value.type === 'Snapshot')
      .flatMap((v) => v.value.body.spawns.map((s) => `kind/${s.kind}`)),
  ]);
  for (const t of [
    'client/Hello', 'client/Input', 'client/Ack', 'client/Ping', 'client/Chat',
    'server/Welcome', 'server/Snapshot', 'server/Pong', 'server/Chat', 'server/Event', 'server/Bye',
    'event/Joined', 'event/Left', 'event/Knockout',
    'kind/Player', 'kind/Orb', 'kind/Projectile', 'kind/Cube',
    'bye/ServerShutdown', 'bye/ProtocolMismatch', 'bye/Malformed', 'bye/ServerFull', 'bye/AuthFailed',
    'bye/Timeout', 'bye/RateLimited', 'bye/TooLarge', 'bye/Replaced', 'bye/InternalError', 'bye/OriginRefused',
  ]) {
    assert.ok(types.has(t), `no golden vector for ${t}`);
  }
});

for (const v of golden.client) {
  test(`client vector ${v.name} decodes and re-encodes byte for byte`, () => {
    const bytes = unhex(v.hex);
    const decoded = decodeClient(bytes);
    assert.deepEqual(plain(decoded), v.value);
    assert.equal(hex(encodeClient(decoded)), v.hex);
    assert.equal(hex(encodeClient(fromJson(v.value))), v.hex);
  });
}

for (const v of golden.server) {
  test(`server vector ${v.name} decodes to its value`, () => {
    assert.deepEqual(plain(decodeServer(unhex(v.hex))), v.value);
  });
}

test('every entity hash matches the Rust checksum', () => {
  for (const { entity, hash } of golden.entity_hashes) assert.equal(entityHash(entity), hash, JSON.stringify(entity));
  // The known vector pinned in shared/src/checksum.rs.
  const orb = { id: 7, kind: 'Orb', owner: null, name: '', x: 160, y: 0, angle: 0, score: 0, hp: 1 };
  assert.equal(entityHash(orb), 0x1e46a0ef);
});

test('the snapshot chain applies with verified checksums and ends at the server state', () => {
  const byName = new Map(golden.server.map((v) => [v.name, v]));
  const m = new Mirror();
  for (const step of golden.mirror_chain.steps) {
    const msg = decodeServer(unhex(byName.get(step).hex));
    m.apply(msg.header.tick, msg.header.baseline, msg.body);
  }
  assert.equal(m.tick, golden.mirror_chain.final_tick);
  assert.equal(m.checksum(), golden.mirror_chain.final_checksum);
  const got = [...m.entities.values()].sort((a, b) => a.id - b.id);
  assert.deepEqual(plain(got), golden.mirror_chain.final_entities);
});

test('a wrong baseline, an unknown id or a bad checksum is refused and changes nothing', () => {
  const byName = new Map(golden.server.map((v) => [v.name, decodeServer(unhex(v.hex))]));
  const full = byName.get('snapshot_full');
  const delta = byName.get('snapshot_delta');
  const m = new Mirror();
  assert.throws(() => m.apply(delta.header.tick, delta.header.baseline, delta.body), ApplyError);
  assert.equal(m.tick, null);
  m.apply(full.header.tick, null, full.body);
  const sorted = () => plain([...m.entities.values()].sort((a, b) => a.id - b.id));
  const before = sorted();
  const sum = m.checksum();
  const bad = { ...delta.body, checksum: (delta.body.checksum ^ 1) >>> 0 };
  assert.throws(() => m.apply(delta.header.tick, delta.header.baseline, bad), (e) => e.kind === 'ChecksumMismatch');
  const ghost = { ...delta.body, updates: [...delta.body.updates, { id: 999, x: 1, y: null, angle: null, score: null, hp: null }] };
  assert.throws(() => m.apply(delta.header.tick, delta.header.baseline, ghost), (e) => e.kind === 'UnknownEntity');
  assert.deepEqual(sorted(), before);
  assert.equal(m.checksum(), sum);
  assert.equal(m.tick, full.header.tick);
  m.apply(delta.header.tick, delta.header.baseline, delta.body);
  assert.equal(m.tick, delta.header.tick);
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
});

test('hostile bytes only ever raise CodecError', () => {
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const samples = golden.server.map((v) => unhex(v.hex)).concat(golden.client.map((v) => unhex(v.hex)));
  for (let i = 0; i < 20000; i++) {
    let bytes;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: rand() % 64 }, () => rand() & 0xff);
    } else {
      bytes = samples[rand() % samples.length].slice();
      for (let k = rand() % 4; k >= 0; k--) bytes[rand() % bytes.length] ^= 1 << (rand() % 8);
    }
    for (const decode of [decodeServer, decodeClient]) {
      try {
        decode(bytes);
      } catch (e) {
        assert.ok(e instanceof CodecError, `${e} for ${hex(bytes)}`);
      }
    }
  }
  // A length claiming 2^62 items is refused before any allocation.
  const huge = new Uint8Array([4, 253, 0, 0, 0, 0, 0, 0, 0, 0x40]);
  assert.throws(() => decodeClient(huge), CodecError);
});
