// The replay bar (js/replay.js) against a fake server and fake controls: it stays hidden
// for a live server (204), shows a served replay's status, and sends the commands its
// controls make.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ReplayBar, clock } from '../js/replay.js';

/** A stand-in for one DOM element: its properties, and listeners to fire. */
function element() {
  const listeners = {};
  const classes = new Set();
  return {
    hidden: true,
    textContent: '',
    value: '',
    classList: { toggle: (c, on) => (on ? classes.add(c) : classes.delete(c)), has: (c) => classes.has(c) },
    addEventListener: (kind, f) => {
      listeners[kind] = f;
    },
    fire: (kind) => listeners[kind](),
  };
}

function bar(answer) {
  const parts = {};
  for (const id of ['replay-play', 'replay-seek', 'replay-time', 'replay-speed', 'replay-check']) parts[`#${id}`] = element();
  const root = { ...element(), querySelector: (q) => parts[q] };
  const sent = [];
  const fetcher = async (url, init) => {
    if (init?.method === 'POST') sent.push(JSON.parse(init.body));
    return answer(url, init);
  };
  globalThis.document = { activeElement: null };
  return { replay: new ReplayBar(root, fetcher), root, parts, sent };
}

const STATUS = { game: 'demo', tick_hz: 30, first: 1, last: 1801, tick: 901, seeking: null, playing: true, speed: 1, checked: 901, mismatched: 0 };
const json = (body) => ({ status: 200, ok: true, json: async () => body, text: async () => '' });

test('clock formats ticks as minutes and seconds', () => {
  assert.equal(clock(0, 30), '0:00');
  assert.equal(clock(1800, 30), '1:00');
  assert.equal(clock(95 * 30, 30), '1:35');
});

test('a live server (204) leaves the bar hidden', async () => {
  const { replay, root } = bar(async () => ({ status: 204, ok: true }));
  assert.equal(await replay.probe(), false);
  assert.equal(root.hidden, true);
});

test('a served replay shows its status and the controls send commands', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let status = { ...STATUS };
  const { replay, root, parts, sent } = bar(async () => json(status));
  assert.equal(await replay.probe(), true);
  assert.equal(root.hidden, false);
  assert.equal(parts['#replay-play'].textContent, 'Pause');
  assert.equal(parts['#replay-seek'].value, '901');
  assert.equal(parts['#replay-seek'].max, '1801');
  assert.match(parts['#replay-time'].textContent, /^0:30 \/ 1:00 · tick 901$/);
  assert.match(parts['#replay-check'].textContent, /901 ticks match/);

  parts['#replay-play'].fire('click');
  parts['#replay-seek'].value = '300';
  parts['#replay-seek'].fire('input');
  assert.match(parts['#replay-time'].textContent, /tick 300$/, 'dragging shows where it would go');
  parts['#replay-seek'].fire('change');
  parts['#replay-speed'].value = '4';
  parts['#replay-speed'].fire('change');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [{ playing: false }, { seek: 300 }, { speed: 4 }]);

  // The server has not reached the seek yet: the slider stays where the seek put it.
  assert.equal(parts['#replay-seek'].value, '300');
  status = { ...STATUS, seeking: 300 };
  await replay.poll();
  assert.equal(parts['#replay-seek'].value, '300');
  assert.match(parts['#replay-time'].textContent, /seeking to tick 300/);
  status = { ...STATUS, tick: 300, playing: false, mismatched: 2 };
  await replay.poll();
  assert.equal(replay.seeking, null, 'the seek arrived');
  assert.equal(parts['#replay-play'].textContent, 'Play');
  assert.match(parts['#replay-check'].textContent, /2 of 901 ticks differ/);
  assert.ok(parts['#replay-check'].classList.has('bad'));
});
