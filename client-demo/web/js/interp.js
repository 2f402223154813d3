// Interpolation of remote entities: each entity keeps a short history of (tick, x, y,
// angle) samples taken from the snapshots that changed it, and is drawn at the playout
// clock's render tick by interpolating between the two samples around it.
//
// Entities at rest send nothing, so before a sample that follows a gap, a "hold" sample
// at the previous snapshot's tick pins the old position: a car that waited ten ticks and
// then moved is drawn waiting, not crawling. Spawns appear when the render tick reaches
// them and despawns vanish when it passes them, so lifecycles are seen in order too.

import { POS_SCALE } from './world.js';

const MAX_SAMPLES = 64;
// A step longer than this many units per tick is a teleport (a respawn), drawn as a cut.
const TELEPORT_UNITS_PER_TICK = 60;

/** One entity's draw state and sample history. */
export class Track {
  constructor(e, tick, born) {
    this.id = e.id;
    /** Newest flat state (kind, owner, name, score, hp…). */
    this.e = e;
    /** Samples {t, x, y, a, cut}, oldest first; positions in world units, angle in steps. */
    this.samples = [{ t: tick, x: e.x / POS_SCALE, y: e.y / POS_SCALE, a: e.angle, cut: false }];
    /** The tick from which it is drawn (-Infinity for what was there on join). */
    this.born = born;
    /** The tick it stopped existing, once despawned. */
    this.diedAt = null;
    /** Ticks at which it teleported (respawns), for effects. */
    this.lastCutTick = born;
    /** Interpolated draw position, written by `Interp.sampleInto`. */
    this.x = 0;
    this.y = 0;
    this.a = 0;
    /** Velocity from the last two samples (units per tick), for extrapolating shots. */
    this.vx = 0;
    this.vy = 0;
  }

  push(t, e, prevTick) {
    const last = this.samples[this.samples.length - 1];
    if (prevTick !== null && last.t < prevTick) {
      this.samples.push({ t: prevTick, x: last.x, y: last.y, a: last.a, cut: false });
    }
    const x = e.x / POS_SCALE;
    const y = e.y / POS_SCALE;
    const prev = this.samples[this.samples.length - 1];
    const dt = Math.max(1, t - prev.t);
    const cut = Math.hypot(x - prev.x, y - prev.y) > TELEPORT_UNITS_PER_TICK * dt;
    if (cut) this.lastCutTick = t;
    else {
      this.vx = (x - prev.x) / dt;
      this.vy = (y - prev.y) / dt;
    }
    this.samples.push({ t, x, y, a: e.angle, cut });
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
  }

  /**
   * Sets x, y, a for render tick `r`. Past the newest snapshot (`latest`), an entity that
   * was still moving in it runs on along its velocity for up to `cap` ticks, so a late
   * snapshot costs a tiny guess instead of a freeze and a jump; one at rest stays put.
   */
  sampleAt(r, latest = Infinity, cap = 0) {
    const s = this.samples;
    let i = s.length - 1;
    while (i > 0 && s[i].t > r) i--;
    const a = s[i];
    const b = s[i + 1];
    if (b === undefined || a.t >= r) {
      const ahead = b === undefined && a.t >= latest ? Math.min(Math.max(r - a.t, 0), cap) : 0;
      this.x = a.x + this.vx * ahead;
      this.y = a.y + this.vy * ahead;
      this.a = a.a;
      return;
    }
    if (b.cut) {
      this.x = a.x;
      this.y = a.y;
      this.a = a.a;
      return;
    }
    const f = (r - a.t) / (b.t - a.t);
    this.x = a.x + (b.x - a.x) * f;
    this.y = a.y + (b.y - a.y) * f;
    let da = (((b.a - a.a) % 256) + 256) % 256;
    if (da > 127) da -= 256;
    this.a = (a.a + da * f + 256) % 256;
  }

  /**
   * Eases the drawn position toward the sampled one at no more than 1.25× `speed`
   * (units/s), so a wrong guess past the newest snapshot is mended over a few frames
   * instead of popping. A jump of more than `snapUnits` (a respawn) is taken at once.
   */
  smooth(dtMs, speed, snapUnits = 200) {
    if (this.shownX === undefined) {
      this.shownX = this.x;
      this.shownY = this.y;
      return;
    }
    const ex = this.x - this.shownX;
    const ey = this.y - this.shownY;
    const d = Math.hypot(ex, ey);
    const most = (speed * 1.25 * dtMs) / 1000 + 0.25;
    if (d <= most || d > snapUnits) {
      this.shownX = this.x;
      this.shownY = this.y;
    } else {
      this.shownX += (ex * most) / d;
      this.shownY += (ey * most) / d;
      this.x = this.shownX;
      this.y = this.shownY;
    }
  }

  /** Drops samples that the render tick has left behind for good. */
  prune(r) {
    const s = this.samples;
    let k = 0;
    while (k + 1 < s.length && s[k + 1].t <= r) k++;
    if (k > 0) s.splice(0, k);
  }
}

/** Every remote entity's track, fed by snapshots and sampled each frame. */
export class Interp {
  constructor() {
    /** Live tracks by id. */
    this.tracks = new Map();
    /** Despawned tracks still drawn until the render tick passes their death. */
    this.dying = [];
    /** Callbacks for effects: (track, tick) when a track finally goes. */
    this.onGone = null;
  }

  /**
   * Feeds one applied snapshot: `change` is what `FlatView.apply` returned, `view` the
   * FlatView (flat entities {id, x, y, angle, …}, x and y in 1/16 units).
   */
  onSnapshot(tick, change, view) {
    if (change.full) {
      this.tracks.clear();
      this.dying = [];
      for (const e of view.entities.values()) this.tracks.set(e.id, new Track(e, tick, -Infinity));
      return;
    }
    for (const e of change.despawned) {
      const t = this.tracks.get(e.id);
      if (t === undefined || t.e !== e) continue;
      this.tracks.delete(e.id);
      t.diedAt = tick;
      this.dying.push(t);
    }
    for (const e of change.spawned) {
      this.tracks.set(e.id, new Track(e, tick, tick));
    }
    for (const { now, moved } of change.updated) {
      const t = this.tracks.get(now.id);
      if (t === undefined) continue;
      t.e = now;
      if (moved) t.push(tick, now, change.prevTick);
    }
  }

  /** Retires dying tracks the render tick has passed, and history nobody will draw again. */
  retire(r) {
    for (const t of this.tracks.values()) if (t.samples.length > 8) t.prune(r - 1);
    if (this.dying.length === 0) return;
    const keep = [];
    for (const t of this.dying) {
      if (r >= t.diedAt - 0.5) {
        if (this.onGone) this.onGone(t);
      } else keep.push(t);
    }
    this.dying = keep;
  }

  reset() {
    this.tracks.clear();
    this.dying = [];
  }
}
