// The whole client session (game.js with the real codec, mirror, adapters, interpolation,
// prediction and senders) against a scripted server behind a fake WebSocket: the demo
// schema gets the demo adapter and prediction, inputs go out by the schema's layout,
// snapshots are acked, events feed the kill feed, a dropped connection resumes with
// {token, tick} and gets a delta, a checksum mismatch resyncs from nothing; a game the
// page does not know (a "tag" game) gets the generic adapter and renderer, its inputs and
// events by its own layouts; the renderer can be forced.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decodeClient, encodeServer } from '../js/codec.js';
import { decodeFields, encodeFields } from '../js/layout.js';
import { Schema } from '../js/schema.js';
import { Game } from '../js/game.js';
import { ACK_GRACE_MS } from '../js/acker.js';
import { PROTOCOL_VERSION } from '../js/net.js';
import { demoOrb, demoPlayer, demoSchemaDef, diff } from './model.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const flush = () => sleep(0);

/** A WebSocket stand-in: records what the page sends, delivers what the test says. */
class FakeSocket {
  static OPEN = 1;
  static all = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }

  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  send(bytes) {
    this.sent.push(decodeClient(bytes));
  }

  close(code = 1000, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }

  deliver(msg) {
    this.onmessage?.({ data: encodeServer(msg).buffer });
  }

  of(type) {
    return this.sent.filter((m) => m.type === type);
  }
}
globalThis.WebSocket = FakeSocket;

function fakeHud() {
  const calls = [];
  const rec = (name) => (...args) => calls.push([name, ...args]);
  return {
    calls,
    setNotice: rec('notice'), chat: rec('chat'), knockout: rec('knockout'), event: rec('event'),
    setStats: () => {}, setScores: rec('scores'), setHelp: rec('help'),
    lines: (name) => calls.filter((c) => c[0] === name),
  };
}

function fakeRenderer() {
  return {
    scenes: [],
    draw(scene) {
      this.scenes.push(scene);
      return scene.entities ? scene.entities.length : scene.remote.length + (scene.own ? 1 : 0);
    },
    toScreen: (x, y) => ({ x, y }),
  };
}

function session(opts = {}) {
  const hud = fakeHud();
  const renderers = { demo: fakeRenderer(), generic: fakeRenderer() };
  const controls = { buttons: 0, mouse: null, enabled: true };
  const game = new Game({ url: 'ws://test/ws', name: 'ann', hud, renderers, controls, ...opts });
  return { game, hud, renderers, controls };
}

const welcome = (schema, extra = {}) => ({
  type: 'Welcome', room: 1, player: 3, entity: 10, spectator: false, tick_hz: 30, tick: 100, resume_token: 'tok-3', schema, ...extra,
});
const snapshot = (tick, baseline, body, ack = 0) => ({ type: 'Snapshot', header: { tick, baseline, input_ack: ack }, body });

