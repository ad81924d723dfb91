// The JSON-lines encoder and decoder against camd's golden vectors (tests/wire/*.jsonl): byte-exact request lines, every decision reply decoded, garbage refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { wire, decodeResponse, byKey, CamdError, CamdProtocolError, Client } from '../src/index.js';
import { vectors, needsCamd } from '../test-support/scene.js';

/** Our API's ask for a wire `Authorize` (as parsed from a vector). */
function askOf(a) {
  if (a.ByUser) {
    const u = a.ByUser.user;
    const user = 'Name' in u ? u.Name : BigInt(u.Uin);
    return { user, action: a.ByUser.action, resource: a.ByUser.resource, context: a.ByUser.context };
  }
  const k = a.ByKey;
  return byKey(k.key.secret_id, k.key.secret_key, k.action, k.resource, k.context);
}

/** The body our encoder makes for a vector's parsed body, or undefined for the kinds this client does not send. */
function encodeBody(body) {
  if (body === 'Ping') return wire.ping();
  if (typeof body !== 'object') return undefined;
  if (body.Authorize) return wire.authorize(askOf(body.Authorize));
  if (body.Batch) return wire.batch(body.Batch.map(askOf));
  if (body.AuthorizeAt) return wire.authorizeAt(body.AuthorizeAt.min_revision, askOf(body.AuthorizeAt.ask));
  if (body.AuthorizeSigned) {
    const s = body.AuthorizeSigned;
    const r = s.request;
    const p = 'Body' in r.payload ? { body: Buffer.from(r.payload.Body) } : { bodySha256: r.payload.Sha256Hex };
    return wire.authorizeSigned(
      { method: r.method, path: r.path, query: r.query, headers: r.headers, ...p },
      s.resource, s.context, s.action);
  }
  return undefined;
}

const SENT = ['Ping', 'Authorize', 'Batch', 'AuthorizeSigned', 'AuthorizeAt'];

test('every request this client sends encodes byte for byte as in requests.jsonl', () => {
  const seen = [];
  for (const v of vectors('requests')) {
    if (!SENT.includes(v.name)) continue;
    const req = JSON.parse(v.json);
    const body = encodeBody(req.body);
    assert.ok(body !== undefined, v.name);
    const auth = req.auth && { secretId: req.auth.secret_id, secretKey: req.auth.secret_key };
    assert.equal(wire.request(req.id, body, auth), v.json, v.name);
    seen.push(v.name);
  }
  assert.deepEqual(seen.sort(), [...SENT].sort(), 'a vector for each kind this client sends');
});

test('a uin encodes as serde does, up to u64::MAX; out of range is refused before sending', () => {
  const a = (user) => JSON.parse(wire.authorize({ user, action: 'im:X', resource: '*' })).Authorize.ByUser.user;
  assert.deepEqual(a(100000000002), { Uin: 100000000002 });
  assert.equal(wire.authorize({ user: 18446744073709551615n, action: 'a', resource: '*' }),
    '{"Authorize":{"ByUser":{"user":{"Uin":18446744073709551615},"action":"a","resource":"*","context":[]}}}');
  assert.throws(() => wire.authorize({ user: 1n << 64n, action: 'a', resource: '*' }), RangeError);
  assert.throws(() => wire.authorize({ user: -1, action: 'a', resource: '*' }), TypeError);
  assert.throws(() => wire.authorize({ user: 2 ** 60, action: 'a', resource: '*' }), TypeError);
  assert.throws(() => wire.authorize({ user: 'a\ud800', action: 'a', resource: '*' }), /lone surrogate/);
});

test('context and headers: pairs, a Map, an object (repeated values), a flat rawHeaders list', () => {
  const ctx = (context) => JSON.parse(wire.authorize({ user: 'u', action: 'a', resource: '*', context })).Authorize.ByUser.context;
  const want = [['qcs:ip', '10.0.0.1'], ['qcs:ip', '10.0.0.2'], ['k', 'v']];
  assert.deepEqual(ctx(want), want);
  assert.deepEqual(ctx({ 'qcs:ip': ['10.0.0.1', '10.0.0.2'], k: 'v' }), want);
  assert.deepEqual(ctx(new Map([['qcs:ip', ['10.0.0.1', '10.0.0.2']], ['k', 'v']])), want);
  assert.deepEqual(ctx(want.flat()), want);
  assert.deepEqual(ctx(undefined), []);
  assert.throws(() => ctx([['k', 1]]), TypeError);
});

test('a signed body over 1 KiB goes as its SHA-256, a smaller one as its bytes', () => {
  const signed = (body) => JSON.parse(wire.authorizeSigned({ headers: [], body }, '*', [], 'im')).AuthorizeSigned.request.payload;
  assert.deepEqual(signed('{}'), { Body: [123, 125] });
  assert.deepEqual(signed(''), { Body: [] });
  const big = Buffer.alloc(4096, 7);
  const h = signed(big);
  assert.match(h.Sha256Hex, /^[0-9a-f]{64}$/);
  assert.throws(() => wire.authorizeSigned({ headers: [], bodySha256: 'xyz' }, '*', [], 'im'), TypeError);
});

