// The replay bar: when the server serves a recorded match (`tickwire replay FILE`), its
// `/replay` answers with where the playback stands, and this bar shows it and steers
// it: play / pause, a seek slider over the recorded ticks, the speed, and how many
// replayed ticks matched the recording. Every viewer steers the same playback.

const POLL_MS = 250;

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
      this.send({ seek: Number(this.seek.value) });
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
    try {
      const r = await this.fetch('/replay');
      // 204: the server plays a live game.
      if (r.status !== 200) return null;
      this.show(await r.json());
      return this.status;
    } catch {
      return null;
    }
  }

  /** Sends a command ({playing}, {seek}, {speed}) and refreshes at once. */
  async send(command) {
    const r = await this.fetch('/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(command),
    });
    if (!r.ok) console.warn(`replay command refused: ${await r.text()}`);
    await this.poll();
  }

  show(status) {
    this.status = status;
    this.play.textContent = status.playing ? 'Pause' : 'Play';
    this.seek.min = String(status.first);
    this.seek.max = String(status.last);
    if (!this.dragging) this.seek.value = String(status.tick);
    this.showTime(status.tick);
    if (document.activeElement !== this.speed) this.speed.value = String(status.speed);
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
