// The console's scripts against the core's vectors (crates/console/vectors.json), in Node's
// WebCrypto. Run by tests/vectors.rs; the same checks run in Chromium in tools/browser/console.mjs.
// Usage: node vectors.mjs vectors.json
import { readFileSync } from 'node:fs';
import { checkVectors } from '../assets/js/selftest.js';

const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const failures = await checkVectors(vectors);
for (const f of failures) console.log(`FAIL ${f}`);
if (failures.length) process.exit(1);

// Every message the page asks for exists in English, and every language has every message.
const { TABLE_KEYS } = await import('../assets/js/i18n.js');
const app = readFileSync(new URL('../assets/js/app.js', import.meta.url), 'utf8');
const asked = [...app.matchAll(/\bt\('([a-z0-9-]+)'/g)].map((m) => m[1]);
const missing = asked.filter((k) => !TABLE_KEYS.en.includes(k));
for (const lang of ['uk', 'ru']) missing.push(...TABLE_KEYS.en.filter((k) => !TABLE_KEYS[lang].includes(k)).map((k) => `${lang}:${k}`));
if (missing.length) {
  console.log(`FAIL messages missing: ${missing.join(', ')}`);
  process.exit(1);
}
console.log('messages: every language complete');
console.log('vectors: all passed');
