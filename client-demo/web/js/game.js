// One play session's client state, for any game: the connection's lifecycle (Hello with
// a resume token, reconnects), every server message (the schema from Welcome; mirror +
// ack for snapshots, feeding interpolation, prediction, the playout clock and effects;
// events by the schema's layout), inputs sent by the schema's input layout, and pings.
// Each frame is drawn by frame.js; what the session reports (HUD, window.tickwire) is
// stats.js.
//
// The built-in games (demo, arena, cubes) get the demo adapter and renderer, with the
// own player predicted; any other game gets the generic adapter and renderer, the own
// entity interpolated like the rest (see `chooseAdapter`).

import { Mirror } from './mirror.js';
import { Interp } from './interp.js';
import { PlayoutClock } from './clock.js';
import { ServerClock } from './clock-sync.js';
import { Predictor } from './predict.js';
import { Effects } from './effects.js';
import { Acker } from './acker.js';
import { Connection, Rate } from './net.js';
import { InputSender, SimpleSender } from './sender.js';
import { FlatView } from './flat.js';
import { BUILTIN_GAMES, arenaOf, demoAdapter } from './demo.js';
import { genericAdapter } from './generic.js';
import { decodeEvent, inputWriter } from './layout.js';
import { aimRad } from './world.js';
import { drawFrame } from './frame.js';
import { hudRows, recordTrace, sceneOf, scoreRows, statsOf } from './stats.js';

const PING_MS = 500;
/** Pongs the round-trip time is the lowest of. */
const RTT_SAMPLES = 8;
const FIRE_COOLDOWN_MS = 200;
const DEMO_HELP = 'WASD / arrows move · mouse aims · click or space fires · Enter chats';

/**
 * The adapter for a schema: the demo's for a built-in game shaped as the demo page
 * expects (or any game so shaped when `force` is 'demo'), else the generic one (always
 * when `force` is 'generic').
 */
export function chooseAdapter(schema, force = null) {
  if (force !== 'generic') {
    const demo = demoAdapter(schema);
    if (demo !== null && (BUILTIN_GAMES.has(schema.game) || force === 'demo')) return demo;
  }
  return genericAdapter(schema);
}

