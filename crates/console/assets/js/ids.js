// The core's one grammar for identifiers (core/src/ids.rs) as HTML `pattern` attributes, so a
// form refuses a bad id before anything is signed. Browsers compile `pattern` with the `v` flag,
// in which a `-` or `/` inside a class must be escaped: an unescaped one makes the whole pattern
// invalid, and the browser then checks nothing (Firefox says so; Chromium is silent).

const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._:@\\-]*';

/** Any identifier: segments joined by single `/`. */
export const ID_PATTERN = `${SEGMENT}(?:/${SEGMENT})*`;

/** An actor id: exactly `<affiliation>/<name>`. */
export const ACTOR_PATTERN = `${SEGMENT}/${SEGMENT}`;

/** One segment (a name the console prefixes with the person's side). */
export const SEGMENT_PATTERN = SEGMENT;

/** Longest identifier, in bytes (the core's `MAX_ID_LEN`); ids are ASCII, so also characters. */
export const MAX_ID_LEN = 128;
