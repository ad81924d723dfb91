// The client against fake servers (net.createServer on a Unix path): a connection closed mid-line or silent, garbage, wrong ids, out-of-order answers, reconnects and the one retry; every call ends, fast, never with a wrong answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { Client, CamdError, CamdConnectionError, CamdProtocolError, CamdTimeoutError } from '../src/index.js';
import { fakeServer, tempDir, answer, timed, PONG, ALLOW } from '../test-support/scene.js';

let tmp;
before(() => { tmp = tempDir(); });
after(() => tmp.remove());

let n = 0;
const fake = (onLine, onConnection) => fakeServer(tmp.dir, `fake${n++}`, onLine, onConnection);
const R = 'qcs::im::uin/100000000001:sdkappid/1400000001';

test('a server that closes in the middle of a line: CamdConnectionError at once (after the one retry)', async () => {
  const s = await fake((line, sock) => {
    sock.write(answer(line, '{"Ok":{"Deci').slice(0, 30));
    setImmediate(() => sock.destroy());
  });
  const c = await Client.connect(s.path);
  const { ms, error } = await timed(() => c.authorizeUser('reader', 'im:GetGroupInfo', R));
  assert.ok(error instanceof CamdConnectionError, String(error));
  assert.ok(!(error instanceof CamdTimeoutError), 'not a timeout');
  assert.match(error.message, /closed/);
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(s.state.connections, 2, 'sent once more on a new connection');
  await c.close();
  await s.close();
});

test('a server that never answers: CamdTimeoutError after timeoutMs', async () => {
  const s = await fake(() => {});
  const c = await Client.connect(s.path, { timeoutMs: 150 });
  const { ms, error } = await timed(() => c.ping());
  assert.ok(error instanceof CamdTimeoutError, String(error));
  assert.ok(error instanceof CamdConnectionError);
  assert.equal(error.timeoutMs, 150);
  assert.ok(ms >= 140 && ms < 1000, `took ${ms} ms`);
  // Many at once end too, each by its own deadline.
  const all = await Promise.allSettled(Array.from({ length: 50 }, () => c.ping()));
  assert.ok(all.every((r) => r.status === 'rejected' && r.reason instanceof CamdConnectionError));
  await c.close();
  await s.close();
});

test('a server that accepts and closes before any byte: CamdConnectionError', async () => {
  const s = await fake(() => {}, (sock) => sock.destroy());
  const c = new Client(s.path);
  const { ms, error } = await timed(() => c.ping());
  assert.ok(error instanceof CamdConnectionError, String(error));
  assert.ok(ms < 1000);
  await s.close();
});

test('no socket at the path: CamdConnectionError naming the path', async () => {
  const path = join(tmp.dir, 'nothing.sock');
  const { ms, error } = await timed(() => Client.connect(path));
  assert.ok(error instanceof CamdConnectionError);
  assert.ok(error.message.includes(path), error.message);
  assert.equal(error.cause?.code, 'ENOENT');
  assert.ok(ms < 1000);
});

