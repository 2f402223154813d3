// The demo's canvas renderer, for the built-in games (demo, arena, cubes): the arena
// floor, orbs, projectiles, cubes and players (with names, health and spawn shields),
// effects and the aim reticle, seen by a camera that follows the own player. Draws
// whatever flat scene it is given (see demo.js); knows nothing about the network.

import { CanvasView } from './canvas-view.js';
import { SHIELD_SECS, angleRad, playerHue } from './world.js';

const ORB_RADIUS = 14;
const SHOT_RADIUS = 4.5;
const CUBE_HALF = 10;

/** An orb, glow and all, pre-rendered once: each orb is then one drawImage, which keeps
 *  hundreds of them cheap even where the canvas is rasterized on the CPU. */
function orbSprite(size = 96) {
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  const m = size / 2;
  const glow = g.createRadialGradient(m, m, 0, m, m, m);
  glow.addColorStop(0, 'rgba(255,220,140,0.55)');
  glow.addColorStop(0.35, 'rgba(255,160,40,0.22)');
  glow.addColorStop(1, 'rgba(255,140,20,0)');
  g.fillStyle = glow;
  g.fillRect(0, 0, size, size);
  const r = size / 5.6;
  const body = g.createRadialGradient(m - r * 0.35, m - r * 0.35, r * 0.1, m, m, r);
  body.addColorStop(0, '#fffbe6');
  body.addColorStop(0.45, '#ffd25a');
  body.addColorStop(1, '#e07a10');
  g.fillStyle = body;
  g.beginPath();
  g.arc(m, m, r, 0, Math.PI * 2);
  g.fill();
  return c;
}

/** A pre-rendered radial glow, drawn with drawImage (much cheaper than shadowBlur). */
function glowSprite(inner, outer, size = 64) {
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  const grad = g.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, size / 2);
  grad.addColorStop(0, inner);
  grad.addColorStop(0.35, outer);
  grad.addColorStop(1, 'rgba(0,0,0,0)');
  g.fillStyle = grad;
  g.fillRect(0, 0, size, size);
  return c;
}

