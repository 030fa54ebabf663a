// The coordinator console. A person picks (or makes) a key kept in this browser, the page checks
// the log the server shows against what it verified before, and every command is shown in
// words, signed here, queued on the device and sent; every read is a signed read.
//
// Everything the page shows is put in with textContent, never parsed as HTML: the texts come
// from the other side of a conflict.

import * as store from './store.js';
import {
  CryptoError,
  decryptBackup,
  ed25519Supported,
  encryptBackup,
  hex,
  keyFromSeed,
  proveKey,
  randomNonce,
  randomSeed,
  signCommand,
  signRequest,
  unb64,
} from './crypto.js';
import { rootText, verifyConsistency, verifyNote, verifyReceipt } from './log.js';
import { currentLang, problemText, t } from './i18n.js';
import { ACTOR_PATTERN, ID_PATTERN, MAX_ID_LEN, SEGMENT_PATTERN } from './ids.js';
import { degreesE7, drawMap, routeE7, routeFromGeoJson, routeLengthKm } from './map.js';

const state = {
  head: null, // the server's /v1/log/head, once verified
  trust: null, // what this console trusts of the log (store.trust)
  offline: false,
  key: null, // {publicKey, actor, privateKey, backup}
  me: null, // /v1/me for the key
  meError: null,
  corridors: [],
  settlements: [],
  windows: [],
  operations: [],
  threads: [],
  points: [],
  rounds: [],
  documents: [],
  receipts: {}, // window id → /v1/windows/{id}/receipts, read by units for what they still owe
  incidents: [],
  picked: null,
  review: null, // {body, words, diff} waiting for "Sign"
  message: null, // {kind: 'ok'|'error', text}
};

/** Each language by its own name: what a person looks for when choosing one. */
const LANG_NAMES = { uk: 'Українська', ru: 'Русский', en: 'English' };

// ---------- small DOM helpers ----------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label), input, hint && el('small', {}, hint));
}

function messageElement() {
  const m = state.message;
  return (
    m &&
    el('p', { id: 'message', class: `message ${m.kind}`, role: m.kind === 'error' ? 'alert' : 'status', tabindex: '-1' }, m.text)
  );
}

function clearMessage() {
  state.message = null;
  document.getElementById('message-slot')?.replaceChildren();
}

/** Say something in the message slot only: the forms keep what the person typed. */
function say(kind, text) {
  state.message = { kind, text };
  const slot = document.getElementById('message-slot');
  if (slot) slot.replaceChildren(messageElement() ?? '');
  document.getElementById('message')?.focus();
}

// ---------- the log's clock ----------

/** Now on the log's clock: an exercise log runs in 2022, and the server refuses other times. */
function logNow() {
  return new Date(Date.now() + (state.trust?.clockOffsetMs ?? 0));
}

function utc(text) {
  return text ? `${text.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, '').replace(/Z$/, '')} UTC` : '—';
}

// ---------- the log ----------

class Broken extends Error {}

async function getJson(path) {
  const resp = await fetch(path, { cache: 'no-store' });
  const body = await resp.json().catch(() => null);
  if (!resp.ok) throw Object.assign(new Error(problemText(body, resp.status)), { problem: body });
  return body;
}

/** Check the server's head against what this console verified before, as `corridor` does. */
async function checkLog() {
  let head;
  try {
    head = await getJson('/v1/log/head');
  } catch (e) {
    // A local `corridor console` answers 502 upstream-unreachable when the server is out of
    // reach: that is no connection too, not an error of the log.
    if (e.problem && e.problem.code !== 'upstream-unreachable') throw e;
    state.offline = true;
    const all = await store.trusted();
    state.trust = all.find((x) => x.origin === state.trust?.origin) ?? all[0] ?? null;
    return;
  }
  state.offline = false;
  let tr = await store.trust(head.origin);
  if (tr?.broken) {
    state.trust = tr;
    return;
  }
  try {
    if (tr && tr.logKey !== head.log_key) tr = await followHandovers(head, tr);
    const logKey = tr ? tr.logKey : head.log_key;
    const cp = await verifyNote(head.note, head.origin, unb64(logKey)).catch((e) => {
      throw new Broken(t('broken-note', { why: e.message }));
    });
    if (tr) {
      const old = await verifyNote(tr.note, tr.origin, unb64(tr.logKey));
      if (cp.size < old.size) throw new Broken(t('broken-shrunk', { old: old.size, now: cp.size }));
      let proof = [];
      if (cp.size > old.size) {
        const p = await getJson(`/v1/log/proof/consistency?from=${old.size}&to=${cp.size}`);
        proof = p.proof.map((h) => unb64(h));
      }
      if (!(await verifyConsistency(old.size, cp.size, old.root, cp.root, proof))) {
        throw new Broken(t('broken-inconsistent', { old: old.size, now: cp.size }));
      }
    }
    const clockOffsetMs = head.clock.simulated ? Date.parse(head.clock.now) - Date.now() : 0;
    tr = { origin: head.origin, logKey, size: cp.size, root: rootText(cp.root), note: head.note, clockOffsetMs };
    await store.putTrust(tr);
    state.trust = tr;
    state.head = head;
  } catch (e) {
    if (!(e instanceof Broken)) throw e;
    // Remember it: a console that was shown another history stays stopped until a person who
    // knows why starts it over (like deleting the CLI's checkpoint.json).
    const stopped = { ...(tr ?? { origin: head.origin, logKey: head.log_key }), broken: e.message };
    await store.putTrust(stopped);
    state.trust = stopped;
  }
}

/** The server signs with a newer log key: follow the handovers, each signed by both keys. */
async function followHandovers(head, tr) {
  const chain = head.log_keys ?? [];
  const start = chain.findIndex((k) => k.key === tr.logKey);
  if (start < 0) throw new Broken(t('broken-key', { key: head.log_key }));
  let cur = tr;
  for (const next of chain.slice(start + 1)) {
    if (!next.handover) throw new Broken(t('broken-key', { key: next.key }));
    const a = await verifyNote(next.handover, cur.origin, unb64(cur.logKey));
    await verifyNote(next.handover, cur.origin, unb64(next.key));
    const old = await verifyNote(cur.note, cur.origin, unb64(cur.logKey));
    const p = await getJson(`/v1/log/proof/consistency?from=${old.size}&to=${a.size}`);
    if (!(await verifyConsistency(old.size, a.size, old.root, a.root, p.proof.map((h) => unb64(h))))) {
      throw new Broken(t('broken-inconsistent', { old: old.size, now: a.size }));
    }
    cur = { ...cur, logKey: next.key, size: a.size, note: next.handover };
  }
  return cur;
}

// ---------- signed reads and commands ----------

async function signedGet(pathAndQuery) {
  const k = state.key;
  const headers = await signRequest({
    privateKey: k.privateKey,
    publicKey: k.publicKey,
    origin: state.trust.origin,
    method: 'GET',
    pathAndQuery,
    created: Math.floor(logNow().getTime() / 1000),
    nonce: randomNonce(),
  });
  const resp = await fetch(pathAndQuery, { headers, cache: 'no-store' });
  const body = await resp.json().catch(() => null);
  if (!resp.ok) throw Object.assign(new Error(problemText(body, resp.status)), { problem: body });
  return body;
}

function newId() {
  return `console-${hex(globalThis.crypto.getRandomValues(new Uint8Array(8)))}`;
}

/** Sign `body` as the chosen key, queue it on the device, and send it if the server is there. */
async function signAndQueue(body, words) {
  if (!state.trust) throw new Error(t('no-log'));
  if (state.trust.broken) throw new Error(t('signing-stopped', { why: state.trust.broken }));
  const k = state.key;
  const { envelope } = await signCommand({
    privateKey: k.privateKey,
    publicKey: k.publicKey,
    actor: k.actor,
    origin: state.trust.origin,
    id: newId(),
    time: logNow().toISOString(),
    body,
  });
  const item = { origin: state.trust.origin, actor: k.actor, envelope, words, state: 'queued', signedAt: logNow().toISOString() };
  item.local = await store.putOutbox(item);
  return send(item);
}

