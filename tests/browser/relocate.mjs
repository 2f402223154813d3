// A page whose server drains, in real headless Chromium, for the Rust tests:
//
//   node relocate.mjs <page url>
//
// The page url names a player and points its WebSocket at a second server of the
// cluster (`?name=NAME&ws=ws://B/ws`). The script waits until the page plays there,
// then (while the Rust test drains that server) until the page has been welcomed again
// and plays on: told to relocate, it matchmakes with the server that served it and
// connects where its new seat is. Every notice the HUD shows meanwhile is recorded by the
// page itself as it appears: one shown between two samples (a relocation takes tens of
// milliseconds on loopback) is not missed.
//
// Output: log lines on stderr, then exactly one stdout line `{"result": {...}}` with
//   before         the page's stats while it played on the first server
//   after          its stats once it plays on again
//   notices        every distinct HUD notice shown meanwhile
//   consoleErrors  console errors and uncaught exceptions
// Exit status 0 when it ran (the Rust test asserts on the result), 1 when it could not.

import { launchChromium, watchedPage, waitFor as waitForPage } from './page.mjs';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node relocate.mjs <page url>');
  process.exit(1);
}
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium';
const log = (...a) => console.error('[browser]', ...a);

// Runs in the page before its own scripts: watches the HUD's notice banner and keeps
// each text it shows in `window.__notices`.
function recordNotices() {
  window.__notices = [];
  document.addEventListener('DOMContentLoaded', () => {
    const notice = document.getElementById('notice');
    if (!notice) return;
    const keep = () => {
      if (!notice.hidden && notice.textContent) window.__notices.push(notice.textContent);
    };
    new MutationObserver(keep).observe(notice, { attributes: true, childList: true, characterData: true, subtree: true });
    keep();
  });
}

const look = (page) =>
  page.evaluate(() => {
    const t = window.tickwire;
    return t ? { stats: t.stats(), notices: window.__notices ?? [] } : null;
  });

async function main() {
  const { context, close } = await launchChromium(CHROMIUM);
  const consoleErrors = [];
  const notices = new Set();
  try {
    const page = await watchedPage(context, consoleErrors);
    const sample = async (p) => {
      const s = await look(p);
      for (const n of s?.notices ?? []) notices.add(n);
      return s;
    };
    const waitFor = (what, pred, timeoutMs) => waitForPage(page, what, sample, pred, timeoutMs);
    await page.addInitScript(recordNotices);
    await page.goto(url);
    const before = await waitFor('the page to play on its first server', (s) => s.stats.connected && s.stats.snapshots > 10, 20000);
    log('playing on', before.stats.url, 'room', before.stats.room);
    const after = await waitFor(
      'the page to be welcomed by another server and play on',
      (s) => s.stats.connected && s.stats.welcomes >= 2 && s.stats.sinceWelcome > 10,
      40000,
    );
    log('playing again on', after.stats.url, 'room', after.stats.room);
    console.log(JSON.stringify({ result: { before: before.stats, after: after.stats, notices: [...notices], consoleErrors } }));
  } finally {
    await close();
  }
}

main().catch((e) => {
  log('failed:', e.message);
  process.exit(1);
});
