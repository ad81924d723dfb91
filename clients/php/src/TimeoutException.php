<?php
declare(strict_types=1);

namespace Camd;

/** camd did not answer within the client's timeout. */
final class TimeoutException extends ConnectionException
{
    public function isTimeout(): bool
    {
        return true;
    }
}
