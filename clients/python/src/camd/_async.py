"""The asyncio client: one pipelined JSON-lines connection shared by every
task; answers are matched to questions in order and by id."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Iterable
from typing import Any

from . import _core
from ._core import Closed, Key, check_id, make_key
from ._errors import CamdConnectionError, CamdError, CamdProtocolError, CamdTimeoutError
from ._wire import (
    MAX_RESPONSE_BYTES,
    Ask,
    Context,
    Decision,
    Response,
    authorize_at_body,
    authorize_body,
    authorize_signed_body,
    batch_body,
    by_key,
    by_user,
    check_traceparent,
    decode_response,
    default_socket,
    encode_request,
    ping_body,
)

__all__ = ["AsyncClient"]

_HIGH_WATER = 256 * 1024


class _Conn:
    """One connection: requests are written in the order their futures are
    queued, and camd answers in order, so the oldest future is the next
    answer's."""

    def __init__(self, path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.path = path
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        self.pending: deque[tuple[int, asyncio.Future[Response]]] = deque()
        self.next_id = 1
        self.dead: BaseException | None = None
        # Lines queued by the tasks of one loop iteration go out in one write.
        self.out: list[bytes] = []
        self.task = self.loop.create_task(self._read_loop())

    @classmethod
    async def open(cls, path: str) -> "_Conn":
        try:
            reader, writer = await asyncio.open_unix_connection(path, limit=MAX_RESPONSE_BYTES)
        except OSError as e:
            raise CamdConnectionError(f"cannot connect to camd at {path}: {e.strerror or e}") from None
        return cls(path, reader, writer)

    def send(self, body: Any, auth: Key | None, traceparent: str | None) -> tuple[int, asyncio.Future[Response]]:
        if self.dead is not None:
            raise Closed(f"the connection to camd at {self.path} is closed", sent=False)
        id_ = self.next_id
        line = encode_request(id_, body, auth.wire() if auth else None, traceparent)
        self.next_id += 1
        fut: asyncio.Future[Response] = self.loop.create_future()
        self.pending.append((id_, fut))
        self.out.append(line)
        if len(self.out) == 1:
            self.loop.call_soon(self._flush)
        return id_, fut

    def _flush(self) -> None:
        out, self.out = self.out, []
        if out and self.dead is None:
            self.writer.write(b"".join(out))

    def backlogged(self) -> bool:
        """True when camd is not reading as fast as the tasks write."""
        return self.writer.transport.get_write_buffer_size() > _HIGH_WATER

    async def _read_loop(self) -> None:
        reader, pending = self.reader, self.pending
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as e:
                    where = "in the middle of its answer" if e.partial else "before answering"
                    raise Closed(f"camd at {self.path} closed the connection {where}", sent=True) from None
                except asyncio.LimitOverrunError:
                    raise CamdProtocolError(f"camd's answer is longer than {MAX_RESPONSE_BYTES} bytes") from None
                except OSError as e:
                    raise Closed(f"the connection to camd at {self.path} broke ({e.strerror or e})", sent=True) from None
                resp = decode_response(line)
                if not pending:
                    raise CamdProtocolError("camd sent an answer to no question")
                check_id(resp, pending[0][0])  # else every waiter fails below
                _, fut = pending.popleft()
                if not fut.done():  # a cancelled caller's answer is dropped
                    fut.set_result(resp)
        except asyncio.CancelledError:
            self.fail(Closed("the client was closed", sent=True))
            raise
        except BaseException as e:  # noqa: BLE001 - every end fails the waiters
            self.fail(e)

    def fail(self, exc: BaseException) -> None:
        """Marks the connection dead, closes it, and fails every question
        waiting on it with ``exc``."""
        if self.dead is None:
            self.dead = exc
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001
            pass
        while self.pending:
            _, fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(exc)
        if self.task is not asyncio.current_task() and not self.task.done():
            self.task.cancel()


class AsyncClient:
    """An asyncio client of camd: one connection, pipelined, shared by any
    number of tasks of one event loop (each question gets its own answer,
    matched by order and id). Arguments as for :class:`camd.Client`.

    A connection camd closed is replaced by the next call; a question whose
    connection closes before its answer comes is sent once more when it is
    a decision. A timeout closes the connection (failing the questions in
    flight on it with :class:`~camd.CamdTimeoutError`); the next call
    reconnects."""

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        timeout: float | None = _core.DEFAULT_TIMEOUT,
        key: tuple[str, str] | Key | None = None,
    ) -> None:
        self.path = os.fspath(socket_path) if socket_path is not None else default_socket()
        self.timeout = timeout
        self._auth = make_key(key)
        self._conn: _Conn | None = None
        self._connecting: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._closed = False

    def __repr__(self) -> str:
        key = f", key={self._auth!r}" if self._auth else ""
        return f"AsyncClient({self.path!r}, timeout={self.timeout!r}{key})"

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the connection; questions in flight fail."""
        self._closed = True
        c, self._conn = self._conn, None
        if c is not None and c.loop is asyncio.get_running_loop():
            c.fail(CamdConnectionError("the client was closed"))
            try:
                await c.writer.wait_closed()
            except Exception:  # noqa: BLE001
                pass

    async def _connection(self) -> _Conn:
        loop = asyncio.get_running_loop()
        c = self._conn
        if c is not None and c.dead is None and c.loop is loop:
            return c
        if self._connecting is None or self._connecting[0] is not loop:
            self._connecting = (loop, asyncio.Lock())
        async with self._connecting[1]:
            if self._closed:
                raise CamdConnectionError("the client is closed")
            c = self._conn
            if c is not None and c.dead is None and c.loop is loop:
                return c
            if c is not None and c.loop is loop:
                c.fail(c.dead or Closed("replaced", sent=True))
            self._conn = c = await _Conn.open(self.path)
            return c

    async def _call(self, body: Any, idempotent: bool, traceparent: str | None = None) -> Response:
        check_traceparent(traceparent)
        used: list[_Conn] = []
        try:
            async with asyncio.timeout(self.timeout):
                return await self._attempts(body, idempotent, traceparent, used)
        except TimeoutError as e:
            if isinstance(e, CamdTimeoutError):
                raise  # another question's timeout closed the connection
            # The answer may yet come: drop the connection so that it can
            # never be taken for another question's.
            exc = CamdTimeoutError(f"camd at {self.path} did not answer within {self.timeout} s")
            if used:
                used[-1].fail(exc)
            raise exc from None

    async def _attempts(
        self, body: Any, idempotent: bool, traceparent: str | None, used: list[_Conn]
    ) -> Response:
        retried = False
        while True:
            c = await self._connection()
            used.append(c)
            try:
                _, fut = c.send(body, self._auth, traceparent)
                if c.backlogged():
                    try:
                        await c.writer.drain()
                    except OSError as e:
                        c.fail(Closed(f"the connection to camd at {self.path} broke ({e.strerror or e})", sent=True))
                return await fut
            except Closed as e:
                if retried or not (idempotent or not e.sent):
                    raise CamdConnectionError(str(e)) from None
                retried = True
            except CamdConnectionError as e:
                # One instance fails every question on the connection: each
                # caller raises its own.
                raise type(e)(e.message) from None

    # --- the questions (as camd.Client's) ---

    async def authorize(self, ask: Ask, *, traceparent: str | None = None) -> Decision:
        """One decision for an :class:`Ask`; ``traceparent``: a W3C trace
        context for camd's decision log (every decision method takes one)."""
        return _core.decision(await self._call(authorize_body(ask), True, traceparent))

    async def authorize_user(
        self, user: str | int, action: str, resource: str, context: Context = (), *, traceparent: str | None = None
    ) -> Decision:
        """May sub-user ``user`` (name or uin) do ``action`` on ``resource``?"""
        return await self.authorize(by_user(user, action, resource, context), traceparent=traceparent)

    async def authorize_key(
        self,
        secret_id: str,
        secret_key: str,
        action: str,
        resource: str,
        context: Context = (),
        *,
        traceparent: str | None = None,
    ) -> Decision:
        """May the owner of this access key do ``action`` on ``resource``?"""
        return await self.authorize(by_key(secret_id, secret_key, action, resource, context), traceparent=traceparent)

    async def authorize_batch(
        self, asks: Iterable[Ask], *, traceparent: str | None = None
    ) -> list[Decision | CamdError]:
        """Several decisions in one request: a Decision or a CamdError each
        (item ``i``'s ``decision_id``: the first item's plus ``i``)."""
        asks = list(asks)
        return _core.decisions(await self._call(batch_body(asks), True, traceparent), len(asks))

    async def authorize_signed(
        self,
        method: str,
        path: str,
        query: str,
        headers: Any,
        body: bytes | str | None,
        resource: str,
        context: Context = (),
        action: str | None = None,
        *,
        body_sha256: str | None = None,
        traceparent: str | None = None,
    ) -> Decision:
        """Verifies a TC3-signed HTTP request as received and decides for its signer."""
        b = authorize_signed_body(
            method, path, query, headers, body, resource, context, action, body_sha256=body_sha256
        )
        return _core.decision(await self._call(b, True, traceparent))

    async def authorize_at(self, min_revision: int, ask: Ask, *, traceparent: str | None = None) -> Decision:
        """Cluster mode: the decision once this host has reached ``min_revision``."""
        return _core.decision(await self._call(authorize_at_body(min_revision, ask), True, traceparent))

    async def ping(self) -> int:
        """Liveness: camd's protocol version."""
        return _core.pong(await self._call(ping_body(), True))

    async def call(self, body: Any, *, idempotent: bool = False, traceparent: str | None = None) -> Any:
        """Any request body; its reply, or camd's error raised."""
        return _core.ok(await self._call(body, idempotent, traceparent))
