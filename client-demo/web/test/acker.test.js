// Acks ride on inputs: the first snapshot is acked at once, inputs carry every newer tick,
// and a standalone Ack goes out only after ACK_GRACE_MS with nothing carrying the newest.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ACK_GRACE_MS, Acker, UNACKED_LIMIT } from '../js/acker.js';

/** Applies `tick` at `now` and returns what a standalone Ack would carry then, or null. */
function apply(a, tick, now) {
  a.onApplied(tick);
  return a.due(now);
}

test('inputs carry the newest applied tick and standalone acks wait out the grace', () => {
  const a = new Acker();
  assert.equal(a.carry(0), null, 'an input before any snapshot carries no ack');
  assert.equal(apply(a, 100, 0), 100, 'the first snapshot is acked at once');
  // Inputs every 50 ms between snapshots every 33 ms: never a standalone Ack.
  assert.equal(apply(a, 101, 33), null);
  assert.equal(a.carry(50), 101);
  assert.equal(apply(a, 102, 66), null);
  assert.equal(apply(a, 103, 100), null);
  assert.equal(a.carry(100), 103);
  // No more inputs: the next tick waits until the grace has passed since 100 ms.
  assert.equal(apply(a, 104, 133), null);
  assert.equal(apply(a, 105, 100 + ACK_GRACE_MS - 1), null);
  assert.equal(apply(a, 106, 100 + ACK_GRACE_MS), 106);
  // A tick already carried is never acked again.
  assert.equal(apply(a, 106, 1000), null);
});

test('a burst right after an ack is acked by the deadline, with no snapshot to prompt it', () => {
  const a = new Acker();
  assert.equal(apply(a, 107, 1000), 107);
  assert.equal(apply(a, 108, 1010), null);
  assert.equal(apply(a, 109, 1011), null);
  assert.equal(a.waitMs(1011), ACK_GRACE_MS - 11);
  assert.equal(a.due(1000 + ACK_GRACE_MS - 1), null);
  assert.equal(a.due(1000 + ACK_GRACE_MS), 109);
  assert.equal(a.waitMs(2000), null, 'nothing left to ack');
  // A new connection acks its first snapshot at once again.
  a.reset();
  assert.equal(a.waitMs(3000), null);
  assert.equal(apply(a, 110, 3000), 110);
});

test('a burst is acked every few snapshots, however fast it is read', () => {
  const a = new Acker();
  assert.equal(apply(a, 1, 0), 1);
  const acked = [];
  for (let t = 2; t <= 13; t++) {
    const ack = apply(a, t, 1);
    if (ack !== null) acked.push(ack);
  }
  assert.deepEqual(acked, [1 + UNACKED_LIMIT, 1 + 2 * UNACKED_LIMIT, 1 + 3 * UNACKED_LIMIT]);
});
