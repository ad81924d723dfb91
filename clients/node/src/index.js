// camd's Node.js client: decisions over camd's Unix socket, in JSON lines
// (docs/protocol.md, "JSON lines"). One connection per Client, requests
// pipelined on it and answers matched to their calls by id, so one Client is
// shared by all the async code of a process. No dependencies.

import net from 'node:net';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { inspect } from 'node:util';

/** The protocol version this client speaks (camd answers Ping with its own). */
export const PROTOCOL_VERSION = 1;
/** A call's default time limit, connecting and any retry included. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Where the systemd units put camd's socket. */
export const INSTALLED_SOCKET = '/run/camd/camd.sock';
/** The longest request line sent: camd's default max_frame_bytes (it closes the connection on longer ones). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
/** Answers longer than this are refused as garbage (the Rust client's limit). */
const MAX_LINE_BYTES = 64 << 20;
/** Bodies of signed requests longer than this are sent as their SHA-256. */
const BODY_BYTES_INLINE = 1024;
/** Timed-out ids a connection remembers (to drop their late answers) before it is replaced. */
const MAX_ABANDONED = 4096;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
/** A decision id as camd writes it: the u64 in 16 lowercase hex digits. */
const DECISION_ID = /^[0-9a-f]{16}$/;

// ---------------------------------------------------------------- errors

/** camd answered with an error: `code` is the CAM error code (docs/errors.md). */
export class CamdError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CamdError';
    /** @type {string} */
    this.code = code;
  }
}

/** The connection failed: camd could not be reached, closed it, or the call timed out. */
export class CamdConnectionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CamdConnectionError';
  }
}

/** camd (or whatever is on the socket) sent bytes that are not a valid answer. */
export class CamdProtocolError extends CamdConnectionError {
  constructor(message, options) {
    super(message, options);
    this.name = 'CamdProtocolError';
  }
}

