// The netcode against a simulated server and network (netsim.js): prediction answers a
// key on the next frame and never pulls the player back, whatever the latency;
// interpolation moves remote entities at their real speed without stalls; the playout
// clock's delay follows the jitter; the interpolation track handles rests and teleports;
// schema-driven snapshots reach the tracks through the demo adapter as flat entities.
// (Reconnect and resume are exercised end to end in game.test.js.)

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ownMotion, remoteMotion, simulate } from './netsim.js';
import { PlayoutClock } from '../js/clock.js';
import { Interp, Track } from '../js/interp.js';
import { Mirror } from '../js/mirror.js';
import { FlatView } from '../js/flat.js';
import { Schema } from '../js/schema.js';
import { demoAdapter } from '../js/demo.js';
import { genericAdapter } from '../js/generic.js';
import { decodeServer, encodeServer } from '../js/codec.js';
import { demoOrb, demoPlayer, demoSchemaDef, diff } from './model.js';

const RIGHT = 8;
const DOWN = 2;

function play(net, seed) {
  const press = 1500 + seed * 7.3;
  const release = press + 1000 + seed * 3.1;
  const keys = [[press, RIGHT], [release, 0], [release + 600, DOWN], [release + 900, DOWN | RIGHT], [release + 1300, 0]];
  const r = simulate({ ...net, seed, phase: seed * 4.1, keys, endMs: release + 2500 });
  return { r, own: ownMotion(r.frames, press), remote: remoteMotion(r.frames, 1000) };
}

for (const [name, net, maxBack, maxRemote] of [
  ['a local server', { up: 0.5, down: 0.5 }, 0.25, 1.15],
  ['100 ms each way', { up: 100, down: 100 }, 0.25, 1.15],
  ['100 ms each way at 16 fps', { up: 100, down: 100, frameMs: 60 }, 0.25, 1.35],
  ['100 ms ± 30 ms jitter', { up: 100, down: 100, jitterUp: 30, jitterDown: 30 }, 1.5, 1.2],
  ['stalls of 150 and 400 ms', { up: 20, down: 20, stalls: [[1800, 150], [3000, 400]] }, 0.25, 1.45],
]) {
  test(`prediction and interpolation over ${name}`, () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { r, own, remote } = play(net, seed);
      assert.equal(own.framesToMove, 0, `seed ${seed}: the player moves on the first frame after the press`);
      assert.ok(own.backwards <= maxBack, `seed ${seed}: the player stepped back ${own.backwards.toFixed(2)} units`);
      assert.ok(Math.abs(own.last[0] - r.finalServer.x) < 0.1 && Math.abs(own.last[1] - r.finalServer.y) < 0.1,
        `seed ${seed}: at rest the drawn player is where the server has it (${own.last} vs ${JSON.stringify(r.finalServer)})`);
      assert.equal(r.predictor.snaps, 0, `seed ${seed}: no correction was big enough to snap`);
      assert.ok(remote.maxRatio <= maxRemote, `seed ${seed}: a remote step was ${remote.maxRatio.toFixed(2)}× its speed`);
      assert.equal(remote.stalls, 0, `seed ${seed}: a moving remote entity froze for a frame`);
    }
  });
}

test('the playout delay grows with jitter and comes back down when it goes', () => {
  const clock = new PlayoutClock(1000 / 30);
  let t = 0;
  for (let k = 1; k <= 200; k++) clock.onSnapshot(k, (t = k * (1000 / 30)) + 50);
  const calm = clock.delayMs;
  assert.ok(calm < 45, `steady arrivals need about one tick of delay, got ${calm}`);
  for (let k = 201; k <= 400; k++) clock.onSnapshot(k, k * (1000 / 30) + 50 + (k % 3 === 0 ? 60 : 0));
  assert.ok(clock.delayMs > 85, `60 ms late arrivals raise the delay past them, got ${clock.delayMs}`);
  for (let k = 401; k <= 900; k++) clock.onSnapshot(k, k * (1000 / 30) + 50);
  assert.ok(clock.delayMs < 45, `and it settles back, got ${clock.delayMs}`);
  // The render tick follows the target smoothly and never overtakes the newest tick.
  let r = clock.advance(t, 16);
  for (let i = 0; i < 100; i++) {
    const next = clock.advance((t += 16), 16);
    assert.ok(next > r && next - r < (16 / (1000 / 30)) * 1.11, 'time moves forward at most 10 % fast');
    r = next;
  }
});

