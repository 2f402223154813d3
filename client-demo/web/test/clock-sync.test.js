// The browser's server clock estimate (js/clock-sync.js) against a modelled server: at
// 100 ms ± 20 ms each way, pinged every 250 ms, the estimated tick stays within one tick
// of the server's own, and the offset within a few milliseconds.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ServerClock, WINDOW } from '../js/clock-sync.js';
import { rng } from './netsim.js';

const TICK_MS = 1000 / 30;

/** Pings a server whose clock runs `skew` ms ahead of the page's; returns the clock and the worst tick error once the window has filled. */
function simulate({ oneWay, jitter, seed }) {
  const epoch = 1.7e12 + 12.3; // server ms at which tick 0 was published
  const skew = 1.7e12 - 5000;
  const serverNow = (local) => local + skew;
  const trueTick = (local) => Math.floor((serverNow(local) - epoch) / TICK_MS);
  const rand = rng(seed);
  const leg = () => oneWay + jitter * (2 * rand() - 1);
  const clock = new ServerClock(30);
  let worst = 0;
  for (let i = 0; i < 80; i++) {
    const sent = 5000 + i * 250;
    const atServer = sent + leg();
    const received = atServer + leg();
    clock.onPong(sent, received, trueTick(atServer), BigInt(Math.floor(serverNow(atServer))));
    if (i >= WINDOW) {
      for (let probe = received; probe < received + 250; probe += 7) {
        worst = Math.max(worst, Math.abs(Math.floor(clock.tickAt(probe)) - trueTick(probe)));
      }
    }
  }
  return { clock, worst, skew };
}

test('at 100 ms ± 20 ms the tick estimate is within one tick of the server', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { clock, worst, skew } = simulate({ oneWay: 100, jitter: 20, seed });
    assert.ok(worst <= 1, `seed ${seed}: off by ${worst} ticks`);
    assert.ok(Math.abs(clock.offsetMs - skew) < 12, `seed ${seed}: offset ${clock.offsetMs - skew} ms off`);
  }
});

test('far more jitter than the window can see through is not hidden', () => {
  // A check that the test above can fail: ±300 ms of jitter each way throws the
  // estimate several ticks off at least once.
  const worst = Math.max(...[1, 2, 3].map((seed) => simulate({ oneWay: 400, jitter: 300, seed }).worst));
  assert.ok(worst > 1, `worst ${worst}`);
});

test('nothing is estimated before a pong; impossible pongs are ignored', () => {
  const clock = new ServerClock(30);
  assert.equal(clock.tickAt(0), null);
  clock.onPong(10, 5, 3, 1000n);
  assert.equal(clock.samples.length, 0);
  clock.onPong(10, 30, 3, 1000n);
  assert.equal(clock.minRttMs(), 20);
  assert.equal(clock.offsetMs, 1000 + 10 - 30);
});
