// The page's entry point: asks for a name (or takes ?name=), starts the game, runs the
// frame loop, wires the chat box, and exposes `window.tickwire` for debugging and tests.
//
// Query parameters: name=NAME skips the prompt (and the lobby); room=ID (with code=CODE
// for a private room), type=NAME, spectate=1 and follow=PLAYER say where to connect, as
// the lobby would; ws=URL connects elsewhere than this page's /ws; renderer=generic (or
// demo) overrides the renderer the schema would get.

import { Hud } from './hud.js';
import { Renderer } from './render.js';
import { GenericRenderer } from './render-generic.js';
import { Controls } from './input.js';
import { Game } from './game.js';
import { ReplayBar } from './replay.js';
import { Lobby, choiceFromParams, queryOf } from './lobby.js';

const params = new URLSearchParams(location.search);
const hud = new Hud();
const canvas = document.getElementById('view');
const renderer = new Renderer(canvas);
const renderers = { demo: renderer, generic: new GenericRenderer(canvas) };
const forced = params.get('renderer');
let game = null;
const controls = new Controls(canvas, (buttons, t) => game?.onButtons(buttons, t));
controls.setEnabled(false);

const wsBase = params.get('ws') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const lobby = new Lobby(document.getElementById('lobby'), () => {});

/** The WebSocket URL for a lobby choice (null: quick play). */
function wsUrlFor(choice) {
  const query = choice ? queryOf(choice) : '';
  if (!query) return wsBase;
  return `${wsBase}${wsBase.includes('?') ? '&' : '?'}${query}`;
}

/** This page's matchmaker: the server that served the page (in a cluster, any of its
 * processes, or the address in front of them). */
const matchmakeUrl = `${location.origin}/matchmake`;

/**
 * Reserves a seat in a room of `type` (null: the server's default) with `POST /matchmake`
 * and resolves to the WebSocket URL that claims it; in a cluster the seat may be on
 * another server, and the URL says which.
 */
async function matchmake(type) {
  const answer = await fetch(matchmakeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(type ? { type } : {}),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(text.trim() || `HTTP ${answer.status}`);
  return JSON.parse(text).url;
}

const replay = new ReplayBar(document.getElementById('replay'));

async function boot() {
  // A served replay is watched, not played: no name to ask for, no controls.
  const watching = await replay.probe();
  let name = params.get('name') ?? (watching ? 'viewer' : null);
  let choice = choiceFromParams(params);
  if (!name) {
    const entry = await hud.askName(localStorage.getItem('tickwire.name') ?? '', lobby);
    name = entry.name;
    choice = entry.choice ?? choice;
    try {
      localStorage.setItem('tickwire.name', name);
    } catch {
      // Storage may be unavailable (private mode); the name is just not remembered.
    }
  }
  if (choice?.created?.code) {
    hud.chat(null, '', `Room ${choice.created.id} is private: share its code ${choice.created.code}.`);
  }
  // The page's own URL says where it is, so a reload (or a shared link) goes back there.
  if (choice) history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(params), ...Object.fromEntries(new URLSearchParams(queryOf(choice))) })}`);
  game = new Game({
    url: wsUrlFor(choice), name, hud, renderers, controls,
    forceRenderer: forced === 'generic' || forced === 'demo' ? forced : null,
    help: watching ? 'Replay: play, pause, seek and change speed in the bar above' : null,
    // A player whose server drains matchmakes again (a spectator or a replay has no seat).
    matchmake: watching || choice?.spectate ? null : () => matchmake(choice?.type ?? null),
  });
  controls.setEnabled(!watching);
  game.start();
}

// Chat: Enter opens the box, Enter sends, Escape closes. Movement keys pause meanwhile.
const chatInput = document.getElementById('chat-input');
window.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && document.activeElement !== chatInput && game !== null) {
    e.preventDefault();
    chatInput.focus();
  }
});
chatInput.addEventListener('focus', () => controls.setEnabled(false));
chatInput.addEventListener('blur', () => controls.setEnabled(game !== null));
chatInput.addEventListener('keydown', (e) => {
  // Handled here; the window's Enter handler must not reopen the box.
  e.stopPropagation();
  if (e.key === 'Enter') {
    e.preventDefault();
    const text = chatInput.value.trim();
    if (text && game) game.conn.send({ type: 'Chat', text: text.slice(0, 200) });
    chatInput.value = '';
    chatInput.blur();
  } else if (e.key === 'Escape') {
    chatInput.value = '';
    chatInput.blur();
  }
});

let last = performance.now();
function frame() {
  // performance.now(), not the rAF timestamp: a key event handled just before this frame
  // must count as already pressed, or prediction would show it one frame late.
  const now = performance.now();
  const dt = Math.min(100, Math.max(0, now - last));
  last = now;
  if (game) game.frame(now, dt);
  else renderer.draw({ arena: { width: 2000, height: 1200, player_radius: 18 }, nowMs: now, remote: [], own: null, effects: { draw() {} }, renderTick: 0, reticle: null });
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

/** Debugging and test hooks. */
window.tickwire = {
  /**
   * A snapshot of the client's state: connection, game (schema.game), renderer ('demo' |
   * 'generic'), tick, entity counts, drawn (entities drawn last frame), own entity,
   * arena (world facts from the schema's params), welcomes, events, rates.
   */
  stats: () => (game ? game.stats() : { status: 'naming', connected: false, game: null, renderer: null, snapshots: 0, drawn: 0, entities: { total: 0 } }),
  /** What is drawn: [{id, kind, owner, name, mine, x, y, sx, sy, values?}], world and screen positions. */
  scene: () => game?.scene() ?? [],
  /** Starts recording every frame's drawn positions (own player and remote players). */
  startTrace: () => game?.startTrace(),
  /** Stops recording and returns {frames: [{t, dt, own, players}], inputs: [{t, buttons, seq}]}. */
  stopTrace: () => game?.stopTrace() ?? null,
  /** The net ids the mirror holds, ascending. */
  entityIds: () => game?.mirror?.sorted().map((e) => e.id) ?? [],
  /** A served replay's bar: `status()` (as GET /replay says, or null when live) and `send(command)`. */
  replay: { status: () => replay.status, send: (command) => replay.send(command) },
  /** The lobby: `rooms()` as last listed. */
  lobby: { rooms: () => lobby.rooms },
  /** Drops the connection (the page then reconnects with backoff), for testing. */
  dropConnection: () => game?.conn.drop('dropped from the console'),
};

boot();
