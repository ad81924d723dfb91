<?php
declare(strict_types=1);

namespace Camd;

/**
 * TC3-HMAC-SHA256 signing as Tencent Cloud API 3.0 and its SDKs do it (for
 * tests and for checking an integration against camd; camd itself only
 * verifies). The SecretKey is used here, never kept.
 */
final class Tc3
{
    /**
     * The Authorization header's value.
     *
     * @param list<array{0:string,1:string}> $headers
     * @param list<string> $signed lower-case header names, in order
     */
    public static function authorization(
        string $secretId,
        #[\SensitiveParameter] string $secretKey,
        string $service,
        int $timestamp,
        string $method,
        string $path,
        string $query,
        array $headers,
        array $signed,
        string $body,
    ): string {
        $canon = "$method\n$path\n$query\n";
        foreach ($signed as $name) {
            foreach ($headers as [$k, $v]) {
                if (strcasecmp($k, $name) === 0) {
                    $canon .= $name . ':' . strtolower(trim($v)) . "\n";
                }
            }
        }
        $signedHeaders = implode(';', $signed);
        $canon .= "\n$signedHeaders\n" . hash('sha256', $body);
        $date = gmdate('Y-m-d', $timestamp);
        $scope = "$date/$service/tc3_request";
        $toSign = "TC3-HMAC-SHA256\n$timestamp\n$scope\n" . hash('sha256', $canon);
        $k = hash_hmac('sha256', $date, 'TC3' . $secretKey, true);
        $k = hash_hmac('sha256', $service, $k, true);
        $k = hash_hmac('sha256', 'tc3_request', $k, true);
        $sig = hash_hmac('sha256', $toSign, $k);
        return "TC3-HMAC-SHA256 Credential=$secretId/$scope, SignedHeaders=$signedHeaders, Signature=$sig";
    }

    /**
     * A `POST /` with a JSON body as Tencent's SDKs send it, signing
     * content-type, host and x-tc-action (as src/client/signing.rs does).
     */
    public static function signPost(
        string $secretId,
        #[\SensitiveParameter] string $secretKey,
        string $service,
        string $action,
        string $body,
        ?int $timestamp = null,
        string $host = '',
        string $version = '2019-03-06',
    ): SignedRequest {
        $timestamp ??= time();
        $host = $host !== '' ? $host : "$service.tencentcloudapi.com";
        $headers = [
            ['Content-Type', 'application/json'],
            ['Host', $host],
            ['X-TC-Action', $action],
            ['X-TC-Timestamp', (string)$timestamp],
            ['X-TC-Version', $version],
        ];
        $auth = self::authorization($secretId, $secretKey, $service, $timestamp, 'POST', '/', '', $headers,
            ['content-type', 'host', 'x-tc-action'], $body);
        array_unshift($headers, ['Authorization', $auth]);
        return new SignedRequest('POST', '/', '', $headers, $body);
    }

    /** The request as raw HTTP/1.1 bytes (as `camctl verify` reads them). */
    public static function raw(SignedRequest $r): string
    {
        $s = "{$r->method} {$r->path}" . ($r->query !== '' ? "?{$r->query}" : '') . " HTTP/1.1\r\n";
        foreach ($r->headers as [$k, $v]) {
            $s .= "$k: $v\r\n";
        }
        $body = $r->body ?? '';
        return $s . 'Content-Length: ' . strlen($body) . "\r\n\r\n" . $body;
    }
}
