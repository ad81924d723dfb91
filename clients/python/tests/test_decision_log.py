"""Decision ids and traceparents: the wire forms, and each id found in camd's decision log file (CAMD_TEST_DECISION_LOG)."""

import asyncio
import json
import os
import time
import unittest

import camd
from camd import _wire

from _scene import RESOURCE, SOCKET, FakeServer, read_line

LOG = os.environ.get("CAMD_TEST_DECISION_LOG")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
DECISION = {"allowed": True, "reason": "Allow", "policy": "P", "statement": 0, "uin": 7}
DENY = {"allowed": False, "reason": "ImplicitDeny", "policy": None, "statement": None, "uin": 7}

needs_log = unittest.skipUnless(
    LOG and SOCKET,
    "CAMD_TEST_DECISION_LOG (and CAMD_SOCKET) not set: this test needs camd with its decision log on "
    "(tests/clients.rs starts it)",
)


def batch():
    return [
        camd.by_user("reader", "im:GetGroupInfo", RESOURCE),
        camd.by_user("reader", "im:DestroyGroup", RESOURCE),
        camd.by_user("nobody", "im:GetGroupInfo", RESOURCE),
    ]


def records(ids: list[str]) -> dict[str, list[dict]]:
    """The log's records of these ids, polled for up to 5 s until each has
    one (the writer flushes within a few ms)."""
    deadline = time.monotonic() + 5
    while True:
        found: dict[str, list[dict]] = {i: [] for i in ids}
        try:
            with open(LOG, encoding="utf-8") as f:
                for line in f:
                    if not line.endswith("\n"):
                        break  # a record being written
                    r = json.loads(line)
                    if r.get("decision_id") in found:
                        found[r["decision_id"]].append(r)
        except FileNotFoundError:
            pass
        if all(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


@needs_log
class TheDecisionLogRecordsTheIds(unittest.TestCase):
    def check(self, single, items):
        self.assertTrue(single.allowed)
        self.assertRegex(single.decision_id, r"^[0-9a-f]{16}$")
        self.assertEqual(len(items), 3)
        allow, deny, error = items
        self.assertTrue(allow.allowed)
        self.assertFalse(deny.allowed)
        self.assertIsInstance(error, camd.ResourceNotFoundError)
        first = allow.decision_id
        self.assertRegex(first, r"^[0-9a-f]{16}$")
        self.assertEqual(deny.decision_id, f"{int(first, 16) + 1:016x}")
        error_id = f"{int(first, 16) + 2:016x}"
        found = records([single.decision_id, first, deny.decision_id, error_id])
        for d in (single, allow, deny):
            with self.subTest(decision_id=d.decision_id):
                self.assertEqual(len(found[d.decision_id]), 1, f"records of {d.decision_id} in {LOG}")
                (r,) = found[d.decision_id]
                self.assertEqual(r["result"]["allowed"], d.allowed)
                self.assertEqual(r["result"]["reason"], d.reason)
                self.assertEqual(r["trace_id"], TRACE_ID)
        self.assertEqual(len(found[error_id]), 1, f"records of {error_id} in {LOG}")
        self.assertEqual(found[error_id][0]["result"]["outcome"], "error")
        self.assertEqual(found[error_id][0]["trace_id"], TRACE_ID)

    def test_the_sync_client(self):
        with camd.Client(SOCKET) as c:
            single = c.authorize_user("reader", "im:GetGroupInfo", RESOURCE, traceparent=TRACEPARENT)
            items = c.authorize_batch(batch(), traceparent=TRACEPARENT)
        self.check(single, items)

    def test_the_async_client(self):
        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                single = await c.authorize_user("reader", "im:GetGroupInfo", RESOURCE, traceparent=TRACEPARENT)
                return single, await c.authorize_batch(batch(), traceparent=TRACEPARENT)

        self.check(*asyncio.run(run()))


class TheWire(unittest.TestCase):
    def test_a_traceparent_follows_the_body_and_none_changes_nothing(self):
        body = _wire.authorize_body(camd.by_user("reader", "im:X", "*"))
        plain = _wire.encode_request(3, body)
        self.assertEqual(_wire.encode_request(3, body, None, None), plain)
        traced = _wire.encode_request(3, body, None, TRACEPARENT)
        self.assertEqual(traced, plain[:-2] + b',"traceparent":"' + TRACEPARENT.encode() + b'"}\n')

    def test_a_traceparent_must_be_a_str(self):
        with camd.Client("/nonexistent/camd.sock") as c:
            for bad in (b"00-ab", 1, ["00"]):
                with self.subTest(bad=bad), self.assertRaises(TypeError):
                    c.authorize_user("reader", "im:X", "*", traceparent=bad)

    def test_decision_ids_are_decoded_and_counted_through_a_batch(self):
        line = json.dumps({"id": 1, "result": {"Ok": {"Decision": DECISION}}, "revision": 0,
                           "decision_id": "00000000000000ff"})
        r = _wire.decode_response(line)
        d = _wire.decode_decision(_wire.expect(r.ok, "Decision"), r.decision_id)
        self.assertEqual(d.decision_id, "00000000000000ff")
        self.assertEqual(d, camd.Decision(**DECISION))  # the id is left out of ==
        items = [{"Ok": DECISION}, {"Err": {"code": "ResourceNotFound.UserNotExist", "message": "m"}}, {"Ok": DENY}]
        got = _wire.decode_decisions(items, 3, "fffffffffffffffe")
        self.assertEqual([getattr(g, "decision_id", None) for g in got], ["fffffffffffffffe", None, "0000000000000000"])
        self.assertIsNone(_wire.decode_decisions(items, 3)[0].decision_id)
        self.assertIsNone(_wire.decode_response('{"id":1,"result":{"Ok":"Done"}}').decision_id)
        for bad in ('"FF"', '"00000000000000FF"', "255", '"0x000000000000ff"'):
            with self.subTest(bad=bad), self.assertRaises(camd.CamdProtocolError):
                _wire.decode_response('{"id":1,"result":{"Ok":"Done"},"decision_id":' + bad + "}")

    def test_both_clients_send_the_traceparent_and_expose_the_ids(self):
        lines = []

        def serve(conn, n):
            while line := read_line(conn):
                req = json.loads(line)
                lines.append(req)
                if "Batch" in req["body"]:
                    ok = {"Decisions": [{"Ok": DECISION}, {"Ok": DENY}]}
                else:
                    ok = {"Decision": DECISION}
                conn.sendall(json.dumps({"id": req["id"], "result": {"Ok": ok}, "revision": 0,
                                         "decision_id": "0196b0d8a1c00003"}).encode() + b"\n")

        two = [camd.by_user("a", "im:X", "*"), camd.by_user("b", "im:X", "*")]
        with FakeServer(serve) as fake:
            with camd.Client(fake.path, timeout=2) as c:
                d = c.authorize_user("a", "im:X", "*", traceparent=TRACEPARENT)
                b = c.authorize_batch(two, traceparent=TRACEPARENT)
                c.authorize_user("a", "im:X", "*")

            async def run():
                async with camd.AsyncClient(fake.path, timeout=2) as ac:
                    return (await ac.authorize_at(0, two[0], traceparent=TRACEPARENT),
                            await ac.authorize_batch(two, traceparent=TRACEPARENT))

            ad, ab = asyncio.run(run())
        self.assertEqual([r.get("traceparent") for r in lines], [TRACEPARENT, TRACEPARENT, None] + [TRACEPARENT] * 2)
        self.assertEqual(d.decision_id, "0196b0d8a1c00003")
        self.assertEqual([x.decision_id for x in b], ["0196b0d8a1c00003", "0196b0d8a1c00004"])
        self.assertEqual(ad.decision_id, "0196b0d8a1c00003")
        self.assertEqual([x.decision_id for x in ab], ["0196b0d8a1c00003", "0196b0d8a1c00004"])


if __name__ == "__main__":
    unittest.main()
