<?php
declare(strict_types=1);

namespace Camd;

/**
 * A client of camd over its Unix socket, speaking JSON lines.
 *
 * One connection, opened on first use and kept; one request at a time (PHP
 * runs one request per worker). In PHP-FPM use Client::shared(): one instance
 * per socket path, on a persistent socket (STREAM_CLIENT_PERSISTENT, as
 * pfsockopen) that the worker keeps across the HTTP requests it serves.
 *
 * A call throws CamdException when camd answers with an error (its CAM code
 * in getCamCode()) and ConnectionException (TimeoutException for a timeout)
 * when camd does not answer: a connection closed, a garbled or mismatched
 * reply, or no reply within the timeout. A decision sent on a connection that
 * had been used before and is found closed before any byte of the answer
 * came (camd restarted, or closed an idle connection) is sent once more on a
 * new connection.
 *
 * Every decision method takes an optional `traceparent` (a W3C trace context,
 * `00-<32 hex>-<16 hex>-<2 hex>`, sent as is; camd ignores an invalid one)
 * that camd's decision log records with the request's decisions; pass it by
 * name (`traceparent: $tp`). A Decision's `decisionId` is its record's id.
 */
final class Client
{
    public const DEFAULT_TIMEOUT = 5.0;
    /** The longest reply line read (a full Batch of 4,096 decisions is well under). */
    private const MAX_LINE = 16 << 20;

    /** @var array<string, Client> */
    private static array $shared = [];

    public readonly string $path;
    private float $timeout;
    /** @var resource|null */
    private $sock = null;
    /** The connection carried a request before (or may have: a persistent one). */
    private bool $used = false;
    private string $buf = '';
    private int $nextId;

    /**
     * @param string|null $path the socket (default: $CAMD_SOCKET, else state/camd.sock)
     * @param float $timeout seconds for each call (connect, send, answer)
     * @param bool $persistent keep the socket open across PHP requests (PHP-FPM)
     */
    public function __construct(?string $path = null, float $timeout = self::DEFAULT_TIMEOUT, private readonly bool $persistent = false)
    {
        $this->path = self::resolve($path);
        $this->setTimeout($timeout);
        // Ids differ between the PHP requests a persistent socket serves, so
        // that a late reply to an aborted request is never taken for another's.
        $this->nextId = random_int(1, 1 << 48);
    }

    /** The worker's client for this socket, on a persistent connection. */
    public static function shared(?string $path = null, float $timeout = self::DEFAULT_TIMEOUT): self
    {
        $path = self::resolve($path);
        $c = self::$shared[$path] ??= new self($path, $timeout, true);
        $c->setTimeout($timeout);
        return $c;
    }

    public function setTimeout(float $timeout): void
    {
        if (!($timeout > 0)) {
            throw new \InvalidArgumentException('the timeout is a positive number of seconds');
        }
        $this->timeout = $timeout;
    }

    /** camd's protocol version (`Pong`). */
    public function ping(): int
    {
        $pong = $this->call(Wire::ping(), 'Pong', [])['ok'];
        if (!is_int($pong['Pong'])) {
            $this->drop();
            throw new ConnectionException('a Pong that is not a version', $this->path);
        }
        return $pong['Pong'];
    }

    /** May the user (a name, or an int uin) do $action on $resource? */
    public function authorizeUser(string|int $user, string $action, string $resource, array $context = [], ?string $traceparent = null): Decision
    {
        return $this->authorize(Ask::byUser($user, $action, $resource, $context), $traceparent);
    }

    /**
     * May the owner of this access key do $action on $resource? camd checks the
     * key first: AuthFailure.InvalidAuthorization for an unknown, wrong or disabled one.
     */
    public function authorizeKey(
        string $secretId,
        #[\SensitiveParameter] string $secretKey,
        string $action,
        string $resource,
        array $context = [],
        ?string $traceparent = null,
    ): Decision {
        return $this->authorize(Ask::byKey($secretId, $secretKey, $action, $resource, $context), $traceparent);
    }

