<?php
declare(strict_types=1);

namespace Camd;

/** Every exception this client throws for a call to camd implements this. */
interface ExceptionInterface extends \Throwable
{
}