/** No answer within the call's time limit. */
export class CamdTimeoutError extends CamdConnectionError {
  constructor(message, timeoutMs) {
    super(message);
    this.name = 'CamdTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

// ---------------------------------------------------------------- encoding

const wellFormed = typeof ''.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !/\p{Surrogate}/u.test(s);

/** A JSON string; camd (serde_json) refuses lone surrogates, so they are refused here. */
function str(v, what) {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string, not ${typeof v}`);
  if (!wellFormed(v)) throw new TypeError(`${what} holds a lone surrogate, which is not UTF-8`);
  return JSON.stringify(v);
}

function optStr(v, what) {
  return v === undefined || v === null ? 'null' : str(v, what);
}

/** A u64 (a uin): a safe non-negative integer number or a bigint. */
function u64(v, what) {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw new RangeError(`${what} is out of the u64 range`);
    return v.toString();
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  throw new TypeError(`${what} must be a non-negative safe integer or a bigint`);
}

function i64(v, what) {
  if (typeof v === 'bigint') {
    if (v < I64_MIN || v > I64_MAX) throw new RangeError(`${what} is out of the i64 range`);
    return v.toString();
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new TypeError(`${what} must be a safe integer or a bigint`);
}

/** UserRef: a string is a name, a number or bigint a uin. */
function encodeUser(user) {
  if (typeof user === 'string') return `{"Name":${str(user, 'user')}}`;
  if (typeof user === 'number' || typeof user === 'bigint') return `{"Uin":${u64(user, 'uin')}}`;
  throw new TypeError('user must be a name (string) or a uin (number or bigint)');
}

/** Pairs from an array of [key, value], a Map, or an object (a value may be an array). */
function pairsOf(v, what) {
  if (v === undefined || v === null) return [];
  const out = [];
  const push = (k, val) => {
    if (Array.isArray(val)) for (const x of val) out.push([k, String(x)]);
    else out.push([k, typeof val === 'number' ? String(val) : val]);
  };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') {
      // A flat [k, v, k, v] list, as Node's IncomingMessage.rawHeaders.
      if (v.length % 2) throw new TypeError(`${what}: a flat list needs an even length`);
      for (let i = 0; i < v.length; i += 2) out.push([v[i], v[i + 1]]);
      return out;
    }
    for (const p of v) {
      if (!Array.isArray(p) || p.length !== 2) throw new TypeError(`${what} must hold [key, value] pairs`);
      out.push(p);
    }
    return out;
  }
  if (typeof v.entries === 'function' && !(v.constructor === Object)) {
    for (const [k, val] of v.entries()) push(k, val);
    return out;
  }
  if (typeof v === 'object') {
    for (const k of Object.keys(v)) push(k, v[k]);
    return out;
  }
  throw new TypeError(`${what} must be [key, value] pairs, a Map or an object`);
}

function encodePairs(v, what) {
  const pairs = pairsOf(v, what);
  let s = '[';
  for (let i = 0; i < pairs.length; i++) {
    if (i) s += ',';
    s += `[${str(pairs[i][0], `${what} key`)},${str(pairs[i][1], `${what} value`)}]`;
  }
  return s + ']';
}

let secretOf;

/**
 * A question asked with an access key. The SecretKey is held in a private
 * field: util.inspect and JSON.stringify show `[redacted]` instead.
 */
export class KeyAsk {
  #secretKey;
  constructor(secretId, secretKey, action, resource, context = []) {
    if (typeof secretKey !== 'string') throw new TypeError('secretKey must be a string');
    this.secretId = secretId;
    this.#secretKey = secretKey;
    this.action = action;
    this.resource = resource;
    this.context = context;
  }
  static {
    secretOf = (a) => a.#secretKey;
  }
  toJSON() {
    return { secretId: this.secretId, secretKey: '[redacted]', action: this.action, resource: this.resource, context: this.context };
  }
  [inspect.custom](depth, options, insp) {
    return `KeyAsk ${(insp ?? inspect)(this.toJSON(), options)}`;
  }
}

/** A question about a user, by name (string) or uin (number or bigint). */
export function byUser(user, action, resource, context = []) {
  return { user, action, resource, context };
}

/** A question asked with an access key (SecretId and SecretKey). */
export function byKey(secretId, secretKey, action, resource, context = []) {
  return new KeyAsk(secretId, secretKey, action, resource, context);
}

/**
 * `Authorize` in JSON; an ask is `{user, action, resource, context}` or
 * `{secretId, secretKey, action, resource, context}` (or a KeyAsk). The
 * SecretKey is pushed to `secrets`, so that no error can repeat it.
 */
function encodeAsk(ask, secrets) {
  if (ask === null || typeof ask !== 'object') throw new TypeError('an ask must be an object');
  const tail = `"action":${str(ask.action, 'action')},"resource":${str(ask.resource, 'resource')},"context":${encodePairs(ask.context, 'context')}}}`;
  if (ask.user !== undefined) return `{"ByUser":{"user":${encodeUser(ask.user)},${tail}`;
  const secretId = ask.secretId ?? ask.secret_id;
  if (secretId === undefined) throw new TypeError('an ask names a user or a secretId');
  const secretKey = ask instanceof KeyAsk ? secretOf(ask) : (ask.secretKey ?? ask.secret_key);
  if (typeof secretKey !== 'string') throw new TypeError('an ask with a secretId needs its secretKey (a string)');
  if (secrets && secretKey) secrets.push(secretKey);
  return `{"ByKey":{"key":${encodeKey(secretId, secretKey)},${tail}`;
}

function encodeKey(secretId, secretKey) {
  return `{"secret_id":${str(secretId, 'secretId')},"secret_key":${str(secretKey, 'secretKey')}}`;
}

function bytesOf(body) {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('body must be a Buffer, Uint8Array, ArrayBuffer or string');
}

/**
 * `SignedHttp` in JSON. `body` is the bytes received; `bodySha256` their
 * SHA-256 in hex instead (a streamed body). `inline`: the longest body sent
 * as bytes (longer ones are sent as their SHA-256, which camd verifies the
 * same way, to keep the line well under camd's max_frame_bytes).
 */
function encodeSignedHttp(r, inline = BODY_BYTES_INLINE) {
  if (r === null || typeof r !== 'object') throw new TypeError('the signed request must be an object');
  let payload;
  if (r.bodySha256 !== undefined) {
    if (typeof r.bodySha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(r.bodySha256)) {
      throw new TypeError('bodySha256 must be 64 hex digits');
    }
    payload = `{"Sha256Hex":${JSON.stringify(r.bodySha256)}}`;
  } else {
    const b = bytesOf(r.body);
    if (b.length > inline) {
      payload = `{"Sha256Hex":"${createHash('sha256').update(b).digest('hex')}"}`;
    } else {
      let s = '[';
      for (let i = 0; i < b.length; i++) s += i ? ',' + b[i] : b[i];
      payload = `{"Body":${s}]}`;
    }
  }
  return `{"method":${str(r.method ?? 'POST', 'method')},"path":${str(r.path ?? '/', 'path')},"query":${str(r.query ?? '', 'query')},"headers":${encodePairs(r.headers, 'headers')},"payload":${payload}}`;
}

/**
 * The request's `traceparent` member (after `body`), or nothing. camd
 * ignores one that is not a valid W3C traceparent, so only its type is
 * checked (and that it is UTF-8, as for every string sent).
 */
function encodeTrace(traceparent) {
  if (traceparent === undefined || traceparent === null) return '';
  return `,"traceparent":${str(traceparent, 'traceparent')}`;
}

/** A call's options (`{ traceparent }`) as the tail of its request line. */
function callTail(options) {
  if (options === undefined || options === null) return '';
  if (typeof options !== 'object') throw new TypeError('options must be an object ({ traceparent })');
  return encodeTrace(options.traceparent);
}

/** Request bodies in JSON (each the value of `body`), and the request line. */
export const wire = Object.freeze({
  ping: () => '"Ping"',
  authorize: (ask, secrets) => `{"Authorize":${encodeAsk(ask, secrets)}}`,
  batch(asks, secrets) {
    if (!Array.isArray(asks)) throw new TypeError('a batch is an array of asks');
    let s = '{"Batch":[';
    for (let i = 0; i < asks.length; i++) s += (i ? ',' : '') + encodeAsk(asks[i], secrets);
    return s + ']}';
  },
  authorizeSigned: (request, resource, context, action, { inlineBodyBytes } = {}) =>
    `{"AuthorizeSigned":{"request":${encodeSignedHttp(request, inlineBodyBytes)},"resource":${str(resource, 'resource')},"context":${encodePairs(context, 'context')},"action":${optStr(action, 'action')}}}`,
  authorizeAt: (minRevision, ask, secrets) =>
    `{"AuthorizeAt":{"min_revision":${i64(minRevision, 'minRevision')},"ask":${encodeAsk(ask, secrets)}}}`,
  /**
   * The JSON line (without its newline) of `Request { id, auth, body, [traceparent] }`;
   * auth: `{secretId, secretKey}` or null; traceparent: a string, or null (not sent).
   */
  request(id, body, auth = null, traceparent = null) {
    const a = auth ? encodeKey(auth.secretId ?? auth.secret_id, auth.secretKey ?? auth.secret_key) : 'null';
    return `{"id":${u64(id, 'id')},"auth":${a},"body":${body}${encodeTrace(traceparent)}}`;
  },
  decodeResponse,
});

// ---------------------------------------------------------------- decoding

function garbage(why) {
  return new CamdProtocolError(`camd sent garbage: ${why}`);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function decodeWireError(e, secrets) {
  if (!isObject(e) || typeof e.code !== 'string' || typeof e.message !== 'string') {
    throw garbage('an error without a string code and message');
  }
  return new CamdError(e.code, redact(e.message, secrets));
}

function decodeDecision(d, decisionId = null) {
  if (!isObject(d)) throw garbage('a decision that is not an object');
  const { allowed, reason, policy, statement, uin } = d;
  if (typeof allowed !== 'boolean' || typeof reason !== 'string'
    || (policy !== null && typeof policy !== 'string')
    || (statement !== null && !(Number.isSafeInteger(statement) && statement >= 0))
    || !((typeof uin === 'number' && Number.isInteger(uin) && uin >= 0) || typeof uin === 'bigint')) {
    throw garbage('a decision whose fields are missing or of the wrong type');
  }
  return { allowed, reason, policy, statement, uin, decisionId };
}

/** The id of a batch's item `i`: the first one's plus i (u64 addition), as camd numbers them. */
function nthDecisionId(first, i) {
  if (i === 0) return first;
  const low = parseInt(first.slice(8), 16) + i;
  if (low <= 0xffffffff) return first.slice(0, 8) + low.toString(16).padStart(8, '0');
  return BigInt.asUintN(64, BigInt(`0x${first}`) + BigInt(i)).toString(16).padStart(16, '0');
}

/** Uins past 2^53 (camd's are ~2e11, so never in practice) kept exact as bigints. */
function exactUins(line) {
  return JSON.parse(line.replace(/"uin":(\d{16,})/g, '"uin":"$1"'), (k, v) =>
    k === 'uin' && typeof v === 'string' && /^\d+$/.test(v) ? (Number.isSafeInteger(Number(v)) ? Number(v) : BigInt(v)) : v);
}

function unsafeUin(ok) {
  if (!isObject(ok)) return false;
  if (isObject(ok.Decision)) return !Number.isSafeInteger(ok.Decision.uin);
  if (Array.isArray(ok.Decisions)) return ok.Decisions.some((r) => isObject(r?.Ok) && !Number.isSafeInteger(r.Ok.uin));
  return false;
}

/**
 * One response line decoded: `{id, revision, decisionId, ok: true, type, value}` or
 * `{id, revision, decisionId, ok: false, error: CamdError}`. `type` is the Reply variant
 * (`Pong`, `Decision`, `Decisions`, `Done`, ...); Pong's value is camd's
 * protocol version, Decision's a Decision, Decisions' an array of Decision
 * or CamdError; other variants' values are left as camd sent them.
 * `decisionId`: the reply's `decision_id` (camd's decision log on), and
 * each Decision's own (a batch's item i: the first + i); without one,
 * undefined and each Decision's null. Throws CamdProtocolError for
 * anything else. `secrets`: strings (SecretKeys of the request) to take out
 * of camd's messages and of the error's.
 */
export function decodeResponse(line, secrets = null) {
  return decodeParsed(parseLine(line, () => Boolean(secrets && secrets.length)), line, secrets);
}

/**
 * The line parsed, checked to be `{id, result, ...}`. The start of a line
 * that is not JSON helps tell what is on the socket; it is left out when
 * `hide()` says a SecretKey is in flight (the line could repeat part of it).
 */
function parseLine(line, hide) {
  let r;
  try {
    r = JSON.parse(line);
  } catch {
    const start = hide() ? `${String(line).length} characters` : JSON.stringify(String(line).slice(0, 32));
    throw garbage(`a line that is not JSON: ${start}`);
  }
  if (!isObject(r) || !Number.isSafeInteger(r.id) || r.id < 0 || !isObject(r.result)) {
    throw garbage('a line that is not a response {id, result}');
  }
  return r;
}

function decodeParsed(r, line, secrets) {
  const revision = r.revision === undefined ? undefined : r.revision;
  if (revision !== undefined && !Number.isSafeInteger(revision)) throw garbage('a revision that is not an integer');
  const decisionId = r.decision_id;
  if (decisionId !== undefined && !(typeof decisionId === 'string' && DECISION_ID.test(decisionId))) {
    throw garbage('a decision_id that is not 16 lowercase hex digits');
  }
  const keys = Object.keys(r.result);
  if (keys.length !== 1) throw garbage('a result that is not {"Ok": ...} or {"Err": ...}');
  if (keys[0] === 'Err') return { id: r.id, revision, decisionId, ok: false, error: decodeWireError(r.result.Err, secrets) };
  if (keys[0] !== 'Ok') throw garbage(`a result \`${keys[0]}\``);
  let ok = r.result.Ok;
  if (unsafeUin(ok)) ok = exactUins(line).result.Ok;
  if (typeof ok === 'string') return { id: r.id, revision, decisionId, ok: true, type: ok, value: undefined };
  if (!isObject(ok) || Object.keys(ok).length !== 1) throw garbage('a reply that is not a variant');
  const type = Object.keys(ok)[0];
  const v = ok[type];
  let value;
  switch (type) {
    case 'Pong':
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw garbage('a Pong without a u16 version');
      value = v;
      break;
    case 'Decision':
      value = decodeDecision(v, decisionId ?? null);
      break;
    case 'Decisions':
      if (!Array.isArray(v)) throw garbage('Decisions that are not an array');
      value = v.map((x, i) => {
        if (isObject(x) && 'Ok' in x && Object.keys(x).length === 1) {
          return decodeDecision(x.Ok, decisionId === undefined ? null : nthDecisionId(decisionId, i));
        }
        if (isObject(x) && 'Err' in x && Object.keys(x).length === 1) return decodeWireError(x.Err, secrets);
        throw garbage('a batch answer that is neither Ok nor Err');
      });
      break;
    default:
      value = v;
  }
  return { id: r.id, revision, decisionId, ok: true, type, value };
}

/** The message of camd's error with any SecretKey of the request taken out. */
function redact(message, secrets) {
  if (!secrets) return message;
  for (const s of secrets) {
    if (s.length === 0) continue;
    message = message.split(s).join('[redacted]');
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) message = message.split(escaped).join('[redacted]');
  }
  return message;
}

// ---------------------------------------------------------------- connection

/** One call in flight: its line, what it expects back, its deadline. */
class Call {
  constructor(id, line, expect, count, secrets, resolve, reject) {
    this.id = id;
    this.line = line;
    this.expect = expect;
    this.count = count;
    this.secrets = secrets;
    this.resolve = resolve;
    this.reject = reject;
    this.attempts = 0;
    this.conn = null;
    this.done = false;
    this.timer = null;
    this.sentAt = 0;
  }
}

/** One socket to camd and the calls waiting on it. */
class Connection {
  constructor(socket, path, onDead) {
    this.socket = socket;
    this.path = path;
    this.onDead = onDead;
    /** @type {Map<number, Call>} */
    this.pending = new Map();
    this.abandoned = new Set();
    this.dead = null;
    this.parts = [];
    this.partBytes = 0;
    this.outbox = [];
    this.flushing = false;
    this.lastHeard = 0;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (b) => this.onData(b));
    socket.on('error', (e) => this.fail(new CamdConnectionError(`the connection to camd at \`${path}\` failed: ${e.message}`, { cause: e })));
    socket.on('end', () => this.fail(new CamdConnectionError(
      this.partBytes ? `camd at \`${path}\` closed the connection in the middle of an answer` : `camd at \`${path}\` closed the connection`)));
    socket.on('close', () => this.fail(new CamdConnectionError(`the connection to camd at \`${path}\` closed`)));
    socket.unref();
  }

