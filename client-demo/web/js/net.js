// The connection: one WebSocket to /ws speaking binary protocol messages (protocol
// version 2: the game's schema arrives in Welcome), with byte and message counters, and
// reconnection with exponential backoff (plus jitter, so a server restart is not met by
// every client at the same instant). A Bye says why the server closed; reasons that a
// retry cannot fix stop the retries. A draining server's `Relocate` (and a seat that is
// no longer good) sends the page to matchmake again, when it was given a way to.

import { decodeServer, encodeClient } from './codec.js';

export const PROTOCOL_VERSION = 7;

/** Bye codes after which reconnecting would only be refused again. */
const FINAL = new Set(['ProtocolMismatch', 'Replaced', 'AuthFailed', 'OriginRefused']);

/** Bye codes that ask for a new seat elsewhere (matchmaking again) rather than a retry. */
const RESEAT = new Set(['Relocate', 'NoSeat']);

/** Longest random wait before matchmaking again after `Relocate`, so a drained server's
 * players do not all ask at the same instant. */
const RESEAT_SPREAD_MS = 300;

/** Counts over a sliding one-second window, for per-second rates. */
export class Rate {
  constructor() {
    this.events = [];
    this.total = 0;
  }

  add(now, amount = 1) {
    this.events.push(now, amount);
    this.total += amount;
    // Bounded even when nobody reads the rate (a hidden tab draws no frames).
    if (this.events.length > 8192) this.perSecond(now);
  }

  /** The sum over the last second. */
  perSecond(now) {
    const e = this.events;
    let i = 0;
    while (i < e.length && e[i] < now - 1000) i += 2;
    if (i > 0) e.splice(0, i);
    let sum = 0;
    for (let k = 1; k < e.length; k += 2) sum += e[k];
    return sum;
  }
}

export class Connection {
  /**
   * @param {object} o
   * @param {string} o.url the WebSocket URL
   * @param {() => {name: string, resume: {token: string, tick: number|null}|null}} o.hello what to say in Hello
   * @param {(msg: object, bytes: number, now: number) => void} o.onMessage
   * @param {(status: {state: string, reason?: string, retryInMs?: number, attempt?: number}) => void} o.onStatus
   * @param {(() => Promise<string>)|null} [o.matchmake] asks for a new seat and resolves to
   *   the WebSocket URL that claims it; without it, `Relocate` is retried like a drop
   */
  constructor({ url, hello, onMessage, onStatus, matchmake = null }) {
    this.url = url;
    this.matchmake = matchmake;
    /** Whether the next connect must first matchmake (the last server relocated us). */
    this.reseat = false;
    /** Why the last server sent us away (shown while matchmaking). */
    this.reseatReason = null;
    this.hello = hello;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.ws = null;
    this.down = new Rate();
    this.up = new Rate();
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    /** The last Bye received on this socket, to explain the close. */
    this.bye = null;
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.timer);
    this.bye = null;
    if (this.reseat && this.matchmake) {
      this.onStatus({ state: 'matchmaking', reason: this.reseatReason, attempt: this.attempt });
      this.matchmake().then(
        (url) => {
          if (this.stopped) return;
          this.reseat = false;
          this.url = url;
          this.openSocket();
        },
        (err) => {
          if (!this.stopped) this.retry(`matchmaking failed: ${err.message ?? err}`);
        },
      );
      return;
    }
    this.openSocket();
  }

  /** Opens the socket to `this.url` and says Hello on it. */
  openSocket() {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.onStatus({ state: 'connecting', attempt: this.attempt });
    ws.onopen = () => {
      const { name, resume } = this.hello();
      this.send({ type: 'Hello', protocol: PROTOCOL_VERSION, name, resume, auth: null });
    };
    ws.onmessage = (ev) => {
      // A socket this page has moved on from (dropped, replaced) has nothing more to say.
      if (this.ws !== ws || !(ev.data instanceof ArrayBuffer)) return;
      const now = performance.now();
      const bytes = new Uint8Array(ev.data);
      this.down.add(now, bytes.length);
      let msg;
      try {
        msg = decodeServer(bytes);
      } catch (err) {
        console.warn('tickwire: undecodable server message', err);
        this.drop('the server sent a message this page cannot read');
        return;
      }
      if (msg.type === 'Welcome') this.attempt = 0;
      if (msg.type === 'Bye') this.bye = msg;
      this.onMessage(msg, bytes.length, now);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const reason = this.bye ? this.bye.reason : ev.reason || (ev.code === 1006 ? 'connection lost' : `closed (${ev.code})`);
      if (this.stopped || (this.bye && FINAL.has(this.bye.code))) {
        this.onStatus({ state: 'closed', reason });
        return;
      }
      if (this.bye && RESEAT.has(this.bye.code) && this.matchmake) {
        this.reseat = true;
        this.reseatReason = reason;
        if (this.bye.code === 'Relocate') {
          // Not a failure: the server asked us to move. Go soon, at a random moment.
          const delay = Math.random() * RESEAT_SPREAD_MS;
          this.onStatus({ state: 'relocating', reason, retryInMs: delay, attempt: this.attempt });
          this.timer = setTimeout(() => this.connect(), delay);
          return;
        }
      }
      this.retry(reason);
    };
  }

  /** Connects again after a backoff that grows with each failed attempt. */
  retry(reason) {
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.onStatus({ state: 'disconnected', reason, retryInMs: delay, attempt: this.attempt });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** True when messages can be sent. */
  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(msg) {
    if (!this.open) return false;
    const bytes = encodeClient(msg);
    this.ws.send(bytes);
    this.up.add(performance.now(), bytes.length);
    return true;
  }

  /** Closes this socket (the close handler then schedules a reconnect). */
  drop(why) {
    if (this.ws) {
      this.bye = { code: 'Client', reason: why };
      this.ws.close(4000, why.slice(0, 120));
    }
  }

  /** Closes for good. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'bye');
  }
}
