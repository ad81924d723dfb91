<?php
declare(strict_types=1);

namespace Camd;

/**
 * camd's answer to one question. `reason` is `Root`, `Allow`, `ExplicitDeny`,
 * `FailClosedDeny`, `ImplicitDeny`, `BoundaryDeny`, `BoundaryFailClosedDeny`
 * or `OutsideBoundary`; `policy` and `statement` name the deciding statement
 * (null for an implicit deny); `uin` is the user decided for. `decisionId`
 * is the id of its record in camd's decision log (16 lowercase hex digits, the
 * record's `decision_id`), or null when camd's decision log is off.
 */
final class Decision
{
    public function __construct(
        public readonly bool $allowed,
        public readonly string $reason,
        public readonly ?string $policy,
        public readonly ?int $statement,
        public readonly int $uin,
        public readonly ?string $decisionId = null,
    ) {
    }

    /** From the JSON object of a `Decision` (camd's field names) and the reply's decision id. */
    public static function fromArray(array $d, ?string $decisionId = null): self
    {
        if (!isset($d['allowed'], $d['reason'], $d['uin']) || !is_bool($d['allowed'])
            || !is_string($d['reason']) || !is_int($d['uin'])
            || !(is_string($d['policy'] ?? null) || ($d['policy'] ?? null) === null)
            || !(is_int($d['statement'] ?? null) || ($d['statement'] ?? null) === null)) {
            throw new \UnexpectedValueException('not a decision: ' . substr(json_encode($d) ?: '?', 0, 200));
        }
        return new self($d['allowed'], $d['reason'], $d['policy'] ?? null, $d['statement'] ?? null, $d['uin'], $decisionId);
    }

    public function __toString(): string
    {
        $s = ($this->allowed ? 'Allow' : 'Deny') . " ({$this->reason}";
        if ($this->policy !== null) {
            $s .= ", policy {$this->policy}";
            if ($this->statement !== null) {
                $s .= " statement {$this->statement}";
            }
        }
        return $s . ", uin {$this->uin})";
    }
}
