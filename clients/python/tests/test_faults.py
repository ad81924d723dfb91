"""Broken connections: fake servers that close mid-line, never answer or answer wrongly, and camd closing or restarting under the clients."""

import asyncio
import json
import os
import socket
import tempfile
import threading
import time
import unittest
from unittest import mock

import camd

from _scene import (
    RESOURCE, SOCKET, FakeServer, Proxy, answer, ask, cases, expected, needs_camd, read_line, sync_answer,
)

ALLOW = {"allowed": True, "reason": "Allow", "policy": "P", "statement": 0, "uin": 7}
DENY = {"allowed": False, "reason": "ImplicitDeny", "policy": None, "statement": None, "uin": 7}


def reply(conn, id_, ok):
    conn.sendall(json.dumps({"id": id_, "result": {"Ok": ok}}).encode() + b"\n")


def request_id(line: bytes) -> int:
    return json.loads(line)["id"]


def mid_line(conn, n):
    if read_line(conn):
        conn.sendall(b'{"id":1,"result":{"Ok":{"Decision":{"allowed":tr')


def silent(conn, n):
    read_line(conn)
    time.sleep(3)


def wrong_id(conn, n):
    line = read_line(conn)
    if line:
        reply(conn, request_id(line) + 1, {"Decision": ALLOW})
        time.sleep(0.5)


def garbage(conn, n):
    if read_line(conn):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        time.sleep(0.5)


def wrong_shape(conn, n):
    line = read_line(conn)
    if line:
        reply(conn, request_id(line), "Done")
        time.sleep(0.5)


def endless(conn, n):
    """An answer that never ends its line."""
    if read_line(conn):
        for _ in range(100):
            conn.sendall(b"x" * 1024)
        time.sleep(0.5)


def hang_up(conn, n):
    pass  # closes at once, before reading


def read_then_hang_up(conn, n):
    read_line(conn)


def late_then_prompt(conn, n):
    """Connection 1 answers Allow too late; later ones answer Deny at once."""
    line = read_line(conn)
    if not line:
        return
    if n == 1:
        time.sleep(0.6)
        reply(conn, request_id(line), {"Decision": ALLOW})
        time.sleep(0.5)
    else:
        reply(conn, request_id(line), {"Decision": DENY})


def answers_then_closes(conn, n):
    """camd restarting between questions: one answer per connection."""
    line = read_line(conn)
    if line:
        reply(conn, request_id(line), {"Decision": ALLOW if n % 2 else DENY})


QUICK = 0.4  # the fake servers' timeout: a hang would show as this, not as minutes


