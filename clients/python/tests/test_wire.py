"""The encoder and decoder against the golden JSON lines of tests/wire (byte for byte where camd writes them)."""

import json
import unittest

import camd
from camd import _wire
from camd._core import Key

from _scene import wire_lines

DECISION_REQUESTS = {"Ping", "Authorize", "Batch", "AuthorizeSigned", "AuthorizeAt"}
DECISION_REPLIES = {"Pong", "Decision", "Decisions", "Error"}


def ask_from(w: dict) -> camd.Ask:
    """The API call that asks the vector's question (its values, not its shape)."""
    (variant, v), = w.items()
    ctx = [tuple(p) for p in v["context"]]
    if variant == "ByUser":
        (_, who), = v["user"].items()
        return camd.by_user(who, v["action"], v["resource"], ctx)
    assert variant == "ByKey", variant
    return camd.by_key(v["key"]["secret_id"], v["key"]["secret_key"], v["action"], v["resource"], ctx)


def body_from(name: str, body) -> object:
    """The request body as the client's own builders make it."""
    (inner,) = [body] if isinstance(body, str) else body.values()
    if name == "Ping":
        return _wire.ping_body()
    if name == "Authorize":
        return _wire.authorize_body(ask_from(inner))
    if name == "Batch":
        return _wire.batch_body([ask_from(a) for a in inner])
    if name == "AuthorizeAt":
        return _wire.authorize_at_body(inner["min_revision"], ask_from(inner["ask"]))
    if name == "AuthorizeSigned":
        r = inner["request"]
        (kind, payload), = r["payload"].items()
        assert kind == "Body", kind
        return _wire.authorize_signed_body(
            r["method"], r["path"], r["query"], [tuple(h) for h in r["headers"]], bytes(payload),
            inner["resource"], [tuple(p) for p in inner["context"]], inner["action"],
        )
    raise AssertionError(name)


def auth_from(auth):
    return None if auth is None else Key(auth["secret_id"], auth["secret_key"]).wire()


class RequestVectors(unittest.TestCase):
    def test_every_decision_request_is_encoded_byte_for_byte(self):
        seen = set()
        for v in wire_lines("requests"):
            if v["name"] not in DECISION_REQUESTS:
                continue
            seen.add(v["name"])
            with self.subTest(v["name"]):
                want = json.loads(v["json"])
                line = _wire.encode_request(want["id"], body_from(v["name"], want["body"]), auth_from(want["auth"]))
                self.assertTrue(line.endswith(b"\n"))
                self.assertEqual(json.loads(line), want)
                self.assertEqual(line[:-1], v["json"].encode("utf-8"))
        self.assertEqual(seen, DECISION_REQUESTS, "a decision request is missing from requests.jsonl")

    def test_every_request_body_goes_through_the_generic_encoder_unchanged(self):
        # Client.call(body) sends admin bodies as given: the same bytes camd's encoder makes.
        lines = wire_lines("requests")
        self.assertGreaterEqual(len(lines), 50)
        for v in lines:
            with self.subTest(v["name"]):
                want = json.loads(v["json"])
                line = _wire.encode_request(want["id"], want["body"], want["auth"])
                self.assertEqual(line[:-1], v["json"].encode("utf-8"))

    def test_a_user_is_a_name_or_a_uin(self):
        # ByUser's `user` is serde's externally tagged UserRef, as the vectors show for Name.
        self.assertEqual(camd.by_user("alice", "im:X", "*").wire()["ByUser"]["user"], {"Name": "alice"})
        self.assertEqual(camd.by_user(200000000001, "im:X", "*").wire()["ByUser"]["user"], {"Uin": 200000000001})
        self.assertEqual(camd.by_user("123", "im:X", "*").wire()["ByUser"]["user"], {"Name": "123"})
        line = _wire.encode_request(7, _wire.authorize_body(camd.by_user((1 << 64) - 1, "im:X", "*")))
        self.assertIn(b'{"Uin":18446744073709551615}', line)
        for bad in (True, -1, 1 << 64, 1.5, None, b"alice"):
            with self.subTest(bad=bad), self.assertRaises((TypeError, ValueError)):
                camd.by_user(bad, "im:X", "*")

    def test_context_forms(self):
        want = [["qcs:ip", "10.0.0.1"], ["qcs:ip", "10.0.0.2"], ["k", "v"]]
        for ctx in (
            {"qcs:ip": ["10.0.0.1", "10.0.0.2"], "k": "v"},
            [("qcs:ip", "10.0.0.1"), ("qcs:ip", "10.0.0.2"), ("k", "v")],
            (["qcs:ip", "10.0.0.1"], ["qcs:ip", "10.0.0.2"], ["k", "v"]),
        ):
            with self.subTest(ctx=ctx):
                self.assertEqual(camd.by_user("a", "im:X", "*", ctx).wire()["ByUser"]["context"], want)
        self.assertEqual(camd.by_user("a", "im:X", "*").wire()["ByUser"]["context"], [])
        for bad in ("k=v", [("k",)], [("k", 1)], {"k": 1}, {1: "v"}):
            with self.subTest(bad=bad), self.assertRaises(TypeError):
                camd.by_user("a", "im:X", "*", bad)

    def test_non_ascii_and_control_characters_are_written_as_serde_does(self):
        line = _wire.encode_request(1, _wire.authorize_body(camd.by_user("réader\u0001\"\\\n", "im:X", "*")))
        self.assertIn('"Name":"réader\\u0001\\"\\\\\\n"'.encode("utf-8"), line)
        self.assertEqual(line.count(b"\n"), 1)

    def test_a_large_signed_body_is_sent_as_its_sha256(self):
        import hashlib
        body = b"x" * (camd.INLINE_BODY_LIMIT + 1)
        b = _wire.authorize_signed_body("POST", "/", "", {}, body, "*", (), "im")
        self.assertEqual(b["AuthorizeSigned"]["request"]["payload"], {"Sha256Hex": hashlib.sha256(body).hexdigest()})
        small = _wire.authorize_signed_body("POST", "/", "", {}, b"{}", "*", (), "im")
        self.assertEqual(small["AuthorizeSigned"]["request"]["payload"], {"Body": [123, 125]})
        given = _wire.authorize_signed_body("POST", "/", "", {}, None, "*", (), "im", body_sha256="ab" * 32)
        self.assertEqual(given["AuthorizeSigned"]["request"]["payload"], {"Sha256Hex": "ab" * 32})
        with self.assertRaises(ValueError):
            _wire.authorize_signed_body("POST", "/", "", {}, b"{}", "*", (), "im", body_sha256="ab" * 32)


