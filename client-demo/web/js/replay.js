// The replay bar: when the server serves a recorded match (`tickwire replay FILE`), its
// `/replay` answers with where the playback stands, and this bar shows it and steers
// it: play / pause, a seek slider over the recorded ticks, the speed, and how many
// replayed ticks matched the recording. Every viewer steers the same playback.

const POLL_MS = 250;
/** How long the slider stays where a seek put it while the server gets there. */
const SEEK_PATIENCE_MS = 5000;

/** Formats recorded ticks as m:ss at `hz`. */
export function clock(ticks, hz) {
  const s = Math.max(0, Math.floor(ticks / hz));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class ReplayBar {
  /**
   * @param {HTMLElement} root the bar's section (hidden until a replay is found)
   * @param {(url: string, init?: object) => Promise<Response>} fetcher
   */
  constructor(root, fetcher = (u, i) => fetch(u, i)) {
    this.root = root;
    this.fetch = fetcher;
    this.status = null;
    this.dragging = false;
    /** A seek sent and not yet shown by the status: {tick, until} (local ms). */
    this.seeking = null;
    /** Polls sent, and the newest one answered: an older answer arriving late is dropped. */
    this.polls = 0;
    this.answered = 0;
    this.play = root.querySelector('#replay-play');
    this.seek = root.querySelector('#replay-seek');
    this.time = root.querySelector('#replay-time');
    this.speed = root.querySelector('#replay-speed');
    this.check = root.querySelector('#replay-check');
    this.play.addEventListener('click', () => this.send({ playing: !(this.status?.playing ?? true) }));
    this.seek.addEventListener('input', () => {
      this.dragging = true;
      this.showTime(Number(this.seek.value));
    });
    this.seek.addEventListener('change', () => {
      this.dragging = false;
      const tick = Number(this.seek.value);
      // A seek back replays from the start and may take a moment: hold the slider there.
      this.seeking = { tick, until: performance.now() + SEEK_PATIENCE_MS };
      this.send({ seek: tick });
    });
    this.speed.addEventListener('change', () => this.send({ speed: Number(this.speed.value) }));
  }

  /** Asks the server whether it serves a replay; if so shows the bar and keeps it current. */
  async probe() {
    const status = await this.poll();
    if (status === null) return false;
    this.root.hidden = false;
    setInterval(() => this.poll(), POLL_MS);
    return true;
  }

  async poll() {
    const n = ++this.polls;
    try {
      const r = await this.fetch('/replay');
      // 204: the server plays a live game.
      if (r.status !== 200) return null;
      const status = await r.json();
      if (n > this.answered) {
        this.answered = n;
        this.show(status);
      }
      return this.status;
    } catch {
      return null;
    }
  }

  /** Sends a command ({playing}, {seek}, {speed}) and refreshes at once. */
  async send(command) {
    try {
      const r = await this.fetch('/replay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(command),
      });
      if (!r.ok) console.warn(`replay command refused: ${await r.text()}`);
    } catch (e) {
      console.warn(`replay command not sent: ${e}`);
    }
    await this.poll();
  }

  show(status) {
    this.status = status;
    const s = this.seeking;
    if (s !== null && (status.tick === s.tick || performance.now() > s.until)) this.seeking = null;
    this.play.textContent = status.playing ? 'Pause' : 'Play';
    this.seek.min = String(status.first);
    this.seek.max = String(status.last);
    const shown = this.seeking?.tick ?? status.tick;
    if (!this.dragging) {
      this.seek.value = String(shown);
      this.showTime(shown);
    }
    if (document.activeElement !== this.speed) this.speed.value = String(status.speed);
    if (status.seeking !== null && status.seeking !== undefined && !this.dragging) {
      this.time.textContent = `seeking to tick ${status.seeking}…`;
    }
    this.check.textContent = status.mismatched === 0
      ? `${status.checked} ticks match the recording`
      : `${status.mismatched} of ${status.checked} ticks differ from the recording`;
    this.check.classList.toggle('bad', status.mismatched !== 0);
  }

  showTime(tick) {
    const s = this.status;
    if (s === null) return;
    this.time.textContent = `${clock(tick - s.first, s.tick_hz)} / ${clock(s.last - s.first, s.tick_hz)} · tick ${tick}`;
  }
}
