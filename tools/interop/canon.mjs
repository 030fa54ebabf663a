#!/usr/bin/env node
// Independent RFC 8785 reference for crates/jcs/tests/cross_impl.rs: npm `canonicalize`.
//
// Usage: node canon.mjs VALUES.json
// VALUES.json holds a JSON array; prints a JSON array with, for each element, the hex of the
// UTF-8 bytes of its canonical form. JSON.parse reads every number as a double, which is what
// RFC 8785 means by a number; the Rust side writes floats in shortest round-trip form and keeps
// integers within ±(2^53 − 1), so nothing is lost on the way in.
import { readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node canon.mjs VALUES.json\n');
  process.exit(2);
}
const values = JSON.parse(readFileSync(file, 'utf8'));
if (!Array.isArray(values)) {
  process.stderr.write(`${file}: expected a JSON array of test values\n`);
  process.exit(2);
}
const out = values.map((v) => Buffer.from(canonicalize(v), 'utf8').toString('hex'));
process.stdout.write(JSON.stringify(out));
