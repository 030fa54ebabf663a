// The log in the page: checkpoints (C2SP signed notes), RFC 9162 consistency proofs and signed
// receipts, checked as the CLI client checks them (crates/cli/src/client.rs), so a console never
// signs on top of a history it has not verified.

import { canonicalize } from './jcs.js';
import { CryptoError, PROTOCOL, b64, concat, sha256, unb64, verify } from './crypto.js';

const te = new TextEncoder();

/** The four-byte signed-note key id: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[..4]. */
export async function noteKeyId(name, publicKey) {
  const h = await sha256(concat(te.encode(`${name}\n`), Uint8Array.of(1), publicKey));
  return h.slice(0, 4);
}

function bad(why) {
  return new CryptoError('checkpoint-invalid', `checkpoint: ${why}`);
}

/**
 * Parse a signed note and require a valid signature by the log key `publicKey` (raw bytes)
 * under the name `origin`; other lines (witnesses, a rotated key) are ignored.
 * Returns `{ origin, size, root }` with `root` as bytes.
 */
export async function verifyNote(note, origin, publicKey) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw bad('no blank line between body and signatures');
  const body = note.slice(0, split + 1);
  const sigs = note.slice(split + 2);
  const [o, sizeText, rootText] = body.split('\n');
  if (rootText === undefined) throw bad('body must have origin, size and root lines');
  if (o !== origin) throw bad(`origin ${JSON.stringify(o)} is not ${JSON.stringify(origin)}`);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw bad('size is not a decimal number');
  const size = Number(sizeText);
  const root = unb64(rootText, 'root');
  if (root.length !== 32) throw bad('root is not 32 bytes');
  if (!sigs.endsWith('\n')) throw bad('note must end with a newline');
  const want = await noteKeyId(origin, publicKey);
  let found = false;
  for (const line of sigs.slice(0, -1).split('\n')) {
    if (!line.startsWith('\u2014 ')) throw bad('signature line must start with an em dash');
    const [name, blobText] = line.slice(2).split(' ');
    if (blobText === undefined) throw bad('signature line must be name and base64');
    const blob = unb64(blobText, 'signature');
    if (name !== origin || blob.length !== 68 || want.some((b, i) => blob[i] !== b)) continue;
    if (!(await verify(publicKey, te.encode(body), blob.slice(4)))) throw bad('signature does not verify');
    found = true;
  }
  if (!found) throw bad('no signature by the log key');
  return { origin, size, root };
}

async function node(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` (byte arrays) shows the tree of `size2` leaves with
 * `root2` extends the tree of `size1` leaves with `root1`. Sizes as numbers (< 2^53); the bit
 * operations use BigInt, since JavaScript's `>>` truncates to 32 bits.
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (size1 === 0) return proof.length === 0;
  let path = proof;
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  if ((BigInt(size1) & BigInt(size1 - 1)) === 0n) path = [root1, ...proof];
  if (path.length === 0) return false;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      fr = await node(c, fr);
      sr = await node(c, sr);
      if (!(fn & 1n)) {
        do {
          fn >>= 1n;
          sn >>= 1n;
        } while (!(fn & 1n) && fn !== 0n);
      }
    } else {
      sr = await node(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(fr, root1) && equal(sr, root2);
}

/** Whether a signed receipt (`{receipt, signature}`) carries the log key's signature. */
export async function verifyReceipt(signed, publicKey) {
  const message = concat(te.encode(`${PROTOCOL}/receipt\n`), te.encode(canonicalize(signed.receipt)));
  return verify(publicKey, message, unb64(signed.signature, 'receipt signature'));
}

/** The base64 form of a root, for showing. */
export function rootText(root) {
  return b64(root);
}
