<?php
// The JSON-lines encoder and decoder against camd's golden vectors (tests/wire/*.jsonl), and TC3 signing against Tencent's example.
declare(strict_types=1);

namespace Camd\Tests;

use Camd\Ask;
use Camd\Decision;
use Camd\SignedRequest;
use Camd\Tc3;
use Camd\Wire;

final class WireTest extends Support
{
    private const APP = 'qcs::im::uin/100000000001:sdkappid/1400000001';

    public function testRequestsAreByteExact(): void
    {
        $v = $this->vectors('requests');
        $alice = Ask::byUser('alice', 'im:SendMessage', self::APP, [['qcs:ip', '10.0.0.1']]);
        $admin = ['AKIDadmin', 'adminsecret'];
        $this->assertSame($v['Ping'], Wire::request(1, null, Wire::ping()));
        $this->assertSame($v['Authorize'], Wire::request(2, $admin, Wire::authorize($alice)));
        $this->assertSame($v['Batch'], Wire::request(3, null, Wire::batch([
            $alice,
            Ask::from(['secret_id' => 'AKIDexample', 'secret_key' => 'secret', 'action' => 'im:GetGroupInfo', 'resource' => '*']),
        ])));
        $signed = new SignedRequest('POST', '/', '', [['Host', 'cam.tencentcloudapi.com'], ['X-TC-Action', 'GetUser']], '{"Name":"alice"}');
        $this->assertSame($v['AuthorizeSigned'], Wire::request(34, $admin, Wire::authorizeSigned($signed, '*', [], 'im')));
        $this->assertSame($v['AuthorizeAt'], Wire::request(49, null, Wire::authorizeAt(42, $alice)));
        // A map context is the same pairs.
        $this->assertSame($v['AuthorizeAt'], Wire::request(49, null, Wire::authorizeAt(42,
            Ask::byUser('alice', 'im:SendMessage', self::APP, ['qcs:ip' => '10.0.0.1']))));
    }

    public function testOtherShapes(): void
    {
        $this->assertSame('{"id":7,"auth":null,"body":{"Authorize":{"ByUser":{"user":{"Uin":100000000002},"action":"im:*","resource":"qcs::im::uin/1:sdkappid/é","context":[["k","a"],["k","b"]]}}}}',
            Wire::request(7, null, Wire::authorize(Ask::byUser(100000000002, 'im:*', 'qcs::im::uin/1:sdkappid/é', ['k' => ['a', 'b']]))));
        $hashed = new SignedRequest('POST', '/', 'a=1', [], null, str_repeat('0', 64));
        $this->assertSame('{"request":{"method":"POST","path":"/","query":"a=1","headers":[],"payload":{"Sha256Hex":"' . str_repeat('0', 64) . '"}},"resource":"*","context":[],"action":null}',
            json_encode(Wire::authorizeSigned($hashed, '*', [], null)['AuthorizeSigned'], Wire::JSON_FLAGS));
        $this->expectException(\InvalidArgumentException::class);
        Wire::request(1, null, Wire::authorize(Ask::byUser("bad\xff", 'im:*', '*')));
    }

    public function testDecisionRepliesDecode(): void
    {
        $v = $this->vectors('replies');
        $r = Wire::response($v['Decision']);
        $this->assertSame(2, $r['id']);
        $this->assertSame('Decision', Wire::variant($r['ok']));
        $this->assertEquals(new Decision(true, 'Allow', 'QcloudIMFullAccess', 0, 100000000002), Decision::fromArray($r['ok']['Decision']));

        $r = Wire::response($v['Decisions']);
        $items = Wire::decisions($r['ok']['Decisions']);
        $this->assertEquals(new Decision(true, 'Allow', 'QcloudIMFullAccess', 0, 100000000002), $items[0]);
        $this->assertSame(['code' => 'ResourceNotFound.UserNotExist', 'message' => 'no user `bob`'], $items[1]);

        $r = Wire::response($v['Error']);
        $this->assertSame(99, $r['id']);
        $this->assertNull($r['ok']);
        $this->assertSame(['code' => 'AuthFailure.SecretIdNotFound', 'message' => 'no access key `AKIDnone`'], $r['err']);

        $r = Wire::response($v['Pong']);
        $this->assertSame(['id' => 1, 'ok' => ['Pong' => 1], 'err' => null, 'revision' => 40, 'decision_id' => null], $r);
        $this->assertSame('Done', Wire::variant(Wire::response($v['Done'])['ok']));
        // Every reply vector is a Response the decoder reads.
        foreach ($v as $name => $line) {
            $this->assertSame($name === 'Error' ? null : $name, $name === 'Error' ? null : Wire::variant(Wire::response($line)['ok']));
        }
    }