class SyncFaults(unittest.TestCase):
    def ask(self, path, timeout=5.0):
        with camd.Client(path, timeout=timeout) as c:
            return c.authorize_user("alice", "im:SendMessage", "*")

    def assertFast(self, started, limit=2.0):
        self.assertLess(time.monotonic() - started, limit)

    def test_a_connection_closed_mid_line_is_an_error_after_one_retry(self):
        with FakeServer(mid_line) as s:
            t = time.monotonic()
            with self.assertRaises(camd.CamdConnectionError) as e:
                self.ask(s.path)
            self.assertFast(t)
            self.assertNotIsInstance(e.exception, camd.CamdTimeoutError)
            self.assertIn("middle of its answer", str(e.exception))
            self.assertEqual(s.connections, 2)

    def test_a_server_that_never_answers_times_out(self):
        with FakeServer(silent) as s:
            t = time.monotonic()
            with self.assertRaises(camd.CamdTimeoutError) as e:
                self.ask(s.path, timeout=0.3)
            self.assertGreaterEqual(time.monotonic() - t, 0.29)
            self.assertFast(t, 1.5)
            self.assertIsInstance(e.exception, TimeoutError)
            self.assertIsInstance(e.exception, camd.CamdConnectionError)
            self.assertEqual(s.connections, 1)  # never retried

    def test_garbled_answers_are_errors_never_answers(self):
        for handler in (wrong_id, garbage, wrong_shape):
            with self.subTest(handler.__name__), FakeServer(handler) as s:
                t = time.monotonic()
                with self.assertRaises(camd.CamdProtocolError):
                    self.ask(s.path, timeout=QUICK * 5)
                self.assertFast(t)
                self.assertEqual(s.connections, 1)

    def test_an_answer_too_long_is_refused(self):
        with FakeServer(endless) as s, mock.patch("camd._sync.MAX_RESPONSE_BYTES", 10_000):
            with self.assertRaises(camd.CamdProtocolError) as e:
                self.ask(s.path)
            self.assertIn("longer than", str(e.exception))
            self.assertEqual(s.connections, 1)

    def test_a_late_answer_is_never_taken_for_the_next_question(self):
        with FakeServer(late_then_prompt) as s, camd.Client(s.path, timeout=0.3) as c:
            with self.assertRaises(camd.CamdTimeoutError):
                c.authorize_user("alice", "im:SendMessage", "*")
            time.sleep(0.4)  # the late Allow is now on the first connection
            d = c.authorize_user("alice", "im:SendMessage", "*")
            self.assertFalse(d.allowed)
            self.assertEqual(s.connections, 2)

    def test_a_closed_connection_is_replaced_by_the_next_call(self):
        with FakeServer(answers_then_closes) as s, camd.Client(s.path) as c:
            got = [c.authorize_user("alice", "im:SendMessage", "*").allowed for _ in range(6)]
            self.assertEqual(got, [True, False, True, False, True, False])
            self.assertEqual(s.connections, 6)

    def test_a_decision_is_sent_again_once_but_not_an_admin_request(self):
        with FakeServer(read_then_hang_up) as s, camd.Client(s.path) as c:
            with self.assertRaises(camd.CamdConnectionError):
                c.authorize_user("alice", "im:SendMessage", "*")
            self.assertEqual(s.connections, 2)
            with self.assertRaises(camd.CamdConnectionError):
                c.call({"DeleteUser": {"name": "alice", "force": False}})
            self.assertEqual(s.connections, 3)
        with FakeServer(hang_up) as s, camd.Client(s.path) as c:
            with self.assertRaises(camd.CamdConnectionError):
                c.ping()
            self.assertLessEqual(s.connections, 2)

    def test_no_camd_is_a_connection_error(self):
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "camd.sock")
            stale = os.path.join(d, "stale.sock")
            s = socket.socket(socket.AF_UNIX)
            s.bind(stale)
            s.close()  # the file stays, nobody listens
            for path in (missing, stale):
                with self.subTest(path), self.assertRaises(camd.CamdConnectionError) as e:
                    self.ask(path)
                self.assertIn(path, str(e.exception))

    def test_a_closed_client_refuses_calls(self):
        c = camd.Client("/nonexistent")
        c.close()
        with self.assertRaises(camd.CamdConnectionError):
            c.ping()


