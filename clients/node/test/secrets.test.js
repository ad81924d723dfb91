// The SecretKey never shows: not in util.inspect, JSON or String of the client and of asks, nor in any error (camd's, garbage, timeouts), even when the other side repeats it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import { Client, CamdError, CamdProtocolError, byKey } from '../src/index.js';
import { fakeServer, tempDir, answer, needsCamd } from '../test-support/scene.js';

const SECRET = 'Sup3rS3cretKeyV4lue"\\with/quotes';
const escaped = JSON.stringify(SECRET).slice(1, -1);

/** Every way the value could be shown. */
function shown(v) {
  const parts = [String(v), inspect(v, { showHidden: true, depth: 10 }), JSON.stringify(v) ?? ''];
  if (v instanceof Error) parts.push(v.stack ?? '', v.message, inspect(v.cause ?? ''));
  return parts.join('\n');
}

function assertHidden(v, what) {
  const s = shown(v);
  assert.ok(!s.includes(SECRET) && !s.includes(escaped), `${what} shows the SecretKey: ${s}`);
}

let tmp;
before(() => { tmp = tempDir(); });
after(() => tmp.remove());

test('an ask by key shows no SecretKey, but sends it', async () => {
  const a = byKey('AKIDexample', SECRET, 'im:SendMessage', '*');
  assertHidden(a, 'KeyAsk');
  assertHidden({ ...a }, 'a copy of a KeyAsk');
  assertHidden([a], 'an array of asks');
  assert.match(inspect(a), /\[redacted\]/);
  let sent = '';
  const s = await fakeServer(tmp.dir, 'sends', (line, sock) => {
    sent = line;
    sock.write(answer(line, '{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":"P","statement":0,"uin":1}}}'));
  });
  const c = await Client.connect(s.path);
  assert.equal((await c.authorize(a)).allowed, true);
  assert.equal(JSON.parse(sent).body.Authorize.ByKey.key.secret_key, SECRET);
  await c.close();
  await s.close();
});

test('a client with calls by key in flight shows no SecretKey', async () => {
  let release;
  const s = await fakeServer(tmp.dir, 'held', (line, sock) => {
    release = () => sock.write(answer(line, '{"Ok":{"Decision":{"allowed":false,"reason":"ImplicitDeny","policy":null,"statement":null,"uin":1}}}'));
  });
  const c = await Client.connect(s.path);
  const p = c.authorizeKey('AKIDexample', SECRET, 'im:SendMessage', '*');
  await new Promise((r) => setTimeout(r, 20));
  assertHidden(c, 'the client');
  assertHidden(p, 'the call\'s promise');
  release();
  await p;
  assertHidden(c, 'the client');
  await c.close();
  await s.close();
});

test('camd\'s error messages that repeat the SecretKey are redacted (single and batch)', async () => {
  // serde's messages quote values (`invalid type: string "..."`): a server could repeat the key.
  const s = await fakeServer(tmp.dir, 'echo', (line, sock) => {
    const key = JSON.parse(line).body.Authorize?.ByKey.key.secret_key
      ?? JSON.parse(line).body.Batch[0].ByKey.key.secret_key;
    const err = JSON.stringify({ code: 'InvalidParameter', message: `bad key "${key}" (${JSON.stringify(key)})` });
    const result = JSON.parse(line).body.Batch ? `{"Ok":{"Decisions":[{"Err":${err}}]}}` : `{"Err":${err}}`;
    sock.write(answer(line, result));
  });
  const c = await Client.connect(s.path);
  const e = await c.authorizeKey('AKIDexample', SECRET, 'im:SendMessage', '*').catch((x) => x);
  assert.ok(e instanceof CamdError);
  assert.match(e.message, /\[redacted\]/);
  assertHidden(e, 'the CamdError');
  const [item] = await c.authorizeBatch([byKey('AKIDexample', SECRET, 'im:SendMessage', '*')]);
  assert.ok(item instanceof CamdError);
  assertHidden(item, 'the batch item\'s CamdError');
  await c.close();
  await s.close();
});

test('garbage that echoes the request, and timeouts, show no SecretKey', async () => {
  const s = await fakeServer(tmp.dir, 'garbage', (line, sock) => sock.write(`${line.slice(line.indexOf('"secret_key"') + 14)}\n`));
  const c = await Client.connect(s.path);
  const e = await c.authorizeKey('AKIDexample', SECRET, 'im:SendMessage', '*').catch((x) => x);
  assert.ok(e instanceof CamdProtocolError, String(e));
  assertHidden(e, 'the protocol error');
  await c.close();
  await s.close();
  const quiet = await fakeServer(tmp.dir, 'quiet', () => {});
  const q = await Client.connect(quiet.path, { timeoutMs: 50 });
  const t = await q.authorizeKey('AKIDexample', SECRET, 'im:SendMessage', '*').catch((x) => x);
  assert.equal(t.name, 'CamdTimeoutError');
  assertHidden(t, 'the timeout');
  await q.close();
  await quiet.close();
});

test('argument errors do not repeat the SecretKey', async () => {
  const c = new Client('/nonexistent/camd.sock');
  const e = await c.authorizeKey('AKIDexample', `${SECRET}\ud800`, 'im:SendMessage', '*').catch((x) => x);
  assert.ok(e instanceof TypeError);
  assertHidden(e, 'the TypeError');
  const gone = await c.authorizeKey('AKIDexample', SECRET, 'im:SendMessage', '*').catch((x) => x);
  assertHidden(gone, 'the connection error');
});

test('the real camd\'s answer to a wrong SecretKey shows no key', { skip: needsCamd }, async () => {
  const c = await Client.connect(process.env.CAMD_SOCKET);
  const e = await c.authorizeKey(process.env.CAMD_TEST_KEY_ID, SECRET, 'im:SendMessage', '*').catch((x) => x);
  assert.equal(e.code, 'AuthFailure.InvalidAuthorization');
  assertHidden(e, 'camd\'s error');
  const real = process.env.CAMD_TEST_KEY_SECRET;
  const ok = await c.authorizeKey(process.env.CAMD_TEST_KEY_ID, real, 'im:SendMessage', '*').catch((x) => x);
  for (const v of [c, ok]) assert.ok(!shown(v).includes(real));
  await c.close();
});