  send(call) {
    call.conn = this;
    call.sentAt = performance.now();
    if (this.pending.size === 0) this.socket.ref();
    this.pending.set(call.id, call);
    this.outbox.push(call.line);
    if (!this.flushing) {
      this.flushing = true;
      // Every call made in this turn of the event loop goes out in one write.
      queueMicrotask(() => this.flush());
    }
  }

  flush() {
    this.flushing = false;
    if (this.dead || this.outbox.length === 0) return;
    const data = this.outbox.length === 1 ? this.outbox[0] : this.outbox.join('');
    this.outbox = [];
    this.socket.write(data);
  }

  /** Forgets a call that timed out; its answer, if it comes, is dropped. */
  abandon(call) {
    if (this.pending.get(call.id) !== call) return;
    this.pending.delete(call.id);
    this.abandoned.add(call.id);
    if (this.pending.size === 0) this.socket.unref();
    if (this.lastHeard < call.sentAt || this.abandoned.size > MAX_ABANDONED) {
      // Nothing heard since the call was sent: the connection is stuck.
      this.fail(new CamdConnectionError(`camd at \`${this.path}\` answered nothing for a whole call's time; the connection was dropped`));
    }
  }

  onData(buf) {
    this.lastHeard = performance.now();
    let start = 0;
    let nl = buf.indexOf(10);
    while (nl !== -1) {
      let line;
      if (this.parts.length) {
        this.parts.push(buf.subarray(start, nl));
        line = Buffer.concat(this.parts);
        this.parts = [];
        this.partBytes = 0;
      } else {
        line = buf.subarray(start, nl);
      }
      this.onLine(line);
      if (this.dead) return;
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) {
      this.parts.push(start ? buf.subarray(start) : buf);
      this.partBytes += buf.length - start;
      if (this.partBytes > MAX_LINE_BYTES) this.fail(garbage(`a line longer than ${MAX_LINE_BYTES} bytes`));
    }
  }

