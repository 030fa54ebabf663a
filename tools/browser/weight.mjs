// Page weight and first render of the public pages under 2G-like throttling (about 250 kbit/s
// down and up, 300 ms round trip) in headless Chromium, one fresh browser context (empty cache)
// per page. Prints a Markdown table for BENCHMARKS.md.
//
//   node tools/browser/weight.mjs http://127.0.0.1:8080
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'],
});
const status = await (await fetch(`${base}/status.json`)).json();
const ids = status.corridors.map((c) => c.id);
const pages = [];
for (const lang of ['uk', 'ru', 'en']) {
  pages.push([lang, 'list', `/${lang}/`]);
  for (const id of ids) {
    pages.push([lang, 'corridor', `/${lang}/corridors/${id}/`]);
    pages.push([lang, 'print', `/${lang}/corridors/${id}/print/`]);
  }
}
console.log('| page | language | transferred (bytes, brotli) | uncompressed (bytes) | first contentful paint | load |');
console.log('| --- | --- | --- | --- | --- | --- |');
let worst = 0;
for (const [lang, kind, path] of pages) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 300, downloadThroughput: 250000 / 8, uploadThroughput: 250000 / 8,
  });
  let transferred = 0;
  cdp.on('Network.loadingFinished', (e) => { transferred += e.encodedDataLength; });
  const t0 = Date.now();
  await page.goto(base + path, { waitUntil: 'load' });
  const load = Date.now() - t0;
  const fcp = await page.evaluate(() => {
    const e = performance.getEntriesByName('first-contentful-paint')[0];
    return e ? Math.round(e.startTime) : null;
  });
  const size = (await page.content()).length;
  worst = Math.max(worst, fcp ?? load);
  console.log(`| ${kind} | ${lang} | ${transferred} | ${size} | ${fcp} ms | ${load} ms |`);
  await ctx.close();
}
console.log(`\nslowest first contentful paint: ${worst} ms`);
await browser.close();
