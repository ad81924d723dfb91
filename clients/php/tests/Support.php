<?php
// Shared helpers of the PHPUnit tests: the scene's environment, the shared cases, the wire vectors.
declare(strict_types=1);

namespace Camd\Tests;

use PHPUnit\Framework\TestCase;

abstract class Support extends TestCase
{
    /** camd's socket, or the test is skipped (only when CAMD_SOCKET is unset). */
    protected function daemon(): string
    {
        $s = getenv('CAMD_SOCKET');
        if (!is_string($s) || $s === '') {
            $this->markTestSkipped('CAMD_SOCKET is unset: no camd to ask (tests/clients.rs sets it)');
        }
        return $s;
    }

    protected function env(string $name): string
    {
        $v = getenv($name);
        if (!is_string($v) || $v === '') {
            $this->fail("$name is unset (tests/clients.rs sets it with CAMD_SOCKET)");
        }
        return $v;
    }

    /** tests/clients/cases.json with ${NAME} filled from the environment. */
    protected function cases(): array
    {
        $file = getenv('CAMD_TEST_CASES') ?: __DIR__ . '/../../../tests/clients/cases.json';
        $cases = json_decode((string)file_get_contents($file), true, 512, JSON_THROW_ON_ERROR)['cases'];
        array_walk_recursive($cases, function (&$v): void {
            if (is_string($v)) {
                $v = preg_replace_callback('/\$\{([A-Z0-9_]+)\}/', fn ($m) => $this->env($m[1]), $v);
            }
        });
        return $cases;
    }

    /** The vectors of tests/wire/NAME.jsonl by variant name. */
    protected function vectors(string $file): array
    {
        $dir = getenv('CAMD_TEST_WIRE') ?: __DIR__ . '/../../../tests/wire';
        $out = [];
        foreach (file("$dir/$file.jsonl", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $l) {
            $v = json_decode($l, true, 512, JSON_THROW_ON_ERROR);
            $out[$v['name']] = $v['json'];
        }
        return $out;
    }

    /** The outcome in the shape of a case's `expect`. */
    protected static function outcome(\Camd\Decision|\Camd\CamdException $r): array
    {
        if ($r instanceof \Camd\CamdException) {
            return ['error' => $r->getCamCode()];
        }
        return ['allowed' => $r->allowed, 'reason' => $r->reason, 'policy' => $r->policy, 'statement' => $r->statement];
    }
}