  onLine(bytes) {
    if (!isUtf8(bytes)) return this.fail(garbage('a line that is not UTF-8'));
    const text = bytes.toString('utf8');
    if (text.trim() === '') return undefined;
    let r;
    try {
      r = parseLine(text, () => this.secrets() !== null);
    } catch (e) {
      return this.fail(e);
    }
    let id = r.id;
    if (id === 0) {
      // camd could not read a request: its answers come in order, so it is
      // the oldest one still waiting.
      id = Infinity;
      for (const k of this.pending.keys()) { id = k; break; }
      for (const k of this.abandoned) if (k < id) id = k;
    }
    const call = this.pending.get(id);
    if (call === undefined) {
      if (this.abandoned.delete(id)) return undefined;
      return this.fail(garbage(`an answer to request ${r.id}, which is not waiting on this connection`));
    }
    let resp;
    try {
      resp = decodeParsed(r, text, call.secrets);
    } catch (e) {
      return this.fail(e);
    }
    this.pending.delete(id);
    if (this.pending.size === 0) this.socket.unref();
    if (!resp.ok) return settle(call, null, resp.error);
    if (resp.type !== call.expect || (call.count >= 0 && resp.value.length !== call.count)) {
      const got = resp.type === call.expect ? `${resp.value.length} answers for ${call.count} questions` : `a ${resp.type} reply`;
      const err = garbage(`${got} to a ${call.expect === 'Pong' ? 'Ping' : 'decision'} request`);
      this.fail(err);
      call.onConnectionFailed(err);
      return undefined;
    }
    return settle(call, resp.value, null);
  }

