// Short-lived visual effects — bursts when an orb pops or a player is hit or knocked
// out, muzzle flashes, respawn rings. Purely cosmetic: scheduled at a server tick and
// started when the render tick reaches it, so they line up with what is drawn. Holds
// the particles and rings, and what the demo's flat entities trigger (`onSnapshot`,
// `onGone`, `muzzleFlash`).

import { playerHue } from './world.js';

const MAX_PARTICLES = 1500;

export class Effects {
  constructor() {
    /** Pending effects {tick, start(now)}: started when the render tick reaches `tick`. */
    this.pending = [];
    /** Live particles {x, y, vx, vy, life, age, size, color}. */
    this.particles = [];
    /** Expanding rings {x, y, age, life, radius, color}. */
    this.rings = [];
  }

  /** Schedules `start` for when render tick `tick` is drawn. */
  at(tick, start) {
    this.pending.push({ tick, start });
    if (this.pending.length > 400) this.pending.shift();
  }

  burst(x, y, color, count, speed, size = 2.5) {
    for (let i = 0; i < count && this.particles.length < MAX_PARTICLES; i++) {
      const a = Math.random() * Math.PI * 2;
      const v = speed * (0.35 + Math.random() * 0.65);
      this.particles.push({
        x, y, vx: Math.cos(a) * v, vy: Math.sin(a) * v,
        life: 0.35 + Math.random() * 0.45, age: 0, size: size * (0.6 + Math.random() * 0.8), color,
      });
    }
  }

  ring(x, y, radius, color, life = 0.45) {
    this.rings.push({ x, y, radius, color, life, age: 0 });
  }

  /**
   * Schedules a demo snapshot's hits and respawns (`change`: what FlatView.apply
   * returned), shown when the render tick reaches `tick`.
   */
  onSnapshot(tick, change) {
    for (const { old, now } of change.updated) {
      if (now.kind !== 'Player' || now.hp === old.hp) continue;
      const hue = playerHue(now.owner ?? 0);
      const x = now.x / 16;
      const y = now.y / 16;
      if (now.hp < old.hp) {
        this.at(tick, () => this.burst(x, y, `hsl(${hue},100%,70%)`, 14, 260));
      } else {
        // Knocked out and respawned elsewhere: a burst where it fell, a ring where it returns.
        const ox = old.x / 16;
        const oy = old.y / 16;
        this.at(tick, () => {
          this.burst(ox, oy, `hsl(${hue},100%,65%)`, 40, 420, 3.5);
          this.ring(ox, oy, 70, `hsl(${hue},100%,70%)`, 0.6);
          this.ring(x, y, 50, 'rgba(160,230,255,1)', 0.8);
        });
      }
    }
  }

  /** A demo track that finally goes: an orb pops, a shot fizzles out. */
  onGone(track) {
    if (track.e.kind === 'Orb') {
      this.burst(track.x, track.y, '#ffc94a', 22, 300, 3);
      this.ring(track.x, track.y, 40, '#ffd36b', 0.45);
    } else if (track.e.kind === 'Projectile') {
      this.burst(track.x, track.y, `hsl(${playerHue(track.e.owner ?? 0)},100%,75%)`, 5, 140, 1.8);
    }
  }

  /** A muzzle flash `r` units from (x, y) along `a` radians. */
  muzzleFlash(x, y, a, r) {
    this.burst(x + Math.cos(a) * r, y + Math.sin(a) * r, '#fff3c0', 6, 160, 2);
  }

  /** Starts due effects and ages the live ones by `dt` seconds. */
  update(renderTick, dt) {
    if (this.pending.length > 0 && renderTick !== null) {
      const keep = [];
      for (const p of this.pending) {
        if (renderTick >= p.tick) p.start();
        else keep.push(p);
      }
      this.pending = keep.length > 200 ? keep.slice(-200) : keep;
    }
    const drag = Math.exp(-dt * 3);
    let n = 0;
    for (const p of this.particles) {
      p.age += dt;
      if (p.age >= p.life) continue;
      p.x += p.vx * dt;
      p.y += p.vy * dt;
      p.vx *= drag;
      p.vy *= drag;
      this.particles[n++] = p;
    }
    this.particles.length = n;
    this.rings = this.rings.filter((r) => (r.age += dt) < r.life);
  }

  /** Draws everything in world coordinates (the caller has set the transform). */
  draw(ctx, scale) {
    ctx.save();
    ctx.globalCompositeOperation = 'lighter';
    for (const p of this.particles) {
      const k = 1 - p.age / p.life;
      ctx.globalAlpha = k;
      ctx.fillStyle = p.color;
      const s = p.size * (0.5 + k * 0.5);
      ctx.fillRect(p.x - s, p.y - s, s * 2, s * 2);
    }
    for (const r of this.rings) {
      const k = r.age / r.life;
      ctx.globalAlpha = (1 - k) * 0.9;
      ctx.strokeStyle = r.color;
      ctx.lineWidth = (3 * (1 - k) + 1) / Math.max(scale, 0.25);
      ctx.beginPath();
      ctx.arc(r.x, r.y, r.radius * (0.4 + k * 0.9), 0, Math.PI * 2);
      ctx.stroke();
    }
    ctx.restore();
  }

  clear() {
    this.pending = [];
    this.particles = [];
    this.rings = [];
  }
}
