<?php
// Signed requests: TC3-HMAC-SHA256 signed here (hash_hmac, service im, X-TC-Action signed), written as raw HTTP bytes, decided by camd with AuthorizeSigned and compared with `camctl verify --service im` on the same bytes.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\CamdException;
use Camd\Client;
use Camd\Decision;
use Camd\SignedRequest;
use Camd\Tc3;

final class SignedTest extends Support
{
    private const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';

    private static function verdict(Decision|CamdException $r): array
    {
        return $r instanceof CamdException ? ['code' => $r->getCamCode()]
            : ['allowed' => $r->allowed, 'reason' => $r->reason, 'policy' => $r->policy, 'statement' => $r->statement, 'uin' => $r->uin];
    }

    /** `camctl --json verify --service im --resource R` on the raw bytes, in the same shape. */
    private function camctl(string $socket, string $raw): array
    {
        $p = proc_open([$this->env('CAMD_TEST_CAMCTL'), '--socket', $socket, '--json', 'verify', '--service', 'im', '--resource', self::APP],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        fwrite($pipes[0], $raw);
        fclose($pipes[0]);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $rc = proc_close($p);
        if ($rc === 0 || $rc === 1) {
            $j = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
            $this->assertSame($rc === 0, $j['Decision'] === 'Allow', $out);
            return ['allowed' => $j['Decision'] === 'Allow', 'reason' => $j['Reason'], 'policy' => $j['PolicyName'] ?? null,
                'statement' => $j['StatementIndex'] ?? null, 'uin' => $j['Uin']];
        }
        // `camctl: <Code>: message`, as every camctl error.
        $msg = preg_replace('/^camctl: /', '', trim($err));
        return ['code' => trim(explode(':', $msg, 2)[0])];
    }

    public function testSignedRequestsAgreeWithCamctlVerify(): void
    {
        $socket = $this->daemon();
        $c = new Client($socket);
        $id = $this->env('CAMD_TEST_KEY_ID');
        $secret = $this->env('CAMD_TEST_KEY_SECRET');
        $body = '{"GroupId":"@TGS#1","Text":"héllo"}';
        $raw = fn (string $key, string $action) => Tc3::raw(Tc3::signPost($id, $key, 'im', $action, $body));
        $cases = [
            'allowed' => [$raw($secret, 'SendMessage'), ['allowed' => true, 'reason' => 'Allow', 'policy' => 'NoDestroy', 'statement' => 0]],
            'explicitly denied' => [$raw($secret, 'DestroyGroup'), ['allowed' => false, 'reason' => 'ExplicitDeny', 'policy' => 'NoDestroy', 'statement' => 1]],
            'tampered body' => [str_replace('"Text"', '"Texu"', $raw($secret, 'SendMessage')), ['code' => 'AuthFailure.SignatureFailure']],
            'wrong key' => [$raw('not-the-key', 'SendMessage'), ['code' => 'AuthFailure.SignatureFailure']],
        ];
        foreach ($cases as $name => [$bytes, $want]) {
            try {
                $mine = self::verdict($c->authorizeSigned(SignedRequest::fromRaw($bytes), self::APP, 'im'));
            } catch (CamdException $e) {
                $mine = self::verdict($e);
            }
            if (isset($mine['uin'])) {
                $this->assertGreaterThan(0, $mine['uin'], $name);
                $want['uin'] = $mine['uin'];
            }
            $this->assertSame($want, $mine, $name);
            $this->assertSame($mine, $this->camctl($socket, $bytes), "$name: camctl verify and the PHP client differ");
        }

        // The body as its SHA-256, and the action given in full.
        $r = SignedRequest::fromRaw($raw($secret, 'SendMessage'));
        $hashed = new SignedRequest($r->method, $r->path, $r->query, $r->headers, null, hash('sha256', $body));
        $d = $c->authorizeSigned($hashed, self::APP, 'im:GetGroupInfo', ['qcs:ip' => '10.0.0.1']);
        $this->assertSame([true, 'Allow'], [$d->allowed, $d->reason]);
        // No action: camd asks for one.
        try {
            $c->authorizeSigned($hashed, self::APP, null);
            $this->fail('no action was accepted');
        } catch (CamdException $e) {
            $this->assertSame('MissingParameter', $e->getCamCode());
        }
    }
}
