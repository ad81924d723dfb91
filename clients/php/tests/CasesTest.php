<?php
// The shared cases (tests/clients/cases.json) asked of the real camd, one by one and as one batch.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\Ask;
use Camd\CamdException;
use Camd\Client;
use Camd\Decision;

final class CasesTest extends Support
{
    private function ask(Client $c, array $a): Decision|CamdException
    {
        try {
            $ctx = $a['context'] ?? [];
            return isset($a['user'])
                ? $c->authorizeUser($a['user'], $a['action'], $a['resource'], $ctx)
                : $c->authorizeKey($a['secret_id'], $a['secret_key'], $a['action'], $a['resource'], $ctx);
        } catch (CamdException $e) {
            return $e;
        }
    }

    public function testEveryCaseSingly(): void
    {
        $c = new Client($this->daemon());
        $cases = $this->cases();
        $this->assertGreaterThanOrEqual(10, count($cases));
        foreach ($cases as $case) {
            $this->assertSame($case['expect'], self::outcome($this->ask($c, $case['ask'])), $case['name']);
        }
    }

    public function testEveryCaseAsOneBatch(): void
    {
        $c = new Client($this->daemon());
        $cases = $this->cases();
        $got = $c->authorizeBatch(array_map(fn ($k) => $k['ask'], $cases));
        $this->assertCount(count($cases), $got);
        foreach ($cases as $i => $case) {
            $this->assertSame($case['expect'], self::outcome($got[$i]), $case['name']);
        }
    }

    public function testByUinPingAndAuthorizeAt(): void
    {
        $c = new Client($this->daemon());
        $this->assertSame(1, $c->ping());
        $app = 'qcs::im::uin/100000000001:sdkappid/1400000001';
        $d = $c->authorizeUser('reader', 'im:GetGroupInfo', $app);
        $this->assertSame($d->uin, $c->authorizeUser($d->uin, 'im:GetGroupInfo', $app)->uin);
        // Standalone camd: revision 0 is reached; the answer is the same.
        $at = $c->authorizeAt(0, Ask::byUser('reader', 'im:GetGroupInfo', $app));
        $this->assertSame(self::outcome($d) + ['uin' => $d->uin], self::outcome($at) + ['uin' => $at->uin]);
        // Context as a map.
        $this->assertTrue($c->authorizeUser('reader', 'im:GetGroupInfo', $app, ['qcs:ip' => '10.0.0.1'])->allowed);
    }

    public function testTheSecretKeyIsNeverShown(): void
    {
        $c = new Client($this->daemon());
        $secret = 'wrong-' . bin2hex(random_bytes(8));
        try {
            $c->authorizeKey($this->env('CAMD_TEST_KEY_ID'), $secret, 'im:SendMessage', '*');
            $this->fail('a wrong key was accepted');
        } catch (CamdException $e) {
            $this->assertSame('AuthFailure.InvalidAuthorization', $e->getCamCode());
            $this->assertStringNotContainsString($secret, $e->getMessage() . $e->getTraceAsString() . print_r($e, true));
        }
        $ask = Ask::byKey('AKIDx', $secret, 'im:SendMessage', '*');
        ob_start();
        var_dump($ask);
        print_r($ask);
        $shown = ob_get_clean() . var_export($ask->__debugInfo(), true);
        $this->assertStringNotContainsString($secret, $shown);
        $this->assertStringNotContainsString($secret, print_r($c, true));
        $this->expectException(\LogicException::class);
        serialize($ask);
    }

    public function testSharedIsOnePersistentClientPerPath(): void
    {
        $path = $this->daemon();
        $a = Client::shared($path);
        $this->assertSame($a, Client::shared($path));
        $this->assertSame(1, $a->ping());
        $this->assertTrue($a->authorizeUser('reader', 'im:GetGroupInfo', 'qcs::im::uin/100000000001:sdkappid/1400000001')->allowed);
        // A new instance on the same persistent socket (as the worker's next
        // PHP request would get) works on it.
        $b = new Client($path, 5.0, true);
        $this->assertSame(1, $b->ping());
        $this->assertSame(1, $a->ping());
    }
}
