// Short-lived visual effects — bursts when an orb pops or a player is hit or knocked
// out, muzzle flashes, respawn rings. Purely cosmetic: scheduled at a server tick and
// started when the render tick reaches it, so they line up with what is drawn.

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