test('a demo session: schema, prediction, inputs by layout, acks, events, resume and resync', async () => {
  const schema = new Schema(demoSchemaDef());
  const { game, hud, renderers } = session();
  game.start();
  await flush();
  let ws = FakeSocket.last();
  assert.deepEqual(ws.sent[0], { type: 'Hello', protocol: PROTOCOL_VERSION, name: 'ann', resume: null, auth: null });

  ws.deliver(welcome(schema));
  const w0 = [
    demoPlayer(10, 3, 'ann', 500, 400),
    demoPlayer(11, 4, 'bob', 900, 300, { score: 7 }),
    demoOrb(12, 100, 100),
    { id: 13, components: 0b1001, nums: [16000, 1600, 10, 5], strs: [] },
  ];
  ws.deliver(snapshot(101, null, diff(schema, [], w0)));
  let s = game.stats();
  assert.equal(s.connected, true);
  assert.equal(s.game, 'demo');
  assert.equal(s.renderer, 'demo');
  assert.equal(s.predicted, true);
  assert.deepEqual(s.entities, { total: 4, players: 2, orbs: 1, projectiles: 1, cubes: 0 });
  assert.deepEqual(s.arena, { scenario: 'demo', width: 2000, height: 1200, player_speed: 240, player_radius: 18, orb_radius: 14, view_radius: 0 });
  assert.equal(s.own.id, 10);
  assert.equal(s.own.x, 500);
  assert.equal(s.own.y, 400);
  assert.equal(s.own.hp, 3);
  assert.deepEqual(ws.of('Ack').map((m) => m.tick), [101]);
  const bob = game.view.get(11);
  assert.deepEqual({ kind: bob.kind, owner: bob.owner, name: bob.name, score: bob.score, x: bob.x }, { kind: 'Player', owner: 4, name: 'bob', score: 7, x: 900 * 16 });
  assert.equal(game.view.get(13).owner, 4);

  // Inputs: the held state on Welcome, then a press (from rest: sent at once).
  const input = (m) => decodeFields(schema.def.input, m.data);
  assert.deepEqual(input(ws.of('Input')[0]), [0, 0]);
  game.onButtons(8, performance.now());
  const press = ws.of('Input').at(-1);
  assert.deepEqual(input(press), [8, 0]);
  assert.equal(press.seq, 2);

  // A delta: bob moves and is hit, the orb goes; the own player is predicted.
  const w1 = [demoPlayer(10, 3, 'ann', 508, 400), demoPlayer(11, 4, 'bob', 910, 300, { score: 7, hp: 2 }), w0[3]];
  ws.deliver(snapshot(102, 101, diff(schema, w0, w1), 2));
  assert.equal(game.mirror.tick, 102);
  assert.equal(game.view.get(11).hp, 2);
  assert.equal(game.interp.tracks.get(11).samples.at(-1).x, 910);
  assert.equal(game.effects.pending.length, 1, 'the hit is scheduled');
  assert.equal(game.interp.dying.length, 1, 'the orb is drawn until the render tick passes its end');
  game.frame(performance.now(), 16);
  assert.ok(game.stats().drawn >= 3);
  assert.ok(renderers.demo.scenes.at(-1).own !== null, 'the own player is drawn');
  assert.equal(renderers.generic.scenes.length, 0);
  // Tick 102 came right after an input carried 101: it is acked within the grace,
  // by an input or, with none going out, by a standalone Ack the timer sends.
  await sleep(ACK_GRACE_MS + 50);
  const carried = [...ws.of('Ack').map((m) => m.tick), ...ws.of('Input').map((m) => m.ack)];
  assert.ok(carried.includes(102), `acks carried: ${carried}`);

  // Events by the schema's layout feed the kill feed; Joined and Left the chat.
  ws.deliver({ type: 'Joined', player: 4, name: 'bob' });
  ws.deliver({ type: 'Event', data: Uint8Array.of(0, ...encodeFields(schema.def.events[0].fields, [4, 3])) });
  ws.deliver({ type: 'Left', player: 9, name: 'cy' });
  assert.deepEqual(hud.lines('knockout').at(-1), ['knockout', 'bob', 4, 'ann', 3]);
  assert.deepEqual(game.stats().lastEvent, { variant: 'Knockout', fields: { by: 4, victim: 3 } });
  const chat = hud.lines('chat').map((c) => c[3]);
  assert.ok(chat.includes('bob joined') && chat.includes('cy left'), chat.join(' | '));
  ws.deliver({ type: 'Event', data: Uint8Array.of(7) });
  assert.equal(game.stats().eventErrors, 1, 'an undecodable event is counted and ignored');
  assert.equal(game.stats().connected, true);

  // Drop: the page reconnects with its token and the tick it holds, and gets a delta.
  const before = game.stats();
  game.conn.drop('test drop');
  await sleep(700);
  ws = FakeSocket.last();
  assert.equal(FakeSocket.all.length, 2);
  assert.deepEqual(ws.sent[0], { type: 'Hello', protocol: PROTOCOL_VERSION, name: 'ann', resume: { token: 'tok-3', tick: 102 }, auth: null });
  ws.deliver(welcome(schema, { tick: 103 }));
  const w2 = [demoPlayer(10, 3, 'ann', 516, 400), w1[1], w1[2]];
  ws.deliver(snapshot(104, 102, diff(schema, w1, w2), 3));
  s = game.stats();
  assert.equal(s.welcomes, before.welcomes + 1);
  assert.equal(s.firstBaseline, 102, 'the first snapshot after the resume is a delta');
  assert.equal(s.sinceWelcome, 1);
  assert.equal(s.applyErrors, 0);
  assert.equal(s.player, before.player);
  assert.equal(s.own.x, 516);
  assert.ok(ws.of('Input')[0].seq > press.seq, 'input seqs keep increasing across connections');

  // A desync: the snapshot is refused, the page drops and comes back holding nothing.
  ws.deliver(snapshot(105, 104, { ...diff(schema, w2, w0), checksum: 1 }));
  assert.equal(game.stats().applyErrors, 1);
  assert.equal(game.mirror.tick, 104, 'the refused snapshot changed nothing');
  await sleep(700);
  ws = FakeSocket.last();
  assert.equal(FakeSocket.all.length, 3);
  assert.deepEqual(ws.sent[0].resume, { token: 'tok-3', tick: null });
  ws.deliver(welcome(schema));
  ws.deliver(snapshot(106, null, diff(schema, [], w0)));
  assert.equal(game.stats().entities.total, 4);
  assert.equal(game.stats().firstBaseline, null);
  game.conn.stop();
});

