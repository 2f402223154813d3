// One animation frame of a session (game.js), drawn: the playout clock advanced to the
// render tick, every track sampled there, and the scene handed to the game's renderer.
// For the demo renderer the own player is drawn predicted (interpolated when there is
// no prediction) and its own shots at the predicted tick, so they leave its barrel; the
// generic renderer gets every positioned entity interpolated, the own one included.
// The effects are aged and the aim is taken from the mouse against the drawn player.

import { EXTRAPOLATE_TICKS } from './clock.js';
import { aimFromRad, aimRad } from './world.js';

const DEFAULT_ARENA = { width: 2000, height: 1200, player_radius: 18 };

/**
 * Draws `game`'s frame at local time `now`, `dt` ms after the previous one; sets
 * `game.ownPos`, `game.drawn` and `game.drawMs`. Returns the tracks drawn besides the
 * own player (for the trace).
 */
export function drawFrame(game, now, dt) {
  const r = game.clock ? game.clock.advance(now, dt) : null;
  game.ownPos = null;
  if (r !== null) game.interp.retire(r);
  const reticle = game.controls.mouse && game.controls.enabled ? game.controls.mouse : null;
  let remote;
  const t0 = performance.now();
  if (game.mode === 'generic') {
    remote = sampleGeneric(game, r);
    game.drawn = game.renderer.draw({
      world: { width: game.arena.width, height: game.arena.height, radius: game.schema.param('radius') ?? game.arena.player_radius },
      entities: remote, me: game.welcome.entity, reticle, nowMs: now,
    });
    game.effects.update(r, dt / 1000);
    updateAim(game);
  } else {
    let own;
    [remote, own] = sampleDemo(game, r, now, dt);
    game.effects.update(r, dt / 1000);
    updateAim(game);
    game.drawn = game.renderer.draw({
      arena: demoArena(game.arena), nowMs: now, remote, own, effects: game.effects, renderTick: r ?? 0,
      tickHz: game.welcome ? game.welcome.tick_hz : 30, reticle,
    });
  }
  game.drawMs = game.drawMs * 0.95 + (performance.now() - t0) * 0.05;
  return remote;
}

/** The arena the demo renderer draws (defaults for sizes the schema does not give). */
function demoArena(a) {
  if (a === null) return DEFAULT_ARENA;
  return { ...a, width: a.width ?? DEFAULT_ARENA.width, height: a.height ?? DEFAULT_ARENA.height };
}

/** Despawned tracks, drawn where they ended until the render tick passes their end. */
function sampleDying(game, r, latest, out) {
  for (const t of game.interp.dying) {
    t.sampleAt(r, latest, 0);
    out.push(t);
  }
}

/** The demo's tracks at render tick `r` and the own player (predicted when possible). */
function sampleDemo(game, r, now, dt) {
  const remote = [];
  let own = null;
  if (r === null) return [remote, own];
  const me = game.welcome.entity;
  // Own shots are drawn at the predicted player's tick, so they leave its barrel.
  const w0 = game.predictor ? game.predictor.w0 : null;
  const present = w0 === null ? r : Math.max(r, (now - w0) / game.clock.tickMs);
  const latest = game.clock.latestTick;
  const speed = game.arena.player_speed || 240;
  let ownTrack = null;
  for (const t of game.interp.tracks.values()) {
    if (t.id === me) {
      ownTrack = t;
      continue;
    }
    const mine = t.e.kind === 'Projectile' && t.e.owner === game.welcome.player;
    const at = mine ? present : r;
    if (t.born > at) continue;
    t.sampleAt(at, latest, mine ? 12 : EXTRAPOLATE_TICKS);
    if (t.e.kind === 'Player') t.smooth(dt, speed);
    remote.push(t);
  }
  sampleDying(game, r, latest, remote);
  const aim = aimRad(game.aim);
  if (game.predictor) {
    const pos = game.predictor.display(now, dt);
    if (pos && ownTrack) {
      game.ownPos = pos;
      own = { x: pos.x, y: pos.y, aim, track: ownTrack };
    }
  } else if (ownTrack && ownTrack.born <= r) {
    // Not predicted (no player_speed): drawn interpolated like everyone else.
    ownTrack.sampleAt(r, latest, EXTRAPOLATE_TICKS);
    game.ownPos = { x: ownTrack.x, y: ownTrack.y };
    own = { x: ownTrack.x, y: ownTrack.y, aim, track: ownTrack };
  }
  return [remote, own];
}

/** Every positioned entity's track at render tick `r` (the own one included). */
function sampleGeneric(game, r) {
  const out = [];
  if (r === null) return out;
  const me = game.welcome.entity;
  const latest = game.clock.latestTick;
  for (const t of game.interp.tracks.values()) {
    if (t.born > r && t.id !== me) continue;
    t.sampleAt(r, latest, EXTRAPOLATE_TICKS);
    if (t.id === me) game.ownPos = { x: t.x, y: t.y };
    out.push(t);
  }
  sampleDying(game, r, latest, out);
  return out;
}

/** The aim (16-bit) from the mouse, as seen from where the own entity is drawn. */
function updateAim(game) {
  const m = game.controls.mouse;
  if (!m || !game.ownPos) return;
  const p = game.renderer.toScreen(game.ownPos.x, game.ownPos.y);
  game.aim = aimFromRad(Math.atan2(m.y - p.y, m.x - p.x));
  if (game.sender) game.sender.aim = game.input && game.input.hasAim ? game.aim : 0;
}
