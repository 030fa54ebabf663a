// The public pages in real headless Chromium: three languages and the switch, the page with
// JavaScript disabled, the root redirect, and live updates when a window opens by the clock
// (no new entry) and when a party suspends it (a new entry). Screenshots are saved as
// artefacts; every check is an assertion on the DOM.
//
//   CORRIDOR_BIN=target/debug/corridor node tools/browser/public.mjs [ARTEFACT_DIR]
//
// Starts its own `corridor demo` on a free loopback port, with the exercise clock 25 s before
// the demo's first window opens (2022-03-04 07:00 UTC, 10:00 Moscow time).
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './demo.mjs';
import assert from 'node:assert/strict';

const bin = resolve(process.env.CORRIDOR_BIN ?? 'target/debug/corridor');
const out = resolve(process.argv[2] ?? 'target/browser-artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
mkdirSync(out, { recursive: true });

const CORRIDOR = 'borodianka-berestianka';
const WINDOW = 'borodianka-2022-03-04';
const OPENS = Date.parse('2022-03-04T07:00:00Z');
const CLOCK = '2022-03-04T06:59:35Z';

const dir = mkdtempSync(join(tmpdir(), 'corridor-browser-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const started = Date.now();
const server = spawn(bin, ['demo', '--data-dir', join(dir, 'demo'), '--listen', `127.0.0.1:${port}`,
  '--clock', CLOCK], { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = () => { try { server.kill('SIGKILL'); } catch {} };
process.on('exit', stop);

let browser;
const results = [];
async function check(name, f) {
  const t = Date.now();
  await f();
  results.push(`ok ${name} (${Date.now() - t} ms)`);
  console.log(`ok   ${name}`);
}

try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch {}
    assert.ok(i < 300, 'the demo server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Real time when the exercise clock reaches the window's start.
  const opensReal = started + (OPENS - Date.parse(CLOCK));

  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'] });

  await check('root redirects by Accept-Language', async () => {
    const ctx = await browser.newContext({ locale: 'ru-RU' });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/ru\/$/);
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    await ctx.close();
  });

  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await check('three languages, each with its own words, and the switch', async () => {
    const words = { uk: 'Бородянка', ru: 'Бородянка', en: 'Borodianka' };
    for (const lang of ['uk', 'ru', 'en']) {
      await page.goto(`${base}/${lang}/corridors/${CORRIDOR}/`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.ok((await page.textContent('h1')).includes(words[lang]), `${lang} heading`);
      assert.equal(await page.getAttribute('#status', 'data-status'), 'upcoming');
      assert.ok(await page.locator('svg[role=img]').count() >= 1, `${lang}: the map`);
      await page.screenshot({ path: join(out, `corridor-${lang}-upcoming.png`), fullPage: true });
    }
    const en = await page.textContent('#status');
    await page.click('nav.langs a[hreflang=uk]');
    assert.match(page.url(), new RegExp(`/uk/corridors/${CORRIDOR}/$`));
    const uk = await page.textContent('#status');
    assert.notEqual(uk, en, 'the status is in words of the chosen language');
    await page.click('nav.langs a[hreflang=en]');
    assert.match(page.url(), new RegExp(`/en/corridors/${CORRIDOR}/$`));
  });

  await check('the window opens on the page by the clock alone (live update)', async () => {
    await page.goto(`${base}/en/corridors/${CORRIDOR}/`);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'upcoming');
    assert.ok(Date.now() < opensReal, 'the checks above took longer than the clock allowed');
    await page.waitForSelector('#status[data-status=open]', { timeout: 30000 });
    const late = Date.now() - opensReal;
    console.log(`     opened on the page ${late} ms after the boundary`);
    assert.ok(late >= -200 && late < 5000, `opened ${late} ms after the boundary`);
    await page.screenshot({ path: join(out, 'corridor-en-open.png'), fullPage: true });
  });

  await check('a suspension by a party reaches the open page (live update)', async () => {
    execFileSync(bin, ['window', 'suspend', '--key', join(dir, 'demo/keys/ru-coord-1.key'),
      '--server', base, WINDOW, '--reason', 'Shelling reported near the checkpoint',
      '--public-reason', 'shelling'],
    { stdio: 'ignore', env: { ...process.env, CORRIDOR_HOME: join(dir, 'home') } });
    await page.waitForSelector('#status[data-status=suspended]', { timeout: 10000 });
    const body = await page.textContent('body');
    // The public reads the reason from the fixed list, never the party's own words.
    assert.ok(body.includes('shelling or gunfire near the route'), 'the public reason is shown');
    assert.ok(!body.includes('Shelling reported near the checkpoint'), 'the free text is not');
    // What to do comes first.
    assert.match(await page.textContent('#status'), /^Suspended: do not use the corridor now/);
    await page.screenshot({ path: join(out, 'corridor-en-suspended.png'), fullPage: true });
  });
  assert.deepEqual(errors, [], 'no script errors');

  await check('pages work with JavaScript disabled', async () => {
    const nojs = await browser.newContext({ javaScriptEnabled: false });
    const p = await nojs.newPage();
    await p.goto(`${base}/uk/`);
    await p.click(`a[href="corridors/${CORRIDOR}/"]`);
    assert.match(p.url(), new RegExp(`/uk/corridors/${CORRIDOR}/$`));
    assert.equal(await p.getAttribute('#status', 'data-status'), 'suspended');
    assert.ok((await p.textContent('body')).includes('обстріли поблизу маршруту'));
    await p.screenshot({ path: join(out, 'corridor-uk-nojs.png'), fullPage: true });
    await nojs.close();
  });

  await check('the suspended page at phone size says what to do first (uk, ru, en)', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 640 } });
    const p = await phone.newPage();
    for (const [lang, first] of [['uk', 'Призупинено: не користуйтеся коридором зараз'],
      ['ru', 'Приостановлен: не пользуйтесь коридором сейчас'],
      ['en', 'Suspended: do not use the corridor now']]) {
      await p.goto(`${base}/${lang}/corridors/${CORRIDOR}/`);
      const status = await p.textContent('#status');
      assert.ok(status.startsWith(first), `${lang}: ${status}`);
      // The instruction is on the first screen, not below the fold.
      const box = await p.locator('#status').boundingBox();
      assert.ok(box && box.y + box.height <= 640, `${lang}: status at ${JSON.stringify(box)}`);
      await p.screenshot({ path: join(out, `corridor-${lang}-suspended-phone.png`) });
    }
    await phone.close();
  });

  await check('the printable page prints as one A4 page with status, map, legend and QR', async () => {
    for (const lang of ['uk', 'ru', 'en']) {
      const p = await browser.newPage();
      await p.goto(`${base}/${lang}/corridors/${CORRIDOR}/print/`);
      await p.emulateMedia({ media: 'print' });
      for (const sel of ['.st', 'svg.map', '.legend', 'svg.qr', 'table']) {
        assert.ok(await p.locator(sel).count() > 0, `${lang}: ${sel} on the printable page`);
      }
      const pdf = await p.pdf({ format: 'A4', preferCSSPageSize: true });
      writeFileSync(join(out, `print-${lang}.pdf`), pdf);
      const text = pdf.toString('latin1');
      const pages = (text.match(/\/Type\s*\/Page(?![s\w])/g) || []).length;
      const count = Number((text.match(/\/Type\s*\/Pages[^>]*?\/Count\s+(\d+)/s) || [])[1]
        ?? (text.match(/\/Count\s+(\d+)/) || [])[1]);
      console.log(`     ${lang}: the printable page is ${count} A4 page(s) in Chromium's PDF (${pages} page objects)`);
      assert.equal(count, 1, `${lang}: ${count} pages`);
      await p.close();
    }
  });

  console.log(`browser: ${results.length} checks passed; screenshots in ${out}`);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  stop();
}