/** Send one outbox item; keep it queued if the server cannot be reached. */
async function send(item) {
  let resp;
  try {
    resp = await fetch('/v1/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: item.envelope });
  } catch {
    state.offline = true;
    return item;
  }
  const body = await resp.json().catch(() => null);
  if (resp.ok) {
    item.state = 'sent';
    item.receipt = body;
    const tr = await store.trust(item.origin);
    item.receiptVerified = tr ? await verifyReceipt(body, unb64(tr.logKey)).catch(() => false) : false;
  } else if (resp.status >= 500 || resp.status === 429) {
    // The server is busy, or (through `corridor console`) not reachable: keep it queued.
    if (body?.code === 'upstream-unreachable') state.offline = true;
    item.lastProblem = body;
  } else {
    item.state = 'refused';
    item.problem = body;
  }
  await store.putOutbox(item);
  return item;
}

/** Send everything still queued, oldest first (the same bytes each time). */
async function flushOutbox() {
  if (state.trust?.broken) return;
  for (const item of await store.outbox()) {
    if (item.state === 'queued') await send(item);
  }
}

// ---------- loading what the role reads ----------

async function loadMe() {
  state.me = null;
  state.meError = null;
  const k = state.key;
  if (!k || !state.trust || state.trust.broken) return;
  if (state.offline) {
    // In the field: work from what this key last read, so commands can still be signed.
    Object.assign(state, k.lastRead ?? {});
    return;
  }
  try {
    state.me = await signedGet('/v1/me');
  } catch (e) {
    state.meError = e.problem?.code === 'auth-unknown-key' ? 'unregistered' : e.message;
    return;
  }
  const [c, w, i, s, o, th] = await Promise.all([
    signedGet('/v1/corridors'),
    signedGet('/v1/windows'),
    signedGet('/v1/incidents').catch(() => ({ incidents: [] })),
    signedGet('/v1/settlements').catch(() => ({ settlements: [] })),
    signedGet('/v1/operations').catch(() => ({ operations: [] })),
    signedGet('/v1/threads').catch(() => ({ threads: [] })),
  ]);
  state.corridors = c.corridors ?? [];
  state.settlements = s.settlements ?? [];
  state.operations = o.operations ?? [];
  state.windows = w.windows ?? [];
  state.incidents = i.incidents ?? [];
  const role = state.me.actor.role;
  // What another key read before stays with that key, not on this one's screens.
  Object.assign(state, { points: [], rounds: [], documents: [], receipts: {} });
  if (PARTY_ROLES.includes(role) || ['intermediary', 'observer'].includes(role)) {
    const [pts, rds, docs] = await Promise.all([
      signedGet('/v1/points').catch(() => ({ points: [] })),
      signedGet('/v1/rounds').catch(() => ({ rounds: [] })),
      signedGet('/v1/documents').catch(() => ({ documents: [] })),
    ]);
    state.points = pts.points ?? [];
    state.rounds = rds.rounds ?? [];
    state.documents = docs.documents ?? [];
  }
  if (role === 'unit') {
    // Only what was agreed reaches the units: a proposal is not an order, but its withdrawal or
    // cancellation after agreement is, so those windows stay.
    const owed = state.windows.filter((x) => !['proposed', 'expired'].includes(x.status));
    state.receipts = Object.fromEntries(await Promise.all(owed.map((x) => signedGet(`/v1/windows/${x.id}/receipts`).then((r) => [x.id, r], () => [x.id, null]))));
  }
  // A thread's messages come with it: a party reads what it must acknowledge without a click.
  state.threads = await Promise.all((th.threads ?? []).map((x) => signedGet(`/v1/threads/${x.id}`).catch(() => ({ ...x, messages: [] }))));
  // Kept beside the key (what its holder may read anyway) for working without a connection.
  k.lastRead = { me: state.me, corridors: state.corridors, settlements: state.settlements, windows: state.windows, incidents: state.incidents, operations: state.operations, threads: state.threads, points: state.points, rounds: state.rounds, documents: state.documents, receipts: state.receipts };
  await store.putKey(k);
}

// ---------- rendering ----------

const ADMIN_ROLES = ['party-admin', 'intermediary', 'organisation-admin'];
const ACTING_ROLES = ['coordinator', 'intermediary', 'party-admin'];

function render() {
  document.documentElement.lang = currentLang();
  document.title = t('title');
  const main = document.getElementById('app');
  const parts = [
    header(),
    el('div', { id: 'message-slot' }, messageElement()),
    logPanel(),
    keyPanel(),
    state.key && mePanel(),
    state.review && reviewPanel(),
    state.me && !state.trust?.broken && workPanels(),
    outboxPanel(),
  ];
  main.replaceChildren(...parts.flat().filter(Boolean));
}

function header() {
  const langs = ['uk', 'ru', 'en'].map((l) =>
    el('a', { href: `?lang=${l}`, 'aria-current': l === currentLang() ? 'true' : null, lang: l }, LANG_NAMES[l]),
  );
  const exercise = state.head?.exercise || state.trust?.clockOffsetMs;
  return el(
    'header',
    {},
    el('h1', {}, t('title')),
    el('nav', { 'aria-label': t('language') }, langs),
    exercise && el('p', { class: 'exercise' }, t('exercise', { now: utc(logNow().toISOString()) })),
    state.offline && el('p', { class: 'offline', role: 'status' }, t('offline')),
  );
}

function logPanel() {
  const tr = state.trust;
  if (tr?.broken) {
    return el(
      'section',
      { class: 'log broken', 'aria-labelledby': 'log-h' },
      el('h2', { id: 'log-h' }, t('log-broken-title')),
      el('p', { role: 'alert' }, tr.broken),
      el('p', {}, t('log-broken-what')),
      el(
        'details',
        {},
        el('summary', {}, t('start-over')),
        el('p', {}, t('start-over-what')),
        el('button', { type: 'button', onclick: startOver }, t('start-over-button')),
      ),
    );
  }
  if (!tr) return el('section', { class: 'log' }, el('p', {}, state.offline ? t('no-log-offline') : t('checking')));
  return el(
    'section',
    { class: 'log ok', 'aria-labelledby': 'log-h' },
    el('h2', { id: 'log-h' }, t('log-title')),
    el('p', {}, t('log-trusted', { origin: tr.origin, size: tr.size })),
    el('p', { class: 'mono' }, t('log-root', { root: tr.root ?? '' }), ' · ', t('log-key', { key: tr.logKey })),
  );
}

async function startOver() {
  await store.deleteTrust(state.trust.origin);
  state.trust = null;
  state.head = null;
  await refresh();
}

function keyPanel() {
  const choose = el(
    'select',
    {
      id: 'key-select',
      onchange: async (ev) => {
        state.key = (await store.keys()).find((k) => k.publicKey === ev.target.value) ?? null;
        await refresh();
      },
    },
    el('option', { value: '' }, t('key-none')),
    ...(state.keys ?? []).map((k) =>
      el('option', { value: k.publicKey, selected: state.key?.publicKey === k.publicKey }, `${k.actor} · ${k.publicKey.slice(0, 10)}…`),
    ),
  );
  return el(
    'section',
    { 'aria-labelledby': 'key-h' },
    el('h2', { id: 'key-h' }, t('key-title')),
    el('p', {}, t('key-what')),
    field(t('key-choose'), choose),
    el('details', {}, el('summary', {}, t('key-create')), createKeyForm()),
    el('details', {}, el('summary', {}, t('key-import')), importKeyForm()),
    state.key &&
      el(
        'p',
        {},
        el('button', { type: 'button', onclick: exportBackup }, t('key-export')),
        ' ',
        el('button', { type: 'button', class: 'danger', onclick: forgetKey }, t('key-forget')),
      ),
  );
}

function passphraseInputs(prefix, twice) {
  const a = el('input', { id: `${prefix}-pass`, type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const b = twice && el('input', { id: `${prefix}-pass2`, type: 'password', autocomplete: 'new-password', required: true });
  return [field(t('passphrase'), a, twice && t('passphrase-hint')), b && field(t('passphrase-again'), b)];
}

function createKeyForm() {
  const actor = el('input', { id: 'new-actor', required: true, pattern: ACTOR_PATTERN, maxlength: MAX_ID_LEN, placeholder: 'ua/coord-2', autocomplete: 'off' });
  return el(
    'form',
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const pass = document.getElementById('new-pass').value;
        if (pass !== document.getElementById('new-pass2').value) return say('error', t('passphrase-mismatch'));
        const seed = randomSeed();
        try {
          const { privateKey, publicKey } = await keyFromSeed(seed);
          const backup = await encryptBackup(seed, publicKey, actor.value.trim(), pass);
          const k = { publicKey, actor: actor.value.trim(), privateKey, backup };
          await store.putKey(k);
          state.key = k;
          say('ok', t('key-created', { actor: k.actor }));
        } finally {
          seed.fill(0);
        }
        await refresh();
      },
    },
    field(t('key-actor'), actor, t('key-actor-hint')),
    ...passphraseInputs('new', true),
    el('button', { type: 'submit' }, t('key-create-button')),
  );
}

function importKeyForm() {
  const file = el('input', { id: 'import-file', type: 'file', accept: '.json,.key,application/json', required: true });
  return el(
    'form',
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        let parsed;
        try {
          parsed = JSON.parse(await file.files[0].text());
        } catch {
          return say('error', t('backup-not-json'));
        }
        try {
          const seed = await decryptBackup(parsed, document.getElementById('import-pass').value);
          const { privateKey, publicKey } = await keyFromSeed(seed);
          seed.fill(0);
          const k = { publicKey, actor: parsed.actor ?? '', privateKey, backup: parsed };
          await store.putKey(k);
          state.key = k;
          say('ok', t('key-imported', { actor: k.actor }));
        } catch (e) {
          return say('error', e instanceof CryptoError ? t(`backup-${e.code}`) : e.message);
        }
        await refresh();
      },
    },
    field(t('backup-file'), file),
    ...passphraseInputs('import', false),
    el('button', { type: 'submit' }, t('key-import-button')),
  );
}

function exportBackup() {
  const k = state.key;
  const blob = new Blob([`${JSON.stringify(k.backup, null, 2)}\n`], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `${k.actor.replace('/', '-') || 'corridor'}.key.enc.json` });
  document.body.append(a);
  a.click();
  a.remove();
  say('ok', t('key-exported'));
}

async function forgetKey() {
  if (!confirm(t('key-forget-confirm'))) return;
  await store.deleteKey(state.key.publicKey);
  state.key = null;
  await refresh();
}

function mePanel() {
  if (state.me) {
    const a = state.me.actor;
    return el(
      'section',
      { 'aria-labelledby': 'me-h' },
      el('h2', { id: 'me-h' }, t('me-title')),
      el('p', {}, t('me', { actor: a.id, name: a.name, role: t(`role-${a.role}`) })),
    );
  }
  if (state.meError === 'unregistered' || state.offline) {
    return el(
      'section',
      { 'aria-labelledby': 'me-h' },
      el('h2', { id: 'me-h' }, t('me-title')),
      el('p', {}, state.offline ? t('me-offline', { actor: state.key.actor }) : t('me-unregistered')),
      !state.offline && registrationRequest(),
    );
  }
  return el('section', {}, el('p', { role: 'alert' }, state.meError ?? t('checking')));
}

function registrationRequest() {
  const out = el('textarea', { id: 'registration-request', readonly: true, rows: 5 });
  proveKey(state.key.privateKey, state.key.publicKey, state.trust.origin, state.key.actor).then((proof) => {
    out.value = JSON.stringify({ actor: state.key.actor, key: state.key.publicKey, key_proof: proof }, null, 1);
  });
  return field(t('registration-request'), out, t('registration-request-hint'));
}

