// The shared cases of tests/clients/cases.json against the real camd, each asked alone and all in one batch: every client must give these answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client, CamdError } from '../src/index.js';
import { cases, needsCamd } from '../test-support/scene.js';

/** A decision without its decision id, which differs from one decision to the next. */
const withoutId = (d) => {
  const { decisionId, ...rest } = d;
  return rest;
};

let client;
before(async () => {
  if (!needsCamd) client = await Client.connect(process.env.CAMD_SOCKET);
});
after(() => client?.close());

/** The call for one case's ask. */
function ask(c, a) {
  if (a.user !== undefined) return c.authorizeUser(a.user, a.action, a.resource, a.context ?? []);
  return c.authorizeKey(a.secret_id, a.secret_key, a.action, a.resource, a.context ?? []);
}

/** The answer (a Decision or a CamdError) against the case's expectation. */
function check(name, got, want) {
  if (want.error !== undefined) {
    assert.ok(got instanceof CamdError, `${name}: expected ${want.error}, got ${JSON.stringify(got)}`);
    assert.equal(got.code, want.error, `${name}: ${got.message}`);
    return;
  }
  assert.ok(!(got instanceof Error), `${name}: expected a decision, got ${got?.code}: ${got?.message}`);
  assert.deepEqual(
    { allowed: got.allowed, reason: got.reason, policy: got.policy, statement: got.statement },
    want,
    name,
  );
  assert.equal(typeof got.uin, 'number', `${name}: the uin`);
  assert.ok(got.uin > 0, `${name}: the uin`);
  // The scene's camd logs every decision, so every reply names its record.
  if (process.env.CAMD_TEST_DECISION_LOG) assert.match(got.decisionId, /^[0-9a-f]{16}$/, `${name}: the decision id`);
}

for (const c of cases()) {
  test(`case: ${c.name}`, { skip: needsCamd }, async () => {
    let got;
    try {
      got = await ask(client, c.ask);
    } catch (e) {
      if (!(e instanceof CamdError)) throw e;
      got = e;
    }
    check(c.name, got, c.expect);
  });
}

test('every case in one batch, answered in order', { skip: needsCamd }, async () => {
  const all = cases();
  const answers = await client.authorizeBatch(all.map((c) => c.ask));
  assert.equal(answers.length, all.length);
  all.forEach((c, i) => check(`batch: ${c.name}`, answers[i], c.expect));
});

test('the batch and the single calls agree, twice over, pipelined together', { skip: needsCamd }, async () => {
  const all = cases();
  const single = (c) => ask(client, c.ask).catch((e) => e);
  const [one, batch, again] = await Promise.all([
    Promise.all(all.map(single)),
    client.authorizeBatch(all.map((c) => c.ask)),
    Promise.all(all.map(single)),
  ]);
  const shape = (x) => (x instanceof CamdError ? { error: x.code } : withoutId(x));
  assert.deepEqual(one.map(shape), batch.map(shape));
  assert.deepEqual(again.map(shape), batch.map(shape));
});

test('a user by uin is the same user as by name', { skip: needsCamd }, async () => {
  const r = 'qcs::im::uin/100000000001:sdkappid/1400000001';
  const byName = await client.authorizeUser('reader', 'im:GetGroupInfo', r);
  const byNumber = await client.authorizeUser(byName.uin, 'im:GetGroupInfo', r);
  const byBigint = await client.authorizeUser(BigInt(byName.uin), 'im:GetGroupInfo', r);
  assert.deepEqual(withoutId(byNumber), withoutId(byName));
  assert.deepEqual(withoutId(byBigint), withoutId(byName));
});

test('AuthorizeAt in standalone mode: revision 0 decides, a later one is not reached', { skip: needsCamd }, async () => {
  const a = { user: 'reader', action: 'im:GetGroupInfo', resource: 'qcs::im::uin/100000000001:sdkappid/1400000001' };
  const d = await client.authorizeAt(0, a);
  assert.equal(d.allowed, true);
  await assert.rejects(client.authorizeAt(1_000_000n, a), { name: 'CamdError', code: 'FailedOperation.ClusterRevisionNotReached' });
});

test('ping answers the protocol version', { skip: needsCamd }, async () => {
  assert.equal(await client.ping(), 1);
});
