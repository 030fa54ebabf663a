// The console's signing, reading and log checks against the Rust core's vectors
// (crates/console/vectors.json). Served with the console so the same check runs in the browser
// the coordinator uses (tools/browser/console.mjs runs it in Chromium) and in Node.

import { canonicalize } from './jcs.js';
import {
  b64,
  decryptBackup,
  encryptBackup,
  keyFromSeed,
  proveKey,
  signCommand,
  signRequest,
  signingMessage,
  unb64,
} from './crypto.js';
import { verifyConsistency, verifyNote, verifyReceipt } from './log.js';
import { routeE7, routeFromGeoJson } from './map.js';
import { ACTOR_PATTERN, ID_PATTERN, MAX_ID_LEN } from './ids.js';

/** Every disagreement with the vectors, as readable lines (empty: all agree). */
export async function checkVectors(v) {
  const failures = [];
  const expect = (ok, what) => {
    if (!ok) failures.push(what);
  };
  for (const c of v.commands) {
    const { privateKey, publicKey } = await keyFromSeed(unb64(c.seed));
    expect(publicKey === c.public, `command ${c.id}: public key ${publicKey}`);
    const { envelope, commandText } = await signCommand({
      privateKey,
      publicKey,
      actor: c.actor,
      origin: v.origin,
      id: c.id,
      time: c.time,
      body: c.body,
    });
    expect(commandText === c.command, `command ${c.id}: canonical bytes\n  got  ${commandText}\n  want ${c.command}`);
    expect(b64(signingMessage(v.origin, commandText)) === c.message, `command ${c.id}: signing message`);
    expect(envelope === c.envelope, `command ${c.id}: envelope\n  got  ${envelope}\n  want ${c.envelope}`);
    expect(canonicalize(JSON.parse(c.envelope)) === c.envelope, `command ${c.id}: re-canonicalised envelope`);
  }
  for (const p of v.key_proofs) {
    const { privateKey, publicKey } = await keyFromSeed(unb64(p.seed));
    expect((await proveKey(privateKey, publicKey, v.origin, p.actor)) === p.proof, `key proof for ${p.actor}`);
  }
  for (const r of v.reads) {
    const { privateKey, publicKey } = await keyFromSeed(unb64(r.seed));
    const h = await signRequest({
      privateKey,
      publicKey,
      origin: v.origin,
      method: r.method,
      pathAndQuery: r.path_and_query,
      created: r.created,
      nonce: r.nonce,
    });
    expect(h['Signature-Input'] === r.signature_input, `read ${r.path_and_query}: Signature-Input\n  got  ${h['Signature-Input']}\n  want ${r.signature_input}`);
    expect(h.Signature === r.signature, `read ${r.path_and_query}: Signature`);
  }
  for (const c of v.consistency) {
    const ok = await verifyConsistency(c.size1, c.size2, unb64(c.root1), unb64(c.root2), c.proof.map((h) => unb64(h)));
    expect(ok === c.valid, `consistency ${c.size1}→${c.size2} should be ${c.valid ? 'valid' : 'refused'}`);
  }
  const logKey = unb64(v.notes.log_key);
  for (const n of v.notes.valid) {
    try {
      const cp = await verifyNote(n, v.origin, logKey);
      expect(cp.size === v.notes.size && b64(cp.root) === v.notes.root, 'note: size and root');
    } catch (e) {
      failures.push(`note refused: ${e.message}`);
    }
  }
  for (const n of v.notes.invalid) {
    const refused = await verifyNote(n, v.origin, logKey).then(
      () => false,
      () => true,
    );
    expect(refused, `a forged or altered note was accepted:\n${n}`);
  }
  const receiptKey = unb64(v.receipts.log_key);
  expect(await verifyReceipt(v.receipts.valid, receiptKey), 'receipt refused');
  expect(!(await verifyReceipt(v.receipts.invalid, receiptKey)), 'altered receipt accepted');
  for (const b of v.backups) {
    const seed = unb64(b.seed);
    const made = await encryptBackup(seed, b.public, b.actor, b.passphrase, {
      iterations: b.iterations,
      salt: unb64(b.salt),
      nonce: unb64(b.nonce),
    });
    expect(canonicalize(made) === canonicalize(b.file), `backup: the file made\n  got  ${canonicalize(made)}\n  want ${canonicalize(b.file)}`);
    const opened = await decryptBackup(b.file, b.passphrase.normalize('NFD'));
    expect(b64(opened) === b.seed, 'backup: the core-made file opens to the seed (NFD passphrase)');
    const wrong = await decryptBackup(b.file, b.wrong_passphrase).then(
      () => 'opened',
      (e) => e.code,
    );
    expect(wrong === 'wrong-passphrase', `backup: a wrong passphrase gave ${wrong}`);
    const other = await decryptBackup({ kind: 'age-encryption.org/v1' }, b.passphrase).then(
      () => 'opened',
      (e) => e.code,
    );
    expect(other === 'not-corridor', `backup: another tool's file gave ${other}`);
  }
  for (const r of v.routes ?? []) {
    let got;
    try {
      got = routeE7(routeFromGeoJson(r.geojson).coordinates);
    } catch {
      got = null;
    }
    expect(JSON.stringify(got) === JSON.stringify(r.route), `route from ${r.geojson}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(r.route)}`);
  }
  // As a browser compiles a `pattern` attribute: anchored, with the `v` flag.
  const compiled = (p) => {
    try {
      return new RegExp(`^(?:${p})$`, 'v');
    } catch (e) {
      failures.push(`pattern ${p} does not compile with the v flag: ${e.message}`);
      return null;
    }
  };
  const [idRe, actorRe] = [compiled(ID_PATTERN), compiled(ACTOR_PATTERN)];
  for (const c of v.ids ?? []) {
    if (!idRe || !actorRe) break;
    const fits = c.id.length >= 1 && c.id.length <= MAX_ID_LEN;
    expect((fits && idRe.test(c.id)) === c.id_ok, `id ${JSON.stringify(c.id)}: the form says ${fits && idRe.test(c.id)}, the core ${c.id_ok}`);
    expect((fits && actorRe.test(c.id)) === c.actor_ok, `actor id ${JSON.stringify(c.id)}: the form says ${fits && actorRe.test(c.id)}, the core ${c.actor_ok}`);
  }
  return failures;
}
