// Keys, signatures and the encrypted key backup, with the browser's own WebCrypto.
//
// Everything signed here is signed over the same bytes the Rust core signs
// (crates/core/src/envelope.rs, httpsig.rs), checked against the shared vectors in
// crates/console/vectors.json by the tests in Node and in Chromium. Why WebCrypto and no
// library: Ed25519, SHA-256, PBKDF2 and AES-GCM are all in current Chromium and Firefox, the
// private key can then be a non-extractable CryptoKey the page's own scripts cannot read back,
// and the console ships no third-party code. A browser without Ed25519 gets a plain refusal
// (see `ed25519Supported`), never a weaker fallback.

import { canonicalize, nfc } from './jcs.js';

/** The protocol name every signed message starts with. */
export const PROTOCOL = 'corridor/v1';
/** The `kind` of a passphrase-encrypted key backup (crates/core/src/backup.rs). */
export const BACKUP_KIND = 'corridor-ed25519-key-encrypted';
/** PBKDF2 rounds written into a new backup; the CLI writes the same. */
export const BACKUP_ITERATIONS = 600000;
const MIN_ITERATIONS = 100000;
const MAX_ITERATIONS = 10000000;

const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();

/** Standard base64 with padding, as the log writes it. */
export function b64(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

/** Decode standard base64; throws a `CryptoError` naming `field` when it is not. */
export function unb64(text, field = 'base64') {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new CryptoError('malformed', `${field} is not standard base64`);
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Join byte arrays. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Lowercase hex. */
export function hex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** An error with a stable `code` the interface translates. */
export class CryptoError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** SHA-256 of `bytes`. */
export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

/** Whether this browser signs with Ed25519 in WebCrypto (Chromium 137+, Firefox 129+). */
export async function ed25519Supported() {
  try {
    await subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch {
    return false;
  }
}

// PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410 §7): WebCrypto imports private keys only
// in this form or as JWK.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function fromB64url(text) {
  return unb64(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
}

/**
 * The signing key for a seed: a CryptoKey that cannot be exported (`extractable` false), and
 * the public key in base64 (the key's id in the log).
 */
export async function keyFromSeed(seed) {
  if (seed.length !== 32) throw new CryptoError('malformed', 'an Ed25519 seed is 32 bytes');
  const pkcs8 = concat(PKCS8_PREFIX, seed);
  // The public half: WebCrypto has no "public key of this private key" call, so import once
  // extractable, read the JWK's `x`, and drop that copy.
  const temp = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const jwk = await subtle.exportKey('jwk', temp);
  const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
  pkcs8.fill(0);
  return { privateKey, publicKey: b64(fromB64url(jwk.x)) };
}

/** A fresh random seed (the caller wipes it when done). */
export function randomSeed() {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

/** Ed25519 signature of `message` by `privateKey`. */
export async function sign(privateKey, message) {
  return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message));
}

/** Whether `signature` by the public key `publicKey` (raw bytes) verifies over `message`. */
export async function verify(publicKey, message, signature) {
  const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, signature, message);
}

/** The bytes a command's signature covers: `corridor/v1\n<origin>\n` + canonical command. */
export function signingMessage(origin, commandText) {
  return concat(te.encode(`${PROTOCOL}\n${origin}\n`), te.encode(commandText));
}

/**
 * Sign a command for the log `origin`: the canonical envelope text the server takes at
 * `POST /v1/commands`, and the canonical command text (what was signed after the prefix).
 */
export async function signCommand({ privateKey, publicKey, actor, origin, id, time, body }) {
  const command = nfc({ actor, body, id, key: publicKey, log: origin, time, v: 1 });
  const commandText = canonicalize(command);
  const signature = await sign(privateKey, signingMessage(origin, commandText));
  return { envelope: `{"command":${commandText},"signature":"${b64(signature)}"}`, commandText };
}

/** The proof that the holder of this key agrees to act as `actor` on `origin` (`key_proof`). */
export async function proveKey(privateKey, publicKey, origin, actor) {
  const message = te.encode(`${PROTOCOL}/key-proof\n${origin}\n${actor}\n${publicKey}`);
  return b64(await sign(privateKey, message));
}

function sfString(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * RFC 9421 headers for a signed request in corridor's profile (crates/core/src/httpsig.rs):
 * method, path and query covered; `created` in Unix seconds at the log's clock.
 */
export async function signRequest({ privateKey, publicKey, origin, method, pathAndQuery, created, nonce }) {
  const q = pathAndQuery.indexOf('?');
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : pathAndQuery.slice(q + 1);
  const params =
    `("@method" "@path" "@query");created=${created};keyid=${sfString(publicKey)};` +
    `nonce=${sfString(nonce)};alg="ed25519";tag=${sfString(`${PROTOCOL}/read:${origin}`)}`;
  const base =
    `"@method": ${method.toUpperCase()}\n"@path": ${path}\n"@query": ?${query}\n` +
    `"@signature-params": ${params}`;
  const signature = await sign(privateKey, te.encode(base));
  return { 'Signature-Input': `corridor=${params}`, Signature: `corridor=:${b64(signature)}:` };
}

/** A random nonce for a signed request (32 hex digits). */
export function randomNonce() {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

async function backupKey(passphrase, salt, iterations) {
  const base = await subtle.importKey('raw', te.encode(passphrase.normalize('NFC')), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * The passphrase-encrypted backup of a seed, in the format `corridor` reads
 * (crates/core/src/backup.rs): PBKDF2-HMAC-SHA256 then AES-256-GCM, the public key bound as
 * associated data. `salt` and `nonce` are random unless given (the vectors give them).
 */
export async function encryptBackup(seed, publicKey, actor, passphrase, opts = {}) {
  const iterations = opts.iterations ?? BACKUP_ITERATIONS;
  const salt = opts.salt ?? globalThis.crypto.getRandomValues(new Uint8Array(16));
  const nonce = opts.nonce ?? globalThis.crypto.getRandomValues(new Uint8Array(12));
  const key = await backupKey(passphrase, salt, iterations);
  const ciphertext = await subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: te.encode(`${BACKUP_KIND}\n${publicKey}`) },
    key,
    seed,
  );
  const file = { kind: BACKUP_KIND, public: publicKey };
  if (actor) file.actor = actor;
  file.kdf = { name: 'PBKDF2-HMAC-SHA256', iterations, salt: b64(salt) };
  file.cipher = { name: 'AES-256-GCM', nonce: b64(nonce) };
  file.ciphertext = b64(ciphertext);
  return file;
}

/**
 * Open a backup with its passphrase: the seed, checked against the public key it names.
 * Throws a `CryptoError` whose code says what was wrong (not-corridor, unsupported,
 * iterations, malformed, wrong-passphrase, damaged).
 */
export async function decryptBackup(file, passphrase) {
  if (!file || typeof file !== 'object' || file.kind !== BACKUP_KIND) {
    const plain = file && file.kind === 'corridor-ed25519-key';
    throw new CryptoError(
      plain ? 'plain-key' : 'not-corridor',
      plain
        ? 'this is an unencrypted corridor key file: make a backup of it with `corridor key backup`'
        : 'this file is not a corridor key backup',
    );
  }
  if (file.kdf?.name !== 'PBKDF2-HMAC-SHA256' || file.cipher?.name !== 'AES-256-GCM') {
    throw new CryptoError('unsupported', 'this backup uses a key derivation or cipher corridor does not know');
  }
  const iterations = file.kdf.iterations;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new CryptoError('iterations', `the backup's PBKDF2 rounds must be ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`);
  }
  const salt = unb64(file.kdf.salt, 'kdf.salt');
  const nonce = unb64(file.cipher.nonce, 'cipher.nonce');
  const ciphertext = unb64(file.ciphertext, 'ciphertext');
  if (salt.length !== 16 || nonce.length !== 12 || ciphertext.length !== 48) {
    throw new CryptoError('malformed', 'the backup is damaged (a field has the wrong length)');
  }
  const key = await backupKey(passphrase, salt, iterations);
  let seed;
  try {
    seed = new Uint8Array(
      await subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: te.encode(`${BACKUP_KIND}\n${file.public}`) },
        key,
        ciphertext,
      ),
    );
  } catch {
    throw new CryptoError('wrong-passphrase', 'the passphrase does not open this backup (or the file was altered)');
  }
  const { publicKey } = await keyFromSeed(seed);
  if (publicKey !== file.public) {
    seed.fill(0);
    throw new CryptoError('damaged', 'the backup is damaged: its key does not match the public key it names');
  }
  return seed;
}
