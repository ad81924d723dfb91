// camd's decision log ($CAMD_TEST_DECISION_LOG) against the decisions this client got: a single decision and a batch sent with a traceparent, each id found in exactly one record with the same answer and the trace's ids.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client, CamdError, byUser } from '../src/index.js';
import { needsCamd } from '../test-support/scene.js';

const env = process.env;
const LOG = env.CAMD_TEST_DECISION_LOG;
const skip = needsCamd || (LOG
  ? false
  : 'CAMD_TEST_DECISION_LOG is unset: this test reads camd\'s decision log file (tests/clients.rs sets it)');

const APP1 = 'qcs::im::uin/100000000001:sdkappid/1400000001';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

/** The id after `id` (u64 addition), as camd numbers a batch's items. */
const plus = (id, i) => BigInt.asUintN(64, BigInt(`0x${id}`) + BigInt(i)).toString(16).padStart(16, '0');

/**
 * The log's records of these ids, each id's list of records, once every id
 * has one (the writer flushes within milliseconds); polls for up to 5 s.
 */
async function records(ids) {
  const deadline = performance.now() + 5000;
  for (;;) {
    const found = new Map(ids.map((id) => [id, []]));
    let text = '';
    try {
      text = await readFile(LOG, 'utf8');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!ids.some((id) => line.includes(id))) continue;
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue; // the last line, still being written
      }
      found.get(r.decision_id)?.push(r);
    }
    if ([...found.values()].every((rs) => rs.length > 0) || performance.now() > deadline) return found;
    await sleep(25);
  }
}

/** `d`'s id names exactly one record, which holds the same answer and the trace. */
function matches(found, d, path, what) {
  assert.match(d.decisionId, /^[0-9a-f]{16}$/, `${what}: a decision id`);
  const rs = found.get(d.decisionId);
  assert.equal(rs.length, 1, `${what}: exactly one record with decision_id ${d.decisionId} in ${LOG}`);
  const [r] = rs;
  assert.equal(r.result.allowed, d.allowed, `${what}: result.allowed`);
  assert.equal(r.result.reason, d.reason, `${what}: result.reason`);
  assert.equal(r.result.outcome, d.allowed ? 'allow' : 'deny', `${what}: result.outcome`);
  assert.equal(r.trace_id, TRACE_ID, `${what}: trace_id`);
  assert.equal(r.span_id, SPAN_ID, `${what}: span_id`);
  assert.equal(r.path, path, `${what}: path`);
}

/** The two calls of the test, with the traceparent; their answers and the ids whose records to look for. */
async function decide(client) {
  const options = { traceparent: TRACEPARENT };
  const single = await client.authorizeUser('reader', 'im:GetGroupInfo', APP1, [], options);
  const batch = await client.authorizeBatch([
    byUser('reader', 'im:GetGroupInfo', APP1),
    byUser('reader', 'im:DestroyGroup', APP1),
    byUser('nobody', 'im:GetGroupInfo', APP1),
  ], options);
  assert.equal(single.allowed, true);
  const [allow, deny, error] = batch;
  assert.equal(allow.allowed, true);
  assert.equal(deny.allowed, false);
  assert.ok(error instanceof CamdError, `the unknown user is an error: ${JSON.stringify(error)}`);
  assert.equal(error.code, 'ResourceNotFound.UserNotExist');
  assert.match(single.decisionId ?? '', /^[0-9a-f]{16}$/, 'the single decision\'s id');
  assert.match(allow.decisionId ?? '', /^[0-9a-f]{16}$/, 'the batch\'s first id');
  assert.equal(deny.decisionId, plus(allow.decisionId, 1), 'item 1: the first id + 1');
  assert.notEqual(single.decisionId, allow.decisionId);
  const third = plus(allow.decisionId, 2);
  return { single, allow, deny, error, third, ids: [single.decisionId, allow.decisionId, deny.decisionId, third] };
}

let client;
after(() => client?.close());

test('a decision and a batch sent with a traceparent are logged under the ids they came back with', { skip }, async () => {
  client = await Client.connect(env.CAMD_SOCKET);
  let got = await decide(client);
  let found = await records(got.ids);
  if (got.ids.some((id) => found.get(id).length === 0)) {
    // Records still queued when camd is SIGKILLed are lost: restart.test.js
    // may have restarted it just then (test files can run in parallel). Once more.
    got = await decide(client);
    found = await records(got.ids);
  }
  matches(found, got.single, 'Authorize', 'the single decision');
  matches(found, got.allow, 'Batch', 'batch item 0');
  matches(found, got.deny, 'Batch', 'batch item 1');
  const errors = found.get(got.third);
  assert.equal(errors.length, 1, `batch item 2: exactly one record with decision_id ${got.third} in ${LOG}`);
  assert.equal(errors[0].result.outcome, 'error');
  assert.equal(errors[0].result.reason, got.error.code);
  assert.equal(errors[0].trace_id, TRACE_ID);
});