class AsyncFaults(unittest.TestCase):
    def run_ask(self, path, timeout=5.0, n=1):
        async def go():
            async with camd.AsyncClient(path, timeout=timeout) as c:
                return await asyncio.gather(
                    *(c.authorize_user("alice", "im:SendMessage", "*") for _ in range(n)), return_exceptions=True
                )

        return asyncio.run(go())

    def test_a_connection_closed_mid_line_is_an_error(self):
        with FakeServer(mid_line) as s:
            t = time.monotonic()
            got = self.run_ask(s.path, n=5)
            self.assertLess(time.monotonic() - t, 2)
            self.assertEqual(len(got), 5)
            for g in got:
                self.assertIsInstance(g, camd.CamdConnectionError)
                self.assertNotIsInstance(g, camd.CamdTimeoutError)

    def test_a_server_that_never_answers_times_out(self):
        with FakeServer(silent) as s:
            t = time.monotonic()
            got = self.run_ask(s.path, timeout=0.3, n=3)
            self.assertLess(time.monotonic() - t, 1.5)
            for g in got:
                self.assertIsInstance(g, camd.CamdTimeoutError)
            self.assertEqual(s.connections, 1)

    def test_garbled_answers_are_errors_never_answers(self):
        for handler in (wrong_id, garbage, wrong_shape):
            with self.subTest(handler.__name__), FakeServer(handler) as s:
                t = time.monotonic()
                (got,) = self.run_ask(s.path, timeout=QUICK * 5)
                self.assertLess(time.monotonic() - t, 2)
                self.assertIsInstance(got, camd.CamdProtocolError)

    def test_an_answer_too_long_is_refused(self):
        with FakeServer(endless) as s, mock.patch("camd._async.MAX_RESPONSE_BYTES", 10_000):
            (got,) = self.run_ask(s.path)
            self.assertIsInstance(got, camd.CamdProtocolError)
            self.assertEqual(s.connections, 1)

    def test_a_late_answer_is_never_taken_for_the_next_question(self):
        async def go(path):
            async with camd.AsyncClient(path, timeout=0.3) as c:
                with self.assertRaises(camd.CamdTimeoutError):
                    await c.authorize_user("alice", "im:SendMessage", "*")
                await asyncio.sleep(0.4)
                return await c.authorize_user("alice", "im:SendMessage", "*")

        with FakeServer(late_then_prompt) as s:
            self.assertFalse(asyncio.run(go(s.path)).allowed)
            self.assertEqual(s.connections, 2)

    def test_a_closed_connection_is_replaced_by_the_next_call(self):
        async def go(path):
            async with camd.AsyncClient(path) as c:
                out = []
                for _ in range(6):
                    out.append((await c.authorize_user("alice", "im:SendMessage", "*")).allowed)
                    await asyncio.sleep(0.02)
                return out

        with FakeServer(answers_then_closes) as s:
            got = asyncio.run(go(s.path))
            self.assertEqual(got, [True, False, True, False, True, False])

    def test_a_decision_is_sent_again_once_but_not_an_admin_request(self):
        async def go(path):
            async with camd.AsyncClient(path) as c:
                with self.assertRaises(camd.CamdConnectionError):
                    await c.authorize_user("alice", "im:SendMessage", "*")
                first = s.connections
                with self.assertRaises(camd.CamdConnectionError):
                    await c.call({"DeleteUser": {"name": "alice", "force": False}})
                return first, s.connections

        with FakeServer(read_then_hang_up) as s:
            self.assertEqual(asyncio.run(go(s.path)), (2, 3))

    def test_no_camd_is_a_connection_error(self):
        (got,) = self.run_ask("/nonexistent/camd.sock")
        self.assertIsInstance(got, camd.CamdConnectionError)


@needs_camd
class CamdCloses(unittest.TestCase):
    """The real camd dropping the connection, and a proxy standing in for
    camd restarting between and in the middle of questions."""

    def setUp(self):
        self.cases = cases()

    def test_a_line_over_max_frame_bytes_is_refused_and_the_client_reconnects(self):
        big = "x" * 70000  # the scene's max_frame_bytes is 65536
        with camd.Client(SOCKET) as c:
            for _ in range(2):
                with self.assertRaises(camd.InvalidParameterError) as e:
                    c.authorize_user(big, "im:GetGroupInfo", RESOURCE)
                self.assertEqual(e.exception.code, "InvalidParameter.MalformedRequest")
                self.assertEqual([sync_answer(c, k) for k in self.cases], [expected(k) for k in self.cases])

        async def go():
            async with camd.AsyncClient(SOCKET) as c:
                with self.assertRaises(camd.InvalidParameterError):
                    await c.authorize_user(big, "im:GetGroupInfo", RESOURCE)
                return await c.authorize_user("reader", "im:GetGroupInfo", RESOURCE)

        self.assertTrue(asyncio.run(go()).allowed)

    def run_cases_through(self, behave, rounds=3):
        want = [expected(k) for k in self.cases] * rounds
        with Proxy(SOCKET, behave) as p, camd.Client(p.path) as c:
            got = []
            for k in self.cases * rounds:
                try:
                    got.append(answer(c.authorize(ask(k))))
                except camd.CamdError as e:
                    got.append(answer(e))
            self.assertEqual(got, want)
            sync_connections = p.connections

        async def go(path):
            async with camd.AsyncClient(path) as c:
                out = []
                for k in self.cases * rounds:
                    try:
                        out.append(answer(await c.authorize(ask(k))))
                    except camd.CamdError as e:
                        out.append(answer(e))
                return out

        with Proxy(SOCKET, behave) as p:
            self.assertEqual(asyncio.run(go(p.path)), want)
        return sync_connections

    def test_camd_restarting_between_questions(self):
        n = self.run_cases_through(lambda conn, i: "close")
        self.assertEqual(n, len(self.cases) * 3)

    def test_camd_restarting_in_the_middle_of_questions(self):
        # Every connection's second question is lost unanswered: sent again, answered right.
        n = self.run_cases_through(lambda conn, i: "drop" if i == 1 else "answer")
        self.assertGreater(n, len(self.cases))


if __name__ == "__main__":
    unittest.main()
