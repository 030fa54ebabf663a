// The coordinator console in real headless Firefox (Debian's firefox-esr, driven over WebDriver
// BiDi by puppeteer-core), against a `corridor demo` it starts itself. The Chromium script
// (console.mjs) walks the whole workflow; this one proves what differs between engines: the
// core's signing vectors in Firefox's own WebCrypto, a non-extractable Ed25519 key made and kept
// in Firefox's IndexedDB, a signed read, and a signed command the server accepts.
//
//   CORRIDOR_BIN=target/debug/corridor node tools/browser/console-firefox.mjs [ARTEFACT_DIR]
import puppeteer from 'puppeteer-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startCorridor, waitUntilUp } from './demo.mjs';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(process.env.CORRIDOR_BIN ?? 'target/debug/corridor');
const out = resolve(process.argv[2] ?? 'target/browser-artifacts');
const firefoxPath = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const vectors = JSON.parse(readFileSync(join(here, '../../crates/console/vectors.json'), 'utf8'));
mkdirSync(out, { recursive: true });

const ACTOR = 'ua/coord-firefox';
const PASS = 'фраза для навчання 2022';

const dir = mkdtempSync(join(tmpdir(), 'corridor-firefox-'));
const data = join(dir, 'demo');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
startCorridor(bin, ['demo', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--clock', '2022-03-04T12:00:00Z']);
const corridor = (...args) => execFileSync(bin, args, { encoding: 'utf8', env: { ...process.env, CORRIDOR_HOME: join(dir, 'home') } });

await waitUntilUp(`${base}/readyz`, 'the demo server', 1200);

const browser = await puppeteer.launch({ browser: 'firefox', executablePath: firefoxPath, headless: true, args: ['--width=390', '--height=844'] });
const page = await browser.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
let passed = 0;
async function check(name, f) {
  const t = Date.now();
  try {
    await f();
  } catch (e) {
    await page.screenshot({ path: join(out, 'console-firefox-failed.png'), fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}`);
    await browser.close().catch(() => {});
    throw e;
  }
  passed++;
  console.log(`ok   ${name} (${Date.now() - t} ms)`);
}
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const message = async () => {
  await page.waitForSelector('#message');
  return text('#message');
};

await check('the signing bytes, signed reads, proofs and backups match the core in Firefox', async () => {
  await page.goto(`${base}/console/?lang=uk`);
  await page.waitForSelector('.log.ok');
  const failures = await page.evaluate(async (v) => (await import('/console/js/selftest.js')).checkVectors(v), vectors);
  assert.deepEqual(failures, []);
});

let request;
await check('a coordinator makes a key in Firefox, kept non-extractable in its IndexedDB', async () => {
  await page.click('::-p-text(Створити новий ключ)');
  await page.locator('#new-actor').fill(ACTOR);
  await page.locator('#new-pass').fill(PASS);
  await page.locator('#new-pass2').fill(PASS);
  await page.click('::-p-text(Створити ключ)');
  assert.match(await message(), /ua\/coord-firefox/);
  await page.waitForFunction(() => document.querySelector('#registration-request')?.value.includes('key_proof'));
  request = await page.$eval('#registration-request', (e) => e.value);
  assert.equal(JSON.parse(request).actor, ACTOR);
  const keys = await page.evaluate(async () => {
    const db = await new Promise((ok, ko) => {
      const r = indexedDB.open('corridor-console');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => ko(r.error);
    });
    const rows = await new Promise((ok) => {
      const q = db.transaction('keys').objectStore('keys').getAll();
      q.onsuccess = () => ok(q.result);
    });
    return rows.map((k) => ({ type: k.privateKey?.type, extractable: k.privateKey?.extractable, algorithm: k.privateKey?.algorithm?.name }));
  });
  assert.deepEqual(keys, [{ type: 'private', extractable: false, algorithm: 'Ed25519' }]);
});

await check('registered by the CLI, the key reads signed and its command is accepted', async () => {
  const proof = join(dir, 'request.json');
  writeFileSync(proof, request);
  corridor('actor', 'register', '--key', join(data, 'keys/ua-admin.key'), '--server', base, '--proof', proof, '--role', 'coordinator', '--name', 'Координатор (Firefox)');
  await page.goto(`${base}/console/?lang=uk`);
  await page.waitForSelector('#inc-h');
  assert.match(await text('#me-h + p'), /ua\/coord-firefox/);
  await page.locator('#inc-lat').fill('50.62');
  await page.locator('#inc-lon').fill('29.89');
  await page.locator('#inc-text').fill('Навчання: звіт із Firefox');
  await page.click('#inc-h ~ form button');
  await page.waitForSelector('#sign');
  await page.click('#sign');
  assert.match(await message(), /Надіслано/);
  const reports = JSON.parse(corridor('get', '--server', base, '--key', join(data, 'keys/ua-admin.key'), '/v1/incidents')).incidents.filter((i) => i.reporter === ACTOR);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].description, 'Навчання: звіт із Firefox');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the page is ${wide}px wider than the screen`);
  await page.screenshot({ path: join(out, 'console-firefox-uk.png'), fullPage: true });
});

assert.deepEqual(errors, [], 'no script errors in the page');
await browser.close();
console.log(`console in Firefox: ${passed} checks passed`);
process.exit(0);
