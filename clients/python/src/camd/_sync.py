"""The blocking client: a small pool of JSON-lines connections, safe to
share between threads."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
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

__all__ = ["Client"]

_READ = 64 * 1024


def _left(deadline: float) -> float | None:
    """Seconds to the deadline (None: no deadline); TimeoutError once past."""
    if deadline == float("inf"):
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _Conn:
    """One connection; used by one thread at a time."""

    __slots__ = ("sock", "buf", "next_id", "path", "poll")

    def __init__(self, path: str, deadline: float) -> None:
        self.path = path
        self.buf = bytearray()
        self.next_id = 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(_left(deadline))
            s.connect(path)
        except TimeoutError:
            s.close()
            raise CamdTimeoutError(f"camd at {path} did not accept the connection in time") from None
        except OSError as e:
            s.close()
            raise CamdConnectionError(f"cannot connect to camd at {path}: {e.strerror or e}") from None
        self.sock = s
        self.poll = select.poll()
        self.poll.register(s, select.POLLIN)

    def idle_and_open(self) -> bool:
        """True when nothing is waiting to be read: a connection camd closed
        (idle timeout, restart) reads as ready (EOF), as do stray bytes."""
        try:
            return not self.poll.poll(0)
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def round_trip(self, body: Any, auth: Key | None, deadline: float, traceparent: str | None) -> Response:
        id_ = self.next_id
        self.next_id += 1
        line = encode_request(id_, body, auth.wire() if auth else None, traceparent)
        sock = self.sock
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(line)
        except TimeoutError:
            raise CamdTimeoutError(f"camd at {self.path} did not take the request in time") from None
        except OSError as e:
            # sendall failed before the last byte (the newline) went out:
            # camd cannot have acted on this line.
            raise Closed(f"the connection to camd at {self.path} is closed ({e.strerror or e})", sent=False) from None
        buf = self.buf
        try:
            while True:
                end = buf.find(b"\n")
                if end >= 0:
                    break
                if len(buf) > MAX_RESPONSE_BYTES:
                    raise CamdProtocolError(f"camd's answer is longer than {MAX_RESPONSE_BYTES} bytes")
                sock.settimeout(_left(deadline))
                chunk = sock.recv(_READ)
                if not chunk:
                    where = "in the middle of its answer" if buf else "before answering"
                    raise Closed(f"camd at {self.path} closed the connection {where}", sent=True)
                buf += chunk
        except CamdConnectionError:
            raise  # (an OSError too: not a closed connection)
        except TimeoutError:
            raise CamdTimeoutError(f"camd at {self.path} did not answer within the timeout") from None
        except OSError as e:
            raise Closed(f"the connection to camd at {self.path} broke ({e.strerror or e})", sent=True) from None
        line_out = bytes(buf[:end])
        del buf[: end + 1]
        if buf:
            # camd answers one line per request: more is not its answer.
            raise CamdProtocolError("camd sent more than one answer to one request")
        return check_id(decode_response(line_out), id_)


class Client:
    """A blocking client of camd, safe to share between threads: each call
    takes a connection from a small pool (opening one when none is free, up
    to ``max_connections``; a call beyond that waits for one, within its
    timeout).

    ``socket_path``: camd's socket (default: ``$CAMD_SOCKET``, else
    ``state/camd.sock``). ``timeout``: seconds for each call, connecting
    included (None: no limit). ``key``: ``(secret_id, secret_key)``
    presented with every request (only admin requests sent with
    :meth:`call` need one).

    A connection camd closed (it restarted, or the connection was idle for
    its ``idle_timeout_secs``) is replaced by the next call; a call whose
    connection closes before its answer comes is sent once more on a new
    connection when it is a decision (read-only), or when it cannot have
    reached camd. A timeout or garbled bytes close the connection and raise,
    never retried, so a late answer is never taken for another question's.
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        timeout: float | None = _core.DEFAULT_TIMEOUT,
        max_connections: int = 8,
        key: tuple[str, str] | Key | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.path = os.fspath(socket_path) if socket_path is not None else default_socket()
        self.timeout = timeout
        self.max_connections = max_connections
        self._auth = make_key(key)
        self._lock = threading.Lock()
        self._idle: list[_Conn] = []
        self._slots = threading.BoundedSemaphore(max_connections)
        self._pid = os.getpid()
        self._closed = False

    def __repr__(self) -> str:
        key = f", key={self._auth!r}" if self._auth else ""
        return f"Client({self.path!r}, timeout={self.timeout!r}{key})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the idle connections; calls in flight finish and close theirs."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()

    # --- the connection pool ---

    def _take(self) -> _Conn | None:
        with self._lock:
            if self._closed:
                raise CamdConnectionError("the client is closed")
            if self._pid != os.getpid():
                # A forked child must not share its parent's connections.
                self._idle = []
                self._pid = os.getpid()
            while self._idle:
                c = self._idle.pop()
                if c.idle_and_open():
                    return c
                c.close()
        return None

    def _give(self, c: _Conn) -> None:
        with self._lock:
            if not self._closed and self._pid == os.getpid():
                self._idle.append(c)
                return
        c.close()

    def _call(self, body: Any, idempotent: bool, traceparent: str | None = None) -> Response:
        check_traceparent(traceparent)
        timeout = self.timeout
        deadline = time.monotonic() + timeout if timeout is not None else float("inf")
        if timeout is None:
            self._slots.acquire()
        elif not self._slots.acquire(timeout=timeout):
            raise CamdTimeoutError(f"all {self.max_connections} connections to camd stayed busy for {timeout} s")
        try:
            conn = self._take()
            retried = False
            while True:
                if conn is None:
                    conn = _Conn(self.path, deadline)
                try:
                    resp = conn.round_trip(body, self._auth, deadline, traceparent)
                except Closed as e:
                    conn.close()
                    conn = None
                    if retried or not (idempotent or not e.sent):
                        raise CamdConnectionError(str(e)) from None
                    retried = True
                    continue
                except BaseException:
                    conn.close()
                    raise
                self._give(conn)
                return resp
        finally:
            self._slots.release()

    # --- the questions ---

    def authorize(self, ask: Ask, *, traceparent: str | None = None) -> Decision:
        """One decision for an :class:`Ask` (``camd.by_user``/``camd.by_key``).
        ``traceparent``: a W3C trace context camd's decision log records with
        the decision (every decision method takes one)."""
        return _core.decision(self._call(authorize_body(ask), True, traceparent))

    def authorize_user(
        self, user: str | int, action: str, resource: str, context: Context = (), *, traceparent: str | None = None
    ) -> Decision:
        """May sub-user ``user`` (a name, or a uin as an int) do ``action`` on
        ``resource``? ``context``: a mapping of key to a value or a list of
        values, or (key, value) pairs."""
        return self.authorize(by_user(user, action, resource, context), traceparent=traceparent)

    def authorize_key(
        self,
        secret_id: str,
        secret_key: str,
        action: str,
        resource: str,
        context: Context = (),
        *,
        traceparent: str | None = None,
    ) -> Decision:
        """May the owner of this access key do ``action`` on ``resource``?
        A wrong, unknown or disabled key raises
        :class:`~camd.AuthFailureError` (``AuthFailure.InvalidAuthorization``)."""
        return self.authorize(by_key(secret_id, secret_key, action, resource, context), traceparent=traceparent)

    def authorize_batch(self, asks: Iterable[Ask], *, traceparent: str | None = None) -> list[Decision | CamdError]:
        """Several decisions in one request: for each ask, in order, its
        Decision or the CamdError camd answered for it. A batch refused
        whole (``LimitExceeded.BatchSize``) raises. Item ``i``'s
        ``decision_id`` is the first item's plus ``i``."""
        asks = list(asks)
        return _core.decisions(self._call(batch_body(asks), True, traceparent), len(asks))

    def authorize_signed(
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
        """Verifies a TC3-HMAC-SHA256-signed HTTP request exactly as received
        (``headers``: a mapping or (name, value) pairs; ``body``: the bytes)
        and decides for its signer. ``action``: the action, or the asking
        service's name (``"im"``) to decide ``im:<X-TC-Action>``."""
        b = authorize_signed_body(
            method, path, query, headers, body, resource, context, action, body_sha256=body_sha256
        )
        return _core.decision(self._call(b, True, traceparent))

    def authorize_at(self, min_revision: int, ask: Ask, *, traceparent: str | None = None) -> Decision:
        """Cluster mode: the decision once this host has reached
        ``min_revision`` (``FailedOperation.ClusterRevisionNotReached`` if it
        does not in time)."""
        return _core.decision(self._call(authorize_at_body(min_revision, ask), True, traceparent))

    def ping(self) -> int:
        """Liveness: camd's protocol version."""
        return _core.pong(self._call(ping_body(), True))

    def call(self, body: Any, *, idempotent: bool = False, traceparent: str | None = None) -> Any:
        """Any request body (docs/protocol.md, e.g. ``"Status"`` or
        ``{"GetUser": "alice"}``); returns the reply (``"Done"`` or a
        one-key object), or raises camd's error. Sent again after a closed
        connection only if it cannot have reached camd, unless ``idempotent``.
        ``traceparent``: recorded with the permission check of an admin
        request made with an access key."""
        return _core.ok(self._call(body, idempotent, traceparent))
