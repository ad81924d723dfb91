// TypeScript types for camd's Node.js client (src/index.js).

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION: 1;
/** A call's default time limit in milliseconds (connecting and a retry included). */
export const DEFAULT_TIMEOUT_MS: 5000;
/** The default longest request line: camd's default max_frame_bytes (1 MiB). */
export const DEFAULT_MAX_LINE_BYTES: 1048576;
/** Where the systemd units put camd's socket. */
export const INSTALLED_SOCKET: '/run/camd/camd.sock';

/** `$CAMD_SOCKET`, else `state/camd.sock` (or the installed socket when only it exists). */
export function defaultSocket(): string;

/** Why camd decided as it did (docs/protocol.md); a string for reasons added later. */
export type Reason =
  | 'Root'
  | 'Allow'
  | 'ExplicitDeny'
  | 'FailClosedDeny'
  | 'ImplicitDeny'
  | 'BoundaryDeny'
  | 'BoundaryFailClosedDeny'
  | 'OutsideBoundary'
  | (string & {});

/** camd's answer to one question. */
export interface Decision {
  allowed: boolean;
  reason: Reason;
  /** The deciding policy (none for ImplicitDeny and Root). */
  policy: string | null;
  /** The deciding statement's index in the policy. */
  statement: number | null;
  /**
   * The uin decided for (the key's owner, for a question by key). camd's
   * uins are about 2e11, far below 2^53, so a number; one beyond
   * Number.MAX_SAFE_INTEGER would come as a bigint rather than rounded.
   */
  uin: number | bigint;
  /**
   * The id of this decision's record in camd's decision log (16 lowercase
   * hex digits, as `camctl decisions get` takes it); null when the log is off.
   */
  decisionId: string | null;
}

/** Options of a decision call. */
export interface CallOptions {
  /**
   * A W3C trace context (`00-<32 hex>-<16 hex>-<2 hex>`) that camd's decision
   * log records with the call's decisions (`trace_id`, `span_id`). Sent as
   * given; camd ignores one that is not valid.
   */
  traceparent?: string | null;
}

/** A user: a name, or a uin. */
export type UserRef = string | number | bigint;

/** Request context: `[key, value]` pairs (a key may repeat), a Map, or an object (a value may be an array). */
export type Context =
  | ReadonlyArray<readonly [string, string]>
  | ReadonlyMap<string, string | readonly string[]>
  | Readonly<Record<string, string | readonly string[]>>;

/** A question about a user. */
export interface UserAsk {
  user: UserRef;
  action: string;
  resource: string;
  context?: Context;
}

/** A question asked with an access key (plain-object form; snake_case keys are accepted too). */
export interface PlainKeyAsk {
  secretId: string;
  secretKey: string;
  action: string;
  resource: string;
  context?: Context;
}

/** A question asked with an access key whose SecretKey util.inspect and JSON never show. */
export class KeyAsk {
  constructor(secretId: string, secretKey: string, action: string, resource: string, context?: Context);
  readonly secretId: string;
  action: string;
  resource: string;
  context: Context;
  toJSON(): { secretId: string; secretKey: '[redacted]'; action: string; resource: string; context: Context };
}

export type Ask = UserAsk | PlainKeyAsk | KeyAsk;

export function byUser(user: UserRef, action: string, resource: string, context?: Context): UserAsk;
export function byKey(secretId: string, secretKey: string, action: string, resource: string, context?: Context): KeyAsk;

/** Headers as received: `[name, value]` pairs, Node's flat `rawHeaders`, a Map/Headers, or an object. */
export type Headers =
  | ReadonlyArray<readonly [string, string]>
  | readonly string[]
  | { entries(): Iterable<[string, string]> }
  | Readonly<Record<string, string | number | readonly string[]>>;

/** A TC3-HMAC-SHA256-signed HTTP request exactly as the server received it. */
export interface SignedRequest {
  /** Default `POST`. */
  method?: string;
  /** Default `/`. */
  path?: string;
  /** The query string without `?`; default empty. */
  query?: string;
  headers: Headers;
  /** The body bytes received (a string is taken as UTF-8). Bodies over 1 KiB are sent as their SHA-256. */
  body?: Uint8Array | ArrayBuffer | string;
  /** Instead of `body`: its SHA-256 in hex (a streamed body). */
  bodySha256?: string;
}

export interface ClientOptions {
  /** Each call's time limit, connecting and a retry included; default 5000. */
  timeoutMs?: number;
  /**
   * The longest request line sent, in bytes; longer calls reject with a
   * RangeError before anything is sent. Set it to camd's max_frame_bytes
   * (default 1 MiB), which closes the connection on a longer line.
   */
  maxLineBytes?: number;
}

