// RFC 8785 canonical JSON, as the Rust core writes it (crates/jcs).
//
// Why this is written here rather than taken from npm: it is a dozen lines, the console ships
// without a build step or third-party scripts, and JavaScript's own JSON.stringify already is
// the ECMAScript serialisation RFC 8785 is defined by (strings and numbers). What is left is the
// key order (UTF-16 code units, which is what Array.prototype.sort compares) and refusing what
// the log refuses. `tools/interop` cross-checks the npm reference; `vectors.json` pins the bytes
// the core produces.

/** Canonical JSON text of `value`. Throws on what the log refuses to sign. */
export function canonicalize(value) {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    // The log takes integers within ±2^53 only: a float would be read differently elsewhere.
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') {
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
      throw new TypeError('a string holds a lone surrogate');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${canonicalize(k)}:${canonicalize(value[k])}`).join(',')}}`;
  }
  throw new TypeError(`cannot sign a ${typeof value}`);
}

/** A copy of `value` with every string (keys too) in Unicode NFC, as the log requires. */
export function nfc(value) {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(nfc);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k.normalize('NFC')] = nfc(v);
    return out;
  }
  return value;
}
