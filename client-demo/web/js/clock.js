// The playout clock: when to show which server tick. Remote entities are drawn a little
// in the past, at a "render tick" that advances smoothly with local time and stays far
// enough behind the newest snapshot that the next one has (almost always) arrived.
//
// Each snapshot's arrival gives an offset sample `arrival − tick·tickMs`. The smallest
// recent sample is the least-delayed path through the network (the base); how far the
// others scatter above it is the jitter. The playout delay is one tick (the span being
// interpolated) plus the 95th-percentile jitter plus a small margin, and the render tick
// is steered toward its target by slightly speeding up or slowing down time — never by
// jumping — so motion stays smooth while the delay adapts.

const WINDOW = 90; // samples (3 s at 30 Hz)
const MARGIN_MS = 6;
const MAX_SLEW = 0.1; // ±10 % time-scale for small corrections (invisible)
const FAST_SLEW = 0.35; // up to ±35 % when far off (after a stall), still no jump
const SNAP_TICKS = 30; // further off than this (a second) and the clock jumps

/** How far past the newest snapshot moving entities may be carried along (ticks). */
export const EXTRAPOLATE_TICKS = 2;

export class PlayoutClock {
  /** @param {number} tickMs milliseconds per server tick */
  constructor(tickMs) {
    this.tickMs = tickMs;
    /** Recent `arrival − tick·tickMs` samples, oldest first. */
    this.samples = [];
    /** The minimum sample: when a tick arrives over the fastest recent path. */
    this.base = null;
    /** The 95th-percentile spread of the samples above the base, in ms. */
    this.jitterMs = 0;
    /** The current playout delay behind the base, in ms (smoothed). */
    this.delayMs = 2 * tickMs + MARGIN_MS;
    /** The tick being drawn (fractional); null until the first snapshot. */
    this.renderTick = null;
    /** Frames on which the render tick had no newer snapshot to interpolate toward. */
    this.starved = 0;
    /** The newest tick received. */
    this.latestTick = null;
  }

  /** Records the arrival (local ms) of the snapshot for `tick`. */
  onSnapshot(tick, arrival) {
    this.samples.push(arrival - tick * this.tickMs);
    if (this.samples.length > WINDOW) this.samples.shift();
    const sorted = this.samples.slice().sort((a, b) => a - b);
    this.base = sorted[0];
    this.jitterMs = sorted[Math.floor(0.95 * (sorted.length - 1))] - this.base;
    const target = this.tickMs + this.jitterMs + MARGIN_MS;
    // Grow quickly when the network gets worse, shrink slowly when it gets better.
    this.delayMs += (target - this.delayMs) * (target > this.delayMs ? 0.25 : 0.02);
    this.latestTick = tick;
    if (this.renderTick === null) this.renderTick = this.targetTick(arrival);
  }

  /** Where the render tick should be at local time `now`. */
  targetTick(now) {
    return (now - this.base - this.delayMs) / this.tickMs;
  }

  /** The newest tick the server has probably sent by local time `now`. */
  serverTick(now) {
    return this.base === null ? 0 : (now - this.base) / this.tickMs;
  }

  /** Advances the render tick to local time `now`, `dt` ms after the previous frame. */
  advance(now, dt) {
    if (this.renderTick === null) return null;
    const target = this.targetTick(now);
    // Running out of snapshots (a stall upstream): ease to a stop EXTRAPOLATE_TICKS past
    // the newest one rather than run dry and jump when the stall ends.
    const over = this.latestTick === null ? 0 : this.renderTick - this.latestTick;
    const starving = over > 0;
    const rate = starving ? Math.max(0, 1 - over / EXTRAPOLATE_TICKS) : 1;
    let r = this.renderTick + rate * (dt / this.tickMs);
    const err = target - r;
    if (Math.abs(err) > SNAP_TICKS) {
      r = target;
    } else if (!starving || err < 0) {
      const slew = Math.min(FAST_SLEW, MAX_SLEW + Math.max(0, Math.abs(err) - 2) * 0.05);
      const maxStep = (slew * dt) / this.tickMs;
      r += Math.max(-maxStep, Math.min(maxStep, err * Math.min(1, dt / 300)));
    }
    if (this.latestTick !== null && r > this.latestTick) this.starved += 1;
    this.renderTick = r;
    return r;
  }

  reset() {
    this.samples = [];
    this.base = null;
    this.renderTick = null;
    this.latestTick = null;
  }
}
