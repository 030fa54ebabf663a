// The coordinator console in real headless Chromium, against a `corridor demo` it starts itself.
// Every check is an assertion on the page or on what the server holds; screenshots are kept as
// artefacts.
//
//   CORRIDOR_BIN=target/debug/corridor node tools/browser/console.mjs [ARTEFACT_DIR]
//
// Browser contexts are devices: the Russian party's admin, who imports the backup of their key
// that `corridor key backup` wrote into the console the server serves; a new coordinator, who
// makes a key in the console their own `corridor console` serves locally; and a convoy lead. The
// admin registers the coordinator through the console; the coordinator consents to a window,
// reports an incident, proposes windows and corridors, acknowledges a convoy and writes in the
// channel; the convoy lead notifies a movement and records one on the road; everything verifies
// with `corridor verify`. The private key appears in no request and nowhere in page storage in
// clear. Then: the network cut in the browser, two commands signed, the network back, both land
// once; the bad inputs (a wrong passphrase, another tool's file, a command the server refuses, a
// server whose log does not verify); and the signing bytes against the core's vectors, in
// Chromium's own WebCrypto.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startCorridor, stopCorridors, waitUntilUp } from './demo.mjs';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(process.env.CORRIDOR_BIN ?? 'target/debug/corridor');
const out = resolve(process.argv[2] ?? 'target/browser-artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const vectors = JSON.parse(readFileSync(join(here, '../../crates/console/vectors.json'), 'utf8'));
const { decryptBackup, b64 } = await import(join(here, '../../crates/console/assets/js/crypto.js'));
mkdirSync(out, { recursive: true });

const WINDOW = 'borodianka-2022-03-05';
const PASS = 'пароль для навчання 2022';
const NEW_ACTOR = 'ru/coord-console';

const dir = mkdtempSync(join(tmpdir(), 'corridor-console-'));
const data = join(dir, 'demo');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
startCorridor(bin, ['demo', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--clock', '2022-03-04T12:00:00Z']);
// The coordinator's device runs the console from its own binary (`corridor console`), which
// passes the API through to the server; the admin uses the one the server serves.
const localPort = await freePort();
const local = `http://127.0.0.1:${localPort}`;
startCorridor(bin, ['console', '--server', base, '--listen', `127.0.0.1:${localPort}`]);

const corridor = (...args) =>
  execFileSync(bin, args, { encoding: 'utf8', env: { ...process.env, CORRIDOR_HOME: join(dir, 'home'), CORRIDOR_KEY_PASSPHRASE: PASS } });

let browser;
let passed = 0;
const pages = [];
async function check(name, f) {
  const t = Date.now();
  try {
    await f();
  } catch (e) {
    for (const [i, p] of pages.entries()) await p.screenshot({ path: join(out, `console-failed-${i}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
  passed += 1;
  console.log(`ok   ${name} (${Date.now() - t} ms)`);
}

// Every request a page makes, headers and body, to look for the private key afterwards.
function recordRequests(ctx) {
  const seen = [];
  ctx.on('request', (r) => seen.push(`${r.method()} ${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ''}`));
  return seen;
}

async function waitFor(page, f, what, timeout = 15000) {
  const until = Date.now() + timeout;
  for (;;) {
    if (await f()) return;
    if (Date.now() > until) {
      await page.screenshot({ path: join(out, `console-timeout.png`), fullPage: true });
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function message(page) {
  await page.waitForSelector('#message');
  return page.textContent('#message');
}

/** Nothing is wider than the phone's screen: no sideways scrolling to read what one signs. */
async function fitsTheScreen(page) {
  const { wide, screen, over } = await page.evaluate(() => ({
    wide: document.documentElement.scrollWidth,
    screen: window.innerWidth,
    over: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.getAttribute('class')} ${Math.round(e.getBoundingClientRect().right)}px/${e.scrollWidth}px: ${(e.textContent ?? '').slice(0, 40)}`),
  }));
  assert.ok(wide <= screen, `the page fits a ${screen}px screen, but is ${wide}px wide: ${over.join(' | ')}`);
}

async function outboxStates(page) {
  return page.$$eval('.outbox li', (lis) => lis.map((li) => li.dataset.state));
}

// Everything in the page's storage, as text: localStorage and every IndexedDB record, with
// CryptoKey objects described by their properties (not their bytes, which no script can read).
async function storageDump(page) {
  return page.evaluate(async () => {
    const parts = [JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })];
    const db = await new Promise((ok, ko) => {
      const r = indexedDB.open('corridor-console');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => ko(r.error);
    });
    for (const name of db.objectStoreNames) {
      const rows = await new Promise((ok) => {
        const q = db.transaction(name).objectStore(name).getAll();
        q.onsuccess = () => ok(q.result);
      });
      parts.push(
        JSON.stringify(rows, (k, v) =>
          v instanceof CryptoKey ? { cryptoKey: true, extractable: v.extractable, type: v.type, usages: v.usages } : v,
        ),
      );
    }
    return parts.join('\n');
  });
}

try {
  await waitUntilUp(`${base}/readyz`, 'the demo server', 600);
  await waitUntilUp(`${local}/v1/log/head`, 'the local console', 300);
  assert.equal((await fetch(`${local}/events`)).status, 404, 'the local console passes only /v1/');
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const errors = [];
  // Script errors, and what the browser reports as errors in the console (an invalid `pattern`,
  // say); failed requests are expected while the network is cut, and the checks look at those.
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (['error', 'warning'].includes(m.type()) && !/Failed to load resource|net::ERR_/.test(m.text())) errors.push(`${m.type()}: ${m.text()}`);
    });
  };

  await check('the console is served with its own scripts only, and the signing bytes match the core in Chromium', async () => {
    const resp = await fetch(`${base}/console/`);
    assert.equal(resp.status, 200);
    assert.match(resp.headers.get('content-security-policy'), /script-src 'self'/);
    assert.equal((await fetch(`${base}/console`, { redirect: 'manual' })).status, 308);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    watch(page);
    await page.goto(`${base}/console/?lang=en`);
    const failures = await page.evaluate(async (v) => (await import('/console/js/selftest.js')).checkVectors(v), vectors);
    assert.deepEqual(failures, []);
    await ctx.close();
  });

  // The Russian party's admin: a backup written by the CLI, imported into the page.
  const adminBackup = join(dir, 'ru-admin.backup.json');
  corridor('key', 'backup', '--key', join(data, 'keys/ru-admin.key'), '--out', adminBackup);
  const adminCtx = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const adminRequests = recordRequests(adminCtx);
  const admin = await adminCtx.newPage();