class ReplyVectors(unittest.TestCase):
    def test_every_decision_reply_is_decoded(self):
        seen = set()
        for v in wire_lines("replies"):
            if v["name"] not in DECISION_REPLIES:
                continue
            seen.add(v["name"])
            with self.subTest(v["name"]):
                want = json.loads(v["json"])
                r = _wire.decode_response(v["json"].encode("utf-8") + b"\n")
                self.assertEqual(r.id, want["id"])
                self.assertEqual(r.revision, want.get("revision"))
                if v["name"] == "Error":
                    self.assertIsNone(r.ok)
                    self.assertIsInstance(r.error, camd.CamdError)
                    self.assertEqual(r.error.code, want["result"]["Err"]["code"])
                    self.assertEqual(r.error.message, want["result"]["Err"]["message"])
                    self.assertIsInstance(r.error, camd.AuthFailureError)
                    continue
                self.assertIsNone(r.error)
                ok = want["result"]["Ok"]
                if v["name"] == "Pong":
                    self.assertEqual(_wire.decode_pong(_wire.expect(r.ok, "Pong")), ok["Pong"])
                elif v["name"] == "Decision":
                    d = _wire.decode_decision(_wire.expect(r.ok, "Decision"))
                    self.assertEqual(d.wire(), ok["Decision"])
                    # Re-encoded, the decision is camd's bytes.
                    self.assertIn(_wire._dumps(d.wire()).encode(), v["json"].encode())
                    self.assertTrue(d.allowed and bool(d))
                else:
                    items = _wire.decode_decisions(_wire.expect(r.ok, "Decisions"), len(ok["Decisions"]))
                    self.assertEqual(len(items), len(ok["Decisions"]))
                    for got, item in zip(items, ok["Decisions"]):
                        if "Ok" in item:
                            self.assertIsInstance(got, camd.Decision)
                            self.assertEqual(got.wire(), item["Ok"])
                        else:
                            self.assertIsInstance(got, camd.CamdError)
                            self.assertEqual((got.code, got.message), (item["Err"]["code"], item["Err"]["message"]))
                    self.assertIsInstance(items[1], camd.ResourceNotFoundError)
        self.assertEqual(seen, DECISION_REPLIES, "a decision reply is missing from replies.jsonl")

    def test_every_reply_line_decodes_to_its_id_and_revision(self):
        for v in wire_lines("replies"):
            with self.subTest(v["name"]):
                want = json.loads(v["json"])
                r = _wire.decode_response(v["json"])
                self.assertEqual((r.id, r.revision), (want["id"], want.get("revision")))

    def test_garbled_lines_are_refused(self):
        bad = [
            b"", b"not json", b"[1]", b'"x"', b'{"result":{"Ok":"Done"}}', b'{"id":true,"result":{"Ok":"Done"}}',
            b'{"id":-1,"result":{"Ok":"Done"}}', b'{"id":1}', b'{"id":1,"result":{}}',
            b'{"id":1,"result":{"Ok":"Done","Err":{"code":"X","message":""}}}', b'{"id":1,"result":{"Maybe":1}}',
            b'{"id":1,"result":{"Err":{"code":1}}}', b'{"id":1,"result":{"Ok":"Done"},"revision":"x"}',
            b"\xff\xfe{}",
        ]
        for line in bad:
            with self.subTest(line=line), self.assertRaises(camd.CamdProtocolError):
                _wire.decode_response(line)

    def test_decisions_of_the_wrong_shape_are_refused(self):
        good = {"allowed": False, "reason": "ImplicitDeny", "policy": None, "statement": None, "uin": 1}
        self.assertEqual(_wire.decode_decision(good), camd.Decision(False, "ImplicitDeny", None, None, 1))
        for k, v in [("allowed", 1), ("allowed", None), ("reason", None), ("policy", 3), ("statement", -1),
                     ("statement", True), ("uin", "1"), ("uin", -2), ("uin", 1.0)]:
            with self.subTest(field=k, value=v), self.assertRaises(camd.CamdProtocolError):
                _wire.decode_decision({**good, k: v})
        with self.assertRaises(camd.CamdProtocolError):
            _wire.decode_decision({k: v for k, v in good.items() if k != "uin"})
        with self.assertRaises(camd.CamdProtocolError):
            _wire.expect("Done", "Decision")
        with self.assertRaises(camd.CamdProtocolError):
            _wire.expect({"Pong": 1}, "Decision")
        with self.assertRaises(camd.CamdProtocolError):
            _wire.decode_decisions([{"Ok": good}], 2)
        with self.assertRaises(camd.CamdProtocolError):
            _wire.decode_decisions([{"Maybe": good}])


if __name__ == "__main__":
    unittest.main()
