// Prediction of the own player: drawn where the server *will* have it once it has seen
// every input sent so far, so movement answers the keys at once whatever the latency.
//
// The server applies the newest input it holds at each tick and moves the avatar
// dir·speed·dt, clamped to the arena. So tick k samples the buttons the client held at
// some client time c_k = W0 + k·tickMs, where W0 folds in the uplink latency. Each
// snapshot (tick T, input_ack A) brackets W0: input A had reached the server by tick T,
// input A+1 had not, so τ_A ≤ W0 + T·tickMs < τ_{A+1} (τ = send time). Intersecting the
// recent brackets pins W0 to a few ms. The predicted position is then the server's
// position at T replayed forward through ticks T+1… with the buttons held at each c_k
// (the unacknowledged inputs), plus the fraction of the tick in progress.
//
// Button changes while moving are planned for the middle of the next tick window (see
// sender.js), and the tick in progress is drawn with the buttons its sample will see,
// so stopping or turning never pulls the player back. A press from rest goes out at
// once: the player starts moving on the next frame.
//
// A new snapshot can move the prediction (a misjudged tick boundary, a respawn). Small
// differences are folded into an offset that decays over ~100 ms, so the player never
// visibly snaps; a big one (a respawn teleport) is taken at once.

import { POS_SCALE, direction } from './world.js';

const WINDOW = 45; // brackets kept (1.5 s at 30 Hz)
const LOG_MS = 5000; // inputs kept
const SMOOTH_MS = 100;
// Corrections are eased out at most this fast, so a misjudged tick (or a server that ran
// late) shows as the player slowing down a touch or settling, never as a pull back.
const CORRECT_UNITS_PER_SEC = 30;
const SNAP_UNITS = 48;

export class Predictor {
  /** @param {{speed:number,width:number,height:number,tickMs:number}} rules */
  constructor(rules) {
    this.rules = rules;
    /** Sent inputs {seq, buttons, t, sent}, in send order: `t` is when the model lets
     *  them take effect, `sent` when they actually left (both ascending). */
    this.inputs = [];
    /** A decided but not yet sent change {buttons, t}: takes effect in the model at t. */
    this.plan = null;
    /** Recent W0 brackets {lo, hi}. */
    this.brackets = [];
    /** Client time of tick 0's button sample (ms); null until estimated. */
    this.w0 = null;
    /** Server position (world units) at tick `tick`; null when the avatar is not seen. */
    this.server = null;
    this.tick = 0;
    /** The visual correction still being smoothed away. */
    this.offset = { x: 0, y: 0 };
    /** Size of the last correction (units) and the largest in the stats window. */
    this.lastCorrection = 0;
    this.maxCorrection = 0;
    this.snaps = 0;
  }

  /** Records an input the moment it is sent (`t`: when the model applies it). */
  record(seq, buttons, t, sent = t) {
    this.inputs.push({ seq, buttons: buttons & 15, t, sent });
    while (this.inputs.length > 2 && this.inputs[0].sent < sent - LOG_MS) this.inputs.shift();
  }

  /** The movement buttons in effect at client time `t` (planned changes included). */
  buttonsAt(t) {
    if (this.plan !== null && t >= this.plan.t) return this.plan.buttons & 15;
    const log = this.inputs;
    for (let i = log.length - 1; i >= 0; i--) if (log[i].t <= t) return log[i].buttons;
    return 0;
  }

  /** Index of the input with `seq`, or -1. */
  indexOf(seq) {
    const log = this.inputs;
    for (let i = log.length - 1; i >= 0; i--) {
      if (log[i].seq === seq) return i;
      if (log[i].seq < seq) break;
    }
    return -1;
  }