pages.push(admin);
  watch(admin);

  await check('a wrong passphrase and another tool\'s file are refused in the user\'s language', async () => {
    await admin.goto(`${base}/console/?lang=uk`);
    await admin.waitForSelector('.log.ok');
    await admin.click('text=Імпортувати файл резервної копії');
    await admin.setInputFiles('#import-file', adminBackup);
    await admin.fill('#import-pass', 'не та фраза');
    await admin.click('form button:has-text("Імпортувати")');
    assert.match(await message(admin), /Парольна фраза не відкриває цю копію/);
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ version: 'age-encryption.org/v1', recipients: [] }));
    await admin.setInputFiles('#import-file', other);
    await admin.fill('#import-pass', PASS);
    await admin.click('form button:has-text("Імпортувати")');
    assert.match(await message(admin), /не є резервною копією ключа corridor/);
    await admin.setInputFiles('#import-file', join(data, 'keys/ru-admin.key'));
    await admin.click('form button:has-text("Імпортувати")');
    assert.match(await message(admin), /незашифрований файл ключа/);
    assert.equal(await admin.$$eval('#key-select option', (o) => o.length), 1, 'no key was stored');
  });

  await check('the admin imports the backup the CLI wrote and is recognised by a signed read', async () => {
    await admin.goto(`${base}/console/?lang=en`);
    await admin.waitForSelector('.log.ok');
    await admin.click('text=Import a backup file');
    await admin.setInputFiles('#import-file', adminBackup);
    await admin.fill('#import-pass', PASS);
    await admin.click('form button:has-text("Import")');
    assert.match(await message(admin), /imported/);
    await admin.waitForSelector('#reg-h');
    assert.match(await admin.textContent('#me-h + p'), /ru\/admin/);
    assert.match(await admin.textContent('.log.ok'), /verified/);
  });

  // The new coordinator: a key made in the page.
  const coordCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
  const coordRequests = recordRequests(coordCtx);
  const coord = await coordCtx.newPage();
