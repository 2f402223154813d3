// Drives the browser demo in real headless Chromium for tests/tests/browser.rs.
//
//   node demo.mjs <page url> <phase: basic|latency> <expected players> <artifacts dir>
//
// It talks to the Rust test over stdio in JSON lines: it prints `{"ask": …}` and reads
// one reply line from stdin (the Rust side checks the server-side facts — where the
// player's entity is, whether a chat line arrived — from its own mirrored client), and
// ends with one `{"result": …}` line of measurements the Rust side asserts on. Any
// other output is a log line. Exits non-zero on a failure it can see itself.

import { launchChromium, watchedPage, pixelStats, waitFor as waitForPage } from './page.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [url, phase = 'basic', expectPlayersArg = '1', artifacts = 'artifacts'] = process.argv.slice(2);
const expectPlayers = Number(expectPlayersArg);
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? '/usr/bin/chromium';

const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(question) {
  console.log(JSON.stringify({ ask: question }));
  const { value, done } = await replies.next();
  if (done) throw new Error('the test harness closed stdin');
  return JSON.parse(value);
}
const log = (...a) => console.error('[browser]', ...a);

/** The page's stats, or null before the page has set up its hooks. */
const pageStats = (page) => page.evaluate(() => window.tickwire?.stats() ?? null);
const waitFor = (page, what, pred, timeoutMs) => waitForPage(page, what, pageStats, pred, timeoutMs);

/**
 * Per-frame motion of remote players in a trace: each frame's step divided by what the
 * player speed allows in that frame's time. Interpolation that never starves keeps it at
 * or below ~1.1 (the playout clock's slew); a stall followed by a catch-up shows as a spike.
 */
function remoteMotion(trace, speed, ownEntity) {
  const ratios = [];
  let maxStep = 0;
  let stalls = 0;
  let samples = 0;
  const frames = trace.frames;
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1];
    const b = frames[i];
    const dt = b.t - a.t;
    if (dt <= 0) continue;
    const allowed = (speed * dt) / 1000;
    for (const [id, p] of Object.entries(b.players)) {
      if (Number(id) === ownEntity) continue;
      const q = a.players[id];
      if (!q) continue;
      const step = Math.hypot(p[0] - q[0], p[1] - q[1]);
      samples += 1;
      maxStep = Math.max(maxStep, step);
      ratios.push((step - 0.25) / allowed);
      // A stall: moving in the frames before and after, frozen in this one.
      const c = frames[i + 1]?.players[id];
      const z = frames[i - 2]?.players[id];
      if (c && z && step === 0 && Math.hypot(c[0] - p[0], c[1] - p[1]) > 0.5 && Math.hypot(q[0] - z[0], q[1] - z[1]) > 0.5) {
        stalls += 1;
      }
    }
  }
  ratios.sort((x, y) => x - y);
  const dts = frames.slice(1).map((f, i) => f.t - frames[i].t).sort((x, y) => x - y);
  const maxPlayers = Math.max(0, ...frames.map((f) => Object.keys(f.players).length));
  return {
    frames: frames.length,
    samples,
    maxPlayersDrawn: maxPlayers,
    maxStepUnits: maxStep,
    maxStepRatio: ratios.length ? ratios[ratios.length - 1] : 0,
    p99StepRatio: ratios.length ? ratios[Math.floor(0.99 * (ratios.length - 1))] : 0,
    stalls,
    frameMsP50: dts.length ? dts[Math.floor(dts.length / 2)] : 0,
    frameMsMax: dts.length ? dts[dts.length - 1] : 0,
  };
}

/**
 * How the own player answered a held key: the frames from the key press until it moved,
 * the largest step backwards against the key's direction while it was held or after
 * (a rubber-band), in units and in units per second, and how far the drawn player ended
 * from the server's position.
 */
