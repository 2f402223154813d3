// The generic canvas renderer, for any game the page has no special code for: every
// entity with the schema's position is a circle at its (interpolated) position, coloured
// by its owner (a stable hue per player id, grey for none), labelled by its name, the
// own entity ringed and highlighted. The whole world is fitted on screen: its bounds are
// the schema's width/height params when given, else the entities' extent (eased, so the
// view does not jitter). Draws whatever scene it is given; knows nothing about the network.

import { CanvasView } from './canvas-view.js';
import { angleRad, playerHue } from './world.js';

const PAD_PX = 40;

export class GenericRenderer extends CanvasView {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    super(canvas);
    /** The eased bounds when fitting to the entities: {x0, y0, x1, y1}. */
    this.fit = null;
  }

  /** The world rectangle to show: the declared world, or the entities' extent. */
  bounds(scene) {
    const { width, height } = scene.world;
    if (width && height) return { x0: 0, y0: 0, x1: width, y1: height, declared: true };
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const t of scene.entities) {
      x0 = Math.min(x0, t.x);
      y0 = Math.min(y0, t.y);
      x1 = Math.max(x1, t.x);
      y1 = Math.max(y1, t.y);
    }
    if (!Number.isFinite(x0)) return this.fit ?? { x0: -50, y0: -50, x1: 50, y1: 50 };
    const m = Math.max(10, (x1 - x0) * 0.1, (y1 - y0) * 0.1);
    const target = { x0: x0 - m, y0: y0 - m, x1: x1 + m, y1: y1 + m };
    if (this.fit === null) this.fit = target;
    else {
      // Grow at once (nothing goes off screen), shrink slowly.
      const f = this.fit;
      const ease = (a, b, grow) => (grow ? b : a + (b - a) * 0.02);
      this.fit = {
        x0: ease(f.x0, target.x0, target.x0 < f.x0),
        y0: ease(f.y0, target.y0, target.y0 < f.y0),
        x1: ease(f.x1, target.x1, target.x1 > f.x1),
        y1: ease(f.y1, target.y1, target.y1 > f.y1),
      };
    }
    return this.fit;
  }

  /**
   * Draws one frame. `scene`: {world: {width, height, radius}, entities: [{id, x, y, a,
   * e: flat entity}], me: own entity id, reticle: {x, y} | null}. Returns how many
   * entities it drew.
   */
  draw(scene) {
    this.resize();
    const { ctx } = this;
    const b = this.bounds(scene);
    const bw = Math.max(1e-6, b.x1 - b.x0);
    const bh = Math.max(1e-6, b.y1 - b.y0);
    this.scale = Math.max(1e-6, Math.min((this.w - 2 * PAD_PX) / bw, (this.h - 2 * PAD_PX) / bh));
    this.camX = (b.x0 + b.x1) / 2;
    this.camY = (b.y0 + b.y1) / 2;

    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#070b14';
    ctx.fillRect(0, 0, this.w, this.h);
    const tl = this.toScreen(b.x0, b.y0);
    const br = this.toScreen(b.x1, b.y1);
    ctx.fillStyle = '#0f1a2e';
    ctx.fillRect(tl.x, tl.y, br.x - tl.x, br.y - tl.y);
    this.grid(b, tl, br);
    ctx.strokeStyle = b.declared ? 'rgba(120,220,255,0.8)' : 'rgba(120,220,255,0.25)';
    ctx.lineWidth = 2;
    ctx.strokeRect(tl.x, tl.y, br.x - tl.x, br.y - tl.y);

    const r = Math.max(5, Math.min(40, (scene.world.radius || Math.min(bw, bh) / 60) * this.scale));
    let own = null;
    let drawn = 0;
    for (const t of scene.entities) {
      if (t.id === scene.me) {
        own = t;
        continue;
      }
      this.body(t, r, false);
      drawn += 1;
    }
    if (own !== null) {
      this.body(own, r, true);
      drawn += 1;
    }
    for (const t of scene.entities) this.label(t, r, t.id === scene.me);
    if (scene.reticle) this.reticle(scene.reticle);
    return drawn;
  }

  grid(b, tl, br) {
    const { ctx } = this;
    const span = Math.max(b.x1 - b.x0, b.y1 - b.y0);
    const step = 10 ** Math.floor(Math.log10(span / 4));
    if (!(step > 0) || span / step > 80) return;
    ctx.strokeStyle = 'rgba(110,160,255,0.08)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let v = Math.ceil(b.x0 / step) * step; v <= b.x1; v += step) {
      const p = this.toScreen(v, 0);
      ctx.moveTo(p.x, tl.y);
      ctx.lineTo(p.x, br.y);
    }
    for (let v = Math.ceil(b.y0 / step) * step; v <= b.y1; v += step) {
      const p = this.toScreen(0, v);
      ctx.moveTo(tl.x, p.y);
      ctx.lineTo(br.x, p.y);
    }
    ctx.stroke();
  }

  body(t, r, mine) {
    const { ctx } = this;
    const p = this.toScreen(t.x, t.y);
    const owner = t.e.owner;
    ctx.fillStyle = owner === null ? '#7d8799' : `hsl(${playerHue(owner)},70%,56%)`;
    ctx.beginPath();
    ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
    ctx.fill();
    if (t.a) {
      const a = angleRad(t.a);
      ctx.strokeStyle = 'rgba(255,255,255,0.7)';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + Math.cos(a) * r, p.y + Math.sin(a) * r);
      ctx.stroke();
    }
    if (mine) {
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(p.x, p.y, r + 4, 0, Math.PI * 2);
      ctx.stroke();
    }
  }

  label(t, r, mine) {
    const name = t.e.name;
    if (!name) return;
    const p = this.toScreen(t.x, t.y);
    this.nameTag(name, p.x, p.y - r - 6, mine);
  }
}
