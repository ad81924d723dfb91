<?php
declare(strict_types=1);

namespace Camd;

/**
 * camd's JSON-lines encoding (docs/protocol.md): serde's JSON of `Request`
 * and `Response`, one object a line. Checked byte for byte against
 * tests/wire/requests.jsonl and replies.jsonl.
 */
final class Wire
{
    public const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;

    /**
     * A request line without its newline. $auth: [secret_id, secret_key] or
     * null. $traceparent (a W3C trace context for the decision log) is sent
     * only when given: without it the line is the same bytes as ever.
     */
    public static function request(int $id, #[\SensitiveParameter] ?array $auth, string|array $body, ?string $traceparent = null): string
    {
        $req = [
            'id' => $id,
            'auth' => $auth === null ? null : ['secret_id' => $auth[0], 'secret_key' => $auth[1]],
            'body' => $body,
        ];
        if ($traceparent !== null) {
            $req['traceparent'] = $traceparent;
        }
        try {
            return json_encode($req, self::JSON_FLAGS);
        } catch (\JsonException $e) {
            // The message names the problem (e.g. malformed UTF-8), never the values.
            throw new \InvalidArgumentException('cannot encode the request: ' . $e->getMessage());
        }
    }

    public static function ping(): string
    {
        return 'Ping';
    }

    public static function authorize(Ask $ask): array
    {
        return ['Authorize' => $ask->toWire()];
    }

    /** @param list<Ask> $asks */
    public static function batch(array $asks): array
    {
        return ['Batch' => array_map(static fn (Ask $a) => $a->toWire(), $asks)];
    }

    public static function authorizeSigned(SignedRequest $r, string $resource, array $context, ?string $action): array
    {
        return ['AuthorizeSigned' => [
            'request' => $r->toWire(),
            'resource' => $resource,
            'context' => Ask::pairs($context),
            'action' => $action,
        ]];
    }

    public static function authorizeAt(int $minRevision, Ask $ask): array
    {
        return ['AuthorizeAt' => ['min_revision' => $minRevision, 'ask' => $ask->toWire()]];
    }

    /**
     * A response line: ['id' => int, 'ok' => the Reply (a string for a unit
     * variant, else [variant => value]) or null, 'err' => ['code','message'] or
     * null, 'revision' => ?int, 'decision_id' => ?string (16 lowercase hex
     * digits, with camd's decision log on; a batch's first item's)].
     *
     * @throws \UnexpectedValueException for a line that is not a Response
     */
    public static function response(string $line): array
    {
        try {
            $r = json_decode($line, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        } catch (\JsonException $e) {
            throw new \UnexpectedValueException('a reply that is not JSON: ' . $e->getMessage());
        }
        if (!is_array($r) || !is_int($r['id'] ?? null) || $r['id'] < 0 || !is_array($r['result'] ?? null)
            || count($r['result']) !== 1) {
            throw new \UnexpectedValueException('a reply that is not a camd Response');
        }
        $revision = $r['revision'] ?? null;
        if ($revision !== null && !is_int($revision)) {
            throw new \UnexpectedValueException('a reply whose revision is not an integer');
        }
        $decisionId = $r['decision_id'] ?? null;
        if ($decisionId !== null && !(is_string($decisionId) && preg_match('/^[0-9a-f]{16}$/D', $decisionId) === 1)) {
            throw new \UnexpectedValueException('a reply whose decision_id is not 16 hex digits');
        }
        $out = ['id' => $r['id'], 'ok' => null, 'err' => null, 'revision' => $revision, 'decision_id' => $decisionId];
        if (array_key_exists('Ok', $r['result'])) {
            $ok = $r['result']['Ok'];
            if (!is_string($ok) && !(is_array($ok) && count($ok) === 1 && is_string(array_key_first($ok)))) {
                throw new \UnexpectedValueException('a reply whose Ok is not a Reply');
            }
            $out['ok'] = $ok;
        } elseif (array_key_exists('Err', $r['result'])) {
            $out['err'] = self::error($r['result']['Err']);
        } else {
            throw new \UnexpectedValueException('a reply whose result is neither Ok nor Err');
        }
        return $out;
    }

    /** The Reply's variant name (`Pong`, `Decision`, `Done`, ...). */
    public static function variant(string|array $reply): string
    {
        return is_string($reply) ? $reply : (string)array_key_first($reply);
    }

    /** @return array{code:string,message:string} */
    public static function error(mixed $e): array
    {
        if (!is_array($e) || !is_string($e['code'] ?? null) || !is_string($e['message'] ?? null)) {
            throw new \UnexpectedValueException('an error that is not a WireError');
        }
        return ['code' => $e['code'], 'message' => $e['message']];
    }

    /**
     * A `Decisions` reply's items: Decision or the item's error as
     * ['code', 'message']. Item i's decision id is $firstId + i.
     *
     * @return list<Decision|array{code:string,message:string}>
     */
    public static function decisions(mixed $items, ?string $firstId = null): array
    {
        if (!is_array($items) || !array_is_list($items)) {
            throw new \UnexpectedValueException('Decisions that are not a list');
        }
        $out = [];
        foreach ($items as $i => $it) {
            if (is_array($it) && array_key_exists('Ok', $it) && count($it) === 1) {
                $out[] = Decision::fromArray(is_array($it['Ok']) ? $it['Ok'] : [], self::nthDecisionId($firstId, $i));
            } elseif (is_array($it) && array_key_exists('Err', $it) && count($it) === 1) {
                $out[] = self::error($it['Err']);
            } else {
                throw new \UnexpectedValueException('a batch item that is neither Ok nor Err');
            }
        }
        return $out;
    }

    /**
     * The id $i after $first (u64 addition, wrapping as camd's), in the same
     * text form: 16 lowercase hex digits. Null for a null $first.
     */
    public static function nthDecisionId(?string $first, int $i): ?string
    {
        if ($first === null) {
            return null;
        }
        // Two 32-bit halves: PHP's int is a signed 64-bit one.
        $lo = hexdec(substr($first, 8, 8)) + $i;
        $hi = (hexdec(substr($first, 0, 8)) + ($lo >> 32)) & 0xffffffff;
        return sprintf('%08x%08x', $hi, $lo & 0xffffffff);
    }
}