    public function testTraceparentAndDecisionIds(): void
    {
        $tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
        $alice = Ask::byUser('alice', 'im:SendMessage', self::APP, [['qcs:ip', '10.0.0.1']]);
        // The traceparent follows the body; without it the line is as before.
        $this->assertSame(substr($this->vectors('requests')['AuthorizeAt'], 0, -1) . ',"traceparent":"' . $tp . '"}',
            Wire::request(49, null, Wire::authorizeAt(42, $alice), $tp));
        $this->assertSame($this->vectors('requests')['AuthorizeAt'], Wire::request(49, null, Wire::authorizeAt(42, $alice), null));

        $allow = '{"allowed":true,"reason":"Allow","policy":"P","statement":0,"uin":1}';
        $r = Wire::response('{"id":2,"result":{"Ok":{"Decision":' . $allow . '}},"revision":0,"decision_id":"1a23758588f00000"}');
        $this->assertSame([0, '1a23758588f00000'], [$r['revision'], $r['decision_id']]);
        $this->assertSame('1a23758588f00000', Decision::fromArray($r['ok']['Decision'], $r['decision_id'])->decisionId);
        $this->assertNull(Wire::response($this->vectors('replies')['Decision'])['decision_id']);

        // A batch: item i has the first id + i (u64 addition); errors have none.
        $r = Wire::response('{"id":3,"result":{"Ok":{"Decisions":[{"Ok":' . $allow . '},{"Err":{"code":"C","message":"m"}},{"Ok":' . $allow . '}]}},"revision":0,"decision_id":"00000000fffffffe"}');
        $items = Wire::decisions($r['ok']['Decisions'], $r['decision_id']);
        $this->assertSame(['00000000fffffffe', '0000000100000000'], [$items[0]->decisionId, $items[2]->decisionId]);
        $this->assertSame(['code' => 'C', 'message' => 'm'], $items[1]);
        $this->assertNull(Wire::decisions($r['ok']['Decisions'])[0]->decisionId);
        $this->assertSame('0000000000000000', Wire::nthDecisionId('ffffffffffffffff', 1));
        $this->assertSame('7fffffff00000fff', Wire::nthDecisionId('7ffffffefffffffe', 4097));
        $this->assertNull(Wire::nthDecisionId(null, 3));
    }

    public function testGarbledRepliesAreRejected(): void
    {
        foreach (['', 'not json', '{"id":1}', '{"id":"1","result":{"Ok":"Done"}}', '{"id":1,"result":{"Maybe":1}}',
            '{"id":1,"result":{"Ok":{"Decision":1,"Pong":2}}}', '[1]', '{"id":-1,"result":{"Ok":"Done"}}',
            '{"id":1,"result":{"Ok":"Done"},"decision_id":7}', '{"id":1,"result":{"Ok":"Done"},"decision_id":"1A23758588F00000"}',
            '{"id":1,"result":{"Ok":"Done"},"decision_id":"1a2375"}'] as $bad) {
            try {
                Wire::response($bad);
                $this->fail("accepted: $bad");
            } catch (\UnexpectedValueException) {
                $this->addToAssertionCount(1);
            }
        }
        $this->expectException(\UnexpectedValueException::class);
        Decision::fromArray(['allowed' => 'yes', 'reason' => 'Allow', 'policy' => null, 'statement' => null, 'uin' => 1]);
    }

    public function testTheSigningIsTencents(): void
    {
        // Tencent's published example (CVM DescribeInstances), as src/credentials/tc3.rs checks it.
        $body = '{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}';
        $headers = [['Content-Type', 'application/json; charset=utf-8'], ['Host', 'cvm.tencentcloudapi.com'], ['X-TC-Action', 'DescribeInstances']];
        $this->assertSame(
            'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c',
            Tc3::authorization('AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******', 'Gu5t9xGARNpq86cd98joQYCN3*******', 'cvm', 1551113065,
                'POST', '/', '', $headers, ['content-type', 'host'], $body));
    }

    public function testRawRequestsParse(): void
    {
        $r = SignedRequest::fromRaw("POST /x?a=1&b=2 HTTP/1.1\r\nHost: h\r\nX-A:  v \r\nContent-Length: 2\r\n\r\n{}extra");
        $this->assertSame(['POST', '/x', 'a=1&b=2', [['Host', 'h'], ['X-A', 'v'], ['Content-Length', '2']], '{}'],
            [$r->method, $r->path, $r->query, $r->headers, $r->body]);
    }
}