// ---------- work by role ----------

function workPanels() {
  const role = state.me.actor.role;
  const panels = [];
  if (ADMIN_ROLES.includes(role)) panels.push(registerPanel());
  panels.push(windowsPanel(ACTING_ROLES.includes(role)));
  if (ACTING_ROLES.includes(role)) panels.push(incidentPanel());
  panels.push(incidentsPanel(ACTING_ROLES.includes(role)));
  if (role !== 'unit') panels.push(operationsPanel());
  if (role !== 'unit') panels.push(channelPanel());
  if (state.points.length || state.documents.length) panels.push(registerOfTalksPanel());
  return panels;
}

function registerPanel() {
  const req = el('textarea', { id: 'reg-request', rows: 5, required: true, placeholder: '{"actor": "…", "key": "…", "key_proof": "…"}' });
  const role = el('select', { id: 'reg-role' }, ...['coordinator', 'unit', 'signatory', 'observer', 'organisation-member', 'intermediary', 'party-admin'].map((r) => el('option', { value: r }, t(`role-${r}`))));
  const name = el('input', { id: 'reg-name', required: true, autocomplete: 'off' });
  return el(
    'section',
    { 'aria-labelledby': 'reg-h' },
    el('h2', { id: 'reg-h' }, t('register-title')),
    el(
      'form',
      {
        onsubmit: (ev) => {
          ev.preventDefault();
          let r;
          try {
            r = JSON.parse(req.value);
          } catch {
            return say('error', t('register-bad-request'));
          }
          if (typeof r.actor !== 'string' || typeof r.key !== 'string' || typeof r.key_proof !== 'string') return say('error', t('register-bad-request'));
          const body = { type: 'actor.register', actor: r.actor, role: role.value, key: r.key, key_proof: r.key_proof, name: name.value.trim() };
          review(body, t('words-register', { actor: r.actor, role: t(`role-${role.value}`), name: body.name, key: r.key }));
        },
      },
      field(t('register-request'), req, t('register-request-hint')),
      field(t('register-role'), role),
      field(t('register-name'), name),
      el('button', { type: 'submit' }, t('review')),
    ),
  );
}

function localTimes(local) {
  return Object.entries(local ?? {}).map(([zone, v]) => el('li', {}, `${zone}: ${v.start.replace('T', ' ')} – ${v.end.replace('T', ' ')}`));
}

function windowsPanel(acting) {
  const party = state.me.actor.affiliation?.kind === 'party' ? state.me.actor.affiliation.id : null;
  const routes = state.corridors
    .filter((c) => c.route?.coordinates?.length)
    .map((c) => ({ id: c.id, label: c.names?.[currentLang()] ?? c.id, coordinates: c.route.coordinates, status: c.status ?? 'proposed' }));
  const mapHost = el('div', { class: 'map-host' });
  drawMap(mapHost, {
    routes,
    points: state.incidents
      .filter((i) => Number.isSafeInteger(i.location?.lat_e7) && Number.isSafeInteger(i.location?.lon_e7))
      .map((i) => ({ label: `${i.id}: ${t(`category-${i.category}`)}`, lon: i.location.lon_e7 / 1e7, lat: i.location.lat_e7 / 1e7, kind: 'incident' })),
    picked: state.picked,
    title: t('map-title'),
    onPick: acting
      ? (p) => {
          state.picked = p;
          render();
          document.getElementById('inc-lat')?.focus();
        }
      : null,
  });
  return el(
    'section',
    { 'aria-labelledby': 'win-h' },
    el('h2', { id: 'win-h' }, t('windows-title')),
    el('p', {}, t('windows-as-of', { at: utc(logNow().toISOString()) })),
    mapHost,
    el(
      'ul',
      { class: 'corridors' },
      state.corridors.map((c) =>
        el(
          'li',
          { 'data-corridor': c.id },
          el('strong', {}, `${c.names?.[currentLang()] ?? c.id}`),
          ` (${c.id}, ${t('point-version', { version: c.latest_version ?? c.version })}): ${settlementName(c.origin?.id)} → ${settlementName(c.destination?.id)}`,
          !(c.who_may_leave && c.reception && c.instructions) && el('small', { class: 'incomplete' }, ` ${t('corridor-incomplete')}`),
          acting && ' ',
          acting && el('button', { type: 'button', class: 'amend-corridor', onclick: () => corridorForm(c) }, t('amend')),
        ),
      ),
    ),
    el(
      'ul',
      { class: 'windows' },
      state.windows.map((w) =>
        el(
          'li',
          { class: `window status-${w.status}`, 'data-window': w.id },
          el('h3', {}, `${w.id} · ${t(`status-${w.status}`)}`),
          el('p', {}, t('window-version', { version: w.version, corridor: w.corridor })),
          el('p', {}, `${utc(w.start)} – ${utc(w.end)}`),
          el('ul', { class: 'zones' }, localTimes(w.local)),
          el('p', {}, t('window-consents', { list: Object.entries(w.consents ?? {}).map(([p, c]) => `${p}: ${c.consented ? '✓' : '—'}`).join(', ') })),
          acting && party && windowActions(w, party),
          state.me.actor.role === 'unit' && unitActions(w),
        ),
      ),
    ),
    acting &&
      el(
        'p',
        { class: 'actions' },
        party && el('button', { type: 'button', id: 'propose-window', onclick: () => windowForm(null, party) }, t('propose')),
        ' ',
        el('button', { type: 'button', id: 'propose-corridor', onclick: () => corridorForm() }, t('propose-corridor')),
      ),
  );
}

const settlementName = (id) => state.settlements.find((x) => x.id === id)?.names?.[currentLang()] ?? id;

/**
 * The form for a new corridor: its names in the three languages, where it runs from and to,
 * and the route, drawn point by point on the map or read from a GeoJSON file. The route is
 * signed as the core keeps it (1e-7 degree), so what the review shows is what is signed.
 */