pages.push(coord);
  watch(coord);
  let request;

  await check('a coordinator makes a key in the page and gets a registration request', async () => {
    await coord.goto(`${local}/console/?lang=ru`);
    await coord.waitForSelector('.log.ok');
    await coord.click('text=Создать новый ключ');
    await coord.fill('#new-actor', NEW_ACTOR);
    await coord.fill('#new-pass', PASS);
    await coord.fill('#new-pass2', PASS);
    await coord.click('button:has-text("Создать ключ")');
    assert.match(await message(coord), /Ключ для ru\/coord-console создан/);
    await waitFor(coord, async () => (await coord.inputValue('#registration-request').catch(() => '')).includes('key_proof'), 'the registration request');
    request = await coord.inputValue('#registration-request');
    assert.equal(JSON.parse(request).actor, NEW_ACTOR);
    await coord.screenshot({ path: join(out, 'console-new-key-ru.png'), fullPage: true });
  });

  await check('a command the server refuses shows its problem in the user\'s language and is not sent', async () => {
    const bad = JSON.parse(request);
    bad.key_proof = b64(new Uint8Array(64));
    await admin.goto(`${base}/console/?lang=uk`);
    await admin.waitForSelector('#reg-h');
    await admin.fill('#reg-request', JSON.stringify(bad));
    await admin.fill('#reg-name', 'Тест');
    await admin.click('#reg-h ~ form button');
    await admin.click('#sign');
    assert.match(await message(admin), /не доводить володіння ключем.*key-proof-invalid/);
    assert.deepEqual(await outboxStates(admin), ['refused']);
  });

  await check('the admin registers the coordinator through the console', async () => {
    await admin.goto(`${base}/console/?lang=en`);
    await admin.waitForSelector('#reg-h');
    await admin.fill('#reg-request', request);
    await admin.selectOption('#reg-role', 'coordinator');
    await admin.fill('#reg-name', 'Координатор (консоль)');
    await admin.click('#reg-h ~ form button');
    assert.match(await admin.textContent('.review .words'), /You register ru\/coord-console as coordinator/);
    await admin.click('#sign');
    assert.match(await message(admin), /Sent: the log accepted it as entry \d+/);
    assert.deepEqual(await outboxStates(admin), ['sent', 'refused']);
  });

  await check('the coordinator consents to the exact version shown, with the times in every zone', async () => {
    await coord.goto(`${local}/console/?lang=en`);
    await coord.waitForSelector('.windows');
    assert.match(await coord.textContent('#me-h + p'), /\(ru\/coord-console\), coordinator/);
    const win = coord.locator(`[data-window="${WINDOW}"]`);
    assert.match(await win.textContent(), /proposed/);
    assert.match(await win.textContent(), /Europe\/Moscow/);
    assert.match(await win.textContent(), /Europe\/Kyiv/);
    await win.locator('button:has-text("Consent")').click();
    const words = await coord.textContent('.review .words');
    assert.match(words, /For ru, you consent to exactly this: Window borodianka-2022-03-05, version 2 \([A-Za-z0-9+\/=]{44}\): from 2022-03-05 07:00 UTC to 2022-03-05 15:00 UTC; local times: Europe\/Kyiv 2022-03-05 09:00:00\+02:00/);
    // Version 2 amended version 1: the changed terms are marked against the version before.
    assert.match(await coord.textContent('.review .diff caption'), /from version 1 to version 2/);
    assert.ok((await coord.$$('.review .diff tr.changed')).length >= 1, 'the diff marks what changed');

    await coord.screenshot({ path: join(out, 'console-consent-review.png'), fullPage: true });
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    await coord.waitForSelector(`[data-window="${WINDOW}"]`);
    assert.match(await coord.locator(`[data-window="${WINDOW}"]`).textContent(), /agreed|open now/);
  });

  await check('the coordinator reports an incident placed on the map', async () => {
    const map = coord.locator('svg.map');
    const box = await map.boundingBox();
    await map.click({ position: { x: box.width / 2, y: box.height / 2 } });
    assert.notEqual(await coord.inputValue('#inc-lat'), '');
    await coord.selectOption('#inc-category', 'shelling');
    await coord.fill('#inc-text', 'Обстріл біля мосту (навчання)');
    await coord.click('#inc-h ~ form button');
    assert.match(await coord.textContent('.review .words'), /You report: shelling/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
  });

  await check('the coordinator proposes a window, amends it with the change marked, and answers an incident', async () => {
    await coord.click('#propose-window');
    await coord.selectOption('#win-corridor', 'borodianka-berestianka');
    await coord.fill('#win-id', 'borodianka-console-1');
    await coord.fill('#win-start', '2022-03-06T07:00');
    await coord.fill('#win-end', '2022-03-06T13:00');
    await coord.fill('#win-guarantee', 'Вогонь уздовж маршруту не відкривається (навчання).');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /You propose window borodianka-console-1 on corridor borodianka-berestianka: from 2022-03-06 07:00 UTC to 2022-03-06 13:00 UTC; parties whose consent is required: ua, ru/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    const win = coord.locator('[data-window="borodianka-console-1"]');
    await win.locator('button:has-text("Amend")').click();
    await coord.fill('#win-end', '2022-03-06T15:00');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /new version of window borodianka-console-1.*to 2022-03-06 15:00 UTC/);
    const changed = await coord.$$eval('.review .diff tr.changed th', (th) => th.map((x) => x.textContent));
    assert.deepEqual(changed, ['End'], 'only the end changed');
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.match(await coord.locator('[data-window="borodianka-console-1"]').textContent(), /Version 2/);
    const accused = coord.locator('[data-incident] button:has-text("Answer")').first();
    await accused.click();
    await coord.fill('#answer-text', 'Навчання: наші підрозділи в цей час вогню не відкривали.');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /You answer incident/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.match(await coord.textContent('.incidents'), /ru\/coord-console: Навчання: наші підрозділи/);
  });

  await check('the coordinator proposes corridors from a GeoJSON file and by drawing on the map, and amends one', async () => {
    await coord.click('#propose-corridor');
    const file = (name, g) => ({ name, mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(g)) });
    // Another kind of file first: told what is wrong, nothing drawn.
    await coord.setInputFiles('#cor-file', file('pin.geojson', { type: 'Point', coordinates: [30.2, 50.5] }));
    assert.match(await message(coord), /no route: it needs a LineString/);
    assert.match(await coord.textContent('#cor-points'), /No route yet/);
    // A drawing tool's export: a collection with a marker and the one line, saying what it is.
    const line = [[30.2506, 50.5218], [30.24, 50.53], [30.2120, 50.5432]];
    await coord.setInputFiles(
      '#cor-file',
      file('irpin-bucha.geojson', {
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [30.22, 50.53] } },
          { type: 'Feature', properties: { id: 'irpin-bucha-console', origin: 'irpin', destination: 'bucha', purpose: 'both' }, geometry: { type: 'LineString', coordinates: line } },
        ],
      }),
    );
    assert.match(await message(coord), /Read 3 points/);
    assert.equal(await coord.inputValue('#cor-id'), 'irpin-bucha-console', 'the file says its id');
    assert.equal(await coord.inputValue('#cor-origin'), 'irpin');
    assert.equal(await coord.locator('.review .point-draft').count(), 3, 'the route is on the map');
    await coord.fill('#cor-name-uk', 'Ірпінь – Буча (навчання)');
    await coord.fill('#cor-name-ru', 'Ирпень – Буча (учения)');
    await coord.fill('#cor-name-en', 'Irpin – Bucha (exercise)');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /You propose corridor irpin-bucha-console «Ірпінь – Буча \(навчання\)» .* for evacuation and aid, from Irpin to Bucha: a route of 3 points, about 3\.\d km, from 50\.52180, 30\.25060 to 50\.54320, 30\.21200, with 500 m either side/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);

    // Amended with what civilians are told; the route comes back exactly, so it is not a change.
    const item = coord.locator('[data-corridor="irpin-bucha-console"]');
    assert.match(await item.textContent(), /not yet complete/);
    await item.locator('button.amend-corridor').click();
    await coord.fill('#cor-who_may_leave-uk', 'Усі цивільні (навчання)');
    await coord.click('.review form button[type=submit]');
    assert.match(await message(coord), /Who may leave: give the text in all three languages/);
    const civil = {
      who_may_leave: ['Усі цивільні (навчання)', 'Все гражданские (учения)', 'All civilians (exercise)'],
      reception: ['Буча, школа № 3 (навчання)', 'Буча, школа № 3 (учения)', 'Bucha, school no. 3 (exercise)'],
      bring: ['Документи й ліки (навчання)', 'Документы и лекарства (учения)', 'Papers and medicine (exercise)'],
      gather: ['Ірпінь, центральна площа (навчання)', 'Ирпень, центральная площадь (учения)', 'Irpin, central square (exercise)'],
      if_suspended: ['Залишайтеся в укритті (навчання)', 'Оставайтесь в укрытии (учения)', 'Stay in shelter (exercise)'],
    };
    for (const [k, texts] of Object.entries(civil)) {
      for (const [i, l] of ['uk', 'ru', 'en'].entries()) await coord.fill(`#cor-${k}-${l}`, texts[i]);
    }
    await coord.selectOption('#cor-aid', 'true');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /You propose version 2 of corridor irpin-bucha-console/);
    const changed = await coord.$$eval('.review .diff tr.changed th', (th) => th.map((x) => x.textContent));
    assert.deepEqual(changed, ['Who may leave', 'Aid may enter', 'Reception point', 'What to bring', 'Where to gather', 'What to do if the corridor is suspended']);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.doesNotMatch(await coord.locator('[data-corridor="irpin-bucha-console"]').textContent(), /not yet complete/);

    // Drawn: three clicks on the map, one taken back, one typed.
    await coord.click('#propose-corridor');
    const map = coord.locator('.review svg.map');
    const box = await map.boundingBox();
    for (const [x, y] of [[0.3, 0.3], [0.5, 0.5], [0.7, 0.6]]) await map.click({ position: { x: box.width * x, y: box.height * y } });
    assert.match(await coord.textContent('#cor-points'), /3 points/);
    await coord.click('#cor-undo');
    assert.match(await coord.textContent('#cor-points'), /2 points/);
    await coord.fill('#cor-add', '50.6451, 29.9220');
    await coord.press('#cor-add', 'Enter');
    assert.match(await coord.textContent('#cor-points'), /3 points/);
    await map.screenshot({ path: join(out, 'console-draw-corridor.png') });
    await coord.fill('#cor-id', 'drawn-console');
    await coord.fill('#cor-name-uk', 'Намальований (навчання)');
    await coord.fill('#cor-name-ru', 'Нарисованный (учения)');
    await coord.fill('#cor-name-en', 'Drawn (exercise)');
    await coord.selectOption('#cor-origin', 'bucha');
    await coord.selectOption('#cor-destination', 'borodianka');
    await coord.click('.review form button[type=submit]');
    const signed = JSON.parse(await coord.textContent('.review details pre'));
    assert.equal(signed.terms.route.length, 3);
    assert.deepEqual(signed.terms.route[2], [299220000, 506451000], 'the typed point, exactly');
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
  });

  await check('the coordinator acknowledges the overdue convoy seeing every plate, and writes to the other party', async () => {
    const op = coord.locator('[data-operation="convoys/aid-1"]');
    assert.match(await op.textContent(), /ru: OVERDUE/);
    await op.locator('button.ack').click();
    assert.match(await coord.textContent('.review .words'), /For ru, you acknowledge notification convoys\/aid-1 \(aid delivery\).*truck AI 0005 EX.*truck AI 0006 EX.*AID1-FOOD-1: family food parcels, 1200 box/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.match(await coord.locator('[data-operation="convoys/aid-1"]').textContent(), /ru: acknowledged/);
    assert.equal(await coord.locator('[data-operation="convoys/aid-1"] button.ack').count(), 0, 'nothing left to acknowledge');

    await coord.locator('[data-thread="convoys/evac-1-line"] button.reply').click();
    await coord.fill('#msg-text', 'Навчання: блокпост на в’їзді до Берестянки пропустить автобуси о 10:00.');
    await coord.check('#msg-ack-ua');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /You send in thread convoys\/evac-1-line: .*to be acknowledged by: ua\./);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.match(await coord.locator('[data-thread="convoys/evac-1-line"]').textContent(), /ru\/coord-console · .*блокпост на в’їзді.*ua: awaited/);
  });

  await check('the coordinator states a position on an agenda point and agrees to publish the signed protocol', async () => {
    const point = coord.locator('[data-point="m-1"]');
    assert.match(await point.textContent(), /ru: accepts with reservations/);
    await point.locator('button').click();
    await coord.selectOption('#pos-stance', 'accepts');
    await coord.fill('#pos-text', 'Навчання: приймаємо текст версії без застережень.');
    await coord.click('.review form button[type=submit]');
    assert.match(await coord.textContent('.review .words'), /For ru, on point m-1 version \d+ \(«.+»\), you state in round-2: accepts — «Навчання: приймаємо/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.match(await coord.locator('[data-point="m-1"]').textContent(), /ru: accepts \(round-2\) — Навчання/);

    const doc = coord.locator('[data-document="protocol-2022-03-03"]');
    await doc.locator('button:has-text("Agree to publish")').click();
    assert.match(await coord.textContent('.review .words'), /For ru, you agree to publish document protocol-2022-03-03 .*version 1 \([A-Za-z0-9+\/=]{44}\), as signed: «Стороны договорились/);
    await coord.click('#sign');
    assert.match(await message(coord), /Sent/);
    assert.equal(await coord.locator('[data-document="protocol-2022-03-03"] button').count(), 0, 'nothing left to do on it');
    await fitsTheScreen(coord);
  });

  await check('a unit confirms on a phone the terms it received, and is shown as having done so', async () => {
    const unitBackup = join(dir, 'ru-unit-2.backup.json');
    corridor('key', 'backup', '--key', join(data, 'keys/units/ru-unit-2.key'), '--out', unitBackup);
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const unit = await ctx.newPage();
    pages.push(unit);
    watch(unit);
    await unit.goto(`${base}/console/?lang=ru`);
    await unit.waitForSelector('.log.ok');
    await unit.click('text=Импортировать файл резервной копии');
    await unit.setInputFiles('#import-file', unitBackup);
    await unit.fill('#import-pass', PASS);
    await unit.click('form button:has-text("Импортировать")');
    const win = unit.locator('[data-window="borodianka-2022-03-04"]');
    await win.locator('button.confirm').waitFor();
    assert.equal(await unit.locator('#ops-h').count(), 0, 'a unit is not shown the convoys');
    await win.locator('button.confirm').click();
    assert.match(await unit.textContent('.review .words'), /Как подразделение ru\/unit-2, вы подтверждаете, что получили именно эти условия: .*borodianka-2022-03-04/);
    await unit.click('#sign');
    assert.match(await message(unit), /Отправлено|журнал принял/);
    assert.match(await unit.locator('[data-window="borodianka-2022-03-04"]').textContent(), /Вы подтвердили: условия версии/);
    assert.equal(await unit.locator('[data-window="borodianka-2022-03-04"] button.confirm').count(), 0);
    assert.match(await unit.locator('[data-window="borodianka-console-1"]').textContent(), /предложено/);
    assert.equal(await unit.locator('[data-window="borodianka-console-1"] button.confirm').count(), 0, 'a unit is never asked to confirm a window only proposed');
    await fitsTheScreen(unit);
    await unit.screenshot({ path: join(out, 'console-unit-ru.png'), fullPage: true });
    await ctx.close();
  });

  // The convoy lead of the organisation: a third device, the CLI's backup imported.
  const leadBackup = join(dir, 'convoys-lead.backup.json');
  corridor('key', 'backup', '--key', join(data, 'keys/convoys-lead.key'), '--out', leadBackup);
  const leadCtx = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const lead = await leadCtx.newPage();
  pages.push(lead);
  watch(lead);

  await check('the convoy lead notifies a movement, records it on the map to arrival, the receipts and the outcome', async () => {
    await lead.goto(`${base}/console/?lang=uk`);
    await lead.waitForSelector('.log.ok');
    await lead.click('text=Імпортувати файл резервної копії');
    await lead.setInputFiles('#import-file', leadBackup);
    await lead.fill('#import-pass', PASS);
    await lead.click('form button:has-text("Імпортувати")');
    await lead.waitForSelector('#ops-h');
    assert.equal(await lead.locator('#reg-h').count(), 0, 'an organisation member registers nobody');

    await lead.click('#notify-operation');
    await lead.selectOption('#op-window', 'borodianka-2022-03-05');
    await lead.fill('#op-name', 'evac-console');
    await lead.selectOption('#op-kind', 'evacuation');
    await lead.fill('#op-departure', '2022-03-05T07:30');
    await lead.fill('#op-arrival', '2022-03-05T09:00');
    await lead.fill('#op-capacity', '90');
    const vehicle = (n) => lead.locator('#op-vehicles fieldset').nth(n);
    await vehicle(0).locator('[name=plate]').fill('AI 0100 EX');
    await vehicle(0).locator('[name=markings]').fill('білий, синій прапор, НАВЧАННЯ 100');
    await lead.click('#op-add-vehicle');
    await vehicle(1).locator('[name=type]').selectOption('ambulance');
    await vehicle(1).locator('[name=plate]').fill('AI 0101 EX');
    await vehicle(1).locator('[name=markings]').fill('білий, червона смуга, НАВЧАННЯ 101');
    await lead.click('.review form button[type=submit]');
    assert.match(await lead.textContent('.review .words'), /Ви повідомляєте сторони про convoys\/evac-console \(евакуація\) у вікні borodianka-2022-03-05: відправлення 2022-03-05 07:30 UTC.*автобус AI 0100 EX.*швидка AI 0101 EX/);
    await lead.click('#sign');
    assert.match(await message(lead), /Надіслано/);
    assert.match(await lead.locator('[data-operation="convoys/evac-console"]').textContent(), /ua: ще ні.*ru: ще ні|ru: ще ні.*ua: ще ні/);

    // The aid convoy leaves: placed by a click on the corridor's map, then typed exactly.
    await lead.locator('[data-operation="convoys/aid-1"] button:has-text("Записати рух")').click();
    const map = lead.locator('.review svg.map');
    const box = await map.boundingBox();
    await map.click({ position: { x: box.width / 2, y: box.height / 2 } });
    assert.notEqual(await lead.inputValue('#move-lat'), '', 'the click placed the point');
    await lead.fill('#move-lat', '50.6451');
    await lead.fill('#move-lon', '29.922');
    await lead.fill('#move-when', '2022-03-04T11:05');
    await lead.click('.review form button[type=submit]');
    assert.match(await lead.textContent('.review .words'), /convoys\/aid-1: відправилася о 2022-03-04 11:05 UTC, у точці 50.6451, 29.922; без підрахунку людей/);
    await lead.click('#sign');
    assert.match(await message(lead), /Надіслано/);
    assert.match(await lead.locator('[data-operation="convoys/aid-1"]').textContent(), /у дорозі/);

    // It arrives; the receipts must add up to what was sent or say why.
    await lead.locator('[data-operation="convoys/aid-1"] button:has-text("Записати рух")').click();
    await lead.selectOption('#move-event', 'arrived');
    await lead.fill('#move-lat', '50.59');
    await lead.fill('#move-lon', '29.83');
    await lead.fill('#move-when', '2022-03-04T11:55');
    await lead.click('.review form button[type=submit]');
    await lead.click('#sign');
    assert.match(await message(lead), /Надіслано/);
    await lead.locator('[data-operation="convoys/aid-1"] button.receive').click();
    const water = lead.locator('.review fieldset[data-tracking="AID1-WAT-1"]');
    await water.locator('[name=delivered]').fill('9000');
    await lead.click('.review form button[type=submit]');
    assert.match(await message(lead), /AID1-WAT-1: доставлене, пошкоджене й втрачене мають разом дорівнювати надісланим 10000/);
    await water.locator('[name=reason]').fill('Навчання: 1000 л злили на блокпості для перевірки.');
    await lead.click('.review form button[type=submit]');
    assert.match(await lead.textContent('.review .words'), /AID1-FOOD-1 \(family food parcels\): доставлено 1200, пошкоджено 0, втрачено 0 з 1200 box.*AID1-WAT-1 \(drinking water\): доставлено 9000/);
    await lead.click('#sign');
    assert.match(await message(lead), /Надіслано/);

    await lead.locator('[data-operation="convoys/aid-1"] button:has-text("Записати результат")').click();
    await lead.selectOption('#outcome', 'impeded');
    await lead.fill('#outcome-reason', 'Навчання: огляд на блокпості тривав дві години.');
    await lead.click('.review form button[type=submit]');
    assert.match(await lead.textContent('.review .words'), /convoys\/aid-1: перешкоджали/);
    await lead.click('#sign');
    assert.match(await message(lead), /Надіслано/);
    assert.match(await lead.locator('[data-operation="convoys/aid-1"]').textContent(), /перешкоджали/);
    await lead.screenshot({ path: join(out, 'console-operations-uk.png'), fullPage: true });
  });

  await check('what the console signed is in the log, as signed, and verifies with `corridor verify`', async () => {
    const read = (path) => JSON.parse(corridor('get', '--server', base, '--key', join(data, 'keys/intermediary-admin.key'), path));
    const windows = read(`/v1/windows?corridor=borodianka-berestianka`).windows;
    assert.equal(windows.find((w) => w.id === WINDOW).consents.ru.actor, NEW_ACTOR, 'the consent is the coordinator\'s');
    const reports = read('/v1/incidents').incidents.filter((i) => i.reporter === NEW_ACTOR);
    assert.equal(reports.length, 1, 'the report is in the log once');
    const corridors = read('/v1/corridors').corridors;
    const fromFile = corridors.find((c) => c.id === 'irpin-bucha-console');
    assert.deepEqual(fromFile?.route.coordinates, [[30.2506, 50.5218], [30.24, 50.53], [30.212, 50.5432]], 'the file\'s route, exactly');
    assert.equal(fromFile.version, 2);
    assert.equal(fromFile.reception.en, 'Bucha, school no. 3 (exercise)');
    assert.equal(corridors.find((c) => c.id === 'drawn-console')?.route.coordinates.length, 3);
    const aid = read('/v1/operations/convoys/aid-1');
    assert.equal(aid.acknowledgements.ru.actor, NEW_ACTOR, 'the acknowledgement is the coordinator\'s');
    assert.equal(aid.timeline[0].event, 'departed');
    assert.deepEqual(aid.timeline[0].location, [29.922, 50.6451], "the typed point, as GeoJSON [lon, lat]");
    assert.equal(aid.outcome?.outcome ?? aid.outcome, 'impeded');
    const water = aid.manifest.find((c) => c.tracking === 'AID1-WAT-1');
    assert.deepEqual([water.delivered, water.damaged, water.lost], [9000, 0, 0]);
    assert.match(water.reason, /1000 л/);
    const notified = read('/v1/operations/convoys/evac-console');
    assert.deepEqual(notified.vehicles.map((v) => v.plate), ['AI 0100 EX', 'AI 0101 EX']);
    const thread = read('/v1/threads/convoys/evac-1-line');
    const written = thread.messages.find((m) => m.actor === NEW_ACTOR);
    assert.deepEqual(written?.awaiting, ['ua']);
    const proposed = windows.find((w) => w.id === 'borodianka-console-1');
    assert.equal(proposed.version, 2);
    assert.equal(proposed.end, '2022-03-06T15:00:00Z');
    assert.equal(reports[0].description, 'Обстріл біля мосту (навчання)');
    const verified = corridor('verify', '--data-dir', data);
    assert.match(verified, /verified|ok/i, verified);
  });

  let seed;
  await check('the backup the page exports opens in `corridor`, and the private key is nowhere in clear', async () => {
    const [download] = await Promise.all([coord.waitForEvent('download'), coord.click('text=Export encrypted backup')]);
    const file = join(dir, 'coord.backup.json');
    await download.saveAs(file);
    const proof = JSON.parse(corridor('key', 'prove', '--key', file, '--server', base));
    assert.equal(proof.actor, NEW_ACTOR);
    assert.equal(proof.key, JSON.parse(request).key);
    seed = await decryptBackup(JSON.parse(readFileSync(file, 'utf8')), PASS);
    const forms = [b64(seed), Buffer.from(seed).toString('hex'), Buffer.from(seed).toString('base64url')];
    const dump = await storageDump(coord);
    assert.match(dump, /"cryptoKey":true,"extractable":false,"type":"private"/);
    for (const f of forms) {
      assert.ok(!dump.includes(f), 'the seed is in page storage in clear');
      for (const r of coordRequests) assert.ok(!r.includes(f), `the seed was sent: ${r.slice(0, 80)}`);
    }
    const adminSeed = JSON.parse(readFileSync(join(data, 'keys/ru-admin.key'), 'utf8')).seed;
    assert.ok(!(await storageDump(admin)).includes(adminSeed));
    for (const r of adminRequests) assert.ok(!r.includes(adminSeed), 'the admin seed was sent');
  });

  await check('offline: two commands signed with the network cut land once each when it returns', async () => {
    await coordCtx.setOffline(true);
    await coord.evaluate(() => window.dispatchEvent(new Event('offline')));
    await coord.waitForSelector('.offline');
    for (const text of ['Перший звіт без зв’язку', 'Другий звіт без зв’язку']) {
      await coord.fill('#inc-lat', '50.6');
      await coord.fill('#inc-lon', '29.93');
      await coord.fill('#inc-text', text);
      await coord.click('#inc-h ~ form button');
      await coord.click('#sign');
      assert.match(await message(coord), /kept on this device/);
    }
    const states = await outboxStates(coord);
    assert.deepEqual(states.slice(0, 2), ['queued', 'queued']);
    await coord.screenshot({ path: join(out, 'console-offline.png'), fullPage: true });
    await coordCtx.setOffline(false);
    await coord.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(coord, async () => (await outboxStates(coord)).every((s) => s === 'sent'), 'the queued commands to be sent');
    // Sending the same bytes again gives the original receipts: nothing lands twice.
    const again = await coord.evaluate(async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open('corridor-console');
        r.onsuccess = () => ok(r.result);
      });
      const items = await new Promise((ok) => {
        const q = db.transaction('outbox').objectStore('outbox').getAll();
        q.onsuccess = () => ok(q.result);
      });
      const out = [];
      for (const i of items.filter((x) => x.state === 'sent')) {
        const r = await fetch('/v1/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: i.envelope });
        out.push({ status: r.status, index: (await r.json()).receipt.index, was: i.receipt.receipt.index });
      }
      return out;
    });
    assert.ok(again.length >= 4);
    for (const a of again) {
      assert.equal(a.status, 200, 'a repeat is answered 200 with the original receipt');
      assert.equal(a.index, a.was);
    }
    const reports = JSON.parse(corridor('get', '--server', base, '--key', join(data, 'keys/intermediary-admin.key'), '/v1/incidents'));
    const offline = reports.incidents.filter((i) => /без зв’язку/.test(JSON.stringify(i)));
    assert.equal(offline.length, 2, 'each offline report is in the log once');
  });

  await check('a server whose log does not verify: the console stops signing and says why', async () => {
    // Let the log grow, then answer the console's consistency proof with a forged one.
    const report = join(dir, 'report.json');
    writeFileSync(report, JSON.stringify({ type: 'incident.report', incident: 'ua/console-growth', occurred_at: '2022-03-04T11:00:00Z',
      location: { lat_e7: 506300000, lon_e7: 299000000 }, category: 'gunfire', description: 'The log grows after the console last looked.' }));
    corridor('submit', '--server', base, '--key', join(data, 'keys/ua-coord-kyiv-oblast.key'), report);
    await coord.route('**/v1/log/proof/consistency*', async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      body.proof = body.proof.map(() => b64(new Uint8Array(32).fill(7)));
      await route.fulfill({ response: resp, json: body });
    });
    await coord.goto(`${local}/console/?lang=en`);
    await coord.waitForSelector('.log.broken');
    assert.match(await coord.textContent('.log.broken'), /not consistent with the one this console verified/);
    await coord.unroute('**/v1/log/proof/consistency*');
    // It stays stopped after the server behaves again: a person must decide to start over.
    await coord.goto(`${local}/console/?lang=uk`);
    await coord.waitForSelector('.log.broken');
    assert.match(await coord.textContent('.log.broken h2'), /підписання зупинено/);
    assert.equal(await coord.$('#sign'), null);
    assert.equal(await coord.$('#inc-h'), null, 'no work is offered while the log does not verify');
    await coord.screenshot({ path: join(out, 'console-broken-uk.png'), fullPage: true });
  });

  assert.deepEqual(errors, [], 'no script errors in the pages');
  console.log(`console: ${passed} checks passed`);
} finally {
  await browser?.close();
  stopCorridors();
}
