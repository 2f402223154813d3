// Helpers every browser script uses: launching headless Chromium, a page whose console
// errors are collected, waiting on what the page reports, and measuring a screenshot's
// pixels inside the page (so no image library is needed).

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Headless Chromium (`executablePath`) on a fresh profile, 1280×720; `close()` ends it and
 * removes the profile.
 */
export async function launchChromium(executablePath) {
  const profile = mkdtempSync(join(tmpdir(), 'tickwire-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 720 },
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * The context's page, with its console errors and uncaught exceptions collected into
 * `consoleErrors` from now on.
 */
export async function watchedPage(context, consoleErrors) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return page;
}

/**
 * Polls `probe(page)` every 100 ms until `pred` holds for its value; throws, naming `what`
 * and the last value, after `timeoutMs`.
 */
export async function waitFor(page, what, probe, pred, timeoutMs) {
  const start = Date.now();
  for (;;) {
    const s = await probe(page);
    if (s && pred(s)) return s;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(s)}`);
    await page.waitForTimeout(100);
  }
}

/** Luminance spread and colour count of a PNG, measured by the page itself. */
export async function pixelStats(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    let sum = 0;
    let sq = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) {
      const l = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
      n += 1;
      sum += l;
      sq += l * l;
      colours.add((d[i] >> 3) * 1024 + (d[i + 1] >> 3) * 32 + (d[i + 2] >> 3));
    }
    const mean = sum / n;
    return { width: img.width, height: img.height, meanLuma: mean, stddevLuma: Math.sqrt(sq / n - mean * mean), colours: colours.size };
  }, png.toString('base64'));
}
