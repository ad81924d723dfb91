<?php
// The `check` program: its output and exit codes (0 Allow, 1 Deny, 2 error with the CAM code) against the real camd.
declare(strict_types=1);

namespace Camd\Tests;

final class CheckTest extends Support
{
    private const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';

    /** @return array{0:int,1:string,2:string} exit code, stdout, stderr */
    private function check(array $args, array $env = []): array
    {
        $p = proc_open(array_merge([PHP_BINARY, __DIR__ . '/../check'], $args),
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        fclose($pipes[0]);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        return [proc_close($p), $out, $err];
    }

    public function testExitCodes(): void
    {
        $sock = $this->daemon();
        $base = ['--socket', $sock];
        [$rc, $out] = $this->check([...$base, '--user', 'reader', '--action', 'im:GetGroupInfo', '--resource', self::APP,
            '--context', '{"qcs:ip": "10.0.0.1"}']);
        $this->assertSame(0, $rc);
        $this->assertStringStartsWith('Allow (Allow, policy QcloudChatReadOnlyAccess statement 0', $out);

        [$rc, $out] = $this->check([...$base, '--user', 'reader', '--action', 'im:SendMessage', '--resource', self::APP]);
        $this->assertSame(1, $rc);
        $this->assertStringStartsWith('Deny (ImplicitDeny', $out);

        $id = $this->env('CAMD_TEST_KEY_ID');
        $secret = $this->env('CAMD_TEST_KEY_SECRET');
        [$rc, $out, $err] = $this->check([...$base, '--secret-id', $id, '--action', 'im:DestroyGroup', '--resource', self::APP],
            ['CAMD_SECRET_KEY' => $secret]);
        $this->assertSame(1, $rc);
        $this->assertStringStartsWith('Deny (ExplicitDeny, policy NoDestroy statement 1', $out);
        $this->assertStringNotContainsString($secret, $out . $err);

        [$rc, $out, $err] = $this->check([...$base, '--secret-id', $id, '--action', 'im:SendMessage', '--resource', self::APP],
            ['CAMD_SECRET_KEY' => 'not-the-key']);
        $this->assertSame([2, ''], [$rc, $out]);
        $this->assertStringContainsString('AuthFailure.InvalidAuthorization', $err);

        [$rc, , $err] = $this->check([...$base, '--user', 'nobody', '--action', 'im:SendMessage', '--resource', '*']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('ResourceNotFound.UserNotExist', $err);

        [$rc, , $err] = $this->check([...$base, '--user', 'reader', '--action', 'SendMessage', '--resource', '*']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('InvalidParameter', $err);
    }

    public function testUsageAndConnectionErrors(): void
    {
        [$rc, , $err] = $this->check(['--user', 'reader', '--resource', '*']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('InvalidParameter: --action is required', $err);

        [$rc, , $err] = $this->check(['--secret-id', 'AKIDx', '--action', 'im:SendMessage', '--resource', '*'], ['CAMD_SECRET_KEY' => '']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('CAMD_SECRET_KEY', $err);

        [$rc, , $err] = $this->check(['--socket', sys_get_temp_dir() . '/camd-php-none.sock', '--user', 'reader',
            '--action', 'im:SendMessage', '--resource', '*']);
        $this->assertSame(2, $rc);
        $this->assertStringContainsString('cannot connect', $err);
    }
}