export class Renderer extends CanvasView {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    super(canvas);
    this.orb = orbSprite();
    this.shotGlows = new Map();
    this.floor = null;
    this.floorKey = '';
    this.resize();
  }

  shotGlow(hue) {
    const key = Math.round(hue);
    let s = this.shotGlows.get(key);
    if (!s) {
      s = glowSprite(`hsla(${key},100%,85%,1)`, `hsla(${key},100%,60%,0.45)`, 48);
      this.shotGlows.set(key, s);
    }
    return s;
  }

  /** Positions the camera on `focus`, keeping as much arena on screen as fits. */
  placeCamera(arena, focus) {
    this.scale = Math.max(0.3, Math.min(this.h / 760, this.w / 1300));
    const viewW = this.w / this.scale;
    const viewH = this.h / this.scale;
    const fx = focus ? focus.x : arena.width / 2;
    const fy = focus ? focus.y : arena.height / 2;
    // Let the camera run a little past the walls, so a player at the edge is not under
    // the HUD panels.
    const margin = 120;
    const clampAxis = (f, size, view) => {
      if (view >= size + 2 * margin) return size / 2;
      return Math.max(view / 2 - margin, Math.min(size - view / 2 + margin, f));
    };
    this.camX = clampAxis(fx, arena.width, viewW);
    this.camY = clampAxis(fy, arena.height, viewH);
  }

  /** The arena floor (grid and border), cached as an image per size. */
  floorImage(arena) {
    const key = `${arena.width}x${arena.height}`;
    if (this.floorKey === key) return this.floor;
    const px = 0.5; // pixels per unit in the cache (upscaled smoothly; grid lines stay soft)
    const c = document.createElement('canvas');
    c.width = Math.ceil(arena.width * px);
    c.height = Math.ceil(arena.height * px);
    const g = c.getContext('2d');
    const grad = g.createRadialGradient(c.width / 2, c.height / 2, 0, c.width / 2, c.height / 2, Math.max(c.width, c.height) * 0.7);
    grad.addColorStop(0, '#132038');
    grad.addColorStop(1, '#0b1324');
    g.fillStyle = grad;
    g.fillRect(0, 0, c.width, c.height);
    for (let v = 0; v <= Math.max(arena.width, arena.height); v += 50) {
      const major = v % 250 === 0;
      g.strokeStyle = major ? 'rgba(110,160,255,0.16)' : 'rgba(110,160,255,0.07)';
      g.lineWidth = major ? 1.5 : 1;
      if (v <= arena.width) {
        g.beginPath();
        g.moveTo(v * px, 0);
        g.lineTo(v * px, c.height);
        g.stroke();
      }
      if (v <= arena.height) {
        g.beginPath();
        g.moveTo(0, v * px);
        g.lineTo(c.width, v * px);
        g.stroke();
      }
    }
    this.floor = c;
    this.floorKey = key;
    return c;
  }

  /**
   * Draws one frame. `scene`: {arena, nowMs, remote: Track[], own: {x, y, aim, track} | null,
   * effects, reticle: {x, y} | null, renderTick}. Returns how many entities it drew.
   */
  draw(scene) {
    this.resize();
    const { ctx } = this;
    const { arena } = scene;
    this.placeCamera(arena, scene.own);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#05080f';
    ctx.fillRect(0, 0, this.w, this.h);

    // World space.
    const s = this.scale;
    ctx.setTransform(this.dpr * s, 0, 0, this.dpr * s, this.dpr * (this.w / 2 - this.camX * s), this.dpr * (this.h / 2 - this.camY * s));
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.floorImage(arena), 0, 0, arena.width, arena.height);
    ctx.save();
    ctx.shadowColor = 'rgba(70,200,255,0.9)';
    ctx.shadowBlur = 16;
    ctx.strokeStyle = 'rgba(120,220,255,0.95)';
    ctx.lineWidth = 3 / s;
    ctx.strokeRect(0, 0, arena.width, arena.height);
    ctx.restore();

    const t = scene.nowMs / 1000;
    const players = [];
    const orbRadius = arena.orb_radius || ORB_RADIUS;
    for (const tr of scene.remote) {
      switch (tr.e.kind) {
        case 'Orb':
          this.drawOrb(tr, t, orbRadius);
          break;
        case 'Cube':
          this.drawCube(tr);
          break;
        case 'Projectile':
          this.drawShot(tr);
          break;
        case 'Player':
          players.push(tr);
          break;
        default:
          this.drawOther(tr);
      }
    }
    const radius = arena.player_radius || 18;
    for (const tr of players) this.drawPlayer(tr, tr.x, tr.y, angleRad(tr.a), radius, false, scene);
    if (scene.own && scene.own.track) {
      this.drawPlayer(scene.own.track, scene.own.x, scene.own.y, scene.own.aim, radius, true, scene);
    }
    scene.effects.draw(ctx, s);

    // Screen space: labels stay crisp at any zoom.
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    for (const tr of players) this.drawLabel(tr, tr.x, tr.y, radius, false);
    if (scene.own && scene.own.track) this.drawLabel(scene.own.track, scene.own.x, scene.own.y, radius, true);
    if (scene.reticle) this.reticle(scene.reticle);
    return scene.remote.length + (scene.own && scene.own.track ? 1 : 0);
  }

  drawOrb(tr, t, radius = ORB_RADIUS) {
    const r = radius * (1 + 0.07 * Math.sin(t * 3 + tr.id * 1.7));
    // The sprite's body has radius size/5.6, so it spans 5.6 body radii.
    this.ctx.drawImage(this.orb, tr.x - r * 2.8, tr.y - r * 2.8, r * 5.6, r * 5.6);
  }

  drawCube(tr) {
    const { ctx } = this;
    ctx.save();
    ctx.translate(tr.x, tr.y);
    ctx.rotate(angleRad(tr.a));
    ctx.fillStyle = '#2fd4b4';
    ctx.strokeStyle = '#0d6b5b';
    ctx.lineWidth = 2;
    ctx.fillRect(-CUBE_HALF, -CUBE_HALF, CUBE_HALF * 2, CUBE_HALF * 2);
    ctx.strokeRect(-CUBE_HALF, -CUBE_HALF, CUBE_HALF * 2, CUBE_HALF * 2);
    ctx.restore();
  }

  /** An entity of a kind this renderer has no look for: a plain dot. */
  drawOther(tr) {
    const { ctx } = this;
    ctx.fillStyle = tr.e.owner === null ? '#8a93a6' : `hsl(${playerHue(tr.e.owner)},60%,60%)`;
    ctx.beginPath();
    ctx.arc(tr.x, tr.y, 8, 0, Math.PI * 2);
    ctx.fill();
  }

  drawShot(tr) {
    const { ctx } = this;
    const hue = playerHue(tr.e.owner ?? 0);
    const speed = Math.hypot(tr.vx, tr.vy);
    if (speed > 0.5) {
      const k = Math.min(1.6, 40 / speed);
      const tx = tr.x - tr.vx * k;
      const ty = tr.y - tr.vy * k;
      const grad = ctx.createLinearGradient(tx, ty, tr.x, tr.y);
      grad.addColorStop(0, `hsla(${hue},100%,70%,0)`);
      grad.addColorStop(1, `hsla(${hue},100%,75%,0.85)`);
      ctx.strokeStyle = grad;
      ctx.lineWidth = SHOT_RADIUS * 1.4;
      ctx.lineCap = 'round';
      ctx.beginPath();
      ctx.moveTo(tx, ty);
      ctx.lineTo(tr.x, tr.y);
      ctx.stroke();
    }
    ctx.save();
    ctx.globalCompositeOperation = 'lighter';
    const g = SHOT_RADIUS * 4;
    ctx.drawImage(this.shotGlow(hue), tr.x - g, tr.y - g, g * 2, g * 2);
    ctx.restore();
    ctx.fillStyle = '#ffffff';
    ctx.beginPath();
    ctx.arc(tr.x, tr.y, SHOT_RADIUS * 0.6, 0, Math.PI * 2);
    ctx.fill();
  }

  drawPlayer(tr, x, y, aim, r, own, scene) {
    const { ctx } = this;
    const hue = playerHue(tr.e.owner ?? 0);
    ctx.save();
    ctx.translate(x, y);
    // Drop shadow.
    ctx.fillStyle = 'rgba(0,0,0,0.35)';
    ctx.beginPath();
    ctx.ellipse(3, 5, r * 1.02, r * 0.95, 0, 0, Math.PI * 2);
    ctx.fill();
    // Barrel.
    ctx.save();
    ctx.rotate(aim);
    ctx.fillStyle = `hsl(${hue},45%,28%)`;
    ctx.fillRect(r * 0.3, -5, r + 9, 10);
    ctx.fillStyle = `hsl(${hue},70%,62%)`;
    ctx.fillRect(r * 0.3, -3, r + 7, 6);
    ctx.restore();
    // Body.
    const g = ctx.createRadialGradient(-r * 0.35, -r * 0.4, r * 0.1, 0, 0, r);
    g.addColorStop(0, `hsl(${hue},85%,78%)`);
    g.addColorStop(0.6, `hsl(${hue},70%,55%)`);
    g.addColorStop(1, `hsl(${hue},65%,38%)`);
    ctx.fillStyle = g;
    ctx.beginPath();
    ctx.arc(0, 0, r, 0, Math.PI * 2);
    ctx.fill();
    ctx.lineWidth = 3;
    ctx.strokeStyle = own ? 'rgba(255,255,255,0.95)' : `hsl(${hue},60%,25%)`;
    ctx.stroke();
    // Health pips.
    const hp = Math.min(tr.e.hp, 6);
    for (let i = 0; i < 3; i++) {
      ctx.fillStyle = i < hp ? '#7dff9a' : 'rgba(255,255,255,0.18)';
      ctx.beginPath();
      ctx.arc((i - 1) * 9, r + 10, 3.2, 0, Math.PI * 2);
      ctx.fill();
    }
    // Spawn shield.
    const since = (scene.renderTick - tr.lastCutTick) / (scene.tickHz || 30);
    if (since >= 0 && since < SHIELD_SECS) {
      ctx.rotate(scene.nowMs / 400);
      ctx.setLineDash([6, 5]);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = `rgba(160,230,255,${0.85 * (1 - since / SHIELD_SECS) + 0.15})`;
      ctx.beginPath();
      ctx.arc(0, 0, r + 7, 0, Math.PI * 2);
      ctx.stroke();
    }
    ctx.restore();
  }

  drawLabel(tr, x, y, r, own) {
    const p = this.toScreen(x, y);
    const name = tr.e.name || `player${tr.e.owner ?? ''}`;
    this.nameTag(name, p.x, p.y - (r + 10) * this.scale, own);
  }
}
