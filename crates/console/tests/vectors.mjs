// The console's scripts against the core's vectors (crates/console/vectors.json), in Node's
// WebCrypto. Run by tests/vectors.rs; the same checks run in Chromium in tools/browser/console.mjs.
// Usage: node vectors.mjs vectors.json
import { readFileSync } from 'node:fs';
import { checkVectors } from '../assets/js/selftest.js';

const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const failures = await checkVectors(vectors);
for (const f of failures) console.log(`FAIL ${f}`);
if (failures.length) process.exit(1);
console.log('vectors: all passed');
