// camd restarting under a running client (a proxy in front of the real camd drops every connection, or stops listening for a while) and camd closing an idle connection: the client reconnects, and no answer is ever wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';

import { Client, CamdError, CamdConnectionError, byUser } from '../src/index.js';
import { needsCamd, tempDir } from '../test-support/scene.js';

const env = process.env;
const APP1 = 'qcs::im::uin/100000000001:sdkappid/1400000001';

/** A Unix-socket proxy to camd that can drop its connections or stop listening, as a restart does. */
class Proxy {
  constructor(path) {
    this.path = path;
    this.pairs = new Set();
    this.accepted = 0;
  }

  listen() {
    this.server = net.createServer((down) => {
      this.accepted++;
      const up = net.createConnection(env.CAMD_SOCKET);
      const pair = [down, up];
      this.pairs.add(pair);
      const end = () => {
        down.destroy();
        up.destroy();
        this.pairs.delete(pair);
      };
      for (const s of pair) {
        s.on('error', end);
        s.on('close', end);
      }
      down.pipe(up);
      up.pipe(down);
    });
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  /** camd restarted behind a socket systemd holds: every connection dropped, the path still answers. */
  dropAll() {
    for (const [down, up] of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
  }

  /** camd stopped: no one listens at the path. */
  async stop() {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.path, { force: true });
  }
}

const QS = [
  [byUser('reader', 'im:GetGroupInfo', APP1), 'QcloudChatReadOnlyAccess'],
  [byUser('keeper', 'im:SendMessage', APP1), 'NoDestroy'],
  [byUser('keeper', 'im:DestroyGroup', APP1), 'NoDestroy'],
  [byUser('reader', 'im:SendMessage', APP1), null],
  [byUser('nobody', 'im:SendMessage', APP1), 'error'],
];

/** Workers asking in turn until `stop()`; every answer checked. */
function run(client, workers = 20) {
  let going = true;
  const tally = { right: 0, failed: 0, wrong: [], errors: [] };
  const one = async (w, i) => {
    const [ask, policy] = QS[(w + i) % QS.length];
    try {
      const d = await client.authorize(ask);
      if (d.policy === policy && d.allowed === (ask.action !== 'im:DestroyGroup' && policy !== null)) tally.right++;
      else tally.wrong.push({ ask, d });
    } catch (e) {
      if (e instanceof CamdError && policy === 'error' && e.code === 'ResourceNotFound.UserNotExist') tally.right++;
      else if (e instanceof CamdConnectionError) {
        tally.failed++;
        tally.errors.push(e.message);
      } else tally.wrong.push({ ask, e: String(e) });
    }
  };
  const done = Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; going; i++) await one(w, i);
  }));
  return { tally, stop: () => { going = false; return done; } };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let tmp;
before(() => { tmp = tempDir(); });
after(() => tmp?.remove());

test('camd restarted behind its socket, five times mid-run: no call fails, none is wrong', { skip: needsCamd }, async () => {
  const proxy = new Proxy(join(tmp.dir, 'held.sock'));
  await proxy.listen();
  const c = await Client.connect(proxy.path);
  const r = run(c);
  for (let i = 0; i < 5; i++) {
    await sleep(100);
    proxy.dropAll();
  }
  await sleep(100);
  await r.stop();
  assert.deepEqual(r.tally.wrong, []);
  assert.deepEqual(r.tally.errors, [], 'every call caught by a restart is sent once more and answered');
  assert.ok(r.tally.right > 20, `${r.tally.right} answers`);
  assert.ok(proxy.accepted >= 2, `${proxy.accepted} connections`);
  await c.close();
  await proxy.stop();
});

test('camd down for a while: calls fail fast with CamdConnectionError, then the next ones reconnect', { skip: needsCamd }, async () => {
  const proxy = new Proxy(join(tmp.dir, 'down.sock'));
  await proxy.listen();
  const c = await Client.connect(proxy.path);
  const r = run(c, 10);
  await sleep(50);
  await proxy.stop();
  const t = performance.now();
  await assert.rejects(c.ping(), CamdConnectionError);
  assert.ok(performance.now() - t < 1000, 'fails at once, not at the timeout');
  await sleep(100);
  await proxy.listen();
  await sleep(100);
  await r.stop();
  assert.deepEqual(r.tally.wrong, []);
  assert.ok(r.tally.failed > 0, 'some calls were made while camd was down');
  assert.ok(r.tally.errors.every((m) => /cannot talk to camd|closed|failed/.test(m)), r.tally.errors.slice(0, 3).join('; '));
  assert.equal(await c.ping(), 1);
  assert.equal((await c.authorize(QS[0][0])).allowed, true);
  await c.close();
  await proxy.stop();
});

test('camd closing an idle connection (idle_timeout_secs): the next call reconnects', { skip: needsCamd, timeout: 30_000 }, async (t) => {
  const c = await Client.connect(env.CAMD_SOCKET);
  assert.equal(await c.ping(), 1);
  const deadline = Date.now() + 12_000;
  while (c.connected && Date.now() < deadline) await sleep(100);
  if (c.connected) {
    t.skip('camd kept the idle connection for 12 s (its idle_timeout_secs is longer than the tests\' 5)');
  } else {
    assert.equal((await c.authorize(QS[0][0])).policy, 'QcloudChatReadOnlyAccess');
    assert.equal(c.connected, true);
  }
  await c.close();
});