  /** The SecretKeys of the calls waiting here (none unless some ask by key). */
  secrets() {
    let out = null;
    for (const c of this.pending.values()) if (c.secrets && c.secrets.length) (out ??= []).push(...c.secrets);
    return out;
  }

  /** Ends the connection: every call on it fails with `err` (and may be retried). */
  fail(err) {
    if (this.dead) return;
    this.dead = err;
    this.socket.destroy();
    const calls = [...this.pending.values()];
    this.pending.clear();
    this.abandoned.clear();
    this.onDead(this);
    for (const c of calls) c.conn = null;
    for (const c of calls) c.onConnectionFailed(err);
  }

  end() {
    if (!this.dead) {
      this.dead = new CamdConnectionError('the client is closed');
      this.onDead(this);
      this.socket.ref();
      this.socket.end();
    }
    return this.closed;
  }
}

function settle(call, value, err) {
  if (call.done) return;
  call.done = true;
  clearTimeout(call.timer);
  call.conn = null;
  if (err) call.reject(err);
  else call.resolve(value);
  call.onSettled();
}

function open(path, timeoutMs, onDead) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CamdTimeoutError(`cannot connect to camd at \`${path}\` within ${timeoutMs} ms`, timeoutMs));
    }, timeoutMs);
    const onError = (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new CamdConnectionError(
        `cannot talk to camd at \`${path}\`: ${e.code ?? e.message}; is camd running? (name its socket with the path argument or CAMD_SOCKET)`,
        { cause: e }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(new Connection(socket, path, onDead));
    });
  });
}

