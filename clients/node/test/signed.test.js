// Signed requests: TC3-HMAC-SHA256 signed here with node:crypto, received by a node:http server, decided by camd through authorizeSigned, and the same raw HTTP bytes given to `camctl verify`: both must agree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';

import { Client, CamdError } from '../src/index.js';
import { needsCamd, needsCamctl, tempDir } from '../test-support/scene.js';

const env = process.env;
const APP1 = 'qcs::im::uin/100000000001:sdkappid/1400000001';
const APP2 = 'qcs::im::uin/100000000001:sdkappid/1400000002';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/** Tencent Cloud API 3.0's TC3-HMAC-SHA256 Authorization header for a POST /. */
function authorization({ secretId, secretKey, service, timestamp, headers, signed, body }) {
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const value = (name) => headers.find(([k]) => k.toLowerCase() === name)[1].trim().toLowerCase();
  const canonicalHeaders = signed.map((n) => `${n}:${value(n)}\n`).join('');
  const canonical = `POST\n/\n\n${canonicalHeaders}\n${signed.join(';')}\n${sha256(body)}`;
  const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${sha256(canonical)}`;
  const key = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  const signature = hmac(key, toSign).toString('hex');
  return `TC3-HMAC-SHA256 Credential=${secretId}/${date}/${service}/tc3_request, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}

