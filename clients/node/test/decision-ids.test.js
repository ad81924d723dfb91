// Decision ids and traceparents on the wire, against fake servers: a reply's decision_id on each Decision (a batch's item i: the first + i), none when camd's log is off, a malformed one refused; the traceparent sent after the body only when given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client, CamdError, CamdProtocolError, byUser, byKey, decodeResponse, wire } from '../src/index.js';
import { fakeServer, tempDir } from '../test-support/scene.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const R = 'qcs::im::uin/100000000001:sdkappid/1400000001';
const DECISION = '{"allowed":true,"reason":"Allow","policy":"P","statement":0,"uin":200000000001}';
const DENY = '{"allowed":false,"reason":"ImplicitDeny","policy":null,"statement":null,"uin":200000000001}';
const ERR = '{"Err":{"code":"ResourceNotFound.UserNotExist","message":"user `nobody` does not exist"}}';

let tmp;
before(() => { tmp = tempDir(); });
after(() => tmp.remove());

let n = 0;
const fake = (onLine) => fakeServer(tmp.dir, `ids${n++}`, onLine);

/** A decision reply line as camd writes it with its decision log on. */
const logged = (id, result, decisionId) => `{"id":${id},"result":${result},"revision":0,"decision_id":"${decisionId}"}`;

test('a Decision carries the reply\'s decision_id; without one (the log off) it is null', () => {
  const on = decodeResponse(logged(7, `{"Ok":{"Decision":${DECISION}}}`, '1a23758a8bf00000'));
  assert.equal(on.decisionId, '1a23758a8bf00000');
  assert.equal(on.revision, 0);
  assert.equal(on.value.decisionId, '1a23758a8bf00000');
  const off = decodeResponse(`{"id":7,"result":{"Ok":{"Decision":${DECISION}}}}`);
  assert.equal(off.decisionId, undefined);
  assert.equal(off.value.decisionId, null);
  assert.deepEqual(Object.keys(off.value), ['allowed', 'reason', 'policy', 'statement', 'uin', 'decisionId']);
});

test('a batch\'s item i has the first id + i (u64 addition, carries and all); errors have none', () => {
  const batch = (first) => decodeResponse(logged(1, `{"Ok":{"Decisions":[{"Ok":${DECISION}},{"Ok":${DENY}},${ERR},{"Ok":${DECISION}}]}}`, first)).value;
  const ids = (v) => v.map((x) => (x instanceof CamdError ? x.code : x.decisionId));
  assert.deepEqual(ids(batch('1a23758a8bf00000')),
    ['1a23758a8bf00000', '1a23758a8bf00001', 'ResourceNotFound.UserNotExist', '1a23758a8bf00003']);
  assert.deepEqual(ids(batch('00000000fffffffe')),
    ['00000000fffffffe', '00000000ffffffff', 'ResourceNotFound.UserNotExist', '0000000100000001']);
  assert.deepEqual(ids(batch('fffffffffffffffe')),
    ['fffffffffffffffe', 'ffffffffffffffff', 'ResourceNotFound.UserNotExist', '0000000000000001']);
  const off = decodeResponse(`{"id":1,"result":{"Ok":{"Decisions":[{"Ok":${DECISION}},${ERR}]}}}`).value;
  assert.equal(off[0].decisionId, null);
  assert.ok(off[1] instanceof CamdError);
});

test('a decision_id that is not 16 lowercase hex digits is garbage', () => {
  for (const bad of ['"1A23758A8BF00000"', '"1a23758a8bf0000"', '"1a23758a8bf000000"', '"0x23758a8bf00000"', '123', 'null', '"1a23758a8bf0000g"']) {
    const line = `{"id":1,"result":{"Ok":{"Decision":${DECISION}}},"revision":0,"decision_id":${bad}}`;
    assert.throws(() => decodeResponse(line), CamdProtocolError, bad);
  }
});

test('the traceparent follows the body when given, and is not there otherwise', () => {
  const body = wire.ping();
  assert.equal(wire.request(1, body), '{"id":1,"auth":null,"body":"Ping"}');
  assert.equal(wire.request(1, body, null, null), '{"id":1,"auth":null,"body":"Ping"}');
  assert.equal(wire.request(1, body, null, TP), `{"id":1,"auth":null,"body":"Ping","traceparent":"${TP}"}`);
  // Not checked beyond being a string: camd ignores an invalid one.
  assert.equal(JSON.parse(wire.request(1, body, null, 'not a "traceparent"')).traceparent, 'not a "traceparent"');
  assert.throws(() => wire.request(1, body, null, 42), TypeError);
});

/** Every decision call, with and without a traceparent, against the fake camd that numbers its decisions from 0x100. */
async function everyCall(c, lines) {
  const o = { traceparent: TP };
  const ask = byUser('reader', 'im:GetGroupInfo', R);
  const got = [
    await c.authorizeUser('reader', 'im:GetGroupInfo', R, [], o),
    await c.authorizeKey('AKIDx', 'secret-key-x', 'im:GetGroupInfo', R, [], o),
    await c.authorize(byKey('AKIDx', 'secret-key-x', 'im:GetGroupInfo', R), o),
    ...await c.authorizeBatch([ask, ask], o),
    await c.authorizeSigned({ headers: [], body: '{}' }, R, [], 'im', o),
    await c.authorizeAt(0, ask, o),
    await c.authorizeUser('reader', 'im:GetGroupInfo', R),
    await c.authorizeUser('reader', 'im:GetGroupInfo', R, [], { traceparent: null }),
    ...await c.authorizeBatch([ask]),
  ];
  assert.deepEqual(got.map((d) => d.decisionId), [
    '0000000000000100', '0000000000000101', '0000000000000102', '0000000000000103', '0000000000000104',
    '0000000000000105', '0000000000000106', '0000000000000107', '0000000000000108', '0000000000000109',
  ]);
  const traced = lines.map((l) => JSON.parse(l).traceparent);
  assert.deepEqual(traced, [TP, TP, TP, TP, TP, TP, undefined, undefined, undefined]);
  for (const l of lines.slice(0, 6)) assert.ok(l.endsWith(`},"traceparent":"${TP}"}`), l);
  assert.equal(lines[6], wire.request(JSON.parse(lines[6]).id, wire.authorize(ask)));
  await assert.rejects(c.authorizeUser('reader', 'im:GetGroupInfo', R, [], { traceparent: 1 }), TypeError);
  await assert.rejects(c.authorizeBatch([ask], 'traceparent'), TypeError);
  assert.equal(lines.length, 9, 'nothing sent for a bad traceparent');
}

test('every decision call sends { traceparent } and returns the reply\'s ids; without it, the same line as before', async () => {
  const lines = [];
  let next = 0x100;
  const s = await fake((line, sock) => {
    lines.push(line);
    const req = JSON.parse(line);
    const id = next.toString(16).padStart(16, '0');
    next += req.body.Batch ? req.body.Batch.length : 1;
    const result = req.body.Batch
      ? `{"Ok":{"Decisions":[${req.body.Batch.map(() => `{"Ok":${DECISION}}`).join(',')}]}}`
      : `{"Ok":{"Decision":${DECISION}}}`;
    sock.write(`${logged(req.id, result, id)}\n`);
  });
  const c = await Client.connect(s.path);
  try {
    await everyCall(c, lines);
  } finally {
    await c.close();
    await s.close();
  }
});
