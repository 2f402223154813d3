// A discrete-event model of the server and the network, for testing the browser's
// netcode without a browser: a tick loop that samples the newest arrived input and moves
// the avatar as server/src/games/controls.rs `steer` does, order-preserving links with latency
// and jitter both ways, and a client that runs the real Predictor, InputSender and
// PlayoutClock on a frame loop with irregular frame times. Time is virtual (ms).

import { Predictor } from '../js/predict.js';
import { InputSender } from '../js/sender.js';
import { EXTRAPOLATE_TICKS, PlayoutClock } from '../js/clock.js';
import { Track } from '../js/interp.js';
import { direction } from '../js/world.js';

const TICK_MS = 1000 / 30;
const SPEED = 240;
const W = 2000;
const H = 1200;

/** A seeded uniform [0, 1) generator. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Runs one scenario. `keys` is a list of [time, buttons] changes of what the player
 * holds. Returns the drawn own positions per frame, the server's track, the inputs sent,
 * and the remote entity's drawn positions per frame (a second avatar moving at SPEED).
 */
export function simulate({
  up = 50, down = 50, jitterUp = 0, jitterDown = 0, frameMs = 1000 / 60, frameJitter = 0.2,
  phase = 5, seed = 1, keys = [], endMs = 4000, rttGuess = null, stalls = [],
} = {}) {
  const rand = rng(seed);
  const events = []; // {t, kind, fn}
  const at = (t, fn) => {
    events.push({ t, fn });
  };
  const pred = new Predictor({ speed: SPEED, width: W, height: H, tickMs: TICK_MS });
  const clock = new PlayoutClock(TICK_MS);
  let lastUp = 0;
  let slot = { seq: 0, buttons: 0 };
  const sender = new InputSender(
    pred,
    (msg) => {
      const due = Math.max(lastUp, now + up + rand() * jitterUp);
      lastUp = due;
      at(due, () => {
        if (msg.seq > slot.seq) slot = msg;
      });
      return true;
    },
    0,
    (t, fn) => at(t, () => fn(now)),
  );
  let now = 0;
  let sx = 1000;
  let sy = 600;
  // A remote avatar bouncing along x, to measure interpolation.
  let rx = 200;
  let rdir = 1;
  let lastDown = 0;
  let k = 0;
  const serverXs = [];
  const remote = new Track({ id: 2, x: rx * 16, y: 0, angle: 0 }, 0, -Infinity);
  let prevTick = null;
  const tick = () => {
    k += 1;
    const [dx, dy] = direction(slot.buttons);
    sx = Math.min(W, Math.max(0, sx + (dx * SPEED) / 30));
    sy = Math.min(H, Math.max(0, sy + (dy * SPEED) / 30));
    rx += (rdir * SPEED) / 30;
    if (rx > 1800 || rx < 200) rdir = -rdir;
    serverXs.push({ t: now, k, x: sx });
    const msg = { tick: k, ack: slot.seq, x: Math.round(sx * 16), y: Math.round(sy * 16), rx: Math.round(rx * 16) };
    let due = Math.max(lastDown, now + down + rand() * jitterDown);
    // A stall upstream (a busy server or browser): nothing arrives until it ends.
    for (const [from, ms] of stalls) if (due >= from && due < from + ms) due = from + ms;
    lastDown = due;
    at(due, () => {
      clock.onSnapshot(msg.tick, now);
      remote.push(msg.tick, { x: msg.rx, y: 0, angle: 0 }, prevTick);
      prevTick = msg.tick;
      pred.onSnapshot(msg.tick, msg.ack, now, { x: msg.x, y: msg.y }, clock.base - (rttGuess ?? up + down));
    });
    at(now + TICK_MS, tick);
  };
  at(phase, tick);
  const frames = [];
  let lastFrame = 0;
  const frame = () => {
    sender.poll(now);
    const dt = now - lastFrame;
    lastFrame = now;
    const r = clock.advance(now, dt);
    const p = pred.display(now, dt);
    if (r !== null) remote.sampleAt(r, clock.latestTick, EXTRAPOLATE_TICKS);
    frames.push({ t: now, own: p ? [p.x, p.y] : null, remote: r === null ? null : remote.x, r, latest: clock.latestTick });
    at(now + frameMs * (1 - frameJitter + 2 * frameJitter * rand()), frame);
  };
  at(1, frame);
  for (const [t, b] of keys) at(t, () => sender.want(b, now));
  at(0.5, () => sender.want(0, now));
  while (events.length > 0) {
    let i = 0;
    for (let j = 1; j < events.length; j++) if (events[j].t < events[i].t) i = j;
    const e = events.splice(i, 1)[0];
    if (e.t > endMs) break;
    now = e.t;
    e.fn();
  }
  return { frames, serverXs, predictor: pred, clock, finalServer: { x: sx, y: sy } };
}

/** Measures how the drawn own player answered the keys: see the netcode test. */
export function ownMotion(frames, pressAt) {
  const f = frames.filter((x) => x.own);
  let backwards = 0;
  for (let i = 1; i < f.length; i++) backwards = Math.max(backwards, f[i - 1].own[0] - f[i].own[0]);
  const first = f.findIndex((x) => x.t >= pressAt);
  const x0 = f[first - 1].own[0];
  const moved = f.slice(first).findIndex((x) => x.own[0] - x0 > 0.01);
  return { backwards, framesToMove: moved, last: f[f.length - 1].own };
}

/** The largest per-frame step of the remote avatar relative to its speed, after `fromMs`. */
export function remoteMotion(frames, fromMs = 0) {
  let maxRatio = 0;
  let stalls = 0;
  for (let i = 2; i < frames.length; i++) {
    const [a, b] = [frames[i - 1], frames[i]];
    if (a.t < fromMs) continue;
    if (a.remote === null || b.t - a.t <= 0) continue;
    const step = Math.abs(b.remote - a.remote);
    maxRatio = Math.max(maxRatio, step / ((SPEED * (b.t - a.t)) / 1000));
    if (step === 0 && frames[i - 2].remote !== a.remote) stalls += 1;
  }
  return { maxRatio, stalls };
}

export const RULES = { TICK_MS, SPEED, W, H };
