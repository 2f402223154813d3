// The lobby's pure parts: the WebSocket query a choice makes, the choice a page URL
// already makes, and a room's line.

import test from 'node:test';
import assert from 'node:assert/strict';
import { choiceFromParams, describe, queryOf } from '../js/lobby.js';

test('a choice becomes the query the server reads', () => {
  assert.equal(queryOf({}), '');
  assert.equal(queryOf({ room: 4, code: 'K7MQ2X' }), 'room=4&code=K7MQ2X');
  assert.equal(queryOf({ room: 2, spectate: true, follow: 3 }), 'room=2&spectate=1&follow=3');
  assert.equal(queryOf({ type: 'arena' }), 'type=arena');
  assert.equal(queryOf({ room: 0 }), 'room=0');
});

test('a page URL makes the same choice the lobby would', () => {
  assert.equal(choiceFromParams(new URLSearchParams('name=ann')), null);
  assert.deepEqual(choiceFromParams(new URLSearchParams('room=2&spectate=1')), { room: '2', spectate: true });
  const round = choiceFromParams(new URLSearchParams(queryOf({ room: 4, code: 'K7MQ2X' })));
  assert.equal(queryOf(round), 'room=4&code=K7MQ2X');
});

test('a room line says its type, seats and watchers', () => {
  const room = { id: 2, type: 'arena', private: false, players: 3, max_players: 20, spectators: 1 };
  assert.equal(describe(room), '#2 arena · 3/20 playing · 1 watching');
  assert.equal(describe({ ...room, private: true, spectators: 0, max_players: 2000 }), '#2 arena 🔒 · 3 playing');
});