/** camd's socket when none is given: $CAMD_SOCKET, else `state/camd.sock` (or the installed one when only it exists). */
export function defaultSocket() {
  const env = process.env.CAMD_SOCKET;
  if (env) return env;
  if (!existsSync('state/camd.sock') && existsSync(INSTALLED_SOCKET)) return INSTALLED_SOCKET;
  return 'state/camd.sock';
}

// ---------------------------------------------------------------- client

/**
 * A client of camd, safe to share: calls from anywhere in the process are
 * pipelined on one connection. After camd restarts (or closes an idle
 * connection) the next call opens a new one; a call whose connection died
 * under it is sent once more (decisions are read-only).
 */
export class Client {
  #path;
  #timeoutMs;
  #maxLineBytes;
  #conn = null;
  #connecting = null;
  #nextId = 1;
  #closed = false;
  #inflight = 0;
  #whenIdle = null;
  #idle = null;

  constructor(path = defaultSocket(), { timeoutMs = DEFAULT_TIMEOUT_MS, maxLineBytes = DEFAULT_MAX_LINE_BYTES } = {}) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a socket path');
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number');
    if (!(Number.isSafeInteger(maxLineBytes) && maxLineBytes >= 64)) throw new TypeError('maxLineBytes must be an integer of at least 64');
    this.#path = path;
    this.#timeoutMs = timeoutMs;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Connects (so that a wrong path fails here) and returns the client. */
  static async connect(path = defaultSocket(), options = {}) {
    const c = new Client(path ?? defaultSocket(), options);
    await c.#connection();
    return c;
  }

