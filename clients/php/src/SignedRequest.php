<?php
declare(strict_types=1);

namespace Camd;

/**
 * A TC3-HMAC-SHA256-signed HTTP request exactly as it was received: method,
 * path, query string (without `?`), headers in order, and the body's bytes
 * (or, for a streamed body, their SHA-256 in hex). Never re-serialize a body:
 * camd checks the signature over the bytes the caller signed.
 */
final class SignedRequest
{
    /** @var list<array{0:string,1:string}> */
    public readonly array $headers;

    public function __construct(
        public readonly string $method,
        public readonly string $path,
        public readonly string $query,
        array $headers,
        public readonly ?string $body = null,
        public readonly ?string $bodySha256 = null,
    ) {
        if (($body === null) === ($bodySha256 === null)) {
            throw new \InvalidArgumentException('give the body or its SHA-256, one of them');
        }
        $this->headers = Ask::pairs($headers);
    }

    /** From a raw HTTP/1.1 request (request line, headers, CRLF CRLF, body). */
    public static function fromRaw(string $raw): self
    {
        $end = strpos($raw, "\r\n\r\n");
        if ($end === false) {
            throw new \InvalidArgumentException('not an HTTP request: no end of headers');
        }
        $lines = explode("\r\n", substr($raw, 0, $end));
        $body = substr($raw, $end + 4);
        $parts = explode(' ', array_shift($lines));
        if (count($parts) !== 3 || !str_starts_with($parts[2], 'HTTP/')) {
            throw new \InvalidArgumentException('not an HTTP request line');
        }
        [$path, $query] = array_pad(explode('?', $parts[1], 2), 2, '');
        $headers = [];
        foreach ($lines as $l) {
            $c = strpos($l, ':');
            if ($c === false) {
                throw new \InvalidArgumentException('not an HTTP header line');
            }
            $name = substr($l, 0, $c);
            $value = trim(substr($l, $c + 1), " \t");
            $headers[] = [$name, $value];
            if (strcasecmp($name, 'Content-Length') === 0) {
                $body = substr($body, 0, (int)$value);
            }
        }
        return new self($parts[0], $path, $query, $headers, $body);
    }

    /**
     * The request PHP-FPM is serving: $_SERVER, getallheaders() and php://input.
     * Header names come from getallheaders() as sent (else from $_SERVER).
     */
    public static function fromGlobals(): self
    {
        $uri = $_SERVER['REQUEST_URI'] ?? '/';
        [$path, $query] = array_pad(explode('?', $uri, 2), 2, '');
        $headers = [];
        if (function_exists('getallheaders')) {
            foreach (getallheaders() as $k => $v) {
                $headers[] = [(string)$k, (string)$v];
            }
        } else {
            foreach ($_SERVER as $k => $v) {
                if (str_starts_with($k, 'HTTP_')) {
                    $headers[] = [str_replace('_', '-', strtolower(substr($k, 5))), (string)$v];
                } elseif ($k === 'CONTENT_TYPE' || $k === 'CONTENT_LENGTH') {
                    $headers[] = [str_replace('_', '-', strtolower($k)), (string)$v];
                }
            }
        }
        $body = file_get_contents('php://input');
        return new self($_SERVER['REQUEST_METHOD'] ?? 'GET', $path, $query, $headers, $body === false ? '' : $body);
    }

    /** The wire form (serde's JSON of `SignedHttp`). */
    public function toWire(): array
    {
        return [
            'method' => $this->method,
            'path' => $this->path,
            'query' => $this->query,
            'headers' => $this->headers,
            'payload' => $this->body !== null
                ? ['Body' => $this->body === '' ? [] : array_values(unpack('C*', $this->body))]
                : ['Sha256Hex' => $this->bodySha256],
        ];
    }
}
