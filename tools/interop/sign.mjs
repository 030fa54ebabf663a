#!/usr/bin/env node
// A non-Rust corridor signer (Node >= 20, built-in crypto + npm `canonicalize`), for the
// round-trip test: commands signed here must be accepted by the Rust server byte for byte.
//
// Usage: node sign.mjs SEED_HEX ORIGIN COMMAND_JSON_FILE
//
//   SEED_HEX           the 32-byte Ed25519 secret seed, as 64 hex digits
//   ORIGIN             the log's origin, e.g. corridor.example/test
//   COMMAND_JSON_FILE  the command object WITHOUT "key"; the script sets "key" to the standard
//                      base64 (padded) of the seed's public key
//
// The signature covers the UTF-8 bytes of "corridor/v1\n" + ORIGIN + "\n" followed by the
// RFC 8785 canonical bytes of the command. Prints the canonical envelope
// {"command":...,"signature":"<base64>"} to stdout, without a trailing newline.
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): SEQUENCE { INTEGER 0,
// AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } }.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function die(message) {
  process.stderr.write(`sign.mjs: ${message}\n`);
  process.exit(2);
}

const [seedHex, origin, file] = process.argv.slice(2);
if (seedHex === undefined || origin === undefined || file === undefined || process.argv.length > 5) {
  die('usage: node sign.mjs SEED_HEX ORIGIN COMMAND_JSON_FILE');
}
if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) {
  die('SEED_HEX must be exactly 64 hex digits (a 32-byte Ed25519 seed)');
}

const command = JSON.parse(readFileSync(file, 'utf8'));
if (command === null || typeof command !== 'object' || Array.isArray(command)) {
  die(`${file}: the command must be a JSON object`);
}

const privateKey = createPrivateKey({
  key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, 'hex')]),
  format: 'der',
  type: 'pkcs8',
});
// The SPKI DER of an Ed25519 key ends with the 32 raw public-key bytes.
const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
const publicKey = spki.subarray(spki.length - 32);

const key = publicKey.toString('base64');
if ('key' in command && command.key !== key) {
  process.stderr.write('sign.mjs: warning: replacing the "key" in the command with the seed\'s public key\n');
}
command.key = key;

const message = Buffer.concat([
  Buffer.from(`corridor/v1\n${origin}\n`, 'utf8'),
  Buffer.from(canonicalize(command), 'utf8'),
]);
const signature = sign(null, message, privateKey);

process.stdout.write(canonicalize({ command, signature: signature.toString('base64') }));
