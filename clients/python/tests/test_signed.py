"""AuthorizeSigned: TC3-HMAC-SHA256 requests signed here (hmac, hashlib), decided by camd, and the same bytes given to camctl verify."""

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import time
import unittest

import camd

from _scene import RESOURCE, SOCKET, camctl, needs_camd

OTHER_APP = "qcs::im::uin/100000000001:sdkappid/1400000002"
SIGNED = ("content-type", "host", "x-tc-action")


def _sha256_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_request(secret_id, secret_key, action, body=b'{"GroupId":"g1"}', timestamp=None, service="im"):
    """A raw HTTP/1.1 request as Tencent's SDKs sign it (POST /, JSON body,
    signing content-type, host and x-tc-action)."""
    ts = int(time.time()) if timestamp is None else timestamp
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    headers = [
        ("Content-Type", "application/json"),
        ("Host", "console.tim.qq.com"),
        ("X-TC-Action", action),
        ("X-TC-Timestamp", str(ts)),
        ("X-TC-Version", "2019-01-16"),
    ]
    values = {k.lower(): v for k, v in headers}
    canonical_headers = "".join(f"{n}:{values[n].strip().lower()}\n" for n in SIGNED)
    canonical = "\n".join(["POST", "/", "", canonical_headers, ";".join(SIGNED), _sha256_hex(body)])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{_sha256_hex(canonical.encode())}"
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={';'.join(SIGNED)}, Signature={signature}"
    head = [("Authorization", auth)] + headers + [("Content-Length", str(len(body)))]
    return b"POST / HTTP/1.1\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in head) + b"\r\n" + body


def parse_http(raw: bytes):
    """(method, path, query, headers, body) of a raw request, as a server receives it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ")
    path, _, query = target.partition("?")
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
    return method, path, query, headers, body


def tamper(raw: bytes) -> bytes:
    return raw.replace(b'"g1"', b'"g2"')


@needs_camd
class Signed(unittest.TestCase):
    def setUp(self):
        self.id = os.environ["CAMD_TEST_KEY_ID"]
        self.secret = os.environ["CAMD_TEST_KEY_SECRET"]
        self.client = camd.Client(SOCKET)

    def tearDown(self):
        self.client.close()

    def ours(self, raw, resource=RESOURCE, action="im"):
        try:
            d = self.client.authorize_signed(*parse_http(raw), resource, {"qcs:ip": "10.0.0.1"}, action)
        except camd.CamdError as e:
            return ("error", e.code)
        return ("decision", d.allowed, d.reason, d.policy, d.statement, d.uin)

    def theirs(self, raw, resource=RESOURCE):
        tool = camctl()
        if tool is None:
            self.skipTest("camctl not found: set CAMD_TEST_CAMCTL")
        out = subprocess.run(
            [tool, "--socket", SOCKET, "--json", "verify", "--service", "im", "--resource", resource,
             "--context", "qcs:ip=10.0.0.1"],
            input=raw, capture_output=True, timeout=30,
        )
        if out.returncode == 2:
            # camctl --json: {"Error": {"Code", "Message"}} on stdout, the code first on stderr.
            code = json.loads(out.stdout)["Error"]["Code"]
            self.assertIn(f"camctl: {code}: ", out.stderr.decode())
            return ("error", code)
        d = json.loads(out.stdout)
        self.assertEqual(out.returncode, 0 if d["Decision"] == "Allow" else 1)
        return ("decision", d["Decision"] == "Allow", d["Reason"], d["PolicyName"], d["StatementIndex"], d["Uin"])

    def test_signed_requests_are_decided_as_camctl_verify_decides_them(self):
        sign = lambda action, **kw: tc3_request(self.id, self.secret, action, **kw)  # noqa: E731
        now = int(time.time())
        scenarios = [
            ("allowed", sign("SendMessage"), RESOURCE, ("decision", True, "Allow", "NoDestroy", 0)),
            ("explicit deny", sign("DestroyGroup"), RESOURCE, ("decision", False, "ExplicitDeny", "NoDestroy", 1)),
            ("another app", sign("SendMessage"), OTHER_APP, ("decision", False, "ImplicitDeny", None, None)),
            ("a large body", sign("SendMessage", body=b'{"GroupId":"g1","Pad":"' + b"x" * 40000 + b'"}'), RESOURCE,
             ("decision", True, "Allow", "NoDestroy", 0)),
            ("a changed body", tamper(sign("SendMessage")), RESOURCE, ("error", "AuthFailure.SignatureFailure")),
            ("a wrong SecretKey", tc3_request(self.id, "not-the-key", "SendMessage"), RESOURCE,
             ("error", "AuthFailure.SignatureFailure")),
            ("an old signature", sign("SendMessage", timestamp=now - 86400), RESOURCE,
             ("error", "AuthFailure.SignatureExpire")),
            ("another service's scope", sign("SendMessage", service="cam"), RESOURCE,
             ("error", "AuthFailure.InvalidAuthorization")),
            ("a disabled key", tc3_request(os.environ["CAMD_TEST_DISABLED_KEY_ID"],
                                           os.environ["CAMD_TEST_DISABLED_KEY_SECRET"], "SendMessage"), RESOURCE,
             ("error", "AuthFailure.SecretIdNotFound")),
        ]
        for name, raw, resource, want in scenarios:
            with self.subTest(name):
                got = self.ours(raw, resource)
                self.assertEqual(got[:5], want)
                self.assertEqual(self.theirs(raw, resource), got)

    def test_the_action_may_be_named_in_full_and_must_be_named(self):
        raw = tc3_request(self.id, self.secret, "SendMessage")
        self.assertEqual(self.ours(raw, action="im:GetGroupInfo")[:3], ("decision", True, "Allow"))
        self.assertEqual(self.ours(raw, action=None), ("error", "MissingParameter"))
        with self.assertRaises(camd.InvalidParameterError):
            self.client.authorize_signed(*parse_http(raw), RESOURCE)

    def test_a_streamed_body_given_by_its_sha256(self):
        raw = tc3_request(self.id, self.secret, "SendMessage")
        method, path, query, headers, body = parse_http(raw)
        d = self.client.authorize_signed(method, path, query, dict(headers), None, RESOURCE, action="im",
                                         body_sha256=_sha256_hex(body))
        self.assertEqual((d.allowed, d.policy), (True, "NoDestroy"))

    def test_the_async_client_decides_the_same(self):
        reqs = [tc3_request(self.id, self.secret, a) for a in ("SendMessage", "DestroyGroup")]
        reqs.append(tamper(reqs[0]))

        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                out = []
                for raw in reqs:
                    try:
                        d = await c.authorize_signed(*parse_http(raw), RESOURCE, {"qcs:ip": "10.0.0.1"}, "im")
                        out.append(("decision", d.allowed, d.reason, d.policy, d.statement, d.uin))
                    except camd.CamdError as e:
                        out.append(("error", e.code))
                return out

        self.assertEqual(asyncio.run(run()), [self.ours(r) for r in reqs])


if __name__ == "__main__":
    unittest.main()