function ownResponse(trace, axisSign) {
  const press = trace.inputs.find((i) => i.buttons & (axisSign > 0 ? 8 : 4));
  if (!press) return { error: 'no key press recorded' };
  const frames = trace.frames.filter((f) => f.own);
  // The first frame that can show the press: scheduled after the key's own time and drawn
  // after the page handled it (on a busy machine the event can reach the page a frame
  // after its timestamp; that frame was drawn without it).
  const first = frames.findIndex((f) => f.t >= press.t && f.drawnAt >= press.sentAt);
  if (first < 1) return { error: 'no frame after the key press' };
  const x0 = frames[first - 1].own[0];
  let moved = -1;
  for (let i = first; i < frames.length; i++) {
    if ((frames[i].own[0] - x0) * axisSign > 0.01) {
      moved = i - first;
      break;
    }
  }
  let backwards = 0;
  let backwardsSpeed = 0;
  for (let i = first; i < frames.length; i++) {
    const back = (frames[i - 1].own[0] - frames[i].own[0]) * axisSign;
    backwards = Math.max(backwards, back);
    const dt = frames[i].t - frames[i - 1].t;
    if (dt > 0) backwardsSpeed = Math.max(backwardsSpeed, (back * 1000) / dt);
  }
  return {
    framesToMove: moved,
    keyToPageMs: press.sentAt - press.t,
    msToMove: moved >= 0 ? frames[first + moved].t - press.t : null,
    maxBackwardsUnits: backwards,
    maxBackwardsUnitsPerSec: backwardsSpeed,
    travelledUnits: (frames[frames.length - 1].own[0] - x0) * axisSign,
  };
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const { context, close } = await launchChromium(CHROMIUM);
  const consoleErrors = [];
  try {
    const page = await watchedPage(context, consoleErrors);
    const result = { phase, consoleErrors };

    if (phase === 'basic') {
      await page.goto(url);
      await page.locator('#name').fill('Chromium');
      await page.keyboard.press('Enter');
    } else {
      const lagged = new URL(url);
      lagged.searchParams.set('name', 'Lagged');
      await page.goto(lagged.href);
    }
    let stats = await waitFor(page, `${expectPlayers} players`, (s) => s.connected && s.own && s.entities.players >= expectPlayers, 20000);
    log('connected', JSON.stringify(stats));
    const arena = stats.arena;
    const speed = arena.player_speed;

    // Let the playout clock and the prediction settle, aiming around like a player would.
    for (let i = 0; i < 30; i++) {
      await page.mouse.move(640 + 200 * Math.cos(i / 5), 360 + 150 * Math.sin(i / 5));
      await page.waitForTimeout(50);
    }

    // Rendering: every bot is drawn, and drawn moving smoothly.
    await page.evaluate(() => window.tickwire.startTrace());
    await page.waitForTimeout(1500);
    const still = await page.evaluate(() => window.tickwire.stopTrace());
    result.remote = remoteMotion(still, speed, stats.entity);

    // Movement: hold a key; the Rust side checks the entity moved in its own mirror.
    stats = await page.evaluate(() => window.tickwire.stats());
    const sign = stats.own.x > arena.width / 2 ? -1 : 1;
    const key = sign > 0 ? 'KeyD' : 'KeyA';
    await ask({ mark: stats.entity });
    await page.evaluate(() => window.tickwire.startTrace());
    await page.waitForTimeout(300);
    const heldMs = 1000;
    await page.keyboard.down(key);
    await page.waitForTimeout(heldMs);
    await page.keyboard.up(key);
    await page.waitForTimeout(700);
    const moveTrace = await page.evaluate(() => window.tickwire.stopTrace());
    result.own = ownResponse(moveTrace, sign);
    result.moveRemote = remoteMotion(moveTrace, speed, stats.entity);
    const after = await page.evaluate(() => window.tickwire.stats());
    result.own.drawnMinusServer = Math.hypot(after.own.drawnX - after.own.x, after.own.drawnY - after.own.y);
    result.own.serverReply = await ask({ moved: stats.entity, sign, heldMs });
    // The HUD's ping (the lowest of the page's last eight Pongs), read once a second for
    // a few seconds: the lowest reading and every sample seen.
    const readings = [];
    const seen = [];
    for (let i = 0; i < 4; i++) {
      await page.waitForTimeout(1000);
      const s = await page.evaluate(() => window.tickwire.stats());
      if (s.rttMs !== null) readings.push(s.rttMs);
      seen.push(...s.rttSamplesMs);
    }
    result.ping = { ms: readings.length ? Math.min(...readings) : null, readings, samples: seen };

    if (phase === 'basic') {
      // Chat: type a line in the page; the Rust side waits for it on its own client.
      const text = `hello from chromium ${Math.random().toString(36).slice(2, 8)}`;
      await page.keyboard.press('Enter');
      await page.keyboard.type(text);
      await page.keyboard.press('Enter');
      result.chat = await ask({ chat: text, from: 'Chromium' });
      // Reconnect: drop the socket; the page says so, comes back with its resume token
      // and the tick it holds, and carries on as the same player.
      // Stats and drop in one step, so no snapshot lands between them; then wait for a
      // new Welcome and ten snapshots after it (the old socket may still deliver a few
      // before it closes, and those must not count as the reconnect).
      const before = await page.evaluate(() => {
        const s = window.tickwire.stats();
        window.tickwire.dropConnection();
        return s;
      });
      await page.locator('#notice').waitFor({ state: 'visible', timeout: 2000 });
      const notice = await page.locator('#notice').textContent();
      const back = await waitFor(page, 'the reconnect', (s) => s.connected && s.welcomes > before.welcomes && s.sinceWelcome >= 10, 10000);
      result.resume = {
        notice,
        samePlayer: back.player === before.player && back.entity === before.entity,
        sameScore: back.own !== null && before.own !== null && back.own.score === before.own.score,
        firstBaseline: back.firstBaseline,
        firstIsDelta: back.firstBaseline !== null,
        noticeHiddenAfter: await page.locator('#notice').isHidden(),
        applyErrors: back.applyErrors,
      };
      // Fire a few shots so the picture has some action in it.
      await page.mouse.move(900, 250);
      await page.mouse.down();
      await page.waitForTimeout(700);
      await page.mouse.up();
      await page.waitForTimeout(150);
    }

    const shotPath = join(artifacts, phase === 'basic' ? 'demo-0ms.png' : 'demo-100ms.png');
    const png = await page.screenshot({ path: shotPath });
    result.screenshot = { path: shotPath, bytes: png.length, ...(await pixelStats(page, png)) };
    result.stats = await page.evaluate(() => window.tickwire.stats());
    writeFileSync(join(artifacts, `result-${phase}.json`), JSON.stringify(result, null, 2));
    console.log(JSON.stringify({ result }));
  } finally {
    await close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    log('failed:', err.stack ?? err);
    process.exit(1);
  },
);
