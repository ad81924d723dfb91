<?php
// Decision ids and the traceparent against camd's decision log ($CAMD_TEST_DECISION_LOG, given by tests/clients.rs): a single decision and a batch, each found by its id in the log's file with its answer and trace id.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\CamdException;
use Camd\Client;
use Camd\Decision;
use Camd\Wire;

final class DecisionLogTest extends Support
{
    private const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';
    private const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    private const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

    /** $CAMD_TEST_DECISION_LOG, or the test is skipped. */
    private function logFile(): string
    {
        $f = getenv('CAMD_TEST_DECISION_LOG');
        if (!is_string($f) || $f === '') {
            $this->markTestSkipped('CAMD_TEST_DECISION_LOG is unset: no decision log to read');
        }
        return $f;
    }

    /**
     * The records of the log with these ids, by id (a list for each: an id is
     * to be on one record only), polled for up to 5 s until all are there.
     *
     * @param list<string> $ids
     * @return array<string, list<array>>
     */
    private function records(string $file, array $ids): array
    {
        $deadline = microtime(true) + 5.0;
        do {
            $found = [];
            foreach (@file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
                $rec = json_decode($line, true);
                // The writer may be in the middle of the last line.
                if (is_array($rec) && in_array($rec['decision_id'] ?? null, $ids, true)) {
                    $found[$rec['decision_id']][] = $rec;
                }
            }
            if (count($found) === count($ids)) {
                return $found;
            }
            usleep(20000);
        } while (microtime(true) < $deadline);
        $this->fail('no record in ' . $file . ' within 5 s for ' . implode(', ', array_diff($ids, array_keys($found))));
    }

    /** The decision's one record agrees with it and carries the trace id. */
    private function assertRecorded(Decision $d, array $found, string $what): void
    {
        $this->assertCount(1, $found[$d->decisionId], "$what: records with id {$d->decisionId}");
        $rec = $found[$d->decisionId][0];
        $this->assertSame([$d->allowed, $d->reason], [$rec['result']['allowed'] ?? null, $rec['result']['reason'] ?? null], $what);
        $this->assertSame(self::TRACE_ID, $rec['trace_id'] ?? null, "$what: trace id");
    }

    public function testDecisionIdsAndTheTraceparentAreInTheLog(): void
    {
        $file = $this->logFile();
        $c = new Client($this->daemon());

        $d = $c->authorizeUser('reader', 'im:GetGroupInfo', self::APP, traceparent: self::TRACEPARENT);
        $this->assertTrue($d->allowed);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{16}$/D', (string)$d->decisionId);

        $got = $c->authorizeBatch([
            ['user' => 'reader', 'action' => 'im:GetGroupInfo', 'resource' => self::APP],
            ['user' => 'reader', 'action' => 'im:DestroyGroup', 'resource' => self::APP],
            ['user' => 'nobody', 'action' => 'im:GetGroupInfo', 'resource' => self::APP],
        ], traceparent: self::TRACEPARENT);
        [$allow, $deny, $err] = $got;
        $this->assertInstanceOf(Decision::class, $allow);
        $this->assertInstanceOf(Decision::class, $deny);
        $this->assertInstanceOf(CamdException::class, $err);
        $this->assertSame([true, false], [$allow->allowed, $deny->allowed]);
        $first = (string)$allow->decisionId;
        $this->assertMatchesRegularExpression('/^[0-9a-f]{16}$/D', $first);
        $this->assertSame(Wire::nthDecisionId($first, 1), $deny->decisionId);
        $third = Wire::nthDecisionId($first, 2);

        $found = $this->records($file, [$d->decisionId, $first, $deny->decisionId, $third]);
        $this->assertRecorded($d, $found, 'the single decision');
        $this->assertRecorded($allow, $found, 'batch item 0');
        $this->assertRecorded($deny, $found, 'batch item 1');
        $this->assertCount(1, $found[$third], "batch item 2: records with id $third");
        $this->assertSame('error', $found[$third][0]['result']['outcome'] ?? null, 'batch item 2');

        // Without a traceparent the decision still has its id.
        $this->assertMatchesRegularExpression('/^[0-9a-f]{16}$/D', (string)$c->authorizeUser('reader', 'im:GetGroupInfo', self::APP)->decisionId);
    }
}