  /**
   * Takes the server's word for tick `tick`: `own` is the avatar (or undefined), `ack` the
   * newest input the server applied, `arrival` the local receive time, `prior` a W0 guess
   * from the playout clock and the ping (used until acks pin it down).
   */
  onSnapshot(tick, ack, arrival, own, prior) {
    if (own === undefined) {
      this.server = null;
      return;
    }
    const before = this.server === null ? null : this.position(arrival);
    this.updateW0(tick, ack, arrival, prior);
    this.server = { x: own.x / POS_SCALE, y: own.y / POS_SCALE };
    this.tick = tick;
    if (before === null) return;
    const after = this.position(arrival);
    const cx = before.x - after.x;
    const cy = before.y - after.y;
    this.lastCorrection = Math.hypot(cx, cy);
    this.maxCorrection = Math.max(this.maxCorrection, this.lastCorrection);
    if (Math.hypot(this.offset.x + cx, this.offset.y + cy) > SNAP_UNITS) {
      this.offset = { x: 0, y: 0 };
      this.snaps += 1;
    } else {
      this.offset.x += cx;
      this.offset.y += cy;
    }
  }

  updateW0(tick, ack, arrival, prior) {
    const tickMs = this.rules.tickMs;
    const at = tick * tickMs;
    const i = this.indexOf(ack);
    const lo = i >= 0 ? this.inputs[i].sent - at : -Infinity;
    const next = i >= 0 ? this.inputs[i + 1] : this.inputs.find((x) => x.seq > ack);
    const hi = Math.min(next === undefined ? arrival : next.sent, arrival) - at;
    this.brackets.push({ lo, hi });
    if (this.brackets.length > WINDOW) this.brackets.shift();
    let lb = -Infinity;
    let ub = Infinity;
    for (const b of this.brackets) {
      lb = Math.max(lb, b.lo);
      ub = Math.min(ub, b.hi);
    }
    if (lb > ub) {
      // The uplink's delay changed (or jitters): trust only the newest bracket.
      this.brackets = [{ lo, hi }];
      lb = lo;
      ub = hi;
    }
    let target;
    if (Number.isFinite(lb) && ub - lb <= tickMs * 1.5) target = (lb + ub) / 2;
    else {
      const guess = this.w0 ?? prior ?? ub - tickMs;
      target = Math.max(lb, Math.min(ub, guess));
    }
    if (this.w0 === null || Math.abs(target - this.w0) > 4 * tickMs) this.w0 = target;
    else this.w0 += (target - this.w0) * 0.2;
  }

  /** The client time of the first server input sample after `t`; null if unknown. */
  nextSample(t) {
    if (this.w0 === null) return null;
    const tickMs = this.rules.tickMs;
    return this.w0 + (Math.floor((t - this.w0) / tickMs) + 1) * tickMs;
  }

  /** The predicted (unsmoothed) position at client time `now`, or null. */
  position(now) {
    if (this.server === null || this.w0 === null) return this.server;
    const { speed, width, height, tickMs } = this.rules;
    const step = (speed * tickMs) / 1000;
    let x = this.server.x;
    let y = this.server.y;
    let c = this.w0 + (this.tick + 1) * tickMs;
    for (let n = 0; c <= now && n < 256; n++, c += tickMs) {
      const [dx, dy] = direction(this.buttonsAt(c));
      x = Math.min(width, Math.max(0, x + dx * step));
      y = Math.min(height, Math.max(0, y + dy * step));
    }
    // The tick in progress moves with the buttons its sample (at c) will see.
    const frac = Math.min(1, Math.max(0, (now - (c - tickMs)) / tickMs));
    const [dx, dy] = direction(this.buttonsAt(c));
    x = Math.min(width, Math.max(0, x + dx * step * frac));
    y = Math.min(height, Math.max(0, y + dy * step * frac));
    return { x, y };
  }

  /** The position to draw at `now`, `dt` ms after the last frame: prediction + easing offset. */
  display(now, dt) {
    const p = this.position(now);
    if (p === null) return null;
    const o = this.offset;
    const keep = Math.exp(-dt / SMOOTH_MS);
    const step = Math.hypot(o.x, o.y) * (1 - keep);
    const most = (CORRECT_UNITS_PER_SEC * dt) / 1000;
    const k = step <= most ? keep : 1 - (most / step) * (1 - keep);
    o.x *= k;
    o.y *= k;
    return { x: p.x + o.x, y: p.y + o.y };
  }
}
