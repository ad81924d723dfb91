<?php
declare(strict_types=1);

namespace Camd;

/**
 * No answer from camd: the socket could not be opened, was closed (also in the
 * middle of a line), the reply was garbled or not the one for this request.
 * The connection is dropped; the next call opens a new one.
 */
class ConnectionException extends \RuntimeException implements ExceptionInterface
{
    public function __construct(string $message, private readonly string $path = '', ?\Throwable $previous = null)
    {
        parent::__construct($path === '' ? "camd: $message" : "camd at {$path}: $message", 0, $previous);
    }

    /** The socket's path. */
    public function getPath(): string
    {
        return $this->path;
    }

    /** No CAM code: camd did not answer. */
    public function getCamCode(): ?string
    {
        return null;
    }

    public function isTimeout(): bool
    {
        return false;
    }
}
