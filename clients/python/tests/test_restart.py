"""A real restart: camd SIGKILLed and started again through the scene's restart service ($CAMD_TEST_RESTART_SOCKET), under the same clients."""

import asyncio
import os
import socket
import sys
import threading
import time
import unittest

import camd

from _scene import RESOURCE, SOCKET

RESTART = os.environ.get("CAMD_TEST_RESTART_SOCKET")
needs_restart = unittest.skipUnless(
    SOCKET and RESTART, "CAMD_TEST_RESTART_SOCKET (and CAMD_SOCKET) unset: no restart service to restart camd with"
)
RIGHT = (True, "Allow", "QcloudChatReadOnlyAccess", 0)


def restart_camd():
    """Asks the restart service to kill camd and start it again; returns once it serves."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(RESTART)
        s.sendall(b"restart\n")
        line = s.makefile("rb").readline().decode()
    if line != "ok\n":
        raise AssertionError(f"the restart service answered {line!r}")


def shape(d):
    return (d.allowed, d.reason, d.policy, d.statement)


@needs_restart
class RealRestartTest(unittest.TestCase):
    def test_the_same_client_answers_after_a_restart(self):
        with camd.Client(SOCKET, max_connections=1) as c:
            self.assertEqual(shape(c.authorize_user("reader", "im:GetGroupInfo", RESOURCE)), RIGHT)
            restart_camd()
            # No connection error allowed: camd serves again; the client reconnects itself.
            self.assertEqual(shape(c.authorize_user("reader", "im:GetGroupInfo", RESOURCE)), RIGHT)

    def test_the_same_async_client_answers_after_a_restart(self):
        async def run():
            async with camd.AsyncClient(SOCKET) as c:
                first = shape(await c.authorize_user("reader", "im:GetGroupInfo", RESOURCE))
                await asyncio.get_running_loop().run_in_executor(None, restart_camd)
                return first, shape(await c.authorize_user("reader", "im:GetGroupInfo", RESOURCE))

        self.assertEqual(asyncio.run(run()), (RIGHT, RIGHT))

    def test_concurrent_askers_across_a_restart_get_only_right_answers(self):
        stop = threading.Event()
        restarted = threading.Event()
        lock = threading.Lock()
        tally = {"wrong": [], "errors": 0, "right": 0, "right_after": 0}

        def count(got):
            with lock:
                if got is None:
                    tally["errors"] += 1
                elif got != RIGHT:
                    tally["wrong"].append(got)
                else:
                    tally["right"] += 1
                    tally["right_after"] += restarted.is_set()

        def ask_sync(c):
            while not stop.is_set():
                try:
                    got = shape(c.authorize_user("reader", "im:GetGroupInfo", RESOURCE))
                except camd.CamdConnectionError:
                    got = None  # camd was down: counted, never a wrong answer
                    time.sleep(0.005)
                count(got)

        async def ask_async(c):
            while not stop.is_set():
                try:
                    got = shape(await c.authorize_user("reader", "im:GetGroupInfo", RESOURCE))
                except camd.CamdConnectionError:
                    got = None
                    await asyncio.sleep(0.005)
                count(got)

        async def tasks():
            async with camd.AsyncClient(SOCKET) as c:
                await asyncio.gather(*(ask_async(c) for _ in range(8)))

        with camd.Client(SOCKET) as c:
            threads = [threading.Thread(target=ask_sync, args=(c,)) for _ in range(4)]
            threads.append(threading.Thread(target=lambda: asyncio.run(tasks())))
            for t in threads:
                t.start()
            try:
                time.sleep(0.3)
                restart_camd()
                restarted.set()
                time.sleep(0.7)
            finally:
                stop.set()
                for t in threads:
                    t.join(10)
        print(f"\n  restart: {tally['right']} right answers ({tally['right_after']} after it), "
              f"{tally['errors']} connection errors while camd was down", file=sys.stderr)
        self.assertEqual(tally["wrong"], [])
        self.assertGreater(tally["right_after"], 0, f"no right answer after the restart: {tally}")


if __name__ == "__main__":
    unittest.main()
