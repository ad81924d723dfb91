"""Shared by the tests: the scene's environment, the shared cases, the wire vectors and fake servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import unittest
from pathlib import Path

import camd

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent  # clients/python
REPO = CLIENT.parent.parent  # the workspace

SOCKET = os.environ.get("CAMD_SOCKET")
needs_camd = unittest.skipUnless(
    SOCKET, "CAMD_SOCKET is not set: these tests need camd with the scene of tests/clients/cases.json (tests/clients.rs starts it)"
)

RESOURCE = "qcs::im::uin/100000000001:sdkappid/1400000001"


def fill(value):
    """``${NAME}`` in the case file's strings, from the environment."""
    if isinstance(value, str):
        out = value
        for k, v in os.environ.items():
            if k.startswith("CAMD_"):
                out = out.replace("${" + k + "}", v)
        return out
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    return value


def cases() -> list[dict]:
    path = os.environ.get("CAMD_TEST_CASES") or str(REPO / "tests/clients/cases.json")
    with open(path, encoding="utf-8") as f:
        return [fill(c) for c in json.load(f)["cases"]]


def wire_lines(kind: str) -> list[dict]:
    """tests/wire/requests.jsonl or replies.jsonl: one {name, json, postcard} a line."""
    folder = os.environ.get("CAMD_TEST_WIRE") or str(REPO / "tests/wire")
    with open(os.path.join(folder, f"{kind}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def camctl() -> str | None:
    """camctl: $CAMD_TEST_CAMCTL, else the workspace's build, else $PATH."""
    for c in (
        os.environ.get("CAMD_TEST_CAMCTL"),
        str(REPO / "target/debug/camctl"),
        str(REPO / "target/release/camctl"),
        shutil.which("camctl"),
    ):
        if c and os.access(c, os.X_OK):
            return c
    return None


def answer(result) -> tuple:
    """A Decision or an error, reduced to what the cases compare."""
    if isinstance(result, camd.Decision):
        return ("decision", result.allowed, result.reason, result.policy, result.statement)
    if isinstance(result, camd.CamdError):
        return ("error", result.code)
    raise AssertionError(f"neither a Decision nor a CamdError: {result!r}")


def expected(case: dict) -> tuple:
    e = case["expect"]
    if "error" in e:
        return ("error", e["error"])
    return ("decision", e["allowed"], e["reason"], e["policy"], e["statement"])


def ask(case: dict) -> camd.Ask:
    return camd.Ask.from_case(case["ask"])


def sync_answer(client: camd.Client, case: dict) -> tuple:
    a = case["ask"]
    ctx = a.get("context") or ()
    try:
        if "user" in a:
            d = client.authorize_user(a["user"], a["action"], a["resource"], ctx)
        else:
            d = client.authorize_key(a["secret_id"], a["secret_key"], a["action"], a["resource"], ctx)
    except camd.CamdError as e:
        return answer(e)
    return answer(d)


async def async_answer(client: camd.AsyncClient, case: dict) -> tuple:
    a = case["ask"]
    ctx = a.get("context") or ()
    try:
        if "user" in a:
            d = await client.authorize_user(a["user"], a["action"], a["resource"], ctx)
        else:
            d = await client.authorize_key(a["secret_id"], a["secret_key"], a["action"], a["resource"], ctx)
    except camd.CamdError as e:
        return answer(e)
    return answer(d)


def read_line(conn: socket.socket) -> bytes:
    """One line from a fake server's connection (b'' at EOF)."""
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            return b""
        buf += chunk
    return bytes(buf)


class FakeServer:
    """A Unix socket served by ``handle(conn, n)`` (n: the connection's
    number, from 1) on a thread per connection."""

    def __init__(self, handle) -> None:
        self.dir = tempfile.mkdtemp(prefix="camd-fake-")
        self.path = os.path.join(self.dir, "fake.sock")
        self.handle = handle
        self.connections = 0
        self.stopped = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(None)
            self.connections += 1
            self.open.append(conn)
            n = self.connections
            threading.Thread(target=self._serve, args=(conn, n), daemon=True).start()

    def _serve(self, conn: socket.socket, n: int) -> None:
        try:
            self.handle(conn, n)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()
        for c in self.open:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "FakeServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Proxy(FakeServer):
    """A FakeServer in front of the real camd that forwards each request
    line and its answer; ``behave(n, i)`` (connection n from 1, request i
    from 0 on it) says "answer", "drop" (close without answering: camd died
    mid-request) or "close" (answer, then close: camd restarted after it)."""

    def __init__(self, target: str, behave) -> None:
        self.target = target
        self.behave = behave
        self.forwarded = 0
        self.lock = threading.Lock()
        super().__init__(self._proxy)

    def _proxy(self, conn: socket.socket, n: int) -> None:
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(self.target)
        try:
            i = 0
            while True:
                line = read_line(conn)
                if not line:
                    return
                what = self.behave(n, i)
                i += 1
                if what == "drop":
                    return
                up.sendall(line)
                reply = read_line(up)
                with self.lock:
                    self.forwarded += 1
                conn.sendall(reply)
                if what == "close":
                    return
        finally:
            up.close()
