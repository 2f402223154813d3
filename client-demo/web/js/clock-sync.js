// The server clock as this page estimates it from pongs: the offset between the server's
// wall clock and the page's, and the server's tick at any local instant. The same
// estimator as the Rust client's (shared/src/clock_sync.rs): each pong gives a round trip
// and an offset sample `server_time + rtt/2 − received`, exact when both legs took equally
// long; queueing only adds delay, so the fastest quarter of a recent window is averaged,
// and the estimate moves toward it smoothly. A pong names the newest tick the server had
// published, so `server_time − tick·tickMs` is never before the schedule's tick 0, and
// the window's smallest such value is that moment.

export const WINDOW = 16;
const SMOOTHING = 0.3;

export class ServerClock {
  /** @param {number} tickHz server ticks per second */
  constructor(tickHz) {
    this.tickMs = 1000 / Math.max(1, tickHz);
    /** The newest pongs, oldest first: {rtt, offset, epoch} in ms. */
    this.samples = [];
    /** Server clock minus page clock (ms, smoothed); null before the first pong. */
    this.offsetMs = null;
  }

  /**
   * Takes one pong: its ping left at page time `sentMs` and it arrived at `receivedMs`
   * (performance.now() ms), carrying the server's newest tick and wall clock (Unix ms, a
   * Number or BigInt). A pong that arrived before it was sent is ignored.
   */
  onPong(sentMs, receivedMs, serverTick, serverTimeMs) {
    const rtt = receivedMs - sentMs;
    if (!(rtt >= 0 && Number.isFinite(rtt))) return;
    const serverTime = Number(serverTimeMs);
    if (this.samples.length === WINDOW) this.samples.shift();
    this.samples.push({
      rtt,
      offset: serverTime + rtt / 2 - receivedMs,
      epoch: serverTime - serverTick * this.tickMs,
    });
    const fastest = this.samples.slice().sort((a, b) => a.rtt - b.rtt);
    const n = Math.max(1, Math.floor(fastest.length / 4));
    let sum = 0;
    for (let i = 0; i < n; i++) sum += fastest[i].offset;
    const target = sum / n;
    this.offsetMs = this.offsetMs === null ? target : this.offsetMs + (target - this.offsetMs) * SMOOTHING;
  }

  /** The lowest round trip in the window (ms), or null. */
  minRttMs() {
    return this.samples.length === 0 ? null : Math.min(...this.samples.map((s) => s.rtt));
  }

  /** The server's wall clock (Unix ms) at page time `localMs`, or null. */
  serverTimeMs(localMs) {
    return this.offsetMs === null ? null : localMs + this.offsetMs;
  }

  /**
   * The server's tick at page time `localMs`, fractional (its whole part is the newest
   * tick the server has published by then); null before the first pong.
   */
  tickAt(localMs) {
    if (this.offsetMs === null) return null;
    let epoch = Infinity;
    for (const s of this.samples) epoch = Math.min(epoch, s.epoch);
    return (localMs + this.offsetMs - epoch) / this.tickMs;
  }
}
