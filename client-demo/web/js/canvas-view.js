// What both renderers (render.js, render-generic.js) share: the canvas, its backing
// store kept at the element's CSS size times the device pixel ratio (at most 2), the
// camera — the world point (camX, camY) at the centre, `scale` CSS pixels per world
// unit — with its world ↔ screen transform, and the marks every game's view draws alike
// (players' name tags, the aim reticle). Each renderer places the camera its own way.

export class CanvasView {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.dpr = 1;
    this.w = 0;
    this.h = 0;
    /** World → screen: screen = (world − cam) · scale + centre. */
    this.scale = 1;
    this.camX = 0;
    this.camY = 0;
  }

  /** Sizes the backing store to the element (nothing to do while neither has changed). */
  resize() {
    const dpr = Math.min(globalThis.devicePixelRatio || 1, 2);
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === this.w && h === this.h && dpr === this.dpr && this.canvas.width === Math.round(w * dpr)) return;
    this.w = w;
    this.h = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
  }

  toScreen(x, y) {
    return { x: (x - this.camX) * this.scale + this.w / 2, y: (y - this.camY) * this.scale + this.h / 2 };
  }

  toWorld(sx, sy) {
    return { x: (sx - this.w / 2) / this.scale + this.camX, y: (sy - this.h / 2) / this.scale + this.camY };
  }

  /** A player's name, centred above screen point (x, bottom), outlined to read on any
   * ground; the own player's bold and gold. */
  nameTag(name, x, bottom, own) {
    const { ctx } = this;
    ctx.font = `${own ? 700 : 600} 13px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.lineWidth = 3.5;
    ctx.strokeStyle = 'rgba(0,0,0,0.75)';
    ctx.strokeText(name, x, bottom);
    ctx.fillStyle = own ? '#ffe27a' : '#eef3ff';
    ctx.fillText(name, x, bottom);
  }

  /** The aim point at screen point p: a ring with four cross-hair arms. */
  reticle(p) {
    const { ctx } = this;
    ctx.strokeStyle = 'rgba(255,255,255,0.85)';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(p.x, p.y, 9, 0, Math.PI * 2);
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      ctx.moveTo(p.x + 5 * dx, p.y + 5 * dy);
      ctx.lineTo(p.x + 15 * dx, p.y + 15 * dy);
    }
    ctx.stroke();
  }
}
