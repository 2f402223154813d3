// Drives the page in real headless Chromium against a server serving a recorded match
// (`tickwire replay FILE`), for the Rust tests: pauses the playback with the bar's
// button, drags the seek slider to a tick, and reports what the page then holds.
//
//   node replay.mjs <page url> <seek tick> [artifacts dir]
//
// Output: log lines on stderr, then exactly one stdout line `{"result": {...}}` with
//   bar          whether the replay bar is shown
//   paused       the status after the pause button (playing must be false)
//   seeked       the status after the seek (its tick must be the seek tick)
//   tick         the page mirror's (served) tick when the ids were read
//   ids          the net ids the page's mirror held then, ascending
//   speed        the status after choosing 2× and pressing play
//   played       the status a moment later (the tick has moved on)
//   consoleErrors the page's console errors and uncaught exceptions
// Exit status 0 when it ran (the Rust test asserts on the result), 1 when it could not.

import { launchChromium, watchedPage, waitFor as waitForPage } from './page.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, seekArg, artifacts = 'artifacts'] = process.argv.slice(2);
if (!url || seekArg === undefined) {
  console.error('usage: node replay.mjs <page url> <seek tick> [artifacts dir]');
  process.exit(1);
}
const seekTick = Number(seekArg);
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium';
const log = (...a) => console.error('[browser]', ...a);

async function look(page) {
  return page.evaluate(() => {
    const t = window.tickwire;
    if (!t) return null;
    return { stats: t.stats(), replay: t.replay.status(), ids: t.entityIds() };
  });
}

const waitFor = (page, what, pred, timeoutMs = 20000) => waitForPage(page, what, look, pred, timeoutMs);

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const { context, close } = await launchChromium(CHROMIUM);
  const consoleErrors = [];
  try {
    const page = await watchedPage(context, consoleErrors);
    await page.goto(url);
    await waitFor(page, 'the replay to be shown', (s) => s.replay !== null && s.stats.snapshots > 5);
    const bar = await page.locator('#replay').isVisible();
    log('replay bar', bar);

    // A fresh replay plays from its start; the button pauses it.
    await waitFor(page, 'the playback to play', (s) => s.replay.playing === true);
    await page.locator('#replay-play').click();
    const paused = (await waitFor(page, 'the pause', (s) => s.replay.playing === false)).replay;
    log('paused at', paused.tick);

    // Drag the slider: Playwright's fill sets a range input's value and fires input and
    // change, as a user's drag ends.
    await page.locator('#replay-seek').fill(String(seekTick));
    const seeked = await waitFor(page, `the seek to ${seekTick}`, (s) => s.replay.tick === seekTick);
    // Frames keep coming while paused (their served tick counts on), all of the sought
    // world: a few frames after the seek took effect the mirror holds it.
    const settled = await waitFor(page, 'frames after the seek', (s) => s.stats.tick >= seeked.stats.tick + 3);
    await page.screenshot({ path: join(artifacts, 'replay.png') });

    await page.locator('#replay-speed').selectOption('2');
    const speed = (await waitFor(page, 'speed 2', (s) => s.replay.speed === 2)).replay;
    await page.locator('#replay-play').click();
    const played = (await waitFor(page, 'the playback to go on', (s) => s.replay.playing && s.replay.tick > seekTick + 10)).replay;

    const result = {
      bar,
      paused,
      seeked: seeked.replay,
      tick: settled.stats.tick,
      ids: settled.ids,
      speed,
      played,
      consoleErrors,
    };
    console.log(JSON.stringify({ result }));
  } finally {
    await close();
  }
}

main().catch((e) => {
  log(e.stack ?? String(e));
  process.exit(1);
});