for (const [what, reply, code] of [
  ['a line that is not JSON', () => 'HTTP/1.1 400 Bad Request\r\n\r\n', /not JSON/],
  ['an answer to a request never sent', () => '{"id":999,"result":{"Ok":{"Pong":1}}}\n', /request 999/],
  ['a Done reply to a decision', (line) => answer(line, '{"Ok":"Done"}'), /Done/],
  ['a Pong reply to a decision', (line) => answer(line, PONG), /Pong/],
  ['a decision missing its uin', (line) => answer(line, '{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":null,"statement":null}}}'), /wrong type/],
  ['bytes that are not UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), /UTF-8/],
]) {
  test(`garbage (${what}): CamdProtocolError, never a decision`, async () => {
    const s = await fake((line, sock) => sock.write(reply(line)));
    const c = await Client.connect(s.path);
    const { ms, error } = await timed(() => c.authorizeUser('reader', 'im:GetGroupInfo', R));
    assert.ok(error instanceof CamdProtocolError, String(error));
    assert.match(error.message, code);
    assert.ok(ms < 1000);
    await c.close();
    await s.close();
  });
}

test('a batch answered with the wrong number of answers: CamdProtocolError', async () => {
  const s = await fake((line, sock) => sock.write(answer(line, `{"Ok":{"Decisions":[${ALLOW.slice(6, -1)}]}}`.replace('"Decisions":[{"Decision":', '"Decisions":[{"Ok":'))));
  const c = await Client.connect(s.path);
  const one = { user: 'u', action: 'im:X', resource: '*' };
  const got = await c.authorizeBatch([one]);
  assert.equal(got.length, 1);
  assert.equal(got[0].allowed, true);
  await assert.rejects(c.authorizeBatch([one, one]), (e) => e instanceof CamdProtocolError && /1 answers for 2/.test(e.message));
  await c.close();
  await s.close();
});

test('answers out of order are matched to their calls by id', async () => {
  // Holds requests in pairs and answers the second first, each with its own user as the reason.
  let held = null;
  const s = await fake((line, sock) => {
    const user = JSON.parse(line).body.Authorize.ByUser.user.Name;
    const reply = answer(line, `{"Ok":{"Decision":{"allowed":true,"reason":"${user}","policy":null,"statement":null,"uin":1}}}`);
    if (held === null) held = reply;
    else {
      sock.write(reply + held);
      held = null;
    }
  });
  const c = await Client.connect(s.path);
  const users = Array.from({ length: 100 }, (_, i) => `user${i}`);
  const got = await Promise.all(users.map((u) => c.authorizeUser(u, 'im:X', '*')));
  assert.deepEqual(got.map((d) => d.reason), users);
  await c.close();
  await s.close();
});

test('an answer split byte by byte, with multi-byte UTF-8, decodes whole', async () => {
  const s = await fake((line, sock) => {
    const bytes = Buffer.from(answer(line, '{"Err":{"code":"InvalidParameter","message":"资源 `✓` 🙂"}}'));
    let i = 0;
    const next = () => {
      if (i < bytes.length) {
        sock.write(bytes.subarray(i, i + 1));
        i++;
        setImmediate(next);
      }
    };
    next();
  });
  const c = await Client.connect(s.path);
  await assert.rejects(c.ping(), (e) => e instanceof CamdError && e.code === 'InvalidParameter' && e.message === '资源 `✓` 🙂');
  await c.close();
  await s.close();
});

test('an id-0 error (a line camd could not read) goes to the oldest waiting call', async () => {
  let count = 0;
  const s = await fake((line, sock) => {
    count++;
    sock.write(count === 1
      ? '{"id":0,"result":{"Err":{"code":"InvalidParameter.MalformedRequest","message":"malformed message"}}}\n'
      : answer(line, PONG));
  });
  const c = await Client.connect(s.path);
  const [a, b] = await Promise.allSettled([c.ping(), c.ping()]);
  assert.equal(a.status, 'rejected');
  assert.equal(a.reason.code, 'InvalidParameter.MalformedRequest');
  assert.equal(b.value, 1);
  await c.close();
  await s.close();
});

test('after the server closes an idle connection, the next call opens a new one', async () => {
  const s = await fake((line, sock) => {
    sock.write(answer(line, PONG));
    setTimeout(() => sock.end(), 5);
  });
  const c = await Client.connect(s.path);
  for (let i = 0; i < 3; i++) {
    assert.equal(await c.ping(), 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(c.connected, false);
  }
  assert.equal(await c.ping(), 1);
  assert.equal(s.state.connections, 4);
  await c.close();
  await s.close();
});

test('calls caught on a connection that dies are sent once more on a new one', async () => {
  const s = await fake((line, sock, state) => {
    if (state.connections === 1) sock.destroy();
    else sock.write(answer(line, ALLOW));
  });
  const c = await Client.connect(s.path);
  const got = await Promise.all(Array.from({ length: 20 }, () => c.authorizeUser('u', 'im:X', '*')));
  assert.ok(got.every((d) => d.allowed === true));
  assert.equal(s.state.connections, 2);
  await c.close();
  await s.close();
});

test('a late answer to a timed-out call is dropped; the connection goes on', async () => {
  let release;
  const s = await fake((line, sock) => {
    const { body } = JSON.parse(line);
    const reply = answer(line, body === 'Ping' ? PONG : ALLOW);
    if (body.Authorize?.ByUser.user.Name === 'slow') release = () => sock.write(reply);
    else sock.write(reply);
  });
  const c = await Client.connect(s.path, { timeoutMs: 500 });
  const slow = c.authorizeUser('slow', 'im:X', '*');
  assert.equal(await c.ping(), 1);
  await assert.rejects(slow, CamdTimeoutError);
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await c.ping(), 1);
  assert.equal(s.state.connections, 1, 'the same connection');
  await c.close();
  await s.close();
});

test('a connection silent for a whole call is replaced; the calls on it are sent once more', async () => {
  let first = true;
  const s = await fake((line, sock, state) => {
    if (state.connections === 1) return; // the first connection never answers
    sock.write(answer(line, PONG));
    first = false;
  });
  const c = await Client.connect(s.path, { timeoutMs: 300 });
  const a = c.ping();
  await new Promise((r) => setTimeout(r, 100));
  const b = c.ping();
  await assert.rejects(a, CamdTimeoutError);
  assert.equal(await b, 1, 'sent again on a new connection when the first was dropped');
  assert.equal(first, false);
  assert.equal(s.state.connections, 2);
  await c.close();
  await s.close();
});

test('close(): calls in flight finish, later calls are refused, the process is not held', async () => {
  const s = await fake((line, sock) => setTimeout(() => sock.write(answer(line, PONG)), 20));
  const c = await Client.connect(s.path);
  const inFlight = c.ping();
  const closed = c.close();
  await assert.rejects(c.ping(), (e) => e instanceof CamdConnectionError && /closed/.test(e.message));
  assert.equal(await inFlight, 1);
  await closed;
  assert.equal(c.connected, false);
  await s.close();
});

test('arguments are checked before anything is sent', async () => {
  const s = await fake((line, sock) => sock.write(answer(line, ALLOW)));
  const c = await Client.connect(s.path);
  await assert.rejects(c.authorizeUser({}, 'im:X', '*'), TypeError);
  await assert.rejects(c.authorizeUser('u', 7, '*'), TypeError);
  await assert.rejects(c.authorizeKey('AKID', undefined, 'im:X', '*'), TypeError);
  await assert.rejects(c.authorizeBatch('no'), TypeError);
  await assert.rejects(c.authorizeAt(1.5, { user: 'u', action: 'im:X', resource: '*' }), TypeError);
  assert.equal(s.state.lines, 0);
  await c.close();
  await s.close();
});
