// When each input goes out. The server samples the newest input once per tick, so what
// matters is which tick first sees a change:
//
// - Starting to move from rest is sent at once: the predicted player moves on the next
//   frame, and the server's first moving tick is the one prediction already shows.
// - Stopping or turning while moving is sent in the middle of the next tick window (half
//   a tick after the next sample the prediction expects). The tick being drawn then
//   completes with the old direction on both sides, so the drawn player stops exactly
//   where the server stops — no pull back — at the cost of at most a tick of extra travel.
// - Fire and aim changes go out at once with the movement bits already committed;
//   while moving, the held state is repeated every HEARTBEAT_MS, which keeps the
//   prediction's picture of the tick grid sharp.
//
// SimpleSender is the plain policy for games without prediction: send on change, and
// repeat while held. Both hand out {type: 'Input', seq, buttons, aim}; the game encodes
// it by the schema's input layout.

import { BUTTONS } from './world.js';

const HEARTBEAT_MS = 50;
const AIM_MIN_MS = 33;
const MOVE = 15;

export class InputSender {
  /**
   * @param {import('./predict.js').Predictor} predictor
   * @param {(msg: object) => boolean} send puts a message on the wire; false if closed
   * @param {number} seq the last seq used (seqs keep increasing across reconnects)
   * @param {(at: number, fn: (now: number) => void) => void} schedule calls `fn(now)` at local time `at`
   */
  constructor(predictor, send, seq, schedule = browserSchedule) {
    this.schedule = schedule;
    this.predictor = predictor;
    this.send = send;
    this.seq = seq;
    /** Buttons most recently sent (movement and fire). */
    this.committed = 0;
    /** Buttons the player holds now. */
    this.wanted = 0;
    /** Aim to send (16-bit), and the aim last sent. */
    this.aim = 0;
    this.sentAim = 0;
    this.lastSend = -Infinity;
    /** Called with (t, buttons) when a fire press goes out (for the muzzle flash). */
    this.onFire = null;
    /** Every input sent, for tests: {t, buttons, seq}; null when not recording. */
    this.log = null;
  }

  /** The player now holds `buttons` (since local time `t`). */
  want(buttons, t) {
    this.wanted = buttons;
    const from = this.committed & MOVE;
    const to = buttons & MOVE;
    const next = this.predictor.nextSample(t);
    if (to === from || from === 0 || next === null) {
      this.cancelPlan();
      this.emit((buttons & ~MOVE) | to, t, t);
      return;
    }
    const pending = this.predictor.plan;
    if (pending !== null) {
      // Already waiting for the next window: change what goes out, not when.
      pending.buttons = to;
    } else {
      const at = next + this.predictor.rules.tickMs / 2;
      this.predictor.plan = { buttons: to, t: at };
      this.schedule(at, (now) => this.poll(now));
    }
    // Fire changes do not wait for the movement change.
    if ((buttons & BUTTONS.FIRE) !== (this.committed & BUTTONS.FIRE)) {
      this.emit((buttons & BUTTONS.FIRE) | from, t, t);
    }
  }

  cancelPlan() {
    this.predictor.plan = null;
  }

  /** Sends what is due at local time `now` (called every frame and when a plan is due): a planned change, a heartbeat, a new aim. */
  poll(now) {
    const plan = this.predictor.plan;
    if (plan !== null && now >= plan.t) {
      this.predictor.plan = null;
      this.emit((this.wanted & ~MOVE) | plan.buttons, plan.t, now);
      return;
    }
    const turned = Math.abs(((this.aim - this.sentAim + 98304) % 65536) - 32768) > 48;
    if ((turned && now - this.lastSend >= AIM_MIN_MS) || (this.committed & MOVE && now - this.lastSend >= HEARTBEAT_MS)) {
      this.emit(this.committed, now, now);
    }
  }

  /** Sends `buttons` now; the model applies them from `t` (≤ now). */
  emit(buttons, t, now) {
    const seq = (this.seq + 1) >>> 0;
    if (!this.send({ type: 'Input', seq, buttons, aim: this.aim })) return;
    this.seq = seq;
    this.predictor.record(seq, buttons, t, now);
    if (buttons & BUTTONS.FIRE && !(this.committed & BUTTONS.FIRE) && this.onFire) this.onFire(now);
    this.committed = buttons;
    this.sentAim = this.aim;
    this.lastSend = now;
    if (this.log) this.log.push({ t: now, buttons, seq });
  }

}

/**
 * The sender for games the page does not predict (any game but the built-in ones, or a
 * built-in one without a player_speed param): the held buttons and the aim go out the
 * moment they change, and the held state is repeated every `heartbeatMs` while any
 * button is held. Messages are {type: 'Input', seq, buttons, aim}, as InputSender's.
 */
export class SimpleSender {
  /**
   * @param {(msg: object) => boolean} send puts a message on the wire; false if closed
   * @param {number} seq the last seq used (seqs keep increasing across reconnects)
   */
  constructor(send, seq, heartbeatMs = 100) {
    this.send = send;
    this.seq = seq;
    this.heartbeatMs = heartbeatMs;
    this.committed = 0;
    this.wanted = 0;
    this.aim = 0;
    this.sentAim = 0;
    this.lastSend = -Infinity;
    this.onFire = null;
    this.log = null;
  }

  want(buttons, t) {
    this.wanted = buttons;
    if (buttons !== this.committed || this.lastSend === -Infinity) this.emit(buttons, t);
  }

  poll(now) {
    const turned = Math.abs(((this.aim - this.sentAim + 98304) % 65536) - 32768) > 48;
    if ((turned && now - this.lastSend >= AIM_MIN_MS) || (this.committed !== 0 && now - this.lastSend >= this.heartbeatMs)) {
      this.emit(this.wanted, now);
    }
  }

  emit(buttons, now) {
    const seq = (this.seq + 1) >>> 0;
    if (!this.send({ type: 'Input', seq, buttons, aim: this.aim })) return;
    this.seq = seq;
    if (buttons & BUTTONS.FIRE && !(this.committed & BUTTONS.FIRE) && this.onFire) this.onFire(now);
    this.committed = buttons;
    this.sentAim = this.aim;
    this.lastSend = now;
    if (this.log) this.log.push({ t: now, buttons, seq });
  }
}

/** Runs `fn` at local time `at` with a timer (the frame loop's poll is the backstop). */
function browserSchedule(at, fn) {
  setTimeout(() => fn(performance.now()), Math.max(0, at - performance.now()));
}
