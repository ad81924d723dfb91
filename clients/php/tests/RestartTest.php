<?php
// A real restart: camd SIGKILLed and started again by the scene's restart service
// ($CAMD_TEST_RESTART_SOCKET, given by tests/clients.rs) under a Client that
// answers right afterwards, reconnecting by itself.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\Client;
use Camd\Decision;

final class RestartTest extends Support
{
    private const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';
    private const RIGHT = ['allowed' => true, 'reason' => 'Allow', 'policy' => 'QcloudChatReadOnlyAccess', 'statement' => 0];

    /** $CAMD_TEST_RESTART_SOCKET, or the test is skipped. */
    private function restartService(): string
    {
        $s = getenv('CAMD_TEST_RESTART_SOCKET');
        if (!is_string($s) || $s === '') {
            $this->markTestSkipped('CAMD_TEST_RESTART_SOCKET is unset: no restart service to restart camd with');
        }
        return $s;
    }

    /** Asks the service to kill camd and start it again; returns once camd serves again. */
    private function restartCamd(string $service): void
    {
        $errno = 0;
        $errstr = '';
        $s = @stream_socket_client('unix://' . $service, $errno, $errstr, 5.0);
        if ($s === false) {
            $this->fail("the restart service: cannot connect: $errstr ($errno)");
        }
        try {
            stream_set_timeout($s, 30);
            if (@fwrite($s, "restart\n") !== 8) {
                $this->fail('the restart service: the request could not be sent');
            }
            $line = fgets($s);
            $this->assertSame("ok\n", $line, 'the restart service answered');
        } finally {
            fclose($s);
        }
    }

    private static function shape(Decision $d): array
    {
        return ['allowed' => $d->allowed, 'reason' => $d->reason, 'policy' => $d->policy, 'statement' => $d->statement];
    }

    public function testTheSameClientAnswersAfterARealRestart(): void
    {
        $service = $this->restartService();
        $c = new Client($this->daemon());
        $this->assertSame(self::RIGHT, self::shape($c->authorizeUser('reader', 'im:GetGroupInfo', self::APP)), 'before the restart');
        $this->restartCamd($service);
        // camd serves again: an exception now is a failure; the client reconnects by itself.
        $this->assertSame(self::RIGHT, self::shape($c->authorizeUser('reader', 'im:GetGroupInfo', self::APP)), 'the same client after the restart');
    }
}
