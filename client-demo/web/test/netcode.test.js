// The netcode against a simulated server and network (netsim.js): prediction answers a
// key on the next frame and never pulls the player back, whatever the latency;
// interpolation moves remote entities at their real speed without stalls; the playout
// clock's delay follows the jitter; the interpolation track handles rests and teleports.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ownMotion, remoteMotion, simulate } from './netsim.js';
import { PlayoutClock } from '../js/clock.js';
import { Track } from '../js/interp.js';

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