/** A layout value as text, for an event line. */
const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export class Game {
  /**
   * @param {object} o
   * @param {string} o.url the WebSocket URL
   * @param {string} o.name the player's name
   * @param {object} o.hud the page around the canvas (hud.js)
   * @param {{demo: object, generic: object}} o.renderers the two renderers
   * @param {object} o.controls keyboard and mouse (input.js)
   * @param {string|null} [o.forceRenderer] 'demo' or 'generic' to override the choice
   */
  constructor({ url, name, hud, renderers, controls, forceRenderer = null, help = null, matchmake = null }) {
    this.hud = hud;
    /** A hint that replaces the game's own controls hint (a replay is watched, not played). */
    this.help = help;
    this.renderers = renderers;
    this.renderer = renderers.demo;
    this.forceRenderer = forceRenderer;
    this.controls = controls;
    this.name = name;
    /** The resume token from the last Welcome, presented on reconnect. */
    this.resumeToken = null;
    /** Whether the mirror still holds a verified state to resume from. */
    this.mirrorValid = false;
    this.welcome = null;
    /** The game's schema (from Welcome), its JSON (to notice a different game), and facts. */
    this.schema = null;
    this.schemaKey = null;
    this.arena = null;
    /** The adapter (demo or generic), the input writer, and the flat entities. */
    this.adapter = null;
    this.input = null;
    this.mirror = null;
    this.view = null;
    this.interp = new Interp();
    this.effects = new Effects();
    this.clock = null;
    this.predictor = null;
    /** Input seq: increases for the page's life (the server refuses non-increasing ones). */
    this.seq = 0;
    this.sender = null;
    /** Aim, 16-bit, from the mouse. */
    this.aim = 0;
    this.lastFire = -Infinity;
    this.lastPing = -Infinity;
    /** The round-trip time (ms; null before the first Pong) and its recent samples. */
    this.rttMs = null;
    this.rttSamples = [];
    /** The server's clock and tick as this connection's pongs say (clock-sync.js). */
    this.serverClock = null;
    /** What to ack, and when a standalone Ack is due. */
    this.acker = new Acker();
    this.ackTimer = null;
    this.snapshots = 0;
    /** Welcomes received (one per connection), and snapshots applied since the last. */
    this.welcomes = 0;
    this.sinceWelcome = 0;
    this.snapRate = new Rate();
    this.applyErrors = 0;
    /** Game events decoded, the last one ({variant, fields}), and undecodable ones. */
    this.events = 0;
    this.lastEvent = null;
    this.eventErrors = 0;
    this.fps = new Rate();
    this.hudAt = 0;
    /** Entities drawn by the last frame. */
    this.drawn = 0;
    /** Per-frame trace for tests (see main.js `tickwire.trace`); null when off. */
    this.trace = null;
    this.status = 'connecting';
    this.names = new Map();
    /** Smoothed time the renderer takes per frame, ms. */
    this.drawMs = 0;
    /** Smoothed time one snapshot takes to apply (mirror, checksum, tracks), ms. */
    this.snapshotMs = 0;
    /** The own entity's drawn position this frame (world units), or null. */
    this.ownPos = null;

    this.interp.onGone = (t) => {
      if (this.mode === 'demo') this.effects.onGone(t);
    };
    this.conn = new Connection({
      url,
      hello: () => ({
        name: this.name,
        resume:
          this.resumeToken === null
            ? null
            : { token: this.resumeToken, tick: this.mirrorValid && this.mirror !== null ? this.mirror.tick : null },
      }),
      onMessage: (m, _b, now) => this.onMessage(m, now),
      onStatus: (s) => this.onStatus(s),
      // Relocated to another server: a new player there, with nothing to resume.
      matchmake: matchmake
        ? async () => {
          const url = await matchmake();
          this.resumeToken = null;
          this.mirrorValid = false;
          return url;
        }
        : null,
    });
  }

  /** 'demo' or 'generic' (null before the first Welcome). */
  get mode() {
    return this.adapter === null ? null : this.adapter.name;
  }

  start() {
    this.conn.connect();
  }

  onStatus(s) {
    this.status = s.state;
    if (s.state === 'disconnected') {
      const secs = (s.retryInMs / 1000).toFixed(1);
      this.hud.setNotice(`Disconnected: ${s.reason}. Reconnecting in ${secs} s (attempt ${s.attempt})…`, 'warn');
    } else if (s.state === 'closed') {
      this.hud.setNotice(`Disconnected: ${s.reason}. Reload the page to play again.`, 'error');
    } else if (s.state === 'relocating') {
      this.hud.setNotice(`${s.reason}. Finding another server…`, 'warn');
    } else if (s.state === 'matchmaking') {
      // The reason stays on screen until the new server welcomes the page.
      this.hud.setNotice(`${s.reason ? `${s.reason}. ` : ''}Finding another server…`, 'warn');
    } else if (s.state === 'connecting' && s.attempt > 0) {
      this.hud.setNotice('Reconnecting…', 'warn');
    }
  }

  onMessage(msg, now) {
    switch (msg.type) {
      case 'Welcome':
        return this.onWelcome(msg, now);
      case 'Snapshot':
        return this.onSnapshot(msg, now);
      case 'Pong': {
        // The round trip is the lowest of the last few samples: a Pong that waited
        // behind the page's own work (a snapshot being applied, a frame being painted)
        // measures the page, not the network.
        const sent = Number(msg.client_time) / 1000;
        this.rttSamples.push(now - sent);
        if (this.rttSamples.length > RTT_SAMPLES) this.rttSamples.shift();
        this.rttMs = Math.min(...this.rttSamples);
        if (this.serverClock) this.serverClock.onPong(sent, now, msg.server_tick, msg.server_time_ms);
        return;
      }
      case 'Chat':
        this.names.set(msg.from, msg.name);
        return this.hud.chat(msg.from, msg.name, msg.text);
      case 'Event':
        return this.onEvent(msg.data);
      case 'Joined':
        this.names.set(msg.player, msg.name);
        return this.hud.chat(null, '', `${msg.name} joined`);
      case 'Left':
        return this.hud.chat(null, '', `${msg.name} left`);
      default:
        return; // Bye: the close that follows explains it.
    }
  }

  onWelcome(msg, now) {
    this.welcome = msg;
    this.acker.reset();
    // What the first snapshot after this Welcome is relative to (undefined until it
    // arrives; null = a full state): a resume should get a delta.
    this.firstBaseline = undefined;
    this.welcomes += 1;
    this.sinceWelcome = 0;
    this.resumeToken = msg.resume_token;
    this.status = 'playing';
    const schema = msg.schema;
    const key = JSON.stringify(schema);
    if (key !== this.schemaKey) {
      // Another game (or another version of it): nothing held can be read by it.
      this.mirrorValid = false;
      this.schemaKey = key;
    }
    this.schema = schema;
    this.arena = arenaOf(schema);
    this.adapter = chooseAdapter(schema, this.forceRenderer);
    this.renderer = this.renderers[this.adapter.name];
    this.input = inputWriter(schema.def.input);
    const tickMs = 1000 / msg.tick_hz;
    if (!this.mirrorValid) {
      // Nothing to resume from: the first snapshot is a full state.
      this.mirror = new Mirror(schema);
      this.view = new FlatView(this.adapter);
      this.interp.reset();
      this.effects.clear();
    }
    // A resumed mirror stays; the server deltas from the tick it holds (or sends a full
    // state, which replaces it).
    this.mirrorValid = true;
    this.clock = new PlayoutClock(tickMs);
    this.serverClock = new ServerClock(msg.tick_hz);
    const { width, height, player_speed: speed } = this.arena;
    const demo = this.adapter.name === 'demo';
    if (this.sender) this.seq = this.sender.seq;
    const send = (m) => this.sendInput(m);
    if (demo && speed > 0 && width > 0 && height > 0) {
      this.predictor = new Predictor({ speed, width, height, tickMs });
      this.sender = new InputSender(this.predictor, send, this.seq);
    } else {
      this.predictor = null;
      this.sender = new SimpleSender(send, this.seq);
    }
    this.sender.aim = this.aim;
    if (demo) this.sender.onFire = (t) => this.muzzleFlash(t);
    if (this.trace) this.sender.log = this.trace.inputs;
    this.sender.want(this.input.hasButtons && !msg.spectator ? this.controls.buttons : 0, now);
    this.hud.setNotice(null);
    if (msg.spectator) {
      // A spectator's inputs would only be refused: the controls stay off.
      this.controls.setEnabled(false);
      this.hud.setHelp(`Watching room ${msg.room}: spectators neither play nor chat`);
    } else if (this.help !== null) this.hud.setHelp(this.help);
    else if (demo) this.hud.setHelp(DEMO_HELP);
    else if (this.input.hasButtons) this.hud.setHelp(`${schema.game}: WASD / arrows move · ${this.input.hasAim ? 'mouse aims · ' : ''}click or space acts · Enter chats`);
    else this.hud.setHelp(`${schema.game}: Enter chats`);
    const size = width && height ? ` ${width}×${height}` : '';
    const what = demo ? `${schema.game} arena${size}` : `${schema.game}${size} (generic view)`;
    const where = msg.spectator ? `Watching room ${msg.room}` : `Connected as ${this.name} in room ${msg.room}`;
    this.hud.chat(null, '', `${where} — ${what}, ${msg.tick_hz} Hz.`);
  }

  /** Sends a standalone Ack if one is due, or makes sure a timer will when it is: a page
   * that sends no inputs still acks what it applied, even if no snapshot comes again. */
  sendAckWhenDue() {
    const now = performance.now();
    const ack = this.acker.due(now);
    if (ack !== null) this.conn.send({ type: 'Ack', tick: ack });
    const wait = this.acker.waitMs(now);
    if (wait === null || this.ackTimer !== null) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (this.conn.open) this.sendAckWhenDue();
    }, wait);
  }

  /** Writes a sender's {seq, buttons, aim} by the game's input layout and sends it. */
  sendInput(m) {
    const named = {};
    if (this.input.hasButtons) named.buttons = m.buttons & 0xff;
    if (this.input.hasAim) named.aim = m.aim & 0xffff;
    const data = this.input.encode(named);
    return this.conn.send({ type: 'Input', seq: m.seq, data, ack: this.acker.carry(performance.now()), view: this.viewTick() });
  }

  /**
   * The tick the player is looking at: the render tick others are drawn at, which the
   * server's lag compensation judges this player's shots against. Null before the first
   * snapshot.
   */
  viewTick() {
    const r = this.clock?.renderTick;
    if (r === null || r === undefined) return null;
    const latest = this.clock.latestTick ?? 0;
    return Math.max(0, Math.min(latest, Math.round(r)));
  }

  onSnapshot(msg, now) {
    if (this.welcome === null) return;
    const t0 = performance.now();
    this.applySnapshot(msg, now);
    this.snapshotMs = this.snapshotMs * 0.95 + (performance.now() - t0) * 0.05;
  }

  applySnapshot(msg, now) {
    const { header, body } = msg;
    let change;
    try {
      change = this.mirror.apply(header.tick, header.baseline, body);
    } catch (err) {
      this.applyErrors += 1;
      this.mirrorValid = false;
      console.warn('tickwire: snapshot rejected, resyncing:', err.message);
      this.conn.drop(`resync after ${err.kind}`);
      return;
    }
    this.acker.onApplied(header.tick);
    this.sendAckWhenDue();
    if (this.firstBaseline === undefined) this.firstBaseline = header.baseline;
    this.snapshots += 1;
    this.sinceWelcome += 1;
    this.snapRate.add(now);
    this.clock.onSnapshot(header.tick, now);
    const flat = this.view.apply(change, this.mirror);
    this.interp.onSnapshot(header.tick, flat, this.view);
    if (this.mode === 'demo') this.effects.onSnapshot(header.tick, flat);
    if (this.predictor) {
      const own = this.view.get(this.welcome.entity);
      const prior = this.clock.base - (this.rttMs ?? 2 * this.clock.tickMs);
      this.predictor.onSnapshot(header.tick, header.input_ack, now, own, prior);
    }
  }

  onEvent(data) {
    let ev;
    try {
      ev = decodeEvent(this.schema ? this.schema.def.events : [], data);
    } catch (err) {
      this.eventErrors += 1;
      console.warn('tickwire: undecodable game event, ignored:', err.message);
      return;
    }
    this.events += 1;
    // JSON-safe for the test hooks: a BigInt (a u64 or i64 past 2^53) as its digits.
    const safe = Object.fromEntries(Object.entries(ev.fields).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));
    this.lastEvent = { variant: ev.variant, fields: safe };
    const f = ev.fields;
    if (ev.variant === 'Knockout' && typeof f.by === 'number' && typeof f.victim === 'number') {
      this.hud.knockout(this.nameOf(f.by), f.by, this.nameOf(f.victim), f.victim);
    } else {
      const parts = ev.values.length === 0 ? '' : ` ${Object.entries(f).map(([k, v]) => `${k}=${show(v)}`).join(' ')}`;
      this.hud.event(`${ev.variant}${parts}`);
    }
  }

  /** A player's name: from chat or Joined, else from their entity, else `player<id>`. */
  nameOf(player) {
    return this.names.get(player) ?? this.playerName(player) ?? `player${player}`;
  }

  playerName(player) {
    if (this.view === null) return null;
    for (const e of this.view.entities.values()) if (e.owner === player && e.name) return e.name;
    return null;
  }

  /** Called by the controls the moment the held buttons change. */
  onButtons(buttons, t) {
    if (this.welcome?.spectator) return;
    if (this.sender && this.conn.open) this.sender.want(this.input.hasButtons ? buttons : 0, t);
  }

  muzzleFlash(t) {
    if (t - this.lastFire < FIRE_COOLDOWN_MS || !this.ownPos) return;
    this.lastFire = t;
    this.effects.muzzleFlash(this.ownPos.x, this.ownPos.y, aimRad(this.aim), (this.arena.player_radius || 18) + 12);
  }

  /** One animation frame at local time `now`, `dt` ms after the previous one. */
  frame(now, dt) {
    this.fps.add(now);
    const drawnAt = this.trace ? performance.now() : 0;
    const remote = drawFrame(this, now, dt);
    this.keepAlive(now);
    if (this.trace) recordTrace(this, now, dt, remote, drawnAt);
    if (now - this.hudAt > 250) {
      this.hudAt = now;
      this.updateHud(now);
    }
  }

  keepAlive(now) {
    if (this.sender && this.conn.open) this.sender.poll(now);
    if (this.conn.open && now - this.lastPing >= PING_MS) {
      this.lastPing = now;
      // Sent just after this frame is painted, so the Pong (a fraction of a millisecond
      // away on a LAN) finds the page idle instead of waiting behind a paint; stamped as
      // it leaves.
      setTimeout(() => {
        if (this.conn.open) this.conn.send({ type: 'Ping', client_time: BigInt(Math.round(performance.now() * 1000)) });
      }, 0);
    }
  }

  /** Starts recording every frame's drawn positions and every input sent. */
  startTrace() {
    this.trace = { frames: [], inputs: [] };
    if (this.sender) this.sender.log = this.trace.inputs;
  }

  /** Stops recording; returns what was recorded. */
  stopTrace() {
    const t = this.trace;
    this.trace = null;
    if (this.sender) this.sender.log = null;
    return t;
  }

  updateHud(now) {
    this.hud.setStats(hudRows(this, now));
    this.hud.setScores(scoreRows(this), this.welcome ? this.welcome.player : null);
  }

  /**
   * What is drawn this frame: [{id, kind, owner, name, mine, x, y, sx, sy}] (world units
   * in x/y, screen px in sx/sy); for a generic game also `values`, the entity's fields
   * by component as shown.
   */
  scene() {
    return sceneOf(this);
  }

  /** The debug/test view of the client (window.tickwire.stats()). */
  stats() {
    return statsOf(this);
  }
}
