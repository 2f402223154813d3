// Drives the lobby, a spectator and the dashboard in real headless Chromium, for the
// Rust tests:
//
//   node lobby.mjs <page url> <room id> [artifacts dir]
//
// A player page opens the lobby, waits until it lists <room id>, names itself and
// presses that room's Join; a second page presses Watch on the same room. Then, at a
// tick both hold, it reads the net ids of both mirrors. A third page opens the
// dashboard on that room and waits for its live scoreboard.
//
// Output: log lines on stderr, then exactly one stdout line `{"result": {...}}` with
//   listed         the room ids the lobby listed
//   player         the player page's stats (room, spectator, entity, player)
//   spectator      the spectator page's stats
//   tick           the tick at which both mirrors were read
//   playerIds, spectatorIds   the net ids each mirror held at that tick, ascending
//   scores         the dashboard's scoreboard for the room
//   consoleErrors  console errors and uncaught exceptions of every page
// Exit status 0 when it ran (the Rust test asserts on the result), 1 when it could not.

import { launchChromium, watchedPage, waitFor as waitForPage } from './page.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, roomArg, artifacts = 'artifacts'] = process.argv.slice(2);
if (!url || roomArg === undefined) {
  console.error('usage: node lobby.mjs <page url> <room id> [artifacts dir]');
  process.exit(1);
}
const room = Number(roomArg);
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium';
const log = (...a) => console.error('[browser]', ...a);

const look = (page) =>
  page.evaluate(() => {
    const t = window.tickwire;
    if (!t) return null;
    return { stats: t.stats(), ids: t.entityIds(), rooms: t.lobby.rooms().map((r) => r.id) };
  });
const waitFor = (page, what, pred, timeoutMs = 20000) => waitForPage(page, what, look, pred, timeoutMs);

/** Opens the page's lobby, names `name`, and presses room `room`'s `button`. */
async function enter(context, consoleErrors, name, button) {
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  await page.goto(url);
  const listed = await waitFor(page, `the lobby to list room ${room}`, (s) => s.rooms.includes(room));
  await page.locator('#name').fill(name);
  await page.locator(`#lobby-rooms li[data-room="${room}"] button.${button}`).click();
  return { page, listed: listed.rooms };
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const { context, close } = await launchChromium(CHROMIUM);
  const consoleErrors = [];
  try {
    await watchedPage(context, consoleErrors);
    const { page: player, listed } = await enter(context, consoleErrors, 'pat', 'join');
    const p = await waitFor(player, 'the player to be seated', (s) => s.stats.connected && s.stats.snapshots > 3);
    log('player in room', p.stats.room);
    const { page: spectator } = await enter(context, consoleErrors, 'eve', 'watch');
    const w = await waitFor(spectator, 'the spectator to watch', (s) => s.stats.connected && s.stats.snapshots > 3);
    log('spectator of room', w.stats.room);
    // Both pages get every tick's snapshot: read both until they stand at the same tick.
    let same = null;
    const start = Date.now();
    while (same === null && Date.now() - start < 10000) {
      const [a, b] = await Promise.all([look(player), look(spectator)]);
      if (a.stats.tick === b.stats.tick && a.stats.tick !== null) same = { tick: a.stats.tick, a: a.ids, b: b.ids };
      else await player.waitForTimeout(5);
    }
    if (same === null) throw new Error('the two pages never stood at the same tick');
    await player.screenshot({ path: join(artifacts, 'lobby-player.png') });
    await spectator.screenshot({ path: join(artifacts, 'lobby-spectator.png') });

    const dash = await context.newPage();
    dash.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    dash.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await dash.goto(new URL(`/dashboard?room=${room}`, url).href);
    const probe = (pg) => pg.evaluate(() => window.tickwireDashboard && { scores: window.tickwireDashboard.scores(), rooms: window.tickwireDashboard.rooms().length });
    const board = await waitForPage(dash, 'the dashboard scoreboard', probe, (s) => s.scores.some((r) => r.name === 'pat'), 20000);
    await dash.screenshot({ path: join(artifacts, 'dashboard.png') });

    const result = {
      listed,
      player: p.stats,
      spectator: w.stats,
      tick: same.tick,
      playerIds: same.a,
      spectatorIds: same.b,
      scores: board.scores,
      dashboardRooms: board.rooms,
      consoleErrors,
    };
    console.log(JSON.stringify({ result }));
  } finally {
    await close();
  }
}

main().catch((e) => {
  console.error('[browser] failed:', e);
  process.exit(1);
});