    /** One question, as an Ask or an array (see Ask::from). */
    public function authorize(#[\SensitiveParameter] Ask|array $ask, ?string $traceparent = null): Decision
    {
        $ask = Ask::from($ask);
        return $this->decision($this->call(Wire::authorize($ask), 'Decision', [$ask], $traceparent));
    }

    /**
     * Many questions in one request (at most 4,096): for each, in order, a
     * Decision or the CamdException for that item (not thrown). A failure of
     * the whole batch (the connection, LimitExceeded.BatchSize) is thrown.
     * Item i's decisionId is the first item's id + i.
     *
     * @param list<Ask|array> $asks
     * @return list<Decision|CamdException>
     */
    public function authorizeBatch(#[\SensitiveParameter] array $asks, ?string $traceparent = null): array
    {
        $asks = array_map([Ask::class, 'from'], array_values($asks));
        if ($asks === []) {
            return [];
        }
        $r = $this->call(Wire::batch($asks), 'Decisions', $asks, $traceparent);
        try {
            $items = Wire::decisions($r['ok']['Decisions'], $r['decision_id']);
        } catch (\UnexpectedValueException $e) {
            $this->drop();
            throw new ConnectionException('a garbled reply: ' . $e->getMessage(), $this->path);
        }
        if (count($items) !== count($asks)) {
            $this->drop();
            throw new ConnectionException(count($items) . ' decisions for ' . count($asks) . ' questions', $this->path);
        }
        $out = [];
        foreach ($items as $i => $it) {
            $out[] = $it instanceof Decision ? $it : new CamdException($it['code'], $asks[$i]->redact($it['message']));
        }
        return $out;
    }

    /**
     * A TC3-signed HTTP request as received, decided for the signer. $action:
     * the action (`im:SendMessage`) or only the asking service (`im`: the action
     * is `im:<X-TC-Action>`, which the signature must cover); null is answered
     * MissingParameter.
     */
    public function authorizeSigned(
        SignedRequest $request,
        string $resource,
        ?string $action,
        array $context = [],
        ?string $traceparent = null,
    ): Decision {
        return $this->decision($this->call(Wire::authorizeSigned($request, $resource, $context, $action), 'Decision', [], $traceparent));
    }

    /** A decision once camd's host has applied at least $minRevision (cluster mode). */
    public function authorizeAt(int $minRevision, #[\SensitiveParameter] Ask|array $ask, ?string $traceparent = null): Decision
    {
        $ask = Ask::from($ask);
        return $this->decision($this->call(Wire::authorizeAt($minRevision, $ask), 'Decision', [$ask], $traceparent));
    }

    /** Closes the connection (a persistent one too); the next call opens another. */
    public function close(): void
    {
        $this->drop();
    }

    public function __destruct()
    {
        // A persistent socket stays open for the worker's next request.
        if (!$this->persistent) {
            $this->drop();
        }
    }

    public function __debugInfo(): array
    {
        return ['path' => $this->path, 'timeout' => $this->timeout, 'persistent' => $this->persistent,
            'connected' => $this->sock !== null];
    }

    public function __serialize(): array
    {
        throw new \LogicException('a Camd\\Client is not serialized');
    }

    private static function resolve(?string $path): string
    {
        if ($path === null || $path === '') {
            $env = getenv('CAMD_SOCKET');
            $path = is_string($env) && $env !== '' ? $env : 'state/camd.sock';
        }
        return $path;
    }

    /** The Decision of a `Decision` reply (a response, as call() returns it). */
    private function decision(array $r): Decision
    {
        try {
            return Decision::fromArray(is_array($r['ok']['Decision']) ? $r['ok']['Decision'] : [], $r['decision_id']);
        } catch (\UnexpectedValueException $e) {
            $this->drop();
            throw new ConnectionException('a garbled reply: ' . $e->getMessage(), $this->path);
        }
    }

    /**
     * Sends one request; its response (as Wire::response gives it), whose Ok
     * reply must be of variant $want.
     *
     * @param list<Ask> $asks whose SecretKeys are redacted from camd's messages
     */
    private function call(string|array $body, string $want, array $asks, ?string $traceparent = null): array
    {
        for ($attempt = 0; ; $attempt++) {
            $id = $this->nextId++;
            $line = Wire::request($id, null, $body, $traceparent) . "\n";
            $deadline = microtime(true) + $this->timeout;
            if ($this->sock === null) {
                $this->connect($deadline);
            }
            $reused = $this->used;
            $this->used = true;
            $retryable = false;
            try {
                $r = $this->roundTrip($id, $line, $deadline, $retryable);
            } catch (ConnectionException $e) {
                $this->drop();
                if ($retryable && $reused && $attempt === 0) {
                    continue;
                }
                throw $e;
            }
            unset($line);
            if ($r['err'] !== null) {
                $msg = $r['err']['message'];
                foreach ($asks as $a) {
                    $msg = $a->redact($msg);
                }
                if ($r['id'] === 0) {
                    // Not tied to a request (a line camd could not read).
                    $this->drop();
                }
                throw new CamdException($r['err']['code'], $msg);
            }
            if (Wire::variant($r['ok']) !== $want || !is_array($r['ok'])) {
                $this->drop();
                throw new ConnectionException('a ' . Wire::variant($r['ok']) . " reply to a request expecting $want", $this->path);
            }
            return $r;
        }
    }

    private function connect(float $deadline): void
    {
        for ($i = 0; $i < 2; $i++) {
            $flags = STREAM_CLIENT_CONNECT | ($this->persistent ? STREAM_CLIENT_PERSISTENT : 0);
            $errno = 0;
            $errstr = '';
            $s = @stream_socket_client('unix://' . $this->path, $errno, $errstr,
                max(0.001, $deadline - microtime(true)), $flags);
            if ($s === false) {
                throw new ConnectionException('cannot connect: ' . ($errstr !== '' ? $errstr : "error $errno"), $this->path);
            }
            stream_set_write_buffer($s, 0);
            if (!$this->persistent) {
                $this->sock = $s;
                $this->used = false;
                $this->buf = '';
                return;
            }
            // A persistent socket may come from the worker's earlier request:
            // bytes waiting on it (a reply that request never read) or its
            // end (camd closed it) mean it is not to be used.
            stream_set_blocking($s, false);
            $stale = @fread($s, 65536);
            $eof = feof($s);
            stream_set_blocking($s, true);
            if (($stale === '' || $stale === false) && !$eof) {
                $this->sock = $s;
                $this->used = true;
                $this->buf = '';
                return;
            }
            @fclose($s);
        }
        throw new ConnectionException('cannot connect: the connection was closed at once', $this->path);
    }

    private function drop(): void
    {
        if ($this->sock !== null) {
            @fclose($this->sock);
            $this->sock = null;
        }
        $this->buf = '';
        $this->used = false;
    }

    /** Sets the socket's timeout to what is left until $deadline. */
    private function arm(float $deadline): void
    {
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            throw new TimeoutException(sprintf('no answer within %.3fs', $this->timeout), $this->path);
        }
        $sec = (int)floor($left);
        stream_set_timeout($this->sock, $sec, max(1000, (int)(($left - $sec) * 1e6)));
    }

    private function roundTrip(int $id, string $line, float $deadline, bool &$retryable): array
    {
        for ($off = 0, $n = strlen($line); $off < $n; $off += $w) {
            $this->arm($deadline);
            $w = @fwrite($this->sock, $off === 0 ? $line : substr($line, $off));
            if ($w === false || $w === 0) {
                if (stream_get_meta_data($this->sock)['timed_out']) {
                    throw new TimeoutException(sprintf('could not send within %.3fs', $this->timeout), $this->path);
                }
                $retryable = true;
                throw new ConnectionException('the connection was closed (send failed)', $this->path);
            }
        }
        $got = 0;
        while (($nl = strpos($this->buf, "\n")) === false) {
            if (strlen($this->buf) > self::MAX_LINE) {
                throw new ConnectionException('a reply line longer than ' . self::MAX_LINE . ' bytes', $this->path);
            }
            $this->arm($deadline);
            $chunk = @fread($this->sock, 65536);
            if ($chunk === false || $chunk === '') {
                if (stream_get_meta_data($this->sock)['timed_out']) {
                    throw new TimeoutException(sprintf('no answer within %.3fs', $this->timeout), $this->path);
                }
                if ($chunk === false || feof($this->sock)) {
                    if ($got === 0 && $this->buf === '') {
                        $retryable = true;
                        throw new ConnectionException('the connection was closed before the answer', $this->path);
                    }
                    throw new ConnectionException('the connection was closed in the middle of a reply', $this->path);
                }
                continue;
            }
            $got += strlen($chunk);
            $this->buf .= $chunk;
        }
        $text = substr($this->buf, 0, $nl);
        $this->buf = (string)substr($this->buf, $nl + 1);
        try {
            $r = Wire::response($text);
        } catch (\UnexpectedValueException $e) {
            throw new ConnectionException('a garbled reply: ' . $e->getMessage(), $this->path);
        }
        if ($r['id'] !== $id && !($r['id'] === 0 && $r['err'] !== null)) {
            // Perhaps a late reply to an earlier PHP request on a persistent socket.
            $retryable = $this->persistent;
            throw new ConnectionException("reply {$r['id']} to request $id", $this->path);
        }
        if ($this->buf !== '') {
            // camd answers only what is asked: more bytes mean a confused connection.
            $this->drop();
        }
        return $r;
    }
}
