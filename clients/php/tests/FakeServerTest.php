<?php
// The client against fake servers (a child PHP process on a Unix path): a reply cut mid-line, no reply (timeout), a restart (reconnect), a wrong id and garbage; each an error or a right answer, fast, never a hang.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\Client;
use Camd\ConnectionException;
use Camd\TimeoutException;

final class FakeServerTest extends Support
{
    /** @var resource|null */
    private $proc = null;
    private string $dir = '';

    protected function tearDown(): void
    {
        if ($this->proc !== null) {
            proc_terminate($this->proc);
            proc_close($this->proc);
        }
        if ($this->dir !== '') {
            @unlink("{$this->dir}/s.sock");
            @rmdir($this->dir);
        }
    }

    private function fake(string $mode): string
    {
        $this->dir = sys_get_temp_dir() . '/camd-php-fake-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
        $sock = "{$this->dir}/s.sock";
        $this->proc = proc_open([PHP_BINARY, __DIR__ . '/fake_server.php', $sock, $mode],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => STDERR], $pipes);
        $this->assertIsResource($this->proc);
        $this->assertSame("ready\n", fgets($pipes[1]));
        return $sock;
    }

    private function expectFailure(string $class, callable $f, float $within): ConnectionException
    {
        $t = microtime(true);
        try {
            $f();
            $this->fail("no $class");
        } catch (ConnectionException $e) {
            $this->assertInstanceOf($class, $e);
            $this->assertLessThan($within, microtime(true) - $t, $e->getMessage());
            return $e;
        }
    }

    public function testAReplyClosedMidLineIsAConnectionError(): void
    {
        $c = new Client($this->fake('midline'), 2.0);
        $e = $this->expectFailure(ConnectionException::class,
            fn () => $c->authorizeUser('alice', 'im:SendMessage', '*'), 1.0);
        $this->assertFalse($e->isTimeout());
        $this->assertStringContainsString('middle', $e->getMessage());
        $this->assertNull($e->getCamCode());
    }

    public function testNoReplyIsATimeout(): void
    {
        $c = new Client($this->fake('silent'), 0.3);
        $e = $this->expectFailure(TimeoutException::class,
            fn () => $c->authorizeUser('alice', 'im:SendMessage', '*'), 1.0);
        $this->assertTrue($e->isTimeout());
    }

    public function testADecisionIsSentAgainAfterARestart(): void
    {
        $c = new Client($this->fake('restart'), 2.0);
        $this->assertTrue($c->authorizeUser('alice', 'im:SendMessage', '*')->allowed);
        usleep(100000); // the fake closes the first connection
        $this->assertTrue($c->authorizeUser('alice', 'im:SendMessage', '*')->allowed);
        $this->assertTrue($c->authorizeUser('alice', 'im:SendMessage', '*')->allowed);
    }

    public function testAnotherRequestsReplyIsNeverTaken(): void
    {
        $c = new Client($this->fake('wrongid'), 2.0);
        $this->expectFailure(ConnectionException::class, fn () => $c->authorizeUser('alice', 'im:SendMessage', '*'), 1.0);
    }

    public function testGarbageIsAConnectionError(): void
    {
        $c = new Client($this->fake('garbled'), 2.0);
        $e = $this->expectFailure(ConnectionException::class, fn () => $c->ping(), 1.0);
        $this->assertStringContainsString('garbled', $e->getMessage());
    }

    public function testNoServerIsAConnectionError(): void
    {
        $c = new Client(sys_get_temp_dir() . '/camd-php-none-' . getmypid() . '.sock', 1.0);
        $this->expectFailure(ConnectionException::class, fn () => $c->ping(), 0.5);
    }
}