function corridorForm(c = null) {
  const draft = c ? (c.route?.coordinates ?? []).map((p) => [p[0], p[1]]) : [];
  const settlementOptions = (id) => el('select', { id, required: true }, el('option', { value: '' }, '—'), ...state.settlements.map((x) => el('option', { value: x.id }, `${x.names?.[currentLang()] ?? x.id} (${x.id})`)));
  const id = el('input', { id: 'cor-id', required: true, pattern: ID_PATTERN, maxlength: MAX_ID_LEN, autocomplete: 'off', value: c?.id ?? '', readonly: !!c });
  const names = Object.fromEntries(['uk', 'ru', 'en'].map((l) => [l, el('input', { id: `cor-name-${l}`, lang: l, required: true, autocomplete: 'off', value: c?.names?.[l] ?? '' })]));
  // What civilians are told: optional when proposing, required (all three languages) before
  // the parties can consent to a window on the corridor.
  const civil = Object.fromEntries(
    ['who_may_leave', 'reception', 'bring', 'gather', 'if_suspended'].map((k) => {
      const now = k === 'who_may_leave' || k === 'reception' ? c?.[k] : c?.instructions?.[k];
      return [k, Object.fromEntries(['uk', 'ru', 'en'].map((l) => [l, el('input', { id: `cor-${k}-${l}`, lang: l, autocomplete: 'off', value: now?.[l] ?? '' })]))];
    }),
  );
  const aid = el('select', { id: 'cor-aid' }, ...[['', '—'], ['true', t('yes')], ['false', t('no')]].map(([v, label]) => el('option', { value: v, selected: String(c?.aid_may_enter ?? '') === v }, label)));
  /** Three languages or none: a text in one language only is not one a civilian can read. */
  const readNames = (inputs, what) => {
    const v = Object.fromEntries(Object.entries(inputs).map(([l, i]) => [l, i.value.trim()]));
    const filled = Object.values(v).filter(Boolean).length;
    if (filled === 0) return undefined;
    if (filled < 3) throw new Error(t('corridor-three-languages', { what }));
    return { en: v.en, uk: v.uk, ru: v.ru };
  };
  const origin = settlementOptions('cor-origin');
  const destination = settlementOptions('cor-destination');
  const purpose = el('select', { id: 'cor-purpose' }, ...['evacuation', 'aid', 'both'].map((p) => el('option', { value: p }, t(`purpose-${p}`))));
  const buffer = el('input', { id: 'cor-buffer', type: 'number', min: 50, max: 20000, step: 1, value: c?.buffer_m ?? 500, required: true });
  const binding = el('select', { id: 'cor-binding' }, ...['uk', 'ru', 'en'].map((l) => el('option', { value: l, selected: l === (c?.binding_language ?? currentLang()) }, LANG_NAMES[l])));
  if (c) {
    origin.value = c.origin?.id ?? '';
    destination.value = c.destination?.id ?? '';
    purpose.value = c.purpose;
  }
  const file = el('input', { id: 'cor-file', type: 'file', accept: '.geojson,.json,application/geo+json,application/json' });
  const count = el('p', { class: 'route-points', id: 'cor-points', 'aria-live': 'polite' });
  // Without a pointer, a point is typed: "lat, lon" in degrees, as a phone's GPS shows it.
  const typed = el('input', { id: 'cor-add', inputmode: 'decimal', autocomplete: 'off', placeholder: '50.6451, 29.9220' });
  const addTyped = () => {
    const [lat, lon] = typed.value.split(/[,;\s]+/).filter(Boolean).map((x) => Number(x));
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return say('error', t('route-bad-point'));
    draft.push([lon, lat]);
    typed.value = '';
    redraw();
  };
  typed.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      addTyped();
    }
  });
  const mapHost = el('div', { class: 'map-host' });
  const redraw = () => {
    // Frame the work, not the whole country: the routes there are, the ends chosen, the points so far.
    const ends = state.settlements.filter((x) => [origin.value, destination.value].includes(x.id) && Number.isSafeInteger(x.location?.lat_e7)).map((x) => [x.location.lon_e7 / 1e7, x.location.lat_e7 / 1e7]);
    const frame = [...state.corridors.flatMap((c) => c.route?.coordinates ?? []), ...ends, ...draft];
    count.textContent = draft.length ? t('route-so-far', { points: draft.length, km: routeLengthKm(draft).toFixed(1) }) : t('route-none');
    drawMap(mapHost, {
      routes: state.corridors.filter((c) => c.route?.coordinates?.length).map((c) => ({ id: c.id, label: c.names?.[currentLang()] ?? c.id, coordinates: c.route.coordinates, status: 'existing' })),
      points: state.settlements
        .filter((x) => Number.isSafeInteger(x.location?.lat_e7))
        .map((x) => ({ label: x.names?.[currentLang()] ?? x.id, lon: x.location.lon_e7 / 1e7, lat: x.location.lat_e7 / 1e7, kind: 'settlement' })),
      draft,
      frame: new Set(frame.map((p) => p.join(','))).size >= 2 ? frame : undefined,
      title: t('route-map-title'),
      onPick: (p) => {
        draft.push([p.lon, p.lat]);
        redraw();
      },
    });
  };
  origin.addEventListener('change', () => redraw());
  destination.addEventListener('change', () => redraw());
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      const { coordinates, properties } = routeFromGeoJson(await f.text());
      draft.splice(0, draft.length, ...coordinates);
      // A file that says what it is (the scenario's does) fills in what is still empty.
      if (!id.value && typeof properties.id === 'string') id.value = properties.id;
      for (const [input, key] of [[origin, 'origin'], [destination, 'destination']]) {
        if (!input.value && [...input.options].some((o) => o.value === properties[key])) input.value = properties[key];
      }
      if (['evacuation', 'aid', 'both'].includes(properties.purpose)) purpose.value = properties.purpose;
      if (Number.isSafeInteger(properties.buffer_m)) buffer.value = String(properties.buffer_m);
      clearMessage();
      say('ok', t('route-read', { points: coordinates.length, km: routeLengthKm(coordinates).toFixed(1), file: f.name }));
    } catch (e) {
      say('error', t(e.message.startsWith('route-') ? e.message : 'route-not-json'));
    }
    redraw();
  });
  redraw();
  showForm(
    () => {
      if (new Set(routeE7(draft).map((p) => p.join(','))).size < 2) return say('error', t('route-too-short'));
      if (origin.value === destination.value) return say('error', t('route-same-ends'));
      let told;
      try {
        told = {
          who_may_leave: readNames(civil.who_may_leave, t('corridor-who-may-leave')),
          reception: readNames(civil.reception, t('corridor-reception')),
          bring: readNames(civil.bring, t('corridor-bring')),
          gather: readNames(civil.gather, t('corridor-gather')),
          if_suspended: readNames(civil.if_suspended, t('corridor-if-suspended')),
        };
      } catch (e) {
        return say('error', e.message);
      }
      const some = [told.bring, told.gather, told.if_suspended].filter(Boolean).length;
      if (some > 0 && some < 3) return say('error', t('corridor-instructions-whole'));
      const terms = {
        names: { en: names.en.value.trim(), uk: names.uk.value.trim(), ru: names.ru.value.trim() },
        route: routeE7(draft),
        buffer_m: Math.round(Number(buffer.value)),
        origin: origin.value,
        destination: destination.value,
        // Checkpoints are kept as they are: the console does not edit them yet.
        checkpoints: (c?.checkpoints ?? []).map((k) => ({ names: k.names, location: { lat_e7: degreesE7(k.location[1]), lon_e7: degreesE7(k.location[0]) } })),
        purpose: purpose.value,
        who_may_leave: told.who_may_leave,
        aid_may_enter: aid.value === '' ? undefined : aid.value === 'true',
        reception: told.reception,
        instructions: some === 3 ? { bring: told.bring, gather: told.gather, if_suspended: told.if_suspended } : undefined,
        binding_language: binding.value,
      };
      if (c) {
        const body = { type: 'corridor.amend', corridor: c.id, base_version: c.latest_version ?? c.version, terms };
        return review(body, t('words-amend-corridor', { corridor: c.id, version: body.base_version + 1 }), corridorDiff(c, terms));
      }
      const body = { type: 'corridor.propose', corridor: id.value.trim(), terms };
      review(
        body,
        t('words-propose-corridor', {
          corridor: body.corridor,
          uk: terms.names.uk,
          ru: terms.names.ru,
          en: terms.names.en,
          origin: settlementName(terms.origin),
          destination: settlementName(terms.destination),
          purpose: t(`purpose-${terms.purpose}`),
          buffer: terms.buffer_m,
          points: draft.length,
          km: routeLengthKm(draft).toFixed(1),
          first: draft[0].map((x) => x.toFixed(5)).reverse().join(', '),
          last: draft[draft.length - 1].map((x) => x.toFixed(5)).reverse().join(', '),
          binding: LANG_NAMES[terms.binding_language],
        }) + (terms.who_may_leave && terms.reception && terms.instructions ? '' : ` ${t('corridor-needs-civil')}`),
      );
    },
    el('h2', {}, c ? t('amend-corridor-title', { corridor: c.id, version: c.latest_version ?? c.version }) : t('propose-corridor-title')),
    field(t('corridor-id'), id, t('window-id-hint')),
    ...['uk', 'ru', 'en'].map((l) => field(t('corridor-name', { lang: LANG_NAMES[l] }), names[l])),
    field(t('corridor-origin'), origin),
    field(t('corridor-destination'), destination),
    field(t('corridor-purpose'), purpose),
    field(t('corridor-buffer'), buffer, t('corridor-buffer-hint')),
    field(t('corridor-binding'), binding, t('corridor-binding-hint')),
    el(
      'fieldset',
      { class: 'civil' },
      el('legend', {}, t('corridor-civil')),
      [
        ['who_may_leave', 'corridor-who-may-leave'],
        ['reception', 'corridor-reception'],
        ['bring', 'corridor-bring'],
        ['gather', 'corridor-gather'],
        ['if_suspended', 'corridor-if-suspended'],
      ].map(([k, label]) => el('div', { class: 'three' }, el('h4', {}, t(label)), ...['uk', 'ru', 'en'].map((l) => field(LANG_NAMES[l], civil[k][l])))),
      field(t('corridor-aid-may-enter'), aid),
    ),
    el('p', {}, t('route-how')),
    field(t('route-file'), file),
    mapHost,
    count,
    field(t('route-add'), typed, t('route-add-hint')),
    el(
      'p',
      { class: 'actions' },
      el('button', { type: 'button', id: 'cor-add-point', onclick: addTyped }, t('route-add-button')),
      ' ',
      el('button', { type: 'button', id: 'cor-undo', onclick: () => { draft.pop(); redraw(); } }, t('route-undo')),
      ' ',
      el('button', { type: 'button', id: 'cor-clear', onclick: () => { draft.length = 0; redraw(); } }, t('route-clear')),
    ),
  );
  (c ? names.uk : id).focus();
}

/** An amendment against the corridor's latest version, row by row. */
function corridorDiff(c, terms) {
  const n = (x) => (x ? `«${x.uk}» / «${x.ru}» / «${x.en}»` : '—');
  const route = (coords) => t('route-summary', { points: coords.length, km: routeLengthKm(coords).toFixed(1) });
  const show = (v) => ({
    [t('diff-names')]: n(v.names),
    [t('diff-route')]: v.routeText,
    [t('corridor-buffer')]: String(v.buffer_m),
    [t('corridor-origin')]: settlementName(v.origin),
    [t('corridor-destination')]: settlementName(v.destination),
    [t('corridor-purpose')]: t(`purpose-${v.purpose}`),
    [t('corridor-who-may-leave')]: n(v.who_may_leave),
    [t('corridor-aid-may-enter')]: v.aid_may_enter === undefined || v.aid_may_enter === null ? '—' : t(v.aid_may_enter ? 'yes' : 'no'),
    [t('corridor-reception')]: n(v.reception),
    [t('corridor-bring')]: n(v.instructions?.bring),
    [t('corridor-gather')]: n(v.instructions?.gather),
    [t('corridor-if-suspended')]: n(v.instructions?.if_suspended),
    [t('corridor-binding')]: v.binding_language,
  });
  const before = show({ ...c, origin: c.origin?.id, destination: c.destination?.id, routeText: `${route(c.route?.coordinates ?? [])} ${JSON.stringify(routeE7(c.route?.coordinates ?? []))}` });
  const after = show({ ...terms, routeText: `${route(terms.route.map(([x, y]) => [x / 1e7, y / 1e7]))} ${JSON.stringify(terms.route)}` });
  const version = c.latest_version ?? c.version;
  return diffTable(version, version + 1, before, after);
}

const utcInput = (text) => (text ? text.slice(0, 16) : '');
const fromInput = (value) => `${value}:00Z`;

