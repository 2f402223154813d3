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
// it by the schema's input layout. What they share (the seq, what was last sent, the
// aim's change threshold, sending one input) is `Sender`.

import { BUTTONS } from './world.js';

const HEARTBEAT_MS = 50;
const AIM_MIN_MS = 33;
const MOVE = 15;

/** The state and the send step both senders share. */
class Sender {
  /**
   * @param {(msg: object) => boolean} send puts a message on the wire; false if closed
   * @param {number} seq the last seq used (seqs keep increasing across reconnects)
   */
  constructor(send, seq) {
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
    /** Called with the send time when a fire press goes out (for the muzzle flash). */
    this.onFire = null;
    /** Every input sent, for tests: {t, buttons, seq, sentAt} (`t` is the model's send
     * time, `sentAt` the clock when it went out); null when not recording. */
    this.log = null;
  }

  /** Whether the aim has turned far enough from the one last sent to be worth sending. */
  aimTurned() {
    return Math.abs(((this.aim - this.sentAim + 98304) % 65536) - 32768) > 48;
  }

  /** Sends `buttons` at local time `now`; the model applies them from `t` (≤ now). */
  emit(buttons, t, now = t) {
    const seq = (this.seq + 1) >>> 0;
    if (!this.send({ type: 'Input', seq, buttons, aim: this.aim })) return;
    this.seq = seq;
    this.record(seq, buttons, t, now);
    if (buttons & BUTTONS.FIRE && !(this.committed & BUTTONS.FIRE) && this.onFire) this.onFire(now);
    this.committed = buttons;
    this.sentAim = this.aim;
    this.lastSend = now;
    if (this.log) this.log.push({ t: now, buttons, seq, sentAt: performance.now() });
  }

  /** Told of each input the moment it is on the wire (nothing to do without prediction). */
  record(_seq, _buttons, _t, _now) {}
}

export class InputSender extends Sender {
  /**
   * @param {import('./predict.js').Predictor} predictor
   * @param {(msg: object) => boolean} send puts a message on the wire; false if closed
   * @param {number} seq the last seq used (seqs keep increasing across reconnects)
   * @param {(at: number, fn: (now: number) => void) => void} schedule calls `fn(now)` at local time `at`
   */
  constructor(predictor, send, seq, schedule = browserSchedule) {
    super(send, seq);
    this.schedule = schedule;
    this.predictor = predictor;
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
    if ((this.aimTurned() && now - this.lastSend >= AIM_MIN_MS) || (this.committed & MOVE && now - this.lastSend >= HEARTBEAT_MS)) {
      this.emit(this.committed, now, now);
    }
  }

  /** The prediction replays every input sent. */
  record(seq, buttons, t, now) {
    this.predictor.record(seq, buttons, t, now);
  }
}

/**
 * The sender for games the page does not predict (any game but the built-in ones, or a
 * built-in one without a player_speed param): the held buttons and the aim go out the
 * moment they change, and the held state is repeated every `heartbeatMs` while any
 * button is held. Messages are {type: 'Input', seq, buttons, aim}, as InputSender's.
 */
export class SimpleSender extends Sender {
  /**
   * @param {(msg: object) => boolean} send puts a message on the wire; false if closed
   * @param {number} seq the last seq used (seqs keep increasing across reconnects)
   */
  constructor(send, seq, heartbeatMs = 100) {
    super(send, seq);
    this.heartbeatMs = heartbeatMs;
  }

  want(buttons, t) {
    this.wanted = buttons;
    if (buttons !== this.committed || this.lastSend === -Infinity) this.emit(buttons, t);
  }

  poll(now) {
    if ((this.aimTurned() && now - this.lastSend >= AIM_MIN_MS) || (this.committed !== 0 && now - this.lastSend >= this.heartbeatMs)) {
      this.emit(this.wanted, now);
    }
  }
}

/** Runs `fn` at local time `at` with a timer (the frame loop's poll is the backstop). */
function browserSchedule(at, fn) {
  setTimeout(() => fn(performance.now()), Math.max(0, at - performance.now()));
}