/** The raw bytes of a request as Tencent's SDKs send it, signed for `service`. */
function rawRequest({ secretId = env.CAMD_TEST_KEY_ID, secretKey = env.CAMD_TEST_KEY_SECRET, service = 'im',
  action = 'SendMessage', timestamp = Math.floor(Date.now() / 1000), body = '{"GroupId":"@TGS#1","Text":"hello"}',
  tamper = (b) => b } = {}) {
  const payload = Buffer.from(body);
  const headers = [
    ['Content-Type', 'application/json'],
    ['Host', 'console.tim.qq.com'],
    ['X-TC-Action', action],
    ['X-TC-Timestamp', String(timestamp)],
    ['X-TC-Version', '2020-01-01'],
  ];
  const auth = authorization({ secretId, secretKey, service, timestamp, headers, signed: ['content-type', 'host', 'x-tc-action'], body: payload });
  const sent = tamper(payload);
  const head = [['Authorization', auth], ...headers, ['Content-Length', String(sent.length)]]
    .map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\n${head}\r\n`), sent]);
}

test('the signer in this test gives Tencent\'s published signature', () => {
  const body = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
  const got = authorization({
    secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******',
    secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******',
    service: 'cvm',
    timestamp: 1551113065,
    headers: [['Content-Type', 'application/json; charset=utf-8'], ['Host', 'cvm.tencentcloudapi.com']],
    signed: ['content-type', 'host'],
    body: Buffer.from(body),
  });
  assert.match(got, /Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c$/);
});

let client;
let server;
let serverPath;
let dir;
let lastRequest;

before(async () => {
  if (needsCamd) return;
  client = await Client.connect(env.CAMD_SOCKET);
  dir = tempDir();
  serverPath = join(dir.dir, 'http.sock');
  // A Chat server: what it received, as it received it.
  server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      const [path, query = ''] = req.url.split(/\?(.*)/s);
      lastRequest = { method: req.method, path, query, headers: req.rawHeaders, body: Buffer.concat(parts) };
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(serverPath, resolve));
});

after(async () => {
  await client?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
  dir?.remove();
});

/** Sends raw bytes to the HTTP server; what it received. */
async function receive(raw) {
  lastRequest = undefined;
  await new Promise((resolve, reject) => {
    const s = net.createConnection(serverPath, () => s.end(raw));
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', reject);
  });
  assert.ok(lastRequest, 'the server got the request');
  return lastRequest;
}

/** camctl verify on the raw bytes: {decision} or {error: code}. */
function camctl(raw, resource, { service, action } = {}) {
  const args = ['--socket', env.CAMD_SOCKET, '--json', 'verify', '--resource', resource];
  if (action) args.push('--action', action);
  else args.push('--service', service ?? 'im');
  const out = spawnSync(env.CAMD_TEST_CAMCTL, args, { input: raw, encoding: 'utf8' });
  const j = JSON.parse(out.stdout);
  if (j.Error) {
    assert.equal(out.status, 2, out.stderr);
    return { error: j.Error.Code };
  }
  assert.equal(out.status, j.Decision === 'Allow' ? 0 : 1, out.stderr);
  return { allowed: j.Decision === 'Allow', reason: j.Reason, policy: j.PolicyName, statement: j.StatementIndex, uin: j.Uin };
}

/** authorizeSigned on what the server received: the same shape. */
async function ours(req, resource, action = 'im') {
  try {
    // camctl's shape has no decision id (each decision has its own).
    const { decisionId, ...d } = await client.authorizeSigned(req, resource, [], action);
    return d;
  } catch (e) {
    if (e instanceof CamdError) return { error: e.code };
    throw e;
  }
}

const both = async (raw, resource, opts = {}) => {
  const req = await receive(raw);
  const mine = await ours(req, resource, opts.action ?? opts.service ?? 'im');
  const theirs = camctl(raw, resource, opts);
  assert.deepEqual(mine, theirs);
  return mine;
};

test('signed SendMessage by the keeper\'s key: Allow, as camctl verify says', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest(), APP1);
  assert.equal(d.allowed, true);
  assert.equal(d.reason, 'Allow');
  assert.equal(d.policy, 'NoDestroy');
  assert.equal(d.statement, 0);
});

test('signed DestroyGroup: ExplicitDeny with its statement, in both', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest({ action: 'DestroyGroup' }), APP1);
  assert.deepEqual([d.allowed, d.reason, d.policy, d.statement], [false, 'ExplicitDeny', 'NoDestroy', 1]);
});

test('another app: ImplicitDeny in both', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest(), APP2);
  assert.deepEqual([d.allowed, d.reason], [false, 'ImplicitDeny']);
});

test('the action named in full rather than by service', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest({ action: 'DestroyGroup' }), APP1, { action: 'im:GetGroupInfo' });
  assert.equal(d.allowed, true);
});

test('a body changed after signing: SignatureFailure in both', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest({ tamper: (b) => Buffer.from(b.toString().replace('hello', 'HELLO')) }), APP1);
  assert.deepEqual(d, { error: 'AuthFailure.SignatureFailure' });
});

test('a timestamp an hour old: SignatureExpire in both', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest({ timestamp: Math.floor(Date.now() / 1000) - 3600 }), APP1);
  assert.deepEqual(d, { error: 'AuthFailure.SignatureExpire' });
});

test('signed with the disabled key: SecretIdNotFound in both', { skip: needsCamctl }, async () => {
  const raw = rawRequest({ secretId: env.CAMD_TEST_DISABLED_KEY_ID, secretKey: env.CAMD_TEST_DISABLED_KEY_SECRET });
  assert.deepEqual(await both(raw, APP1), { error: 'AuthFailure.SecretIdNotFound' });
});

test('signed for another service than the one asking: refused in both', { skip: needsCamctl }, async () => {
  const d = await both(rawRequest({ service: 'cvm' }), APP1);
  assert.equal(d.error, 'AuthFailure.InvalidAuthorization');
});

test('a 16 KiB body (sent to camd as its SHA-256) decides as camctl does with the bytes', { skip: needsCamctl }, async () => {
  const body = JSON.stringify({ GroupId: '@TGS#1', Text: 'x'.repeat(16 * 1024) });
  const d = await both(rawRequest({ body }), APP1);
  assert.equal(d.allowed, true);
});

test('a body larger than camd\'s max_frame_bytes still verifies (only its hash is sent)', { skip: needsCamd }, async () => {
  const body = JSON.stringify({ GroupId: '@TGS#1', Text: 'x'.repeat(256 * 1024) });
  const req = await receive(rawRequest({ body }));
  assert.equal((await client.authorizeSigned(req, APP1, [], 'im')).allowed, true);
  const tampered = await receive(rawRequest({ body, tamper: (b) => Buffer.concat([b, Buffer.from(' ')]) }));
  await assert.rejects(client.authorizeSigned(tampered, APP1, [], 'im'), { code: 'AuthFailure.SignatureFailure' });
});

test('no action at all: camd answers MissingParameter', { skip: needsCamd }, async () => {
  const req = await receive(rawRequest());
  await assert.rejects(client.authorizeSigned(req, APP1, []), { name: 'CamdError', code: 'MissingParameter' });
});
