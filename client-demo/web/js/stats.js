// What a session (game.js) reports about itself: the HUD's network figures and the
// scoreboard (refreshed a few times a second), and the debug and test views behind
// `window.tickwire` (main.js) — stats(), scene() (what is drawn, in world and screen
// positions) and the trace of every frame's drawn positions.

/** Whether a flat entity counts as a player (a demo Player; in other games, anything owned). */
function isPlayer(game, e) {
  return game.mode === 'demo' ? e.kind === 'Player' : e.owner !== null;
}

/** The HUD's figures as [label, value] rows. */
export function hudRows(game, now) {
  const kb = (n) => (n >= 10240 ? `${(n / 1024).toFixed(0)} KB/s` : `${(n / 1024).toFixed(1)} KB/s`);
  const c = game.clock;
  const rows = [
    ['ping', game.rttMs === null ? '—' : `${game.rttMs.toFixed(game.rttMs < 10 ? 1 : 0)} ms`],
    ['tick', game.mirror?.tick ?? '—'],
    ['snapshots', `${game.snapRate.perSecond(now)}/s`],
    ['down', kb(game.conn.down.perSecond(now))],
    ['up', kb(game.conn.up.perSecond(now))],
    ['entities', game.mirror?.size ?? 0],
    ['fps', game.fps.perSecond(now)],
    ['interp', c ? `${c.delayMs.toFixed(0)} ms (±${c.jitterMs.toFixed(0)})` : '—'],
  ];
  if (game.schema && game.mode !== 'demo') rows.unshift(['game', game.schema.game]);
  return rows;
}

/** The scoreboard's rows, {player, name, score, named}, one per player. */
export function scoreRows(game) {
  const scores = [];
  if (game.view !== null) {
    // One row per player: in a game where a player owns several entities, the named one.
    const rows = new Map();
    for (const e of game.view.entities.values()) {
      if (!isPlayer(game, e)) continue;
      const player = e.owner ?? 0;
      const had = rows.get(player);
      if (had !== undefined && (had.named || !e.name)) continue;
      rows.set(player, { player, name: e.name || `player${player}`, score: e.score, named: e.name !== '' });
    }
    for (const r of rows.values()) scores.push(r);
  }
  return scores;
}

/**
 * Appends one frame to `game.trace`: its time `now`, when its drawing began (`drawnAt`,
 * on the same clock; a frame's `now` is when it was scheduled, which can be before an
 * input handled ahead of its drawing), the own player's and the other players' drawn
 * positions.
 */
export function recordTrace(game, now, dt, remote, drawnAt) {
  const players = {};
  const me = game.welcome ? game.welcome.entity : null;
  for (const t of remote) if (t.id !== me && isPlayer(game, t.e) && t.diedAt === null) players[t.id] = [t.x, t.y];
  game.trace.frames.push({ t: now, drawnAt, dt, own: game.ownPos ? [game.ownPos.x, game.ownPos.y] : null, players });
  if (game.trace.frames.length > 20000) game.trace.frames.shift();
}

/**
 * What is drawn this frame: [{id, kind, owner, name, mine, x, y, sx, sy}] (world units
 * in x/y, screen px in sx/sy); for a generic game also `values`, the entity's fields
 * by component as shown.
 */
export function sceneOf(game) {
  const out = [];
  const r = game.renderer;
  const generic = game.mode === 'generic';
  for (const t of game.interp.tracks.values()) {
    const mine = game.welcome !== null && t.id === game.welcome.entity;
    const x = mine && game.ownPos ? game.ownPos.x : t.x;
    const y = mine && game.ownPos ? game.ownPos.y : t.y;
    const p = r.toScreen(x, y);
    const item = { id: t.id, kind: t.e.kind, owner: t.e.owner, name: t.e.name, mine, x, y, sx: p.x, sy: p.y };
    if (generic) {
      const raw = game.mirror.get(t.id);
      if (raw) item.values = game.schema.read(raw);
    }
    out.push(item);
  }
  return out;
}

/** The debug/test view of the client (window.tickwire.stats()). */
export function statsOf(game) {
  const now = performance.now();
  const kinds = { Player: 0, Orb: 0, Projectile: 0, Cube: 0 };
  let owned = 0;
  if (game.view !== null) {
    for (const e of game.view.entities.values()) {
      if (e.kind in kinds) kinds[e.kind] += 1;
      if (e.owner !== null) owned += 1;
    }
  }
  const w = game.welcome;
  const own = w && game.view !== null ? game.view.get(w.entity) : undefined;
  const p = game.predictor;
  return {
    status: game.status,
    connected: game.conn.open && w !== null,
    url: game.conn.url,
    game: game.schema ? game.schema.game : null,
    renderer: game.mode,
    predicted: p !== null,
    input: game.input ? { fields: game.input.fields.map((f) => f.name), buttons: game.input.hasButtons, aim: game.input.hasAim } : null,
    player: w ? w.player : null,
    entity: w ? w.entity : null,
    room: w ? w.room : null,
    spectator: w ? w.spectator : null,
    tickHz: w ? w.tick_hz : null,
    arena: game.arena,
    tick: game.mirror?.tick ?? null,
    firstBaseline: game.firstBaseline ?? null,
    welcomes: game.welcomes,
    snapshots: game.snapshots,
    sinceWelcome: game.sinceWelcome,
    applyErrors: game.applyErrors,
    entities: {
      total: game.mirror?.size ?? 0,
      players: game.mode === 'demo' ? kinds.Player : owned,
      orbs: kinds.Orb,
      projectiles: kinds.Projectile,
      cubes: kinds.Cube,
    },
    tracks: game.interp.tracks.size,
    drawn: game.drawn,
    own: own ? { id: own.id, x: own.x / 16, y: own.y / 16, score: own.score, hp: own.hp, drawnX: game.ownPos?.x ?? null, drawnY: game.ownPos?.y ?? null } : null,
    events: game.events,
    lastEvent: game.lastEvent,
    eventErrors: game.eventErrors,
    renderTick: game.clock?.renderTick ?? null,
    interpDelayMs: game.clock?.delayMs ?? null,
    jitterMs: game.clock?.jitterMs ?? null,
    starvedFrames: game.clock?.starved ?? 0,
    rttMs: game.rttMs,
    serverTick: game.serverClock?.tickAt(now) ?? null,
    clockOffsetMs: game.serverClock?.offsetMs ?? null,
    viewTick: game.viewTick(),
    rttSamplesMs: game.rttSamples,
    fps: game.fps.perSecond(now),
    drawMs: game.drawMs,
    snapshotMs: game.snapshotMs,
    snapshotsPerSec: game.snapRate.perSecond(now),
    bytesDownPerSec: game.conn.down.perSecond(now),
    bytesUpPerSec: game.conn.up.perSecond(now),
    bytesDown: game.conn.down.total,
    bytesUp: game.conn.up.total,
    prediction: p ? { lastCorrection: p.lastCorrection, maxCorrection: p.maxCorrection, snaps: p.snaps, w0: p.w0 } : null,
  };
}
