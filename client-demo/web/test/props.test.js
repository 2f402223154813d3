// Property tests of the schema-driven codec and mirror, for random schemas (every field
// encoding, component sets and field masks past 32 bits): a random world and a chain of
// random changes, each diffed by the JS port of delta.rs (test/model.js), encoded as a
// Snapshot, decoded and applied, must reproduce the target world exactly with the
// server's checksum; the schema round-trips through Welcome; a corrupted snapshot only
// ever raises CodecError or ApplyError and leaves the mirror as it was.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { CodecError } from '../js/bincode.js';
import { decodeServer, encodeServer } from '../js/codec.js';
import { ApplyError, Mirror } from '../js/mirror.js';
import { viewChecksum } from '../js/checksum.js';
import { diff, mutateWorld, plain, randomSchema, randomWorld, rng } from './model.js';

const sortById = (es) => [...es].sort((a, b) => a.id - b.id);

function snapshotBytes(tick, baseline, body) {
  return encodeServer({ type: 'Snapshot', header: { tick, baseline, input_ack: tick }, body });
}

test('random schemas round-trip through Welcome', () => {
  const r = rng(7);
  for (let i = 0; i < 200; i++) {
    const schema = randomSchema(r);
    const msg = { type: 'Welcome', room: i + 1, player: i, entity: 2 * i, spectator: i % 2 === 1, tick_hz: 30, tick: i, resume_token: `t${i}`, schema };
    const back = decodeServer(encodeServer(msg));
    assert.deepEqual(plain(back.schema), plain(schema));
    assert.equal(back.schema.componentCount, schema.componentCount);
  }
});

test('apply reproduces random worlds through random deltas, checksums verified', () => {
  const r = rng(2024);
  let wide = 0;
  let deep = 0;
  for (let run = 0; run < 150; run++) {
    const schema = randomSchema(r);
    const m = new Mirror(schema);
    let world = randomWorld(r, schema, 40);
    let tick = 100 + run;
    const first = diff(schema, [], world);
    m.apply(tick, null, decodeServer(snapshotBytes(tick, null, first)).body);
    assert.deepEqual(plain(m.sorted()), plain(sortById(world)));
    for (let step = 0; step < 12; step++) {
      const next = mutateWorld(r, schema, world);
      const body = diff(schema, world, next);
      for (const u of body.updates) {
        if (typeof u.mask === 'bigint') wide += 1;
      }
      for (const e of body.spawns) if (typeof e.components === 'bigint') deep += 1;
      const msg = decodeServer(snapshotBytes(tick + 1, tick, body));
      const change = m.apply(msg.header.tick, msg.header.baseline, msg.body);
      tick += 1;
      assert.deepEqual(plain(m.sorted()), plain(sortById(next)), `run ${run} step ${step}`);
      assert.equal(m.checksum(), viewChecksum(next));
      assert.equal(m.checksum(), body.checksum);
      assert.equal(change.updated.length, body.updates.length);
      world = next;
    }
    // A full state again, from nothing, lands on the same world.
    const again = new Mirror(schema);
    again.apply(tick, null, decodeServer(snapshotBytes(tick, null, diff(schema, [], world))).body);
    assert.deepEqual(plain(again.sorted()), plain(m.sorted()));
  }
  assert.ok(wide > 0, 'some field masks went past 32 bits');
  assert.ok(deep > 0, 'some component sets went past 32 bits');
});

test('corrupted snapshots raise only CodecError or ApplyError and change nothing', () => {
  const r = rng(99);
  let refused = 0;
  for (let run = 0; run < 60; run++) {
    const schema = randomSchema(r);
    const world = randomWorld(r, schema, 20);
    const m = new Mirror(schema);
    m.apply(1, null, diff(schema, [], world));
    const next = mutateWorld(r, schema, world);
    const bytes = snapshotBytes(2, 1, diff(schema, world, next));
    const held = plain(m.sorted());
    for (let k = 0; k < 60; k++) {
      const bad = bytes.slice();
      for (let f = Math.floor(r() * 3); f >= 0; f--) bad[Math.floor(r() * bad.length)] ^= 1 << Math.floor(r() * 8);
      try {
        const msg = decodeServer(bad);
        m.apply(msg.header.tick, msg.header.baseline, msg.body);
        // Applied (a flip the checksum cannot see, e.g. in input_ack): start over.
        m.apply(1, null, diff(schema, [], world));
      } catch (e) {
        assert.ok(e instanceof CodecError || e instanceof ApplyError, String(e?.stack ?? e));
        refused += 1;
        assert.deepEqual(plain(m.sorted()), held);
        assert.equal(m.tick, 1);
      }
    }
  }
  assert.ok(refused > 1000);
});
