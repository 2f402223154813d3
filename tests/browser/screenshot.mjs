// Takes a screenshot of the demo in play, for the README and issue notes:
//
//   node screenshot.mjs <page url> <out.png> [name] [seconds]
//
// Joins, then hunts orbs (aims at the nearest, fires, steps toward it) for a few
// seconds, and captures a frame with shots in flight. Run it against a server with
// bots connected (see the `bots` binary). The page plays at 1280×720; the saved PNG is
// scaled to 800×450 to stay small.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out, name = 'you', seconds = '6'] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'tickwire-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1280, height: 720 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => m.type() === 'error' && console.error('page:', m.text()));
  const page_url = new URL(url);
  page_url.searchParams.set('name', name);
  await page.goto(page_url.href);
  await page.waitForFunction(() => window.tickwire?.stats().own, null, { timeout: 15000 });
  const end = Date.now() + Number(seconds) * 1000;
  let held = null;
  while (Date.now() < end) {
    const scene = await page.evaluate(() => window.tickwire.scene());
    const me = scene.find((e) => e.mine);
    const orbs = scene.filter((e) => e.kind === 'Orb' && me);
    orbs.sort((a, b) => Math.hypot(a.x - me.x, a.y - me.y) - Math.hypot(b.x - me.x, b.y - me.y));
    const target = orbs[0];
    if (target) {
      await page.mouse.move(target.sx, target.sy);
      const dx = target.x - me.x;
      const key = Math.abs(dx) > 200 ? (dx > 0 ? 'KeyD' : 'KeyA') : null;
      if (key !== held) {
        if (held) await page.keyboard.up(held);
        if (key) await page.keyboard.down(key);
        held = key;
      }
      await page.mouse.down();
      await page.waitForTimeout(250);
      await page.mouse.up();
    }
    await page.waitForTimeout(120);
  }
  await page.mouse.down();
  await page.waitForTimeout(450);
  const full = await page.screenshot();
  await page.mouse.up();
  const small = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = 800;
    c.height = 450;
    const g = c.getContext('2d');
    g.imageSmoothingQuality = 'high';
    g.drawImage(img, 0, 0, 800, 450);
    return c.toDataURL('image/png').split(',')[1];
  }, full.toString('base64'));
  writeFileSync(out, Buffer.from(small, 'base64'));
  console.log(JSON.stringify(await page.evaluate(() => window.tickwire.stats())));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