/** The form for a new window (`w` null) or a new version of `w`, shown in place of the review. */
function windowForm(w, party) {
  const corridors = state.corridors.filter((c) => c.status !== 'withdrawn');
  const corridor = el('select', { id: 'win-corridor', disabled: !!w }, ...corridors.map((c) => el('option', { value: c.id, selected: w?.corridor === c.id }, `${c.names?.[currentLang()] ?? c.id} (${c.id})`)));
  const id = el('input', { id: 'win-id', required: true, value: w?.id ?? '', readonly: !!w, pattern: ID_PATTERN, maxlength: MAX_ID_LEN, autocomplete: 'off' });
  const start = el('input', { id: 'win-start', type: 'datetime-local', required: true, value: utcInput(w?.start) });
  const end = el('input', { id: 'win-end', type: 'datetime-local', required: true, value: utcInput(w?.end) });
  const guarantee = el('textarea', { id: 'win-guarantee', rows: 2, required: true }, w?.guarantees?.[party] ?? '');
  showForm(
    () => {
      const c = state.corridors.find((x) => x.id === corridor.value);
      const terms = {
        start: fromInput(start.value),
        end: fromInput(end.value),
        required_parties: w?.required_parties ?? (state.me.parties ?? []).map((p) => p.id),
        guarantees: { ...(w?.guarantees ?? {}), [party]: guarantee.value.trim() },
      };
      const corridorVersion = c?.latest_version ?? c?.version ?? w?.corridor_version;
      const body = w
        ? { type: 'window.amend', window: w.id, base_version: w.version, corridor_version: corridorVersion, terms }
        : { type: 'window.propose', window: id.value.trim(), corridor: corridor.value, corridor_version: corridorVersion, terms };
      const words = t(w ? 'words-amend' : 'words-propose', {
        window: body.window,
        corridor: w?.corridor ?? corridor.value,
        start: utc(terms.start),
        end: utc(terms.end),
        parties: terms.required_parties.join(', '),
        guarantee: terms.guarantees[party],
      });
      review(body, words, w ? termsDiff(w, terms) : null);
    },
    el('h2', {}, w ? t('amend-title', { window: w.id }) : t('propose-title')),
    field(t('window-corridor'), corridor),
    field(t('window-id'), id, t('window-id-hint')),
    field(t('window-start'), start, t('incident-when-hint')),
    field(t('window-end'), end),
    field(t('window-guarantee', { party }), guarantee, t('window-guarantee-hint')),
  );
  document.getElementById(w ? 'win-start' : 'win-corridor')?.focus();
}

/** What a new version would change against the window's current one. */
function termsDiff(w, terms) {
  const cur = (w.versions ?? []).find((v) => v.version === w.version);
  return diffRows(w.version, w.version + 1, cur ?? { terms: w, corridor_version: w.corridor_version }, { terms, corridor_version: w.corridor_version });
}

function windowActions(w, party) {
  const consented = w.consents?.[party]?.consented;
  const buttons = [];
  if (!consented && w.status === 'proposed') {
    buttons.push(el('button', { type: 'button', onclick: () => reviewConsent(w, party) }, t('consent')));
  }
  if (w.status === 'proposed') {
    buttons.push(el('button', { type: 'button', onclick: () => windowForm(w, party) }, t('amend')));
  }
  if (['agreed', 'active'].includes(w.status)) {
    buttons.push(el('button', { type: 'button', class: 'danger', onclick: () => reviewSuspend(w, party) }, t('suspend')));
  }
  if (w.status === 'suspended') {
    buttons.push(el('button', { type: 'button', onclick: () => reviewResume(w, party) }, t('resume')));
  }
  return el('p', { class: 'actions' }, buttons);
}

/** The rows that differ between the version before and this one: what a consent changes. */
function versionDiff(w) {
  const versions = w.versions ?? [];
  const cur = versions.find((v) => v.version === w.version);
  const prev = versions.find((v) => v.version === w.version - 1);
  if (!cur || !prev) return null;
  return diffRows(prev.version, cur.version, prev, cur);
}

/** Two versions' terms side by side, each row marked when it changed. */
function diffRows(from, to, a, b) {
  const show = (v) => ({
    [t('diff-start')]: utc(v.terms?.start ?? v.start),
    [t('diff-end')]: utc(v.terms?.end ?? v.end),
    [t('diff-corridor-version')]: String(v.corridor_version),
    [t('diff-parties')]: (v.terms?.required_parties ?? []).join(', '),
    ...Object.fromEntries(Object.entries(v.terms?.guarantees ?? {}).map(([p, g]) => [t('diff-guarantee', { party: p }), g])),
  });
  return diffTable(from, to, show(a), show(b));
}

/** Rows of label → text before and after, each marked when it changed: what the review shows. */
function diffTable(from, to, x, y) {
  const rows = [...new Set([...Object.keys(x), ...Object.keys(y)])].map((k) => ({ k, old: x[k] ?? '—', now: y[k] ?? '—', changed: x[k] !== y[k] }));
  return { from, to, rows };
}

function windowWords(w) {
  const zones = Object.entries(w.local ?? {}).map(([z, v]) => `${z} ${v.start.replace('T', ' ')} – ${v.end.replace('T', ' ')}`);
  const guarantees = Object.entries(w.guarantees ?? {}).map(([p, g]) => `${p}: «${g}»`).join('; ');
  return t('words-window', {
    window: w.id,
    version: w.version,
    hash: w.version_hash,
    start: utc(w.start),
    end: utc(w.end),
    zones: zones.join('; '),
    parties: (w.required_parties ?? []).join(', '),
    guarantees: guarantees || '—',
  });
}

function reviewConsent(w, party) {
  review(
    { type: 'window.consent', window: w.id, party, version_hash: w.version_hash },
    `${t('words-consent', { party })} ${windowWords(w)}`,
    versionDiff(w),
  );
}

function reviewResume(w, party) {
  review({ type: 'window.resume', window: w.id, party, version_hash: w.version_hash }, `${t('words-resume', { party })} ${windowWords(w)}`);
}

function reviewSuspend(w, party) {
  const reason = el('select', { id: 'suspend-public' }, ...['shelling', 'mines', 'road-damage', 'other'].map((r) => el('option', { value: r }, t(`reason-${r}`))));
  const text = el('textarea', { id: 'suspend-reason', rows: 2, required: true });
  showForm(
    () => {
      review(
        { type: 'window.suspend', window: w.id, party, reason: text.value.trim(), public_reason: reason.value },
        t('words-suspend', { party, window: w.id, reason: t(`reason-${reason.value}`), text: text.value.trim() }),
      );
    },
    el('h2', {}, t('suspend-title', { window: w.id })),
    field(t('suspend-public'), reason, t('suspend-public-hint')),
    field(t('suspend-reason'), text, t('suspend-reason-hint')),
  );
  document.getElementById('suspend-public')?.focus();
}

function incidentPanel() {
  const party = state.me.actor.affiliation?.id;
  const others = (state.me.parties ?? []).map((p) => p.id).filter((p) => p !== party);
  const lat = el('input', { id: 'inc-lat', inputmode: 'decimal', required: true, value: state.picked?.lat ?? '' });
  const lon = el('input', { id: 'inc-lon', inputmode: 'decimal', required: true, value: state.picked?.lon ?? '' });
  const acc = el('input', { id: 'inc-accuracy', inputmode: 'numeric', value: '500', required: true });
  const when = el('input', { id: 'inc-when', type: 'datetime-local', required: true, value: logNow().toISOString().slice(0, 16) });
  const category = el('select', { id: 'inc-category' }, ...['shelling', 'gunfire', 'air-strike', 'mines', 'blockade', 'convoy-stopped', 'detention', 'other'].map((c) => el('option', { value: c }, t(`category-${c}`))));
  const accused = el('select', { id: 'inc-accused' }, el('option', { value: '' }, t('accused-none')), ...others.map((p) => el('option', { value: p }, p)));
  const text = el('textarea', { id: 'inc-text', rows: 3, required: true });
  return el(
    'section',
    { 'aria-labelledby': 'inc-h' },
    el('h2', { id: 'inc-h' }, t('incident-title')),
    el('p', {}, t('incident-map-hint')),
    el(
      'form',
      {
        onsubmit: (ev) => {
          ev.preventDefault();
          const e7 = (s) => Math.round(Number(String(s).replace(',', '.')) * 1e7);
          if (!Number.isFinite(e7(lat.value)) || !Number.isFinite(e7(lon.value))) return say('error', t('incident-bad-point'));
          const body = {
            type: 'incident.report',
            incident: `${party}/${newId().slice(8)}`,
            occurred_at: `${when.value}:00Z`,
            location: { lat_e7: e7(lat.value), lon_e7: e7(lon.value) },
            accuracy_m: Math.round(Number(acc.value)),
            category: category.value,
            description: text.value.trim(),
            accused_party: accused.value || undefined,
            evidence: [],
          };
          review(body, t('words-incident', { category: t(`category-${category.value}`), when: utc(body.occurred_at), lat: lat.value, lon: lon.value, acc: acc.value, accused: accused.value || t('accused-none'), text: body.description }));
        },
      },
      field(t('incident-lat'), lat),
      field(t('incident-lon'), lon),
      field(t('incident-accuracy'), acc),
      field(t('incident-when'), when, t('incident-when-hint')),
      field(t('incident-category'), category),
      field(t('incident-accused'), accused),
      field(t('incident-text'), text),
      el('button', { type: 'submit' }, t('review')),
    ),
  );
}

function incidentsPanel(acting) {
  const party = state.me.actor.affiliation?.id;
  return el(
    'section',
    { 'aria-labelledby': 'incs-h' },
    el('h2', { id: 'incs-h' }, t('incidents-title')),
    state.incidents.length === 0
      ? el('p', {}, t('incidents-none'))
      : el(
          'ul',
          { class: 'incidents' },
          state.incidents.map((i) =>
            el(
              'li',
              { 'data-incident': i.id },
              el('h3', {}, `${i.id} · ${t(`category-${i.category}`)} · ${utc(i.occurred_at)}`),
              el('p', {}, t('incident-by', { reporter: i.reporter, accused: i.accused_party ?? t('accused-none') })),
              el('p', { class: 'quote' }, i.description),
              (i.responses ?? []).map((r) => el('p', { class: 'response' }, `${r.actor}: ${r.text}`)),
              acting && party && i.accused_party === party && el('button', { type: 'button', onclick: () => answerForm(i) }, t('answer')),
            ),
          ),
        ),
  );
}

function answerForm(i) {
  const text = el('textarea', { id: 'answer-text', rows: 3, required: true });
  showForm(
    () => {
      review({ type: 'incident.respond', incident: i.id, text: text.value.trim() }, t('words-answer', { incident: i.id, text: text.value.trim() }));
    },
    el('h2', {}, t('answer-title', { incident: i.id })),
    el('p', { class: 'quote' }, i.description),
    field(t('answer-text'), text),
  );
  text.focus();
}

