<?php
declare(strict_types=1);

namespace Camd;

/**
 * One question: may this user (by name or uin) or the owner of this access key
 * do `action` on `resource`, with this request context?
 *
 * The SecretKey is kept private and left out of var_dump/print_r
 * (__debugInfo), of exports and of serialization.
 */
final class Ask
{
    /** @var list<array{0:string,1:string}> */
    public readonly array $context;

    private function __construct(
        public readonly string|int|null $user,
        public readonly ?string $secretId,
        #[\SensitiveParameter] private readonly ?string $secretKey,
        public readonly string $action,
        public readonly string $resource,
        array $context,
    ) {
        $this->context = self::pairs($context);
    }

    /** By the user's name (a string) or uin (an int). */
    public static function byUser(string|int $user, string $action, string $resource, array $context = []): self
    {
        if (is_int($user) && $user < 0) {
            throw new \InvalidArgumentException('a uin is not negative');
        }
        return new self($user, null, null, $action, $resource, $context);
    }

    /** By an access key: camd checks the key, then decides for its owner. */
    public static function byKey(
        string $secretId,
        #[\SensitiveParameter] string $secretKey,
        string $action,
        string $resource,
        array $context = [],
    ): self {
        return new self(null, $secretId, $secretKey, $action, $resource, $context);
    }

    /**
     * An Ask as it is, or from an array in the shape of tests/clients/cases.json:
     * `user` (or `uin`) or `secret_id` + `secret_key`, `action`, `resource`,
     * optional `context`.
     */
    public static function from(#[\SensitiveParameter] Ask|array $ask): self
    {
        if ($ask instanceof self) {
            return $ask;
        }
        foreach (['action', 'resource'] as $k) {
            if (!is_string($ask[$k] ?? null)) {
                throw new \InvalidArgumentException("an ask needs a string `$k`");
            }
        }
        $context = $ask['context'] ?? [];
        if (!is_array($context)) {
            throw new \InvalidArgumentException('an ask\'s `context` is an array');
        }
        if (isset($ask['user']) || isset($ask['uin'])) {
            $user = $ask['user'] ?? $ask['uin'];
            if (!is_string($user) && !is_int($user)) {
                throw new \InvalidArgumentException('an ask\'s `user` is a name or a uin');
            }
            return self::byUser($user, $ask['action'], $ask['resource'], $context);
        }
        if (is_string($ask['secret_id'] ?? null) && is_string($ask['secret_key'] ?? null)) {
            return self::byKey($ask['secret_id'], $ask['secret_key'], $ask['action'], $ask['resource'], $context);
        }
        throw new \InvalidArgumentException('an ask needs `user` (or `uin`) or `secret_id` and `secret_key`');
    }

    public function isByKey(): bool
    {
        return $this->secretId !== null;
    }

    /** The wire form (serde's JSON of `Authorize`), fields in wire order. */
    public function toWire(): array
    {
        if ($this->secretId !== null) {
            return ['ByKey' => [
                'key' => ['secret_id' => $this->secretId, 'secret_key' => $this->secretKey],
                'action' => $this->action,
                'resource' => $this->resource,
                'context' => $this->context,
            ]];
        }
        return ['ByUser' => [
            'user' => is_int($this->user) ? ['Uin' => $this->user] : ['Name' => $this->user],
            'action' => $this->action,
            'resource' => $this->resource,
            'context' => $this->context,
        ]];
    }

    /** $text with this ask's SecretKey (should it be there) replaced by `***`. */
    public function redact(string $text): string
    {
        if ($this->secretKey === null || $this->secretKey === '') {
            return $text;
        }
        return str_replace($this->secretKey, '***', $text);
    }

    public function __debugInfo(): array
    {
        $d = ['user' => $this->user, 'secretId' => $this->secretId];
        if ($this->secretId !== null) {
            $d['secretKey'] = '***';
        }
        return $d + ['action' => $this->action, 'resource' => $this->resource, 'context' => $this->context];
    }

    public function __serialize(): array
    {
        throw new \LogicException('a Camd\\Ask is not serialized: it may hold a SecretKey');
    }

    public function __unserialize(array $data): void
    {
        throw new \LogicException('a Camd\\Ask is not unserialized');
    }

    public static function __set_state(array $state): never
    {
        throw new \LogicException('a Camd\\Ask is not exported');
    }

    /**
     * Context as camd's list of (key, value) pairs, from such a list or from
     * a map `key => value` (or `key => [value, ...]` for several values).
     *
     * @return list<array{0:string,1:string}>
     */
    public static function pairs(array $context): array
    {
        $out = [];
        if (array_is_list($context)) {
            foreach ($context as $p) {
                if (!is_array($p) || count($p) !== 2 || !is_string($p[0] ?? null) || !is_string($p[1] ?? null)) {
                    throw new \InvalidArgumentException('context: a list of [key, value] string pairs, or a map key => value');
                }
                $out[] = [$p[0], $p[1]];
            }
            return $out;
        }
        foreach ($context as $k => $v) {
            foreach (is_array($v) ? $v : [$v] as $one) {
                if (!is_string($one)) {
                    throw new \InvalidArgumentException("context: the value of `$k` is a string (or a list of them)");
                }
                $out[] = [(string)$k, $one];
            }
        }
        return $out;
    }
}
