// Drives the browser page in real headless Chromium against a server running a game the
// page has no special code for (it must pick the generic renderer), for the Rust tests.
//
//   node generic.mjs <page url> [other players] [artifacts dir] [hold ms] [key]
//
//   page url       the server's page, e.g. http://127.0.0.1:PORT/ (query parameters are
//                  kept: ?renderer=generic forces the generic renderer on a built-in
//                  game, ?ws=URL points the page at another server's /ws)
//   other players  how many players besides this page's own must be drawn (default 1)
//   artifacts dir  where the screenshot and result JSON go (default "artifacts")
//   hold ms        how long to hold the key (default 1000)
//   key            the Playwright key code to hold (default KeyD, i.e. "right")
//
// Environment: TICKWIRE_CHROMIUM (default /usr/bin/chromium), TICKWIRE_NAME (the name
// typed into the prompt, default "Chromium"), TICKWIRE_WAIT_MS (how long to wait for the
// players, default 20000).
//
// Output: log lines on stderr, then exactly one stdout line `{"result": {...}}` with
//   ok              every check below passed
//   checks          {connected, generic (renderer === 'generic'), players (at least N
//                   others drawn), noConsoleErrors, inputSent (an input carrying the held
//                   key's bit went out, when the game's input has a `buttons` field)}
//   consoleErrors   the page's console errors and uncaught exceptions
//   others          other players drawn when the wait ended; drawn: entities drawn then
//   own             {before: {x, y}, after: {x, y}, dx, dy} the own entity (world units,
//                   as the server reported it) around the hold, or null
//   inputs          {sent, withKey} inputs sent during the hold, and those with the key bit
//   screenshot      {path, bytes, width, height, meanLuma, stddevLuma, colours}
//   stats           window.tickwire.stats() at the end
// The exit status is 0 when ok, 2 when the run finished but a check failed (the result
// line is still printed), 1 when it could not run (a timeout, a crash; no result line).

import { launchChromium, watchedPage, pixelStats, waitFor as waitForPage } from './page.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, othersArg = '1', artifacts = 'artifacts', holdArg = '1000', key = 'KeyD'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node generic.mjs <page url> [other players] [artifacts dir] [hold ms] [key]');
  process.exit(1);
}
const wantOthers = Number(othersArg);
const holdMs = Number(holdArg);
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium';
const NAME = process.env.TICKWIRE_NAME ?? 'Chromium';
const WAIT_MS = Number(process.env.TICKWIRE_WAIT_MS ?? 20000);
const KEY_BITS = { KeyW: 1, ArrowUp: 1, KeyS: 2, ArrowDown: 2, KeyA: 4, ArrowLeft: 4, KeyD: 8, ArrowRight: 8, Space: 16 };
const log = (...a) => console.error('[browser]', ...a);

/** Other players the page draws: owned entities that are not its own. */
async function look(page) {
  return page.evaluate(() => {
    const t = window.tickwire;
    if (!t) return null;
    const stats = t.stats();
    const others = t.scene().filter((e) => !e.mine && e.owner !== null && e.owner !== stats.player).length;
    return { stats, others };
  });
}

const waitFor = (page, what, pred, timeoutMs) => waitForPage(page, what, look, pred, timeoutMs);

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const { context, close } = await launchChromium(CHROMIUM);
  const consoleErrors = [];
  let result;
  try {
    const page = await watchedPage(context, consoleErrors);

    await page.goto(url);
    if (!new URL(url).searchParams.has('name')) {
      await page.locator('#name').fill(NAME);
      await page.keyboard.press('Enter');
    }
    const seen = await waitFor(
      page,
      `the generic renderer and ${wantOthers} other players`,
      (s) => s.stats.connected && s.stats.renderer === 'generic' && s.others >= wantOthers && s.stats.drawn >= wantOthers,
      WAIT_MS,
    );
    log('connected', JSON.stringify(seen.stats));

    // Point somewhere, then hold the key.
    await page.mouse.move(900, 250);
    await page.waitForTimeout(300);
    const before = (await look(page)).stats.own;
    await page.evaluate(() => window.tickwire.startTrace());
    await page.keyboard.down(key);
    await page.waitForTimeout(holdMs);
    await page.keyboard.up(key);
    await page.waitForTimeout(500);
    const trace = await page.evaluate(() => window.tickwire.stopTrace());
    const end = await look(page);
    const after = end.stats.own;
    const bit = KEY_BITS[key] ?? 0;
    const inputs = { sent: trace.inputs.length, withKey: trace.inputs.filter((i) => (i.buttons & bit) !== 0).length };

    const shotPath = join(artifacts, 'generic.png');
    const png = await page.screenshot({ path: shotPath });
    const stats = await page.evaluate(() => window.tickwire.stats());
    const checks = {
      connected: stats.connected,
      generic: stats.renderer === 'generic',
      players: end.others >= wantOthers,
      noConsoleErrors: consoleErrors.length === 0,
      inputSent: !(stats.input && stats.input.buttons) || inputs.withKey > 0,
    };
    result = {
      ok: Object.values(checks).every(Boolean),
      checks,
      consoleErrors,
      others: end.others,
      drawn: end.stats.drawn,
      own: before && after ? { before: { x: before.x, y: before.y }, after: { x: after.x, y: after.y }, dx: after.x - before.x, dy: after.y - before.y } : null,
      inputs,
      screenshot: { path: shotPath, bytes: png.length, ...(await pixelStats(page, png)) },
      stats,
    };
    writeFileSync(join(artifacts, 'result-generic.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify({ result }));
  } finally {
    await close();
  }
  return result;
}

main().then(
  (result) => process.exit(result.ok ? 0 : 2),
  (err) => {
    log('failed:', err.stack ?? err);
    process.exit(1);
  },
);
