// The example program `check`: its exit codes (0 Allow, 1 Deny, 2 error with the CAM code), its output next to camctl's, and every shared case asked through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { cases, needsCamd, needsCamctl } from '../test-support/scene.js';

const CHECK = fileURLToPath(new URL('../check', import.meta.url));
const env = process.env;
const APP1 = 'qcs::im::uin/100000000001:sdkappid/1400000001';

function check(args, { secret, input, socket = env.CAMD_SOCKET } = {}) {
  const childEnv = { ...env };
  delete childEnv.CAMD_SECRET_KEY;
  if (secret !== undefined) childEnv.CAMD_SECRET_KEY = secret;
  const full = socket ? ['--socket', socket, ...args] : args;
  const out = spawnSync(process.execPath, [CHECK, ...full], { env: childEnv, input: input ?? '', encoding: 'utf8', timeout: 20_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

test('check runs as a program of its own (#!/usr/bin/env node): --help, exit 0', () => {
  const out = spawnSync(CHECK, ['--help'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^usage: check/);
});

test('without --action: exit 2, InvalidParameter and the usage', () => {
  const r = check(['--user', 'reader', '--resource', '*'], { socket: '/nonexistent.sock' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /InvalidParameter: --action is required/);
  assert.match(r.stderr, /usage: check/);
});

test('two of --user and --secret-id, or a bad --context: exit 2', () => {
  assert.equal(check(['--user', 'a', '--secret-id', 'b', '--action', 'im:X', '--resource', '*'], { socket: '/x' }).code, 2);
  const r = check(['--user', 'a', '--action', 'im:X', '--resource', '*', '--context', '[1]'], { socket: '/x' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /InvalidParameter: --context/);
  assert.equal(check(['--bogus'], { socket: '/x' }).code, 2);
});

test('--secret-id without a SecretKey: exit 2', () => {
  const r = check(['--secret-id', 'AKIDx', '--action', 'im:X', '--resource', '*'], { socket: '/x' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /InvalidParameter: --secret-id needs the SecretKey/);
});

test('no camd at the socket: exit 2 naming the path', () => {
  const r = check(['--user', 'reader', '--action', 'im:X', '--resource', '*'], { socket: '/nonexistent/camd.sock' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot talk to camd at `\/nonexistent\/camd.sock`/);
});

test('Allow: exit 0, the policy and statement', { skip: needsCamd }, () => {
  const r = check(['--user', 'reader', '--action', 'im:GetGroupInfo', '--resource', APP1]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Allow: Allow by policy `QcloudChatReadOnlyAccess` statement[0]\n');
});

test('Deny: exit 1, implicit and explicit', { skip: needsCamd }, () => {
  const implicit = check(['--user', 'reader', '--action', 'im:SendMessage', '--resource', APP1]);
  assert.equal(implicit.code, 1, implicit.stderr);
  assert.equal(implicit.stdout, 'Deny: no statement allows it (implicit deny)\n');
  const explicit = check(['--user', 'keeper', '--action', 'im:DestroyGroup', '--resource', APP1]);
  assert.equal(explicit.code, 1);
  assert.equal(explicit.stdout, 'Deny: ExplicitDeny by policy `NoDestroy` statement[1]\n');
});

test('an unknown user and a malformed action: exit 2 with the CAM code', { skip: needsCamd }, () => {
  const r = check(['--user', 'nobody', '--action', 'im:SendMessage', '--resource', APP1]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^check: ResourceNotFound\.UserNotExist: /);
  const m = check(['--user', 'reader', '--action', 'SendMessage', '--resource', '*']);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /^check: InvalidParameter: /);
});

test('by key, the SecretKey from CAMD_SECRET_KEY or stdin; a wrong one: exit 2, and never printed', { skip: needsCamd }, () => {
  const args = ['--secret-id', env.CAMD_TEST_KEY_ID, '--action', 'im:SendMessage', '--resource', APP1];
  const r = check(args, { secret: env.CAMD_TEST_KEY_SECRET });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Allow: Allow by policy `NoDestroy` statement\[0\]/);
  assert.equal(check(args, { input: `${env.CAMD_TEST_KEY_SECRET}\n` }).code, 0);
  const wrong = check(args, { secret: 'not-the-key-0123456789' });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /AuthFailure\.InvalidAuthorization/);
  assert.ok(!(wrong.stdout + wrong.stderr).includes('not-the-key-0123456789'));
  assert.ok(!(r.stdout + r.stderr).includes(env.CAMD_TEST_KEY_SECRET));
});

test('--json and the text agree with camctl check', { skip: needsCamctl }, () => {
  for (const [user, action] of [['reader', 'im:GetGroupInfo'], ['keeper', 'im:DestroyGroup'], ['reader', 'im:SendMessage']]) {
    const args = ['--user', user, '--action', action, '--resource', APP1, '--context', 'qcs:ip=10.0.0.1'];
    for (const json of [false, true]) {
      const extra = json ? ['--json'] : [];
      const ours = check([...extra, ...args]);
      const theirs = spawnSync(env.CAMD_TEST_CAMCTL, ['--socket', env.CAMD_SOCKET, ...extra, 'check', ...args], { encoding: 'utf8' });
      assert.equal(ours.code, theirs.status, `${user} ${action}`);
      if (json) {
        // Each decision has its own DecisionId (camd's decision log on): both carry one, or neither.
        const { DecisionId: mine, ...o } = JSON.parse(ours.stdout);
        const { DecisionId: camctls, ...t } = JSON.parse(theirs.stdout);
        assert.deepEqual(o, t);
        assert.equal(typeof mine, typeof camctls, 'a DecisionId in both or neither');
        if (mine !== undefined) assert.match(mine, /^[0-9a-f]{16}$/);
      }
      else assert.equal(ours.stdout, theirs.stdout);
    }
  }
});

for (const c of cases()) {
  test(`case through check: ${c.name}`, { skip: needsCamd }, () => {
    const a = c.ask;
    const args = ['--action', a.action, '--resource', a.resource];
    if (a.context) args.push('--context', JSON.stringify(a.context));
    const r = a.user !== undefined
      ? check(['--user', a.user, ...args])
      : check(['--secret-id', a.secret_id, ...args], { secret: a.secret_key });
    if (c.expect.error) {
      assert.equal(r.code, 2, r.stdout);
      assert.ok(r.stderr.startsWith(`check: ${c.expect.error}: `), r.stderr);
    } else {
      assert.equal(r.code, c.expect.allowed ? 0 : 1, r.stderr);
      assert.ok(r.stdout.startsWith(c.expect.allowed ? 'Allow: ' : 'Deny: '), r.stdout);
      if (c.expect.policy) assert.ok(r.stdout.includes(`\`${c.expect.policy}\` statement[${c.expect.statement}]`), r.stdout);
    }
  });
}
