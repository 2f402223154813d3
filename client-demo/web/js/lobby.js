// The lobby on the join form: the rooms open on this server (GET /rooms, refreshed every
// 2 s while the form shows) and every way in — quick play, a listed room, a new public
// or private room (POST /rooms), a room by id and code, or watching a room. It resolves
// to the query the page's WebSocket URL carries (`room=4&code=K7MQ2X`, `room=2&spectate=1`;
// empty for a quick match).

/** The query string for a choice: {room?, code?, spectate?, type?}. */
export function queryOf(choice) {
  const q = new URLSearchParams();
  if (choice.room !== undefined && choice.room !== null) q.set('room', String(choice.room));
  if (choice.code) q.set('code', choice.code);
  if (choice.type) q.set('type', choice.type);
  if (choice.spectate) q.set('spectate', '1');
  if (choice.follow !== undefined && choice.follow !== null) q.set('follow', String(choice.follow));
  return q.toString();
}

/** The choice a page URL's query already makes (room, code, type, spectate, follow), or null. */
export function choiceFromParams(params) {
  const choice = {};
  for (const key of ['room', 'code', 'type', 'follow']) {
    if (params.has(key)) choice[key] = params.get(key);
  }
  if (params.get('spectate') === '1' || params.get('spectate') === 'true') choice.spectate = true;
  return Object.keys(choice).length > 0 ? choice : null;
}

/** One row's text: "#2 arena · 3/20 playing · 1 watching". */
export function describe(room) {
  const max = room.max_players >= 1000 ? '' : `/${room.max_players}`;
  const watching = room.spectators > 0 ? ` · ${room.spectators} watching` : '';
  const lock = room.private ? ' 🔒' : '';
  return `#${room.id} ${room.type}${lock} · ${room.players}${max} playing${watching}`;
}

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

export class Lobby {
  /**
   * @param {HTMLElement} root the lobby's section inside the join form
   * @param {(choice: object) => void} choose called with the player's choice
   * @param {typeof fetch} fetchImpl
   */
  constructor(root, choose, fetchImpl = (...a) => fetch(...a)) {
    this.root = root;
    this.choose = choose;
    this.fetch = fetchImpl;
    this.list = root.querySelector('#lobby-rooms');
    this.count = root.querySelector('#lobby-count');
    this.error = root.querySelector('#lobby-error');
    this.rooms = [];
    this.timer = null;
    root.querySelector('#lobby-create').addEventListener('click', () => this.create(false));
    root.querySelector('#lobby-private').addEventListener('click', () => this.create(true));
    root.querySelector('#lobby-join-code').addEventListener('click', () => {
      const room = root.querySelector('#lobby-room').value.trim();
      const code = root.querySelector('#lobby-code').value.trim().toUpperCase();
      if (!/^\d+$/.test(room)) return this.showError('A room is a number, such as 3.');
      this.choose({ room: Number(room), code: code || undefined });
    });
  }

  /** Starts listing the rooms. */
  show() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), 2000);
  }

  /** Stops listing. */
  hide() {
    clearInterval(this.timer);
    this.timer = null;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = text === null;
  }

  async refresh() {
    try {
      const res = await this.fetch('/rooms');
      if (!res.ok) return this.showError(`The room list is unavailable (${res.status}).`);
      this.render(await res.json());
    } catch {
      this.showError('The room list is unavailable.');
    }
  }

  /** Draws `rooms` (GET /rooms' answer). */
  render(rooms) {
    this.rooms = rooms;
    this.count.textContent = `${rooms.length}`;
    this.list.replaceChildren(
      ...rooms.map((room) => {
        const row = el('li');
        row.dataset.room = String(room.id);
        row.append(el('span', 'what', describe(room)));
        if (!room.private) {
          const join = el('button', 'join', 'Join');
          join.type = 'button';
          join.disabled = room.players >= room.max_players;
          join.addEventListener('click', () => this.choose({ room: room.id }));
          const watch = el('button', 'watch', 'Watch');
          watch.type = 'button';
          watch.addEventListener('click', () => this.choose({ room: room.id, spectate: true }));
          row.append(join, watch);
        }
        return row;
      }),
    );
  }

  /** Opens a new room (of the default type) and joins it; a private room's code is shown. */
  async create(isPrivate) {
    try {
      const res = await this.fetch('/rooms', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ private: isPrivate }),
      });
      if (!res.ok) return this.showError(`No new room: ${(await res.text()).trim()}`);
      const room = await res.json();
      this.choose({ room: room.id, code: room.code ?? undefined, created: room });
    } catch {
      this.showError('No new room: the server did not answer.');
    }
  }
}
