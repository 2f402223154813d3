// The dashboard page (/dashboard): the rooms open on this server (GET /rooms, every 2 s)
// and, for the room picked, its scoreboard and latest events, live from the room's
// Server-Sent Events feed (/rooms/{id}/events; the browser's EventSource reconnects by
// itself with Last-Event-ID, so nothing is missed across a drop).

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

/** Most events listed at once. */
const EVENTS_SHOWN = 30;

const state = { rooms: [], room: null, feed: null, scores: [], events: [], lastId: 0 };

function age(s) {
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

async function refreshRooms() {
  try {
    const res = await fetch('/rooms');
    if (!res.ok) throw new Error(String(res.status));
    state.rooms = await res.json();
  } catch (e) {
    $('dash-summary').textContent = `room list unavailable (${e.message})`;
    return;
  }
  const players = state.rooms.reduce((n, r) => n + r.players, 0);
  $('dash-summary').textContent = `${state.rooms.length} rooms · ${players} players`;
  $('dash-rooms').tBodies[0].replaceChildren(
    ...state.rooms.map((r) => {
      const tr = el('tr');
      tr.dataset.room = String(r.id);
      if (r.id === state.room) tr.className = 'picked';
      const max = r.max_players >= 1000 ? '' : `/${r.max_players}`;
      for (const text of [`#${r.id}${r.private ? ' 🔒' : ''}`, r.type, `${r.players}${max}`, `${r.spectators}`, `${r.tick_p99_ms.toFixed(2)} ms`, age(r.age_s)]) {
        tr.append(el('td', text));
      }
      const td = el('td');
      if (!r.private) {
        const watch = el('button', 'Feed');
        watch.type = 'button';
        watch.addEventListener('click', () => pick(r.id));
        const play = el('a', 'Watch');
        play.href = `/?room=${r.id}&spectate=1&name=spectator`;
        td.append(watch, ' ', play);
      }
      tr.append(td);
      return tr;
    }),
  );
}

function showScores() {
  const rows = [...state.scores].sort((a, b) => (b.score ?? 0) - (a.score ?? 0) || a.player - b.player);
  $('dash-scores').replaceChildren(...rows.map((p) => el('li', `${p.name} ${p.score ?? ''}`)));
}

function showEvents() {
  $('dash-events').replaceChildren(...state.events.map((e) => el('li', e)));
}

function note(text) {
  state.events.unshift(text);
  state.events.length = Math.min(state.events.length, EVENTS_SHOWN);
  showEvents();
}

/** Follows room `id`'s feed. */
function pick(id) {
  state.feed?.close();
  state.room = id;
  state.scores = [];
  state.events = [];
  state.lastId = 0;
  $('dash-room').hidden = false;
  $('dash-room-id').textContent = `#${id}`;
  const feed = new EventSource(`/rooms/${id}/events`);
  state.feed = feed;
  const data = (e) => JSON.parse(e.data);
  const seen = (e) => {
    state.lastId = Number(e.lastEventId) || state.lastId;
  };
  feed.onopen = () => ($('dash-feed-state').textContent = 'live');
  feed.onerror = () => ($('dash-feed-state').textContent = feed.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…');
  feed.addEventListener('scoreboard', (e) => {
    seen(e);
    state.scores = data(e).players;
    showScores();
  });
  feed.addEventListener('joined', (e) => { seen(e); note(`${data(e).name} joined`); });
  feed.addEventListener('left', (e) => { seen(e); note(`${data(e).name} left`); });
  feed.addEventListener('chat', (e) => { seen(e); const c = data(e); note(`${c.name}: ${c.text}`); });
  feed.addEventListener('game', (e) => { seen(e); note(e.data); });
  feed.addEventListener('gap', (e) => { const g = data(e); note(`(events ${g.from}–${g.to} missed)`); });
  feed.addEventListener('end', (e) => {
    note(`room ended: ${data(e).reason}`);
    feed.close();
    $('dash-feed-state').textContent = 'ended';
  });
  refreshRooms();
}

refreshRooms();
setInterval(refreshRooms, 2000);
const asked = new URLSearchParams(location.search).get('room');
if (asked && /^\d+$/.test(asked)) pick(Number(asked));

/** Test hooks: what the page shows. */
window.tickwireDashboard = {
  rooms: () => state.rooms,
  room: () => state.room,
  scores: () => state.scores,
  events: () => [...state.events],
  lastEventId: () => state.lastId,
};