/**
 * A client of camd, safe to share across all the async code of a process:
 * calls are pipelined on one connection and matched to answers by id. A
 * dead connection is replaced by the next call; calls caught on it are
 * sent once more (they are read-only). An idle client does not keep the
 * process alive.
 */
export class Client {
  constructor(path?: string, options?: ClientOptions);
  /** Connects (so that a wrong path fails at once). */
  static connect(path?: string, options?: ClientOptions): Promise<Client>;
  readonly path: string;
  readonly timeoutMs: number;
  readonly connected: boolean;
  /** Liveness: camd's protocol version. */
  ping(): Promise<number>;
  authorizeUser(user: UserRef, action: string, resource: string, context?: Context, options?: CallOptions): Promise<Decision>;
  authorizeKey(
    secretId: string,
    secretKey: string,
    action: string,
    resource: string,
    context?: Context,
    options?: CallOptions,
  ): Promise<Decision>;
  authorize(ask: Ask, options?: CallOptions): Promise<Decision>;
  /** Each answer in order: a Decision (item i's decisionId: the first's + i), or the CamdError for that question. */
  authorizeBatch(asks: readonly Ask[], options?: CallOptions): Promise<Array<Decision | CamdError>>;
  /**
   * Verifies the signature in camd and decides for the signer. `action`: the
   * action (`im:SendMessage`), or only the asking service (`im`) for
   * `im:<X-TC-Action>`; camd answers MissingParameter without one.
   */
  authorizeSigned(
    request: SignedRequest,
    resource: string,
    context?: Context,
    action?: string,
    options?: CallOptions,
  ): Promise<Decision>;
  /** Cluster mode: decided once this host has reached `minRevision`. */
  authorizeAt(minRevision: number | bigint, ask: Ask, options?: CallOptions): Promise<Decision>;
  /** No new calls; those in flight finish; then the connection closes. */
  close(): Promise<void>;
  toJSON(): { path: string; timeoutMs: number; connected: boolean; closed: boolean };
  [Symbol.asyncDispose](): Promise<void>;
}

/** camd answered with an error; `code` is its CAM error code (docs/errors.md). */
export class CamdError extends Error {
  constructor(code: string, message: string);
  readonly name: 'CamdError';
  code: string;
}

/** camd could not be reached, closed the connection, or a call timed out. */
export class CamdConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'CamdConnectionError' | 'CamdProtocolError' | 'CamdTimeoutError';
}

/** Bytes that are not a valid answer (the connection is dropped). */
export class CamdProtocolError extends CamdConnectionError {
  readonly name: 'CamdProtocolError';
}

/** No answer within the time limit. */
export class CamdTimeoutError extends CamdConnectionError {
  constructor(message: string, timeoutMs: number);
  readonly name: 'CamdTimeoutError';
  timeoutMs: number;
}

/** The envelope of a decoded response line: `decisionId` is the reply's (first) decision id, with camd's decision log on. */
interface ResponseHead {
  id: number;
  revision?: number;
  decisionId?: string;
}

/** One decoded response line. */
export type Response =
  | (ResponseHead & { ok: true; type: 'Pong'; value: number })
  | (ResponseHead & { ok: true; type: 'Decision'; value: Decision })
  | (ResponseHead & { ok: true; type: 'Decisions'; value: Array<Decision | CamdError> })
  | (ResponseHead & { ok: true; type: string; value: unknown })
  | (ResponseHead & { ok: false; error: CamdError });

/** Decodes one response line (without its newline); throws CamdProtocolError for garbage. */
export function decodeResponse(line: string, secrets?: readonly string[] | null): Response;

/** The JSON-lines encoder: each body function returns the JSON of `Request.body`. */
export const wire: Readonly<{
  ping(): string;
  authorize(ask: Ask, secrets?: string[] | null): string;
  batch(asks: readonly Ask[], secrets?: string[] | null): string;
  authorizeSigned(
    request: SignedRequest,
    resource: string,
    context?: Context,
    action?: string | null,
    options?: { inlineBodyBytes?: number },
  ): string;
  authorizeAt(minRevision: number | bigint, ask: Ask, secrets?: string[] | null): string;
  /**
   * The request line without its newline; `auth` is the envelope's access key
   * (admin requests); `traceparent`, when given, follows the body.
   */
  request(
    id: number | bigint,
    body: string,
    auth?: { secretId: string; secretKey: string } | { secret_id: string; secret_key: string } | null,
    traceparent?: string | null,
  ): string;
  decodeResponse: typeof decodeResponse;
}>;
