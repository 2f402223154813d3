// Acks ride on inputs. An ack says "the newest snapshot tick applied": every input
// carries it, and a standalone Ack goes out only when nothing has carried the newest
// tick for ACK_GRACE_MS, or UNACKED_LIMIT snapshots have been applied since something did
// (so a burst read after a stall reopens the server's send window as it is read). The
// first snapshot of a connection is acked at once, because
// the server sends full states until it hears one. A playing page sends one message
// where it would send two; an idle one acks ten times a second instead of thirty,
// well inside the server's send window (500 ms by default).

export const ACK_GRACE_MS = 100;
export const UNACKED_LIMIT = 4;

export class Acker {
  constructor(graceMs = ACK_GRACE_MS) {
    this.graceMs = graceMs;
    this.reset();
  }

  /** A new connection: nothing applied on it has been acked yet. */
  reset() {
    /** The newest tick applied (null before the first snapshot). */
    this.applied = null;
    /** The newest tick a sent message carried, and when (ms). */
    this.carried = null;
    this.carriedAt = 0;
    /** Snapshots applied since a message last carried an ack. */
    this.uncarried = 0;
  }

  /** Snapshot `tick` was applied: `due` says whether a standalone Ack must carry it. */
  onApplied(tick) {
    this.applied = tick;
    this.uncarried += 1;
  }

  /** Ms from `now` until a standalone Ack is due, or null when nothing waits to be acked. */
  waitMs(now) {
    if (this.applied === null || this.applied === this.carried) return null;
    if (this.carried === null || this.uncarried >= UNACKED_LIMIT) return 0;
    return Math.max(0, this.carriedAt + this.graceMs - now);
  }

  /** The tick a standalone Ack must carry at `now` (marking it carried), or null. */
  due(now) {
    if (this.waitMs(now) !== 0) return null;
    return this.carry(now);
  }

  /** A message leaves at `now` carrying the newest applied tick: that tick (null before
   * the first snapshot), to put in an input's `ack`. */
  carry(now) {
    if (this.applied !== null) {
      this.carried = this.applied;
      this.carriedAt = now;
      this.uncarried = 0;
    }
    return this.applied;
  }
}
