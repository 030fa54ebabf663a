// What the console keeps on the device, in IndexedDB (one database per origin of the page):
//
// - `keys`: each key as a non-extractable CryptoKey (IndexedDB stores it by structured clone;
//   no script can read the private bytes back) beside its passphrase-encrypted backup, which is
//   the only form in which the private key ever leaves the browser.
// - `trust`: per log origin, the last checkpoint this console verified and the log key it
//   trusts (trust on first use, as the CLI does), the clock offset of an exercise log, and
//   `broken` once the server showed a history that does not verify: then nothing is signed.
// - `outbox`: every signed command, queued until the server answers, then with its receipt or
//   its problem document. The bytes are fixed at signing, so resending is always the same
//   command and the server answers a repeat with the original receipt.

const DB = 'corridor-console';
const VERSION = 1;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let opened;
function db() {
  if (!opened) {
    const req = indexedDB.open(DB, VERSION);
    req.onupgradeneeded = () => {
      const d = req.result;
      d.createObjectStore('keys', { keyPath: 'publicKey' });
      d.createObjectStore('trust', { keyPath: 'origin' });
      d.createObjectStore('outbox', { keyPath: 'local', autoIncrement: true });
    };
    opened = request(req);
  }
  return opened;
}

async function tx(store, mode, fn) {
  const d = await db();
  const t = d.transaction(store, mode);
  const result = await fn(t.objectStore(store));
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
  return result;
}

/** Every key on this device. */
export function keys() {
  return tx('keys', 'readonly', (s) => request(s.getAll()));
}

/** Keep a key: `{publicKey, actor, privateKey: CryptoKey, backup: object}`. */
export function putKey(k) {
  return tx('keys', 'readwrite', (s) => request(s.put(k)));
}

/** Forget a key (its backup file is then the only copy). */
export function deleteKey(publicKey) {
  return tx('keys', 'readwrite', (s) => request(s.delete(publicKey)));
}

/** What this console trusts of the log `origin`, if it has met it. */
export function trust(origin) {
  return tx('trust', 'readonly', (s) => request(s.get(origin)));
}

/** Every log this console has met (for signing while offline, when the server cannot say). */
export function trusted() {
  return tx('trust', 'readonly', (s) => request(s.getAll()));
}

/** Remember `t` (`{origin, logKey, size, note, clockOffsetMs, broken?}`). */
export function putTrust(t) {
  return tx('trust', 'readwrite', (s) => request(s.put(t)));
}

/** Forget what this console trusted of `origin`: the next contact trusts the log afresh. */
export function deleteTrust(origin) {
  return tx('trust', 'readwrite', (s) => request(s.delete(origin)));
}

/** Every outbox item, oldest first. */
export function outbox() {
  return tx('outbox', 'readonly', (s) => request(s.getAll()));
}

/** Add or update an outbox item; the new item's local number. */
export function putOutbox(item) {
  return tx('outbox', 'readwrite', (s) => request(s.put(item)));
}
