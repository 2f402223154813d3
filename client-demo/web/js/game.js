// One play session's client state and its per-frame work: handles every server message
// (mirror + ack for snapshots, feeding interpolation, prediction and the playout
// clock), sends inputs and pings, and each frame assembles the scene for the renderer.

import { Mirror } from './mirror.js';
import { Interp } from './interp.js';
import { EXTRAPOLATE_TICKS, PlayoutClock } from './clock.js';
import { Predictor } from './predict.js';
import { Effects } from './effects.js';
import { Connection, Rate } from './net.js';
import { InputSender } from './sender.js';
import { aimFromRad, angleRad, playerHue } from './world.js';

const PING_MS = 1000;
const FIRE_COOLDOWN_MS = 200;

export class Game {
  constructor({ url, name, hud, renderer, controls }) {
    this.hud = hud;
    this.renderer = renderer;
    this.controls = controls;
    this.name = name;
    /** The resume token from the last Welcome, presented on reconnect. */
    this.resumeToken = null;
    /** Whether the mirror still holds a verified state to resume from. */
    this.mirrorValid = false;
    this.welcome = null;
    this.mirror = new Mirror();
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
    this.rttMs = null;
    this.snapshots = 0;
    /** Welcomes received (one per connection), and snapshots applied since the last. */
    this.welcomes = 0;
    this.sinceWelcome = 0;
    this.snapRate = new Rate();
    this.applyErrors = 0;
    this.fps = new Rate();
    this.hudAt = 0;
    /** Per-frame trace for tests (see main.js `tickwire.trace`); null when off. */
    this.trace = null;
    this.status = 'connecting';
    this.names = new Map();
    /** Smoothed time the renderer takes per frame, ms. */
    this.drawMs = 0;
    /** Smoothed time one snapshot takes to apply (mirror, checksum, tracks), ms. */
    this.snapshotMs = 0;

    this.interp.onGone = (t) => this.gone(t);
    this.conn = new Connection({
      url,
      hello: () => ({
        name: this.name,
        resume: this.resumeToken === null ? null : { token: this.resumeToken, tick: this.mirrorValid ? this.mirror.tick : null },
      }),
      onMessage: (m, _b, now) => this.onMessage(m, now),
      onStatus: (s) => this.onStatus(s),
    });
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
        const sample = now - Number(msg.client_time) / 1000;
        this.rttMs = this.rttMs === null ? sample : this.rttMs * 0.8 + sample * 0.2;
        return;
      }
      case 'Chat':
        this.names.set(msg.from, msg.name);
        return this.hud.chat(msg.from, msg.name, msg.text);
      case 'Event':
        return this.onEvent(msg.event);
      default:
        return; // Bye: the close that follows explains it.
    }
  }

  onWelcome(msg, now) {
    this.welcome = msg;
    // What the first snapshot after this Welcome is relative to (undefined until it
    // arrives; null = a full state): a resume should get a delta.
    this.firstBaseline = undefined;
    this.welcomes += 1;
    this.sinceWelcome = 0;
    this.resumeToken = msg.resume_token;
    this.status = 'playing';
    const tickMs = 1000 / msg.tick_hz;
    if (!this.mirrorValid) {
      // Nothing to resume from: the first snapshot is a full state.
      this.mirror = new Mirror();
      this.interp.reset();
      this.effects.clear();
    }
    // A resumed mirror stays; the server deltas from the tick it holds (or sends a full
    // state, which replaces it).
    this.mirrorValid = true;
    this.clock = new PlayoutClock(tickMs);
    this.predictor = new Predictor({
      speed: msg.arena.player_speed,
      width: msg.arena.width,
      height: msg.arena.height,
      tickMs,
    });
    if (this.sender) this.seq = this.sender.seq;
    this.sender = new InputSender(this.predictor, (m) => this.conn.send(m), this.seq);
    this.sender.aim = this.aim;
    this.sender.onFire = (t) => this.muzzleFlash(t);
    if (this.trace) this.sender.log = this.trace.inputs;
    this.sender.want(this.controls.buttons, now);
    this.hud.setNotice(null);
    this.hud.chat(null, '', `Connected as ${this.name} — ${msg.arena.scenario} arena ${msg.arena.width}×${msg.arena.height}, ${msg.tick_hz} Hz.`);
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
    this.conn.send({ type: 'Ack', tick: header.tick });
    if (this.firstBaseline === undefined) this.firstBaseline = header.baseline;
    this.snapshots += 1;
    this.sinceWelcome += 1;
    this.snapRate.add(now);
    this.clock.onSnapshot(header.tick, now);
    this.interp.onSnapshot(header.tick, change, this.mirror);
    this.scheduleEffects(header.tick, change);
    const own = this.mirror.get(this.welcome.entity);
    const prior = this.clock.base - (this.rttMs ?? 2 * this.clock.tickMs);
    this.predictor.onSnapshot(header.tick, header.input_ack, now, own, prior);
  }

  onEvent(ev) {
    if (ev.type === 'Joined') {
      this.names.set(ev.player, ev.name);
      this.hud.chat(null, '', `${ev.name} joined`);
    } else if (ev.type === 'Left') {
      this.hud.chat(null, '', `${ev.name} left`);
    } else {
      const name = (p) => this.names.get(p) ?? this.playerName(p) ?? `player${p}`;
      this.hud.knockout(name(ev.by), ev.by, name(ev.victim), ev.victim);
    }
  }

  playerName(player) {
    for (const e of this.mirror.entities.values()) if (e.kind === 'Player' && e.owner === player) return e.name;
    return null;
  }

  /** Hits and respawns, shown when the render tick reaches them. */
  scheduleEffects(tick, change) {
    for (const { old, now, u } of change.updated) {
      if (now.kind !== 'Player' || u.hp === null) continue;
      const hue = playerHue(now.owner ?? 0);
      const x = now.x / 16;
      const y = now.y / 16;
      if (u.hp < 0) {
        this.effects.at(tick, () => this.effects.burst(x, y, `hsl(${hue},100%,70%)`, 14, 260));
      } else {
        // Knocked out and respawned elsewhere: a burst where it fell, a ring where it returns.
        const ox = old.x / 16;
        const oy = old.y / 16;
        this.effects.at(tick, () => {
          this.effects.burst(ox, oy, `hsl(${hue},100%,65%)`, 40, 420, 3.5);
          this.effects.ring(ox, oy, 70, `hsl(${hue},100%,70%)`, 0.6);
          this.effects.ring(x, y, 50, 'rgba(160,230,255,1)', 0.8);
        });
      }
    }
  }

  gone(track) {
    if (track.e.kind === 'Orb') {
      this.effects.burst(track.x, track.y, '#ffc94a', 22, 300, 3);
      this.effects.ring(track.x, track.y, 40, '#ffd36b', 0.45);
    } else if (track.e.kind === 'Projectile') {
      this.effects.burst(track.x, track.y, `hsl(${playerHue(track.e.owner ?? 0)},100%,75%)`, 5, 140, 1.8);
    }
  }

  /** Called by the controls the moment the held buttons change. */
  onButtons(buttons, t) {
    if (this.sender && this.conn.open) this.sender.want(buttons, t);
  }

  muzzleFlash(t) {
    if (t - this.lastFire < FIRE_COOLDOWN_MS || !this.ownPos) return;
    this.lastFire = t;
    const a = angleRad((this.aim / 65536) * 256);
    const r = (this.welcome.arena.player_radius || 18) + 12;
    this.effects.burst(this.ownPos.x + Math.cos(a) * r, this.ownPos.y + Math.sin(a) * r, '#fff3c0', 6, 160, 2);
  }

  /** One animation frame at local time `now`, `dt` ms after the previous one. */
  frame(now, dt) {
    this.fps.add(now);
    const arena = this.welcome ? this.welcome.arena : { width: 2000, height: 1200, player_radius: 18 };
    const r = this.clock ? this.clock.advance(now, dt) : null;
    const remote = [];
    let own = null;
    this.ownPos = null;
    if (r !== null) {
      this.interp.retire(r);
      const me = this.welcome.entity;
      // Own shots are drawn at the predicted player's tick, so they leave its barrel.
      const w0 = this.predictor.w0;
      const present = w0 === null ? r : Math.max(r, (now - w0) / this.clock.tickMs);
      const latest = this.clock.latestTick;
      for (const t of this.interp.tracks.values()) {
        if (t.id === me) continue;
        const mine = t.e.kind === 'Projectile' && t.e.owner === this.welcome.player;
        const at = mine ? present : r;
        if (t.born > at) continue;
        t.sampleAt(at, latest, mine ? 12 : EXTRAPOLATE_TICKS);
        if (t.e.kind === 'Player') t.smooth(dt, this.welcome.arena.player_speed);
        remote.push(t);
      }
      for (const t of this.interp.dying) {
        t.sampleAt(r, latest, 0);
        remote.push(t);
      }
      const pos = this.predictor.display(now, dt);
      const track = this.interp.tracks.get(me);
      if (pos && track) {
        this.ownPos = pos;
        own = { x: pos.x, y: pos.y, aim: (this.aim / 65536) * Math.PI * 2, track };
      }
    }
    this.effects.update(r, dt / 1000);
    this.updateAim(now);
    const t0 = performance.now();
    this.renderer.draw({
      arena, nowMs: now, remote, own, effects: this.effects, renderTick: r ?? 0,
      tickHz: this.welcome ? this.welcome.tick_hz : 30,
      reticle: this.controls.mouse && this.controls.enabled ? this.controls.mouse : null,
    });
    this.drawMs = this.drawMs * 0.95 + (performance.now() - t0) * 0.05;
    this.keepAlive(now);
    if (this.trace) this.recordTrace(now, dt, remote);
    if (now - this.hudAt > 250) {
      this.hudAt = now;
      this.updateHud(now);
    }
  }

  updateAim(now) {
    const m = this.controls.mouse;
    if (!m || !this.ownPos) return;
    const p = this.renderer.toScreen(this.ownPos.x, this.ownPos.y);
    this.aim = aimFromRad(Math.atan2(m.y - p.y, m.x - p.x));
    if (this.sender) this.sender.aim = this.aim;
  }

  keepAlive(now) {
    if (this.sender && this.conn.open) this.sender.poll(now);
    if (this.conn.open && now - this.lastPing >= PING_MS) {
      this.lastPing = now;
      this.conn.send({ type: 'Ping', client_time: BigInt(Math.round(now * 1000)) });
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

  recordTrace(now, dt, remote) {
    const players = {};
    for (const t of remote) if (t.e.kind === 'Player' && t.diedAt === null) players[t.id] = [t.x, t.y];
    this.trace.frames.push({ t: now, dt, own: this.ownPos ? [this.ownPos.x, this.ownPos.y] : null, players });
    if (this.trace.frames.length > 20000) this.trace.frames.shift();
  }

  updateHud(now) {
    const kb = (n) => (n >= 10240 ? `${(n / 1024).toFixed(0)} KB/s` : `${(n / 1024).toFixed(1)} KB/s`);
    const c = this.clock;
    this.hud.setStats([
      ['ping', this.rttMs === null ? '—' : `${this.rttMs.toFixed(0)} ms`],
      ['tick', this.mirror.tick ?? '—'],
      ['snapshots', `${this.snapRate.perSecond(now)}/s`],
      ['down', kb(this.conn.down.perSecond(now))],
      ['up', kb(this.conn.up.perSecond(now))],
      ['entities', this.mirror.size],
      ['fps', this.fps.perSecond(now)],
      ['interp', c ? `${c.delayMs.toFixed(0)} ms (±${c.jitterMs.toFixed(0)})` : '—'],
    ]);
    const rows = [];
    for (const e of this.mirror.entities.values()) {
      if (e.kind === 'Player') rows.push({ player: e.owner ?? 0, name: e.name, score: e.score });
    }
    this.hud.setScores(rows, this.welcome ? this.welcome.player : null);
  }

  /** What is drawn this frame: [{id, kind, owner, x, y, sx, sy}] (screen px in sx/sy). */
  scene() {
    const out = [];
    const r = this.renderer;
    for (const t of this.interp.tracks.values()) {
      const mine = this.welcome && t.id === this.welcome.entity;
      const x = mine && this.ownPos ? this.ownPos.x : t.x;
      const y = mine && this.ownPos ? this.ownPos.y : t.y;
      const p = r.toScreen(x, y);
      out.push({ id: t.id, kind: t.e.kind, owner: t.e.owner, mine, x, y, sx: p.x, sy: p.y });
    }
    return out;
  }

  /** The debug/test view of the client (window.tickwire.stats()). */
  stats() {
    const now = performance.now();
    const kinds = { Player: 0, Orb: 0, Projectile: 0, Cube: 0 };
    for (const e of this.mirror.entities.values()) kinds[e.kind] += 1;
    const w = this.welcome;
    const own = w ? this.mirror.get(w.entity) : undefined;
    const p = this.predictor;
    return {
      status: this.status,
      connected: this.conn.open && w !== null,
      player: w ? w.player : null,
      entity: w ? w.entity : null,
      tickHz: w ? w.tick_hz : null,
      arena: w ? w.arena : null,
      tick: this.mirror.tick,
      firstBaseline: this.firstBaseline ?? null,
      welcomes: this.welcomes,
      snapshots: this.snapshots,
      sinceWelcome: this.sinceWelcome,
      applyErrors: this.applyErrors,
      entities: { total: this.mirror.size, players: kinds.Player, orbs: kinds.Orb, projectiles: kinds.Projectile, cubes: kinds.Cube },
      drawn: this.interp.tracks.size,
      own: own ? { id: own.id, x: own.x / 16, y: own.y / 16, score: own.score, hp: own.hp, drawnX: this.ownPos?.x ?? null, drawnY: this.ownPos?.y ?? null } : null,
      renderTick: this.clock?.renderTick ?? null,
      interpDelayMs: this.clock?.delayMs ?? null,
      jitterMs: this.clock?.jitterMs ?? null,
      starvedFrames: this.clock?.starved ?? 0,
      rttMs: this.rttMs,
      fps: this.fps.perSecond(now),
      drawMs: this.drawMs,
      snapshotMs: this.snapshotMs,
      snapshotsPerSec: this.snapRate.perSecond(now),
      bytesDownPerSec: this.conn.down.perSecond(now),
      bytesUpPerSec: this.conn.up.perSecond(now),
      bytesDown: this.conn.down.total,
      bytesUp: this.conn.up.total,
      prediction: p ? { lastCorrection: p.lastCorrection, maxCorrection: p.maxCorrection, snaps: p.snaps, w0: p.w0 } : null,
    };
  }
}
