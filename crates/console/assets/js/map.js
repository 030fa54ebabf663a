// The map: corridor routes, incidents and a picked point drawn as SVG on a plain background.
// No tiles and no map library: nothing is fetched from anywhere but the log's own server, and a
// route on a plain background is what a coordinator needs to see where a window applies.
// Positions are plain equirectangular (longitude scaled by the cosine of the middle latitude),
// good enough over the few dozen kilometres of a corridor.

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 400;
const PAD = 24;

function svg(tag, attrs = {}) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Draw into `host` (an element): `routes` [{id, label, coordinates: [[lon, lat]...], status}],
 * `points` [{label, lon, lat, kind}], and call `onPick({lat, lon})` when the map is clicked.
 * Returns nothing; redraw by calling again.
 */
export function drawMap(host, { routes, points, picked, onPick, title }) {
  const all = [...routes.flatMap((r) => r.coordinates), ...points.map((p) => [p.lon, p.lat])];
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
    const label = svg('text', { x: px(x0) + 6, y: py(y0) - 6, class: 'map-label' });
    label.textContent = r.label;
    root.append(label);
  }
  for (const p of points) {
    const c = svg('circle', { cx: px(p.lon), cy: py(p.lat), r: 6, class: `point point-${p.kind}` });
    const pt = svg('title');
    pt.textContent = p.label;
    c.append(pt);
    root.append(c);
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