  get path() {
    return this.#path;
  }

  get timeoutMs() {
    return this.#timeoutMs;
  }

  /** True while a connection is open (a closed one is reopened by the next call). */
  get connected() {
    return this.#conn !== null && !this.#conn.dead;
  }

  #connection() {
    if (this.#conn && !this.#conn.dead) return Promise.resolve(this.#conn);
    if (!this.#connecting) {
      this.#connecting = open(this.#path, this.#timeoutMs, (dead) => {
        if (this.#conn === dead) this.#conn = null;
      }).then(
        (conn) => {
          this.#connecting = null;
          if (this.#closed && this.#inflight === 0) {
            conn.end();
            throw new CamdConnectionError('the client is closed');
          }
          this.#conn = conn;
          return conn;
        },
        (err) => {
          this.#connecting = null;
          throw err;
        });
    }
    return this.#connecting;
  }

  /** `tail`: what follows the body in the request line (callTail: the traceparent, or nothing). */
  #call(body, expect, count, secrets, tail = '') {
    if (this.#closed) return Promise.reject(new CamdConnectionError('the client is closed'));
    const id = this.#nextId++;
    const line = `{"id":${id},"auth":null,"body":${body}${tail}}\n`;
    // camd reads at most max_frame_bytes of a line, answers an error and
    // closes the connection, which races with the rest of the line being
    // written (EPIPE): refuse it here, with a reason.
    if (line.length * 3 > this.#maxLineBytes) {
      const bytes = Buffer.byteLength(line) - 1;
      if (bytes > this.#maxLineBytes) {
        return Promise.reject(new RangeError(
          `the request is ${bytes} bytes, over maxLineBytes (${this.#maxLineBytes}, camd's max_frame_bytes): split the batch or shorten the request`));
      }
    }
    return new Promise((resolve, reject) => {
      const call = new Call(id, line, expect, count, secrets, resolve, reject);
      this.#inflight++;
      call.onSettled = () => {
        if (--this.#inflight === 0 && this.#whenIdle) {
          this.#whenIdle();
          this.#whenIdle = null;
          this.#idle = null;
        }
      };
      call.onConnectionFailed = (err) => {
        if (call.done) return;
        if (call.attempts < 2 && !(err instanceof CamdTimeoutError)) this.#attempt(call);
        else settle(call, null, err);
      };
      call.timer = setTimeout(() => {
        if (call.done) return;
        const conn = call.conn;
        settle(call, null, new CamdTimeoutError(`camd at \`${this.#path}\` did not answer within ${this.#timeoutMs} ms`, this.#timeoutMs));
        if (conn) conn.abandon(call);
      }, this.#timeoutMs);
      this.#attempt(call);
    });
  }

  #attempt(call) {
    call.attempts++;
    const conn = this.#conn;
    if (conn && !conn.dead) {
      conn.send(call);
      return;
    }
    this.#connection().then(
      (c) => {
        if (call.done) return;
        if (c.dead) call.onConnectionFailed(c.dead);
        else c.send(call);
      },
      (err) => call.onConnectionFailed(err));
  }

  /** Liveness: camd's protocol version. */
  ping() {
    return this.#call(wire.ping(), 'Pong', -1, null);
  }

  // Each decision call takes `options` last: `{ traceparent }`, a W3C trace
  // context camd's decision log records with the call's decisions (sent as
  // given; camd ignores one that is not valid).

  /** May `user` (a name, or a uin as a number or bigint) do `action` on `resource`? */
  authorizeUser(user, action, resource, context = [], options = undefined) {
    let body;
    let tail;
    try {
      body = wire.authorize({ user, action, resource, context }, null);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decision', -1, null, tail);
  }

  /** May the owner of this access key do `action` on `resource`? */
  authorizeKey(secretId, secretKey, action, resource, context = [], options = undefined) {
    const secrets = [];
    let body;
    let tail;
    try {
      body = wire.authorize({ secretId, secretKey, action, resource, context }, secrets);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decision', -1, secrets, tail);
  }

  /** Any ask (`byUser(...)`, `byKey(...)` or a plain object of either shape). */
  authorize(ask, options = undefined) {
    const secrets = [];
    let body;
    let tail;
    try {
      body = wire.authorize(ask, secrets);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decision', -1, secrets, tail);
  }

  /** Several decisions in one request: each a Decision or a CamdError, in order. */
  authorizeBatch(asks, options = undefined) {
    const secrets = [];
    let body;
    let tail;
    try {
      body = wire.batch(asks, secrets);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decisions', asks.length, secrets, tail);
  }

  /**
   * Verifies a TC3-HMAC-SHA256-signed HTTP request, exactly as received, and
   * decides for its signer. `action`: the action (`im:SendMessage`) or the
   * asking service alone (`im`: the action is `im:<X-TC-Action>`).
   */
  authorizeSigned(request, resource, context = [], action = undefined, options = undefined) {
    let body;
    let tail;
    try {
      body = wire.authorizeSigned(request, resource, context, action);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decision', -1, null, tail);
  }

  /** Cluster mode: a decision made once this host has reached `minRevision`. */
  authorizeAt(minRevision, ask, options = undefined) {
    const secrets = [];
    let body;
    let tail;
    try {
      body = wire.authorizeAt(minRevision, ask, secrets);
      tail = callTail(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call(body, 'Decision', -1, secrets, tail);
  }

  /** No new calls; the ones in flight finish; then the connection is closed. */
  async close() {
    this.#closed = true;
    if (this.#inflight > 0) {
      this.#idle ??= new Promise((resolve) => { this.#whenIdle = resolve; });
      await this.#idle;
    }
    const conn = this.#conn;
    this.#conn = null;
    if (conn) await conn.end();
  }

  toJSON() {
    return { path: this.#path, timeoutMs: this.#timeoutMs, connected: this.connected, closed: this.#closed };
  }

  [inspect.custom](depth, options, insp) {
    return `Client ${(insp ?? inspect)({ ...this.toJSON(), inflight: this.#inflight }, options)}`;
  }
}

if (Symbol.asyncDispose) {
  Client.prototype[Symbol.asyncDispose] = function dispose() {
    return this.close();
  };
}
