// The map: corridor routes, incidents and a picked point drawn as SVG on a plain background.
// No tiles and no map library: nothing is fetched from anywhere but the log's own server, and a
// route on a plain background is what a coordinator needs to see where a window applies.
// Positions are plain equirectangular (longitude scaled by the cosine of the middle latitude),
// good enough over the few dozen kilometres of a corridor.

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 400;
const PAD = 24;

/** A label's place beside a point at `x`: to its right, or to its left in the right half, so it stays on the map. */
function beside(x, gap) {
  return x > W / 2 ? { x: x - gap, 'text-anchor': 'end' } : { x: x + gap };
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Draw into `host` (an element): `routes` [{id, label, coordinates: [[lon, lat]...], status}],
 * `points` [{label, lon, lat, kind}] (kind `incident` or `settlement`), a `draft` route being
 * drawn ([[lon, lat]...]), and call `onPick({lat, lon})` when the map is clicked. `frame`
 * ([[lon, lat]...]), when given, is what the view must hold; anything beyond it is cut off.
 * Returns nothing; redraw by calling again.
 */
export function drawMap(host, { routes, points, picked, draft = [], frame, onPick, title }) {
  const all = frame?.length ? [...frame] : [...routes.flatMap((r) => r.coordinates), ...points.map((p) => [p.lon, p.lat]), ...draft];
  if (picked) all.push([picked.lon, picked.lat]);
  host.replaceChildren();
  if (all.length === 0) return;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of all) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180);
  const spanX = Math.max((maxX - minX) * k, 0.02);
  const spanY = Math.max(maxY - minY, 0.02);
  const scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const px = (lon) => W / 2 + (lon - cx) * k * scale;
  const py = (lat) => H / 2 - (lat - cy) * scale;
  const unproject = (x, y) => ({ lon: cx + (x - W / 2) / (k * scale), lat: cy - (y - H / 2) / scale });

  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'map' });
  const t = svg('title');
  t.textContent = title;
  root.append(t, svg('rect', { x: 0, y: 0, width: W, height: H, class: 'map-ground' }));
  for (const r of routes) {
    const line = svg('polyline', {
      points: r.coordinates.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '),
      class: `route route-${r.status}`,
    });
    const lt = svg('title');
    lt.textContent = r.label;
    line.append(lt);
    root.append(line);
    const [x0, y0] = r.coordinates[0];
    const label = svg('text', { ...beside(px(x0), 6), y: py(y0) - 6, class: 'map-label' });
    label.textContent = r.label;
    root.append(label);
  }
  for (const p of points) {
    const c = svg('circle', { cx: px(p.lon), cy: py(p.lat), r: 6, class: `point point-${p.kind}` });
    const pt = svg('title');
    pt.textContent = p.label;
    c.append(pt);
    root.append(c);
    if (p.kind === 'settlement') {
      const name = svg('text', { ...beside(px(p.lon), 8), y: py(p.lat) + 4, class: 'map-label' });
      name.textContent = p.label;
      root.append(name);
    }
  }
  if (draft.length) {
    // A route being drawn: the line so far and each point, numbered in the order clicked.
    root.append(svg('polyline', { points: draft.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '), class: 'route route-draft' }));
    draft.forEach(([x, y], i) => {
      root.append(svg('circle', { cx: px(x), cy: py(y), r: 5, class: 'point point-draft' }));
      const n = svg('text', { x: px(x) + 7, y: py(y) + 14, class: 'map-label' });
      n.textContent = String(i + 1);
      root.append(n);
    });
  }
  if (picked) {
    root.append(svg('circle', { cx: px(picked.lon), cy: py(picked.lat), r: 8, class: 'point point-picked' }));
  }
  if (onPick) {
    root.addEventListener('click', (ev) => {
      const box = root.getBoundingClientRect();
      const x = ((ev.clientX - box.left) / box.width) * W;
      const y = ((ev.clientY - box.top) / box.height) * H;
      const p = unproject(x, y);
      onPick({ lat: Number(p.lat.toFixed(5)), lon: Number(p.lon.toFixed(5)) });
    });
  }
  host.append(root);
}

/** The most points a route may have (the core's `MAX_ROUTE_POINTS`). */
export const MAX_ROUTE_POINTS = 1000;

/**
 * Degrees to the integer 1e-7 degree the core signs, as `core::agreement::route_from_geojson`
 * does it: a number whose shortest decimal form has at most seven decimals converts digit for
 * digit; any other is rounded half away from zero (Rust's `f64::round`). So a file gives the
 * same route in the page as in `corridor corridor propose` (checked with the core's vectors).
 */
export function degreesE7(n) {
  const m = /^(-?)(\d+)(?:\.(\d{1,7}))?$/.exec(String(n));
  if (m) {
    const v = Number(m[2]) * 1e7 + Number((m[3] ?? '').padEnd(7, '0'));
    return m[1] ? -v : v;
  }
  const f = n * 1e7;
  return Math.sign(f) * Math.round(Math.abs(f));
}

/** A route in degrees as the core signs it: `[lon, lat]` pairs in 1e-7 degree. */
export const routeE7 = (coordinates) => coordinates.map(([lon, lat]) => [degreesE7(lon), degreesE7(lat)]);

/**
 * The route in a GeoJSON file a person uploads: a LineString, a Feature holding one, or a
 * FeatureCollection with exactly one LineString feature (the core reads the same three).
 * Returns `{coordinates: [[lon, lat]...], properties}`; throws an Error whose `message` is an
 * i18n key (`route-*`), so the person is told in their language what is wrong with the file. A
 * file with two lines is refused rather than guessed at: which one is the corridor is for the
 * person to say. The server checks the route again (its length, above all).
 */
export function routeFromGeoJson(text) {
  let g;
  try {
    g = JSON.parse(text);
  } catch {
    throw new Error('route-not-json');
  }
  let properties = {};
  if (g?.type === 'FeatureCollection') {
    const lines = (Array.isArray(g.features) ? g.features : []).filter((f) => f?.geometry?.type === 'LineString');
    if (lines.length !== 1) throw new Error(lines.length ? 'route-many-lines' : 'route-no-line');
    g = lines[0];
  }
  if (g?.type === 'Feature') {
    properties = g.properties ?? {};
    g = g.geometry;
  }
  if (g?.type !== 'LineString' || !Array.isArray(g.coordinates)) throw new Error('route-no-line');
  const coordinates = g.coordinates;
  if (coordinates.length > MAX_ROUTE_POINTS) throw new Error('route-too-many-points');
  for (const p of coordinates) {
    if (!Array.isArray(p) || p.length < 2 || !p.slice(0, 2).every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error('route-bad-point');
    if (Math.abs(degreesE7(p[0])) > 1_800_000_000 || Math.abs(degreesE7(p[1])) > 900_000_000) throw new Error('route-bad-point');
  }
  const route = coordinates.map((p) => [p[0], p[1]]);
  if (new Set(routeE7(route).map((p) => p.join(','))).size < 2) throw new Error('route-too-short');
  return { coordinates: route, properties };
}

/**
 * Length of a route in kilometres along the great circle, for the words a person reviews. The
 * core measures its own limit (`geo::route_length_m`, per segment on a local projection); over a
 * corridor the two differ by metres, and the server's is the one that decides.
 */
export function routeLengthKm(coordinates) {
  const r = 6371.0088;
  const rad = Math.PI / 180;
  let km = 0;
  for (let i = 1; i < coordinates.length; i++) {
    const [lon1, lat1] = coordinates[i - 1];
    const [lon2, lat2] = coordinates[i];
    const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
    km += 2 * r * Math.asin(Math.sqrt(a));
  }
  return km;
}