test('a game the page does not know gets the generic adapter, renderer, input and events', async () => {
  const def = {
    game: 'tag',
    components: [
      { name: 'Pos', fields: [{ name: 'x', encoding: { Fixed: { scale: 10, min: 0, max: 500 } } }, { name: 'y', encoding: { Fixed: { scale: 10, min: 0, max: 500 } } }] },
      {
        name: 'Runner',
        fields: [
          { name: 'owner', encoding: 'Player' },
          { name: 'name', encoding: { Str: { max_bytes: 16 } } },
          { name: 'it', encoding: 'Bool' },
          { name: 'score', encoding: { Int: { min: 0, max: 1000 } } },
        ],
      },
      { name: 'Flag', fields: [] },
    ],
    position: { component: 'Pos', x: 'x', y: 'y' },
    input: [{ name: 'buttons', prim: 'U8' }, { name: 'aim', prim: 'U16' }, { name: 'sprint', prim: 'Bool' }, { name: 'shout', prim: 'Str' }],
    events: [
      { name: 'Tagged', fields: [{ name: 'by', prim: 'U32' }, { name: 'victim', prim: 'U32' }] },
      { name: 'Round', fields: [{ name: 'n', prim: 'U64' }] },
    ],
    params: [],
  };
  const schema = new Schema(def);
  const { game, hud, renderers, controls } = session();
  game.start();
  await flush();
  const ws = FakeSocket.last();
  ws.deliver(welcome(schema, { player: 0, entity: 1 }));
  const world = [
    { id: 1, components: 0b11, nums: [100, 200, 1, 0, 0], strs: ['ann'] },
    { id: 2, components: 0b11, nums: [125, 250, 6, 1, 4], strs: ['zed'] },
    { id: 3, components: 0b101, nums: [2500, 2500], strs: [] },
    { id: 4, components: 0b10, nums: [8, 0, 0], strs: ['nowhere'] },
  ];
  ws.deliver(snapshot(7, null, diff(schema, [], world)));
  const s = game.stats();
  assert.equal(s.game, 'tag');
  assert.equal(s.renderer, 'generic');
  assert.equal(s.predicted, false);
  assert.equal(s.entities.total, 4);
  assert.equal(s.entities.players, 2, 'positioned entities with an owner');
  assert.equal(s.arena.width, null);
  assert.deepEqual([s.own.x, s.own.y], [10, 20]);
  game.frame(performance.now(), 16);
  const scene = renderers.generic.scenes.at(-1);
  assert.equal(game.stats().drawn, 3, 'every entity with a position is drawn');
  assert.equal(scene.me, 1);
  const zed = scene.entities.find((t) => t.id === 2);
  assert.deepEqual([zed.x, zed.y, zed.e.owner, zed.e.name, zed.e.score], [12.5, 25, 5, 'zed', 4]);
  assert.equal(scene.entities.find((t) => t.id === 3).e.owner, null);
  assert.equal(game.scene().find((e) => e.id === 2).values.Runner.it, 1);
  assert.ok(hud.lines('help').at(-1)[1].startsWith('tag: WASD'));

  // Inputs by the tag layout: keys drive `buttons`, the mouse `aim`, the rest are zeros.
  const input = (m) => decodeFields(def.input, m.data);
  assert.deepEqual(input(ws.of('Input').at(-1)), [0, 0, false, '']);
  const t0 = performance.now();
  controls.mouse = { x: 10, y: 30 };
  game.onButtons(1 | 16, t0);
  assert.deepEqual(input(ws.of('Input').at(-1)), [17, 0, false, '']);
  const n = ws.of('Input').length;
  game.frame(t0 + 50, 16);
  assert.equal(ws.of('Input').length, n + 1, 'an aim change goes out');
  assert.deepEqual(input(ws.of('Input').at(-1)), [17, 16384, false, ''], 'aiming straight down (+y)');
  game.frame(t0 + 170, 16);
  assert.equal(ws.of('Input').length, n + 2, 'held keys are repeated every 100 ms');
  game.onButtons(0, t0 + 180);
  assert.deepEqual(input(ws.of('Input').at(-1)), [0, 16384, false, '']);
  game.frame(t0 + 400, 16);
  assert.equal(ws.of('Input').length, n + 3, 'nothing is repeated once released');

  // Events by the tag layout.
  ws.deliver({ type: 'Event', data: Uint8Array.of(0, 2, 1) });
  ws.deliver({ type: 'Event', data: Uint8Array.of(1, 253, 0, 0, 0, 0, 0, 0, 0, 0x10) });
  assert.deepEqual(hud.lines('event').map((c) => c[1]), ['Tagged by=2 victim=1', 'Round n=1152921504606846976']);
  assert.deepEqual(game.stats().lastEvent, { variant: 'Round', fields: { n: '1152921504606846976' } });
  game.conn.stop();
});