// ---------- operations: convoys and evacuations through a window ----------

const PARTY_ROLES = ['party-admin', 'coordinator', 'signatory'];
const OPERATOR_ROLES = ['intermediary', 'organisation-admin', 'organisation-member'];
const zoned = (v) => (v && typeof v === 'object' ? v.utc : v);
const zoneList = (v) => (v && typeof v === 'object' ? Object.entries(v).filter(([z]) => z !== 'utc').map(([z, x]) => `${z} ${x.replace('T', ' ').slice(0, 16)}`).join('; ') : '');

function operationsPanel() {
  const side = state.me.actor.affiliation?.id;
  const role = state.me.actor.role;
  const party = PARTY_ROLES.includes(role) && state.me.actor.affiliation?.kind === 'party' ? side : null;
  const operator = OPERATOR_ROLES.includes(role);
  return el(
    'section',
    { 'aria-labelledby': 'ops-h' },
    el('h2', { id: 'ops-h' }, t('operations-title')),
    state.operations.length === 0
      ? el('p', {}, t('operations-none'))
      : el(
          'ul',
          { class: 'operations' },
          state.operations.map((o) =>
            el(
              'li',
              { 'data-operation': o.id, class: o.overdue ? 'overdue' : '' },
              el('h3', {}, `${o.id} · ${t(`op-kind-${o.kind}`)} · ${t(`progress-${o.progress}`)}${o.outcome ? ` · ${t(`outcome-${o.outcome}`)}` : ''}`),
              el('p', {}, t('operation-plan', { window: o.window, vehicles: o.vehicles, departure: utc(zoned(o.departure)), arrival: utc(zoned(o.arrival)) })),
              el('p', { class: 'zones' }, zoneList(o.departure)),
              el('p', {}, t('operation-acks', { list: Object.entries(o.acknowledgements ?? {}).map(([p, st]) => `${p}: ${t(`ack-${st}`)}`).join(', ') })),
              el(
                'p',
                { class: 'actions' },
                party && o.acknowledgements?.[party] && o.acknowledgements[party] !== 'acknowledged' && el('button', { type: 'button', class: 'ack', onclick: () => reviewAck(o, party) }, t('acknowledge')),
                operator && o.notifier === side && !o.outcome && el('button', { type: 'button', onclick: () => moveForm(o) }, t('record-move')),
                ' ',
                operator && o.notifier === side && o.progress === 'arrived' && o.consignments > 0 && el('button', { type: 'button', class: 'receive', onclick: () => receiveForm(o) }, t('record-receipts')),
                ' ',
                operator && o.notifier === side && !o.outcome && el('button', { type: 'button', onclick: () => outcomeForm(o) }, t('record-outcome')),
              ),
            ),
          ),
        ),
    operator && el('p', {}, el('button', { type: 'button', id: 'notify-operation', onclick: notifyForm }, t('notify'))),
  );
}

/** A vehicle as a checkpoint sees it: type, plate, markings. */
const vehicleWords = (v) => `${t(`vehicle-${v.type}`)} ${v.plate} (${v.markings})`;
/** A manifest line: tracking number, item, quantity and unit. */
const consignmentWords = (c, quantity) => `${c.tracking}: ${c.item}, ${quantity} ${c.unit}`;

/** Acknowledge: the words list every vehicle, so the checkpoints are told exactly what comes. */
async function reviewAck(o, party) {
  let detail = null;
  if (!state.offline) detail = await signedGet(`/v1/operations/${o.id}`).catch(() => null);
  const vehicles = detail?.vehicles?.map(vehicleWords).join('; ');
  const manifest = detail?.manifest?.map((c) => consignmentWords(c, c.sent)).join('; ');
  review(
    { type: 'operation.ack', operation: o.id, party },
    t('words-ack', {
      party,
      operation: o.id,
      kind: t(`op-kind-${o.kind}`),
      window: o.window,
      departure: utc(zoned(o.departure)),
      arrival: utc(zoned(o.arrival)),
      vehicles: vehicles ?? t('vehicles-count', { n: o.vehicles }),
      manifest: manifest || '—',
    }),
  );
}

/** The notification of a new movement: vehicles and manifest as rows, added one at a time. */
function notifyForm() {
  const side = state.me.actor.affiliation?.id;
  const windows = state.windows.filter((w) => ['agreed', 'active', 'proposed'].includes(w.status));
  const win = el('select', { id: 'op-window' }, ...windows.map((w) => el('option', { value: w.id }, `${w.id} (${t(`status-${w.status}`)}, ${utc(w.start)} – ${utc(w.end)})`)));
  const name = el('input', { id: 'op-name', required: true, pattern: SEGMENT_PATTERN, maxlength: MAX_ID_LEN, autocomplete: 'off' });
  const kind = el('select', { id: 'op-kind' }, ...['evacuation', 'aid-delivery', 'both'].map((k) => el('option', { value: k }, t(`op-kind-${k}`))));
  const capacity = el('input', { id: 'op-capacity', type: 'number', min: 0, value: 0 });
  const departure = el('input', { id: 'op-departure', type: 'datetime-local', required: true });
  const arrival = el('input', { id: 'op-arrival', type: 'datetime-local', required: true });
  const vehicles = el('div', { class: 'rows', id: 'op-vehicles' });
  const consignments = el('div', { class: 'rows', id: 'op-consignments' });
  const addVehicle = () => {
    const n = vehicles.children.length + 1;
    vehicles.append(
      el(
        'fieldset',
        { class: 'row vehicle' },
        el('legend', {}, t('vehicle-n', { n })),
        field(t('vehicle-type'), el('select', { name: 'type' }, ...['bus', 'truck', 'van', 'car', 'ambulance', 'other'].map((v) => el('option', { value: v }, t(`vehicle-${v}`))))),
        field(t('vehicle-plate'), el('input', { name: 'plate', required: true, autocomplete: 'off' })),
        field(t('vehicle-markings'), el('input', { name: 'markings', required: true, autocomplete: 'off' })),
      ),
    );
  };
  const addConsignment = () => {
    const n = consignments.children.length + 1;
    consignments.append(
      el(
        'fieldset',
        { class: 'row consignment' },
        el('legend', {}, t('consignment-n', { n })),
        field(t('consignment-tracking'), el('input', { name: 'tracking', required: true, autocomplete: 'off' })),
        field(t('consignment-category'), el('select', { name: 'category' }, ...['medicine', 'food', 'water', 'fuel', 'shelter', 'other'].map((c) => el('option', { value: c }, t(`goods-${c}`))))),
        field(t('consignment-item'), el('input', { name: 'item', required: true, autocomplete: 'off' })),
        field(t('consignment-quantity'), el('input', { name: 'quantity', type: 'number', min: 1, step: 1, required: true })),
        field(t('consignment-unit'), el('select', { name: 'unit' }, ...['kg', 't', 'l', 'm3', 'piece', 'box', 'pallet', 'kit', 'dose', 'ration', 'carton', 'bag'].map((u) => el('option', { value: u }, u)))),
      ),
    );
  };
  addVehicle();
  const rows = (host) => [...host.children].map((f) => Object.fromEntries([...f.querySelectorAll('[name]')].map((i) => [i.name, i.value.trim()])));
  showForm(
    () => {
      const body = {
        type: 'operation.notify',
        operation: `${side}/${name.value.trim()}`,
        window: win.value,
        kind: kind.value,
        vehicles: rows(vehicles),
        consignments: rows(consignments).map((c) => ({ ...c, quantity: Math.round(Number(c.quantity)) })),
        evacuee_capacity: Math.round(Number(capacity.value) || 0),
        departure: fromInput(departure.value),
        arrival: fromInput(arrival.value),
      };
      review(
        body,
        t('words-notify', {
          operation: body.operation,
          kind: t(`op-kind-${body.kind}`),
          window: body.window,
          departure: utc(body.departure),
          arrival: utc(body.arrival),
          vehicles: body.vehicles.map(vehicleWords).join('; '),
          manifest: body.consignments.map((c) => consignmentWords(c, c.quantity)).join('; ') || '—',
          capacity: body.evacuee_capacity,
        }),
      );
    },
    el('h2', {}, t('notify-title')),
    field(t('operation-window'), win),
    field(t('operation-name', { side }), name, t('window-id-hint')),
    field(t('operation-kind'), kind),
    field(t('operation-departure'), departure, t('incident-when-hint')),
    field(t('operation-arrival'), arrival),
    field(t('operation-capacity'), capacity),
    el('h3', {}, t('vehicles-title')),
    vehicles,
    el('p', {}, el('button', { type: 'button', id: 'op-add-vehicle', onclick: addVehicle }, t('add-vehicle'))),
    el('h3', {}, t('manifest-title')),
    consignments,
    el('p', {}, el('button', { type: 'button', id: 'op-add-consignment', onclick: addConsignment }, t('add-consignment'))),
  );
  win.focus();
}

