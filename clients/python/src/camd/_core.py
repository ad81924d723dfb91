"""What the sync and async clients share: the presented key, the check of
a response against its request, and the typed replies."""

from __future__ import annotations

from typing import Any

from ._errors import CamdError, CamdProtocolError
from ._wire import Decision, Response, decode_decision, decode_decisions, decode_pong, expect

#: Each call's default timeout, in seconds: connecting, sending and the answer.
DEFAULT_TIMEOUT = 5.0


class Key:
    """An access key presented with every request (for admin requests sent
    with ``call``: delegated administration). The SecretKey is never shown."""

    __slots__ = ("secret_id", "_secret_key")

    def __init__(self, secret_id: str, secret_key: str) -> None:
        if not isinstance(secret_id, str) or not isinstance(secret_key, str):
            raise TypeError("key must be (secret_id, secret_key), both str")
        self.secret_id = secret_id
        self._secret_key = secret_key

    def wire(self) -> dict[str, str]:
        return {"secret_id": self.secret_id, "secret_key": self._secret_key}

    def __repr__(self) -> str:
        return f"Key({self.secret_id!r}, secret_key='***')"

    __str__ = __repr__


def make_key(key: Any) -> Key | None:
    if key is None or isinstance(key, Key):
        return key
    try:
        secret_id, secret_key = key
    except (TypeError, ValueError):
        raise TypeError("key must be (secret_id, secret_key)") from None
    return Key(secret_id, secret_key)


def check_id(resp: Response, id_: int) -> Response:
    """The response to request ``id_``: its own id, or 0 with camd's error
    about a line it could not read (the connection goes on, in order)."""
    if resp.id != id_ and not (resp.id == 0 and resp.error is not None):
        raise CamdProtocolError(f"camd answered request {resp.id}, not request {id_}")
    return resp


def ok(resp: Response) -> Any:
    """The reply, or camd's error raised."""
    if resp.error is not None:
        raise resp.error
    return resp.ok


def decision(resp: Response) -> Decision:
    return decode_decision(expect(ok(resp), "Decision"), resp.decision_id)


def decisions(resp: Response, n: int) -> list[Decision | CamdError]:
    return decode_decisions(expect(ok(resp), "Decisions"), n, resp.decision_id)


def pong(resp: Response) -> int:
    return decode_pong(expect(ok(resp), "Pong"))


class Closed(Exception):
    """Internal: the connection closed; ``sent`` if the request may have
    reached camd."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent
