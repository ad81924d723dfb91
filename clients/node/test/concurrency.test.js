// One Client shared by 500 concurrent calls (and batches among them) against the real camd: each gets its own right answer, on one pipelined connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, CamdError, CamdConnectionError, byKey, byUser } from '../src/index.js';
import { needsCamd } from '../test-support/scene.js';

const env = process.env;
const APP1 = 'qcs::im::uin/100000000001:sdkappid/1400000001';
const APP2 = 'qcs::im::uin/100000000001:sdkappid/1400000002';

/** Questions whose answers differ, so that an answer given to the wrong call shows. */
function questions() {
  return [
    [byUser('reader', 'im:GetGroupInfo', APP1), { allowed: true, reason: 'Allow', policy: 'QcloudChatReadOnlyAccess', statement: 0 }],
    [byUser('reader', 'im:SendMessage', APP1), { allowed: false, reason: 'ImplicitDeny', policy: null, statement: null }],
    [byUser('keeper', 'im:DestroyGroup', APP1), { allowed: false, reason: 'ExplicitDeny', policy: 'NoDestroy', statement: 1 }],
    [byUser('keeper', 'im:SendMessage', APP1), { allowed: true, reason: 'Allow', policy: 'NoDestroy', statement: 0 }],
    [byKey(env.CAMD_TEST_KEY_ID, env.CAMD_TEST_KEY_SECRET, 'im:SendMessage', APP2), { allowed: false, reason: 'ImplicitDeny', policy: null, statement: null }],
    [byUser('nobody', 'im:GetGroupInfo', '*'), { error: 'ResourceNotFound.UserNotExist' }],
    [byUser('reader', 'GetGroupInfo', '*'), { error: 'InvalidParameter' }],
  ];
}

function same(got, want, what) {
  if (want.error) {
    assert.ok(got instanceof CamdError, `${what}: ${JSON.stringify(got)}`);
    assert.equal(got.code, want.error, what);
  } else {
    assert.ok(!(got instanceof Error), `${what}: ${got?.message}`);
    const { uin, decisionId, ...rest } = got;
    assert.deepEqual(rest, want, what);
  }
}

test('500 concurrent calls on one client: every answer is its own call\'s', { skip: needsCamd }, async () => {
  const c = await Client.connect(env.CAMD_SOCKET);
  const qs = questions();
  const calls = [];
  for (let i = 0; i < 500; i++) {
    const [ask, want] = qs[i % qs.length];
    let p;
    if (i % 50 === 7) {
      // A batch now and then, in the same stream.
      p = c.authorizeBatch(qs.map(([a]) => a)).then((all) => all.forEach((got, j) => same(got, qs[j][1], `call ${i} item ${j}`)));
    } else if (i % 10 === 3) {
      p = c.ping().then((v) => assert.equal(v, 1));
    } else {
      p = c.authorize(ask).catch((e) => e).then((got) => same(got, want, `call ${i}`));
    }
    calls.push(p);
  }
  const settled = await Promise.allSettled(calls);
  const failed = settled.filter((s) => s.status === 'rejected');
  assert.deepEqual(failed.map((f) => f.reason.message), []);
  assert.equal(c.connected, true);
  await c.close();
});

test('calls from many async tasks interleaved with awaits', { skip: needsCamd }, async () => {
  const c = await Client.connect(env.CAMD_SOCKET);
  const qs = questions();
  const worker = async (w) => {
    for (let i = 0; i < 25; i++) {
      const [ask, want] = qs[(w + i) % qs.length];
      same(await c.authorize(ask).catch((e) => e), want, `worker ${w} call ${i}`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
  await c.close();
});

test('a batch of 4,096 and one over max_batch_items', { skip: needsCamd }, async () => {
  const c = await Client.connect(env.CAMD_SOCKET);
  const qs = questions().filter(([a]) => a.user !== undefined).slice(0, 4);
  const asks = Array.from({ length: 4096 }, (_, i) => qs[i % qs.length][0]);
  // camd's max_frame_bytes may be small (64 KiB in the tests): send in chunks that fit.
  const chunk = 256;
  const answers = [];
  for (let i = 0; i < asks.length; i += chunk) answers.push(...await c.authorizeBatch(asks.slice(i, i + chunk)));
  answers.forEach((got, i) => same(got, qs[i % qs.length][1], `item ${i}`));
  const tiny = { user: 'u', action: 'a', resource: '*' };
  const over = Array.from({ length: 4097 }, () => tiny);
  // As JSON lines a batch over max_batch_items is also over the tests' 64 KiB max_frame_bytes:
  // camd answers an id-0 MalformedRequest and closes, racing with the rest of the line (EPIPE).
  const e = await c.authorizeBatch(over).catch((x) => x);
  assert.ok((e instanceof CamdError && ['LimitExceeded.BatchSize', 'InvalidParameter.MalformedRequest'].includes(e.code))
    || e instanceof CamdConnectionError, String(e));
  // The connection (or its replacement) goes on.
  assert.equal(await c.ping(), 1);
  // Told camd's max_frame_bytes, the client refuses such a line before sending it.
  const bounded = await Client.connect(env.CAMD_SOCKET, { maxLineBytes: 65536 });
  await assert.rejects(bounded.authorizeBatch(over), (x) => x instanceof RangeError && /over maxLineBytes \(65536/.test(x.message));
  assert.equal(bounded.connected, true);
  assert.equal(await bounded.ping(), 1);
  await bounded.close();
  await c.close();
});