/** One event on the road: where (on the corridor's map or typed), when, and who is on board. */
function moveForm(o) {
  const event = el('select', { id: 'move-event' }, ...['departed', 'checkpoint', 'stopped', 'resumed', 'arrived'].map((e) => el('option', { value: e }, t(`event-${e}`))));
  const when = el('input', { id: 'move-when', type: 'datetime-local', required: true, value: logNow().toISOString().slice(0, 16) });
  const lat = el('input', { id: 'move-lat', inputmode: 'decimal', required: true });
  const lon = el('input', { id: 'move-lon', inputmode: 'decimal', required: true });
  const counts = Object.fromEntries(['adults', 'children', 'elderly', 'disabled', 'wounded'].map((k) => [k, el('input', { id: `move-${k}`, type: 'number', min: 0, step: 1, value: '' })]));
  const destination = el('select', { id: 'move-destination' }, el('option', { value: '' }, '—'), ...state.settlements.map((x) => el('option', { value: x.id }, x.names?.[currentLang()] ?? x.id)));
  const voluntary = el('input', { id: 'move-voluntary', type: 'checkbox' });
  const reason = el('textarea', { id: 'move-reason', rows: 2 });
  const corridor = state.corridors.find((c) => c.id === o.corridor);
  const mapHost = el('div', { class: 'map-host' });
  const draw = () =>
    drawMap(mapHost, {
      routes: corridor?.route?.coordinates?.length ? [{ id: corridor.id, label: corridor.names?.[currentLang()] ?? corridor.id, coordinates: corridor.route.coordinates, status: 'existing' }] : [],
      points: [],
      picked: lat.value && lon.value ? { lat: Number(lat.value), lon: Number(lon.value) } : null,
      title: t('move-map-title'),
      onPick: (p) => {
        lat.value = String(p.lat);
        lon.value = String(p.lon);
        draw();
      },
    });
  draw();
  showForm(
    () => {
      const e7 = (x) => degreesE7(Number(String(x).replace(',', '.')));
      if (!Number.isFinite(Number(lat.value.replace(',', '.'))) || !Number.isFinite(Number(lon.value.replace(',', '.')))) return say('error', t('incident-bad-point'));
      const people = Object.fromEntries(Object.entries(counts).map(([k, i]) => [k, Math.round(Number(i.value) || 0)]));
      const counted = Object.values(counts).some((i) => i.value !== '');
      const body = {
        type: 'operation.move',
        operation: o.id,
        event: event.value,
        occurred_at: fromInput(when.value),
        location: { lat_e7: e7(lat.value), lon_e7: e7(lon.value) },
        reason: reason.value.trim() || undefined,
        evacuees: counted ? people : undefined,
        destination: event.value === 'departed' && destination.value ? destination.value : undefined,
        voluntary: event.value === 'departed' && counted ? voluntary.checked : undefined,
      };
      const total = Object.values(people).reduce((a, b) => a + b, 0);
      review(
        body,
        t('words-move', {
          operation: o.id,
          event: t(`event-${body.event}`),
          when: utc(body.occurred_at),
          lat: lat.value,
          lon: lon.value,
          people: counted ? t('move-people', { total, ...people }) : t('move-no-count'),
          reason: body.reason ?? '—',
        }) + (body.voluntary === undefined ? '' : ` ${t(body.voluntary ? 'move-voluntary-yes' : 'move-voluntary-no')}`),
      );
    },
    el('h2', {}, t('move-title', { operation: o.id })),
    field(t('move-event'), event),
    field(t('move-when'), when, t('incident-when-hint')),
    el('p', {}, t('move-map-hint')),
    mapHost,
    field(t('incident-lat'), lat),
    field(t('incident-lon'), lon),
    el('fieldset', {}, el('legend', {}, t('move-evacuees')), ...Object.entries(counts).map(([k, i]) => field(t(`evacuees-${k}`), i))),
    field(t('move-destination'), destination, t('move-destination-hint')),
    el('div', { class: 'field check' }, el('label', { for: 'move-voluntary' }, voluntary, ' ', t('move-voluntary'))),
    field(t('move-reason'), reason, t('move-reason-hint')),
  );
  event.focus();
}

/** Receipts at the destination: each consignment still open, split into delivered, damaged
 * and lost, which must add up to what was sent or say why (WFP's RITA). */
async function receiveForm(o) {
  const detail = await signedGet(`/v1/operations/${o.id}`).catch((e) => say('error', e.message));
  if (!detail) return;
  const open = (detail.manifest ?? []).filter((c) => !c.received_at);
  if (open.length === 0) return say('ok', t('receipts-none-open'));
  const lines = open.map((c) => {
    const n = (name, value) => el('input', { name, type: 'number', min: 0, step: 1, required: true, value });
    return {
      c,
      delivered: n('delivered', c.sent),
      damaged: n('damaged', 0),
      lost: n('lost', 0),
      reason: el('input', { name: 'reason', autocomplete: 'off' }),
    };
  });
  showForm(
    () => {
      const receipts = lines.map((l) => ({
        tracking: l.c.tracking,
        delivered: Math.round(Number(l.delivered.value)),
        damaged: Math.round(Number(l.damaged.value)),
        lost: Math.round(Number(l.lost.value)),
        reason: l.reason.value.trim() || undefined,
      }));
      const short = receipts.find((r, i) => r.delivered + r.damaged + r.lost !== lines[i].c.sent && !r.reason);
      if (short) return say('error', t('receipt-does-not-add-up', { tracking: short.tracking, sent: lines[receipts.indexOf(short)].c.sent }));
      review(
        { type: 'operation.receive', operation: o.id, receipts },
        t('words-receive', {
          operation: o.id,
          list: receipts.map((r, i) => t('receipt-line', { ...r, item: lines[i].c.item, sent: lines[i].c.sent, unit: lines[i].c.unit, reason: r.reason ?? '—' })).join('; '),
        }),
      );
    },
    el('h2', {}, t('receive-title', { operation: o.id })),
    lines.map((l) =>
      el(
        'fieldset',
        { class: 'row receipt', 'data-tracking': l.c.tracking },
        el('legend', {}, `${l.c.tracking}: ${l.c.item}, ${t('receipt-sent', { sent: l.c.sent, unit: l.c.unit })}`),
        field(t('receipt-delivered'), l.delivered),
        field(t('receipt-damaged'), l.damaged),
        field(t('receipt-lost'), l.lost),
        field(t('receipt-reason'), l.reason, t('receipt-reason-hint')),
      ),
    ),
  );
  lines[0].delivered.focus();
}

function outcomeForm(o) {
  const outcome = el('select', { id: 'outcome' }, ...['facilitated', 'impeded', 'denied', 'postponed'].map((x) => el('option', { value: x }, t(`outcome-${x}`))));
  const reason = el('textarea', { id: 'outcome-reason', rows: 3, required: true });
  showForm(
    () => {
      const body = { type: 'operation.outcome', operation: o.id, outcome: outcome.value, reason: reason.value.trim() };
      review(body, t('words-outcome', { operation: o.id, outcome: t(`outcome-${body.outcome}`), reason: body.reason }));
    },
    el('h2', {}, t('outcome-title', { operation: o.id })),
    field(t('outcome'), outcome),
    field(t('outcome-reason'), reason),
  );
  outcome.focus();
}

// ---------- the channel: threads between the parties, through the intermediary ----------

function channelPanel() {
  const side = state.me.actor.affiliation?.id;
  return el(
    'section',
    { 'aria-labelledby': 'chan-h' },
    el('h2', { id: 'chan-h' }, t('channel-title')),
    state.threads.length === 0
      ? el('p', {}, t('channel-none'))
      : el(
          'ul',
          { class: 'threads' },
          state.threads.map((th) =>
            el(
              'li',
              { 'data-thread': th.id },
              el('h3', {}, `${th.subject} (${th.id})`),
              el('p', { class: 'zones' }, t('thread-about', { participants: (th.participants ?? []).join(', '), about: th.operation ?? th.corridor ?? '—' })),
              el(
                'ol',
                { class: 'messages' },
                (th.messages ?? []).map((m) =>
                  el(
                    'li',
                    { 'data-message': m.id },
                    el('p', {}, el('strong', {}, `${m.actor} · ${utc(zoned(m.at))}`), ' ', m.text),
                    Object.keys(m.acknowledgements ?? {}).length > 0 &&
                      el('p', { class: 'zones' }, t('message-acks', { list: Object.entries(m.acknowledgements).map(([p, a]) => `${p}: ${a.acknowledged ? '✓' : t('awaited')}`).join(', ') })),
                    (m.awaiting ?? []).includes(side) &&
                      el('button', { type: 'button', class: 'ack', onclick: () => review({ type: 'message.ack', thread: th.id, message: m.id }, t('words-message-ack', { side, thread: th.id, message: m.id, text: m.text })) }, t('acknowledge')),
                  ),
                ),
              ),
              el('button', { type: 'button', class: 'reply', onclick: () => messageForm(th) }, t('write')),
            ),
          ),
        ),
  );
}

function messageForm(th) {
  const side = state.me.actor.affiliation?.id;
  const text = el('textarea', { id: 'msg-text', rows: 4, required: true });
  const others = (th.participants ?? []).filter((p) => p !== side);
  const boxes = others.map((p) => el('input', { type: 'checkbox', name: 'ack', value: p, id: `msg-ack-${p}` }));
  showForm(
    () => {
      const ack = boxes.filter((b) => b.checked).map((b) => b.value);
      const body = { type: 'message.send', thread: th.id, message: `m-${newId().slice(8)}`, text: text.value.trim(), ack_required: ack };
      review(body, t('words-message', { thread: th.id, text: body.text, ack: ack.join(', ') || '—' }));
    },
    el('h2', {}, t('message-title', { subject: th.subject })),
    field(t('message-text'), text),
    el('fieldset', {}, el('legend', {}, t('message-ack-required')), ...boxes.map((b) => el('div', { class: 'field check' }, el('label', { for: b.id }, b, ' ', b.value)))),
  );
  text.focus();
}

// ---------- down the chain of command: a unit confirms what it received ----------

/** What this unit still owes for window `w`: the terms in force and each act, by the receipts. */
function unitActions(w) {
  const me = state.me.actor.id;
  const party = state.me.actor.affiliation?.id;
  const notices = state.receipts[w.id]?.parties?.[party]?.notices ?? [];
  // The terms only of a window in force; every act (suspension, resumption, withdrawal,
  // cancellation) of one that was agreed. A unit is never asked to confirm a mere proposal.
  const inForce = ['agreed', 'active', 'suspended'].includes(w.status);
  const owed = notices.filter((n) => (n.pending ?? []).includes(me) && (n.notice !== 'terms' || inForce) && w.status !== 'proposed');
  const done = notices.filter((n) => (n.confirmed ?? []).some((c) => c.unit === me));
  return el(
    'div',
    { class: 'unit' },
    done.map((n) => el('p', { class: 'zones' }, t('unit-confirmed', { what: noticeWords(n) }))),
    el(
      'p',
      { class: 'actions' },
      owed.map((n) =>
        el(
          'button',
          {
            type: 'button',
            class: 'confirm',
            onclick: () =>
              n.notice === 'terms'
                ? review({ type: 'unit.confirm', window: w.id, version_hash: n.hash }, `${t('words-unit-terms', { unit: me })} ${windowWords(w)}`)
                : review({ type: 'unit.confirm', window: w.id, act_index: n.index }, t('words-unit-act', { unit: me, what: noticeWords(n), window: w.id })),
          },
          t('unit-confirm', { what: noticeWords(n) }),
        ),
      ),
    ),
  );
}

