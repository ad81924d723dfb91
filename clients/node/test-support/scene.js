// Shared by the tests (kept out of test/, where `node --test` would run it
// as a test file): the scene's environment, the shared cases, fake servers.

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export const env = process.env;

/** A test's `skip` option: false when camd's scene is there, else why not. */
export const needsCamd = env.CAMD_SOCKET
  ? false
  : 'CAMD_SOCKET is unset: these tests need the real camd (tests/clients.rs sets it; locally: eval "$(/tmp/clientbin/scene.sh DIR)")';

/** The same, for tests that also run camctl ($CAMD_TEST_CAMCTL). */
export const needsCamctl = needsCamd || (env.CAMD_TEST_CAMCTL
  ? false
  : 'CAMD_TEST_CAMCTL is unset: these tests compare with camctl (tests/clients.rs sets it)');

/** `${NAME}` in a string, from the environment (left as it is when unset: those tests are skipped). */
export function fill(s) {
  return s.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, k) => env[k] ?? whole);
}

/** tests/clients/cases.json's cases, `${NAME}` filled in. */
export function cases() {
  const file = env.CAMD_TEST_CASES ?? new URL('../../../tests/clients/cases.json', import.meta.url).pathname;
  const all = JSON.parse(readFileSync(file, 'utf8')).cases;
  return all.map((c) => {
    const ask = {};
    for (const [k, v] of Object.entries(c.ask)) ask[k] = typeof v === 'string' ? fill(v) : v;
    return { name: c.name, ask, expect: c.expect };
  });
}

/** tests/wire/NAME.jsonl as parsed objects {name, json, postcard}. */
export function vectors(name) {
  const dir = env.CAMD_TEST_WIRE ?? new URL('../../../tests/wire', import.meta.url).pathname;
  return readFileSync(join(dir, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** A fresh folder for sockets; removed by the returned function. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'camd-node-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A fake camd on a Unix socket: `onLine(line, socket, state)` is called for
 * every request line. Returns {path, close, connections}.
 */
export async function fakeServer(dir, name, onLine, onConnection = () => {}) {
  const path = join(dir, `${name}.sock`);
  const sockets = new Set();
  const state = { connections: 0, lines: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s, state);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        state.lines++;
        if (!s.destroyed) onLine(line, s, state);
      }
    });
  });
  await new Promise((resolve) => server.listen(path, resolve));
  return {
    path,
    state,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** The answer camd would give to a request line: `result` is the JSON of Result. */
export function answer(line, result) {
  const { id } = JSON.parse(line);
  return `{"id":${id},"result":${result}}\n`;
}

export const PONG = '{"Ok":{"Pong":1}}';
export const ALLOW = '{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":"P","statement":0,"uin":200000000001}}}';

/** The time `f` takes, in milliseconds, and what it threw (or undefined). */
export async function timed(f) {
  const t = performance.now();
  let error;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  return { ms: performance.now() - t, error };
}
