// A real restart: camd SIGKILLed and started again by the scene's restart service ($CAMD_TEST_RESTART_SOCKET) under the same Client: it reconnects by itself, and concurrent callers across the restart never get a wrong answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { Client, CamdConnectionError } from '../src/index.js';

const env = process.env;
const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';
const RIGHT = { allowed: true, reason: 'Allow', policy: 'QcloudChatReadOnlyAccess', statement: 0 };
const skip = env.CAMD_SOCKET && env.CAMD_TEST_RESTART_SOCKET
  ? false
  : 'CAMD_TEST_RESTART_SOCKET (and CAMD_SOCKET) unset: no restart service to restart camd with';

/** Asks the restart service to kill camd and start it again; resolves once camd serves again. */
function restartCamd() {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.createConnection(env.CAMD_TEST_RESTART_SOCKET, () => s.write('restart\n'));
    s.setTimeout(30000, () => s.destroy(new Error('the restart service did not answer')));
    s.on('data', (b) => {
      got += b.toString('utf8');
      if (got.includes('\n')) {
        s.destroy();
        if (got === 'ok\n') resolve();
        else reject(new Error(`the restart service answered ${JSON.stringify(got)}`));
      }
    });
    s.on('error', reject);
  });
}

const shape = (d) => ({ allowed: d.allowed, reason: d.reason, policy: d.policy, statement: d.statement });
const ask = (camd) => camd.authorizeUser('reader', 'im:GetGroupInfo', APP);

test('the same client answers right after camd really restarted', { skip, timeout: 20000 }, async () => {
  const camd = await Client.connect(env.CAMD_SOCKET);
  try {
    assert.deepEqual(shape(await ask(camd)), RIGHT);
    await restartCamd();
    // camd serves again: a connection error here is a failure (the client reconnects by itself).
    assert.deepEqual(shape(await ask(camd)), RIGHT);
  } finally {
    await camd.close();
  }
});

test('concurrent callers across a real restart get only right answers', { skip, timeout: 20000 }, async () => {
  const camd = await Client.connect(env.CAMD_SOCKET);
  const tally = { right: 0, rightAfter: 0, errors: 0, wrong: [] };
  let stop = false;
  let restarted = false;
  const caller = async () => {
    while (!stop) {
      try {
        const got = shape(await ask(camd));
        try {
          assert.deepEqual(got, RIGHT);
          tally.right++;
          if (restarted) tally.rightAfter++;
        } catch {
          tally.wrong.push(got);
        }
      } catch (e) {
        if (!(e instanceof CamdConnectionError)) throw e;
        tally.errors++; // camd was down: counted, never a wrong answer
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  try {
    const callers = Array.from({ length: 16 }, caller);
    await new Promise((r) => setTimeout(r, 300));
    await restartCamd();
    restarted = true;
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await Promise.all(callers);
  } finally {
    stop = true;
    await camd.close();
  }
  console.error(`restart: ${tally.right} right answers (${tally.rightAfter} after it), ${tally.errors} connection errors while camd was down`);
  assert.deepEqual(tally.wrong, []);
  assert.ok(tally.rightAfter > 0, `no right answer after the restart: ${JSON.stringify(tally)}`);
});