const noticeWords = (n) => (n.notice === 'terms' ? t('notice-terms', { version: n.version }) : t('notice-act', { kind: t(`act-${n.kind}`), index: n.index }));

// ---------- the register of the talks: points, positions, documents ----------

const inLang = (texts) => texts?.[currentLang()] ?? texts?.en ?? Object.values(texts ?? {})[0] ?? '';

function registerOfTalksPanel() {
  const role = state.me.actor.role;
  const party = PARTY_ROLES.includes(role) && state.me.actor.affiliation?.kind === 'party' ? state.me.actor.affiliation.id : null;
  return el(
    'section',
    { 'aria-labelledby': 'talks-h' },
    el('h2', { id: 'talks-h' }, t('talks-title')),
    el('h3', {}, t('points-title')),
    el(
      'ul',
      { class: 'points' },
      state.points.map((p) =>
        el(
          'li',
          { 'data-point': p.id },
          el('h4', {}, `${p.id} · ${t(`basket-${p.basket}`)} · ${t('point-version', { version: p.version })} · ${t(`point-status-${p.status}`)}`),
          el('p', { class: 'quote' }, inLang(p.text)),
          el('ul', { class: 'zones' }, Object.entries(p.positions ?? {}).map(([who, x]) => el('li', {}, `${who}: ${t(`stance-${x.stance}`)} (${x.round}) — ${x.text}`))),
          party && el('button', { type: 'button', onclick: () => positionForm(p, party) }, t('state-position')),
        ),
      ),
    ),
    el('h3', {}, t('documents-title')),
    el(
      'ul',
      { class: 'documents' },
      state.documents.map((d) =>
        el(
          'li',
          { 'data-document': d.id },
          el('h4', {}, `${inLang(d.title)} (${d.id}, ${t('point-version', { version: d.version })})`),
          el('p', {}, t('document-state', { signed: Object.keys(d.signatures ?? {}).join(', ') || '—', awaiting: (d.awaiting_signature ?? []).join(', ') || '—', published: t(d.published ? 'yes' : 'no') })),
          el('details', {}, el('summary', {}, t('document-text', { lang: d.binding_language })), el('p', { class: 'quote', lang: d.binding_language }, d.text?.[d.binding_language] ?? '')),
          party && role === 'signatory' && (d.awaiting_signature ?? []).includes(party) &&
            el('button', { type: 'button', onclick: () => review({ type: 'document.sign', document: d.id, party, version_hash: d.hash }, documentWords('words-document-sign', d, party)) }, t('sign-document')),
          party && d.signed_by_all && !d.published && !d.publication?.[party] &&
            el('button', { type: 'button', onclick: () => review({ type: 'document.publish', document: d.id, party, version_hash: d.hash }, documentWords('words-document-publish', d, party)) }, t('publish-document')),
        ),
      ),
    ),
  );
}

/** A document act names the exact version: its hash, and its binding text in full. */
function documentWords(key, d, party) {
  return t(key, { party, document: d.id, title: inLang(d.title), version: d.version, hash: d.hash, lang: d.binding_language, text: d.text?.[d.binding_language] ?? '' });
}

function positionForm(p, party) {
  const stance = el('select', { id: 'pos-stance' }, ...['accepts', 'reserves', 'rejects'].map((x) => el('option', { value: x }, t(`stance-${x}`))));
  const rounds = [...state.rounds].sort((a, b) => (b.number ?? 0) - (a.number ?? 0));
  const round = el('select', { id: 'pos-round' }, ...rounds.map((r) => el('option', { value: r.id }, `${r.id} (${utc(zoned(r.starts))})`)));
  const text = el('textarea', { id: 'pos-text', rows: 3, required: true });
  showForm(
    () => {
      const body = { type: 'point.position', point: p.id, version: p.version, party, round: round.value, stance: stance.value, text: text.value.trim() };
      review(body, t('words-position', { party, point: p.id, version: p.version, quoted: inLang(p.text), stance: t(`stance-${body.stance}`), round: body.round, text: body.text }));
    },
    el('h2', {}, t('position-title', { point: p.id, version: p.version })),
    el('p', { class: 'quote' }, inLang(p.text)),
    field(t('position-stance'), stance),
    field(t('position-round'), round),
    field(t('position-text'), text),
  );
  stance.focus();
}

// ---------- review and sign ----------

/**
 * Show a form in place of the review: its title and fields (`children`), then Review and
 * Cancel. `onSubmit` runs without a page load and either says what is wrong or calls `review`.
 */
function showForm(onSubmit, ...children) {
  const submit = (ev) => {
    ev.preventDefault();
    onSubmit();
  };
  state.review = {
    form: el(
      'form',
      { onsubmit: submit },
      ...children,
      el('button', { type: 'submit' }, t('review')),
      ' ',
      el('button', { type: 'button', onclick: cancelReview }, t('cancel')),
    ),
  };
  render();
}

function review(body, words, diff) {
  state.review = { body, words, diff };
  state.message = null;
  render();
  document.getElementById('review-h')?.focus();
}

function cancelReview() {
  state.review = null;
  render();
}

function reviewPanel() {
  const r = state.review;
  if (r.form) return el('section', { class: 'review' }, r.form);
  return el(
    'section',
    { class: 'review', 'aria-labelledby': 'review-h' },
    el('h2', { id: 'review-h', tabindex: '-1' }, t('review-title')),
    el('p', { class: 'words' }, r.words),
    r.diff &&
      el(
        'table',
        { class: 'diff' },
        el('caption', {}, t('diff-caption', { from: r.diff.from, to: r.diff.to })),
        el('tr', {}, el('th', { scope: 'col' }, ''), el('th', { scope: 'col' }, t('diff-before')), el('th', { scope: 'col' }, t('diff-now'))),
        r.diff.rows.map((row) => el('tr', { class: row.changed ? 'changed' : '' }, el('th', { scope: 'row' }, row.k), el('td', {}, row.old), el('td', {}, row.now, row.changed ? ` (${t('diff-changed')})` : ''))),
      ),
    el('details', {}, el('summary', {}, t('review-json')), el('pre', {}, JSON.stringify(r.body, null, 2))),
    state.trust?.broken && el('p', { role: 'alert' }, t('signing-stopped', { why: state.trust.broken })),
    el(
      'p',
      {},
      el('button', { type: 'button', id: 'sign', disabled: !!state.trust?.broken, onclick: signReviewed }, t('sign')),
      ' ',
      el('button', { type: 'button', onclick: cancelReview }, t('cancel')),
    ),
  );
}

async function signReviewed() {
  clearMessage();
  const r = state.review;
  state.review = null;
  let said;
  try {
    const item = await signAndQueue(r.body, r.words);
    if (item.state === 'sent') said = ['ok', t('sent', { index: item.receipt.receipt.index })];
    else if (item.state === 'refused') said = ['error', problemText(item.problem)];
    else said = ['ok', t('queued')];
  } catch (e) {
    said = ['error', e.message];
  }
  // Show the outcome once the page shows the state it leads to (the outbox, the windows).
  await refresh();
  say(...said);
}

function outboxPanel() {
  const items = (state.outbox ?? []).slice().reverse();
  return el(
    'section',
    { 'aria-labelledby': 'out-h' },
    el('h2', { id: 'out-h' }, t('outbox-title')),
    items.length === 0
      ? el('p', {}, t('outbox-empty'))
      : el(
          'ol',
          { class: 'outbox', reversed: true },
          items.map((i) =>
            el(
              'li',
              { class: `out-${i.state}`, 'data-state': i.state },
              el('strong', {}, t(`out-${i.state}`)),
              ' ',
              i.words,
              i.state === 'sent' && el('small', {}, ` ${t('out-receipt', { index: i.receipt.receipt.index, time: utc(i.receipt.receipt.time) })}${i.receiptVerified ? '' : ` ${t('out-receipt-unverified')}`}`),
              i.state === 'refused' && el('small', { class: 'problem' }, ` ${problemText(i.problem)}`),
            ),
          ),
        ),
    items.some((i) => i.state === 'queued') &&
      el('button', { type: 'button', id: 'send-queued', onclick: async () => { await flushOutbox(); await refresh(); } }, t('send-queued')),
  );
}

// ---------- the loop ----------

async function refresh() {
  try {
    await checkLog();
    if (!state.offline && !state.trust?.broken) await flushOutbox();
    state.keys = await store.keys();
    if (state.key) state.key = state.keys.find((k) => k.publicKey === state.key.publicKey) ?? null;
    await loadMe();
  } catch (e) {
    state.message = { kind: 'error', text: e.message };
  }
  state.outbox = await store.outbox();
  render();
}

async function start() {
  if (!(await ed25519Supported())) {
    document.getElementById('app').replaceChildren(el('p', { role: 'alert' }, t('no-ed25519')));
    return;
  }
  // A new attempt clears the last message, so what is shown is always about this one.
  document.addEventListener('submit', clearMessage, true);
  window.addEventListener('online', refresh);
  window.addEventListener('offline', async () => {
    state.offline = true;
    await loadMe();
    render();
  });
  const keys = await store.keys();
  state.keys = keys;
  if (keys.length === 1) state.key = keys[0];
  await refresh();
}

start();
