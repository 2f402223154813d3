// The page around the canvas: the network HUD, the scoreboard, the kill feed (and other
// game events), the chat box, the connection notice, the controls hint and the name
// prompt. Plain DOM, updated a few times a second (the HUD and scoreboard) or on events
// (chat, feed, notices).

import { playerHue } from './world.js';

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const MAX_CHAT_LINES = 60;
const MAX_FEED = 4;

export class Hud {
  constructor() {
    this.stats = $('hud-stats');
    this.board = $('scoreboard-list');
    this.feed = $('feed');
    this.chatLog = $('chat-log');
    this.chatInput = $('chat-input');
    this.notice = $('notice');
    this.join = $('join');
    this.nameInput = $('name');
    this.boardKey = '';
  }

  /**
   * Shows the name prompt (and the lobby, if given); resolves with {name, choice}: the
   * lobby's choice of room, or null for a quick play.
   */
  askName(initial, lobby = null) {
    this.nameInput.value = initial;
    this.join.hidden = false;
    this.nameInput.focus();
    this.nameInput.select();
    lobby?.show();
    return new Promise((resolve) => {
      const done = (choice) => {
        lobby?.hide();
        const name = this.nameInput.value.trim().slice(0, 16) || (choice?.spectate ? 'spectator' : 'player');
        this.join.hidden = true;
        this.nameInput.blur();
        resolve({ name, choice });
      };
      if (lobby) lobby.choose = (choice) => done(choice);
      $('join-form').addEventListener(
        'submit',
        (e) => {
          e.preventDefault();
          done(null);
        },
        { once: true },
      );
    });
  }

  /** Network and frame figures, as label → value pairs. */
  setStats(rows) {
    const html = rows.map(([k, v, cls]) => `<div><span>${k}</span><b class="${cls ?? ''}">${v}</b></div>`).join('');
    if (html !== this.stats.innerHTML) this.stats.innerHTML = html;
  }

  /** Rebuilds the scoreboard from [{player, name, score}] when it changed. */
  setScores(rows, me) {
    rows.sort((a, b) => b.score - a.score || a.player - b.player);
    const top = rows.slice(0, 10);
    const mine = rows.findIndex((r) => r.player === me);
    if (mine >= 10) top.push(rows[mine]);
    const key = top.map((r) => `${r.player}:${r.name}:${r.score}`).join('|') + `/${me}/${rows.length}`;
    if (key === this.boardKey) return;
    this.boardKey = key;
    this.board.replaceChildren(
      ...top.map((r) => {
        const li = el('li', r.player === me ? 'me' : '');
        const dot = el('i');
        dot.style.background = `hsl(${playerHue(r.player)},75%,60%)`;
        li.append(el('em', '', `${rows.indexOf(r) + 1}`), dot, el('span', 'name', r.name), el('b', '', `${r.score}`));
        return li;
      }),
    );
    $('scoreboard-count').textContent = `${rows.length} playing`;
  }

  /** Appends a chat line (or a system line when `from` is null). */
  chat(from, name, text) {
    const line = el('div', from === null ? 'sys' : 'line');
    if (from !== null) {
      const who = el('b', '', `${name}: `);
      who.style.color = `hsl(${playerHue(from)},80%,70%)`;
      line.append(who);
    }
    line.append(document.createTextNode(text));
    this.chatLog.append(line);
    while (this.chatLog.childElementCount > MAX_CHAT_LINES) this.chatLog.firstElementChild.remove();
    this.chatLog.scrollTop = this.chatLog.scrollHeight;
  }

  /** A kill-feed line that fades after a few seconds. */
  knockout(byName, byId, victimName, victimId) {
    const row = el('div', 'ko');
    const a = el('b', '', byName);
    a.style.color = `hsl(${playerHue(byId)},80%,68%)`;
    const v = el('b', '', victimName);
    v.style.color = `hsl(${playerHue(victimId)},80%,68%)`;
    row.append(a, el('span', '', ' knocked out '), v);
    this.pushFeed(row);
  }

  /** A feed line for a game event the page has no special look for. */
  event(text) {
    this.pushFeed(el('div', 'ko', text));
  }

  /** Puts `row` at the top of the feed, where it fades after four seconds and goes after five. */
  pushFeed(row) {
    this.feed.prepend(row);
    while (this.feed.childElementCount > MAX_FEED) this.feed.lastElementChild.remove();
    setTimeout(() => row.classList.add('fade'), 4000);
    setTimeout(() => row.remove(), 5000);
  }

  /** Replaces the controls hint under the view. */
  setHelp(text) {
    const help = $('help');
    if (help && help.textContent !== text) help.textContent = text;
  }

  /** Shows (or with null text hides) the connection banner. */
  setNotice(text, kind = 'warn') {
    if (text === null) {
      this.notice.hidden = true;
      return;
    }
    this.notice.hidden = false;
    this.notice.className = kind;
    this.notice.textContent = text;
  }
}
