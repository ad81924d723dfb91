<?php
declare(strict_types=1);

namespace Camd;

/**
 * camd answered with an error: the CAM code (`ResourceNotFound.UserNotExist`,
 * `AuthFailure.InvalidAuthorization`, `InvalidParameter`, ...) and camd's message.
 * Never a decision: a caller that gets one must not treat it as Allow.
 */
class CamdException extends \RuntimeException implements ExceptionInterface
{
    private string $camCode;

    public function __construct(string $camCode, string $message, ?\Throwable $previous = null)
    {
        $this->camCode = $camCode;
        parent::__construct($camCode . ': ' . $message, 0, $previous);
    }

    /** The CAM error code, e.g. `AuthFailure.SecretIdNotFound`. */
    public function getCamCode(): string
    {
        return $this->camCode;
    }
}