test('an entity at rest waits, then moves; a teleport is a cut, not a slide', () => {
  const e = (x) => ({ id: 1, x: x * 16, y: 0, angle: 0 });
  const t = new Track(e(0), 10, -Infinity);
  // Silent (at rest) through tick 19, then it moved by tick 20.
  t.push(20, e(8), 19);
  t.sampleAt(15);
  assert.equal(t.x, 0, 'held still while the snapshots said nothing');
  t.sampleAt(19.5);
  assert.equal(t.x, 4, 'moved only during the last tick');
  t.push(21, e(1000), 20);
  t.sampleAt(20.5);
  assert.equal(t.x, 8, 'no slide across a teleport');
  t.sampleAt(21);
  assert.equal(t.x, 1000);
  t.prune(21);
  assert.equal(t.samples.length, 1);
});

test('schema-driven snapshots reach the interpolation as flat entities, moves and cuts included', () => {
  const schema = new Schema(demoSchemaDef());
  const adapter = demoAdapter(schema);
  assert.ok(adapter !== null);
  const mirror = new Mirror(schema);
  const view = new FlatView(adapter);
  const interp = new Interp();
  let held = [];
  const step = (tick, baseline, world) => {
    const bytes = encodeServer({ type: 'Snapshot', header: { tick, baseline, input_ack: 0 }, body: diff(schema, held, world) });
    const msg = decodeServer(bytes);
    const flat = view.apply(mirror.apply(msg.header.tick, msg.header.baseline, msg.body), mirror);
    interp.onSnapshot(tick, flat, view);
    held = world;
    return flat;
  };
  step(10, null, [demoPlayer(1, 0, 'ann', 100, 100, { angle: 250 }), demoOrb(2, 50, 50)]);
  assert.equal(interp.tracks.size, 2);
  assert.equal(interp.tracks.get(1).e.name, 'ann');
  // At rest through tick 14 (empty deltas), then a step to 108 and a turn across zero.
  for (let k = 11; k <= 14; k++) assert.equal(step(k, k - 1, held).updated.length, 0);
  let c = step(15, 14, [demoPlayer(1, 0, 'ann', 108, 100, { angle: 4 }), demoOrb(2, 50, 50)]);
  assert.deepEqual(c.updated.map((u) => [u.now.id, u.moved]), [[1, true]]);
  const t = interp.tracks.get(1);
  t.sampleAt(14.5);
  assert.equal(t.x, 104, 'held still, then moved during the last tick');
  assert.ok(t.a > 250 || t.a < 4, `the angle turns the short way across zero (${t.a})`);
  // A score change is an update that does not move; a respawn far away is a cut.
  c = step(16, 15, [demoPlayer(1, 0, 'ann', 108, 100, { angle: 4, score: 5 }), demoOrb(2, 50, 50)]);
  assert.deepEqual(c.updated.map((u) => [u.now.score, u.moved]), [[5, false]]);
  step(17, 16, [demoPlayer(1, 0, 'ann', 1900, 1100, { angle: 4, score: 5 }), demoOrb(2, 50, 50)]);
  t.sampleAt(16.5);
  assert.equal(t.x, 108, 'no slide across a teleport');
  // The orb goes: its track is kept dying until the render tick passes it.
  c = step(18, 17, [held[0]]);
  assert.deepEqual(c.despawned.map((e) => e.kind), ['Orb']);
  assert.equal(interp.dying.length, 1);
  interp.retire(18);
  assert.equal(interp.dying.length, 0);
  // The generic adapter reads the same snapshots by the schema alone, in the same units.
  const g = genericAdapter(schema).flat(mirror.get(1));
  const d = adapter.flat(mirror.get(1));
  assert.deepEqual([g.x, g.y, g.owner, g.name, g.score, g.hp], [d.x, d.y, d.owner, d.name, d.score, d.hp]);
});

test('a schema not shaped like the built-in games gets no demo adapter', () => {
  const def = demoSchemaDef();
  def.components[0].fields[2].encoding = { Int: { min: 0, max: 255 } };
  assert.equal(demoAdapter(new Schema(def)), null);
  const noAim = demoSchemaDef();
  noAim.input = [{ name: 'buttons', prim: 'U8' }];
  assert.equal(demoAdapter(new Schema(noAim)), null);
});