/** What a vector's parsed reply should decode to. */
function expected(parsed) {
  // These replies carry no decision_id (camd's decision log off): every decisionId is null.
  const dec = (d) => ({ allowed: d.allowed, reason: d.reason, policy: d.policy, statement: d.statement, uin: d.uin, decisionId: null });
  if (parsed.result.Err) return { ok: false, code: parsed.result.Err.code, message: parsed.result.Err.message };
  const ok = parsed.result.Ok;
  if (typeof ok === 'string') return { ok: true, type: ok };
  const type = Object.keys(ok)[0];
  const v = ok[type];
  if (type === 'Decision') return { ok: true, type, value: dec(v) };
  if (type === 'Decisions') {
    return { ok: true, type, value: v.map((x) => (x.Ok ? dec(x.Ok) : { code: x.Err.code, message: x.Err.message })) };
  }
  return { ok: true, type, value: v };
}

function shape(r) {
  if (!r.ok) return { ok: false, code: r.error.code, message: r.error.message };
  const value = r.type === 'Decisions'
    ? r.value.map((x) => (x instanceof CamdError ? { code: x.code, message: x.message } : x))
    : r.value;
  return value === undefined ? { ok: true, type: r.type } : { ok: true, type: r.type, value };
}

test('every Pong, Decision, Decisions and error reply of replies.jsonl decodes', () => {
  const wanted = ['Pong', 'Decision', 'Decisions', 'Error'];
  const seen = [];
  for (const v of vectors('replies')) {
    if (!wanted.includes(v.name)) continue;
    const parsed = JSON.parse(v.json);
    const r = decodeResponse(v.json);
    assert.equal(r.id, parsed.id, v.name);
    assert.equal(r.revision, parsed.revision, v.name);
    assert.deepEqual(shape(r), expected(parsed), v.name);
    if (!r.ok) assert.ok(r.error instanceof CamdError);
    seen.push(v.name);
  }
  assert.deepEqual(seen.sort(), [...wanted].sort());
  assert.equal(decodeResponse(vectors('replies').find((v) => v.name === 'Pong').json).revision, 40);
});

test('every other reply line decodes to its variant (the client refuses it as an answer to a decision)', () => {
  for (const v of vectors('replies')) {
    const r = decodeResponse(v.json);
    if (v.name !== 'Error') assert.equal(r.type, v.name, v.name);
  }
});

test('a uin past 2^53 comes out exact, as a bigint', () => {
  const r = decodeResponse('{"id":1,"result":{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":null,"statement":null,"uin":18446744073709551615}}}}');
  assert.equal(r.value.uin, 18446744073709551615n);
  const b = decodeResponse('{"id":1,"result":{"Ok":{"Decisions":[{"Ok":{"allowed":true,"reason":"Root","policy":null,"statement":null,"uin":9007199254740993}}]}}}');
  assert.equal(b.value[0].uin, 9007199254740993n);
});

test('garbage is refused with CamdProtocolError', () => {
  const bad = [
    'not json',
    '{"id":1',
    '[]',
    '{"id":-1,"result":{"Ok":{"Pong":1}}}',
    '{"id":"1","result":{"Ok":{"Pong":1}}}',
    '{"id":1}',
    '{"id":1,"result":{}}',
    '{"id":1,"result":{"Ok":{"Pong":1},"Err":{"code":"x","message":"y"}}}',
    '{"id":1,"result":{"Maybe":1}}',
    '{"id":1,"result":{"Err":{"code":7,"message":"y"}}}',
    '{"id":1,"result":{"Ok":{"Pong":"1"}}}',
    '{"id":1,"result":{"Ok":{"Decision":{"allowed":"yes","reason":"Allow","policy":null,"statement":null,"uin":1}}}}',
    '{"id":1,"result":{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":null,"statement":-1,"uin":1}}}}',
    '{"id":1,"result":{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":null,"statement":null}}}}',
    '{"id":1,"result":{"Ok":{"Decisions":{}}}}',
    '{"id":1,"result":{"Ok":{"Decisions":[{"Yes":1}]}}}',
    '{"id":1,"result":{"Ok":{"Pong":1,"Done":null}}}',
  ];
  for (const line of bad) assert.throws(() => decodeResponse(line), CamdProtocolError, line);
});

test('camd reads a u64::MAX uin from this encoder (and knows no such user)', { skip: needsCamd }, async () => {
  const c = await Client.connect(process.env.CAMD_SOCKET);
  try {
    await assert.rejects(c.authorizeUser(18446744073709551615n, 'im:GetGroupInfo', '*'),
      { code: 'ResourceNotFound.UserNotExist', message: /18446744073709551615/ });
  } finally {
    await c.close();
  }
});
