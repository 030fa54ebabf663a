// What the browser scripts share: a free loopback port, a `corridor` process that dies with the
// script, and waiting until a server answers.
import { spawn } from 'node:child_process';
import net from 'node:net';

/** A loopback port nothing listens on now. */
export function freePort() {
  return new Promise((ok) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
}

const running = [];

/** Kill every process `startCorridor` started (also done when the script exits). */
export function stopCorridors() {
  for (const p of running.splice(0)) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
}
process.on('exit', stopCorridors);

/** Start `bin args`, its output on stderr, killed by `stopCorridors` or when the script exits. */
export function startCorridor(bin, args) {
  const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  running.push(p);
  return p;
}

/** Wait until `url` answers 2xx, trying every 100 ms, at most `tries` times. */
export async function waitUntilUp(url, what, tries) {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start (${url})`);
}