test('a built-in game without player_speed is drawn unpredicted; the renderer can be forced', async () => {
  const cubes = new Schema(demoSchemaDef({ game: 'cubes', speed: null }));
  const a = session();
  a.game.start();
  await flush();
  let ws = FakeSocket.last();
  ws.deliver(welcome(cubes));
  const world = [demoPlayer(10, 3, 'ann', 50, 60), { id: 20, components: 0b101, nums: [16, 16, 0], strs: [] }];
  ws.deliver(snapshot(50, null, diff(cubes, [], world)));
  a.game.frame(performance.now(), 16);
  let s = a.game.stats();
  assert.deepEqual([s.renderer, s.predicted, s.entities.cubes, s.entities.players], ['demo', false, 1, 1]);
  assert.deepEqual([s.own.drawnX, s.own.drawnY], [50, 60], 'the own player is drawn where the server has it');
  a.game.conn.stop();

  const demo = new Schema(demoSchemaDef());
  const b = session({ forceRenderer: 'generic' });
  b.game.start();
  await flush();
  ws = FakeSocket.last();
  ws.deliver(welcome(demo));
  ws.deliver(snapshot(5, null, diff(demo, [], [demoPlayer(10, 3, 'ann', 5, 6), demoPlayer(11, 4, 'bob', 7, 8), demoOrb(12, 1, 1)])));
  b.game.frame(performance.now(), 16);
  s = b.game.stats();
  assert.deepEqual([s.game, s.renderer, s.entities.players, s.drawn], ['demo', 'generic', 2, 3]);
  b.game.conn.stop();
});

test('a draining server relocates the page: it matchmakes and joins the new server as a new player', async () => {
  const schema = new Schema(demoSchemaDef());
  const asked = [];
  const seats = ['ws://other:7777/ws?seat=S1', 'ws://third:7777/ws?seat=S2'];
  const { game, hud } = session({
    matchmake: async () => {
      asked.push(Date.now());
      return seats[asked.length - 1];
    },
  });
  game.start();
  await flush();
  let ws = FakeSocket.last();
  ws.deliver(welcome(schema));
  const w0 = [demoPlayer(10, 3, 'ann', 500, 400), demoOrb(12, 100, 100)];
  ws.deliver(snapshot(101, null, diff(schema, [], w0)));
  assert.equal(game.stats().entities.total, 2);

  // The server drains: Bye Relocate, then the close.
  ws.deliver({ type: 'Bye', code: 'Relocate', reason: 'this server is stopping: matchmake again to play on another' });
  ws.close(1001, 'relocate');
  await sleep(400);
  assert.equal(asked.length, 1, 'the page matchmade once');
  ws = FakeSocket.last();
  assert.equal(ws.url, seats[0], 'it connects where the seat is');
  assert.deepEqual(ws.sent[0].resume, null, 'nothing to resume on another server');
  assert.ok(hud.lines('notice').some((n) => n[1]?.includes('Finding another server')));
  ws.deliver(welcome(schema, { player: 8, entity: 40, resume_token: 'tok-8' }));
  const w1 = [demoPlayer(40, 8, 'ann', 100, 100)];
  ws.deliver(snapshot(7, null, diff(schema, [], w1)));
  let s = game.stats();
  assert.equal(s.applyErrors, 0);
  assert.equal(s.entities.total, 1, 'the old server\'s world is gone');
  assert.equal(s.own.id, 40);

  // A used or lapsed seat (here: the next server refuses the seat) also matchmakes again.
  ws.deliver({ type: 'Bye', code: 'NoSeat', reason: 'this seat reservation was already used' });
  ws.close(1008, 'no seat');
  await sleep(900);
  assert.equal(asked.length, 2);
  assert.equal(FakeSocket.last().url, seats[1]);
  game.conn.stop();
});
