"""camd's JSON-lines protocol (docs/protocol.md): the questions, the
request lines and the decoding of response lines. No I/O here."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Union

from ._errors import CamdError, CamdProtocolError, error_for

__all__ = [
    "PROTOCOL_VERSION",
    "INSTALLED_SOCKET",
    "INLINE_BODY_LIMIT",
    "MAX_RESPONSE_BYTES",
    "Ask",
    "Decision",
    "Response",
    "by_user",
    "by_key",
    "default_socket",
    "encode_request",
    "check_traceparent",
    "ping_body",
    "authorize_body",
    "batch_body",
    "authorize_at_body",
    "authorize_signed_body",
    "decode_response",
    "expect",
    "decode_decision",
    "decode_decisions",
    "nth_decision_id",
    "decode_pong",
]

#: The protocol version this client speaks (camd answers it to Ping).
PROTOCOL_VERSION = 1
#: Where the systemd units put camd's socket.
INSTALLED_SOCKET = "/run/camd/camd.sock"
#: A signed request's body longer than this is sent as its SHA-256 (what
#: camd verifies the signature over) instead of its bytes, which the JSON
#: encoding would make about four times longer.
INLINE_BODY_LIMIT = 16 * 1024
#: A response line longer than this is refused (as the Rust client does).
MAX_RESPONSE_BYTES = 64 << 20

_U64 = 1 << 64
_I64 = 1 << 63

Context = Union[Mapping[str, Union[str, Iterable[str]]], Iterable[tuple[str, str]]]


def default_socket() -> str:
    """``$CAMD_SOCKET``, else ``state/camd.sock`` (or the installed
    ``/run/camd/camd.sock`` when only it exists), as camctl chooses."""
    env = os.environ.get("CAMD_SOCKET")
    if env:
        return env
    local = "state/camd.sock"
    if not os.path.exists(local) and os.path.exists(INSTALLED_SOCKET):
        return INSTALLED_SOCKET
    return local


def _str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _context(context: Context | None) -> list[list[str]]:
    """Context pairs in wire order: a mapping of key to a value or a list of
    values (one pair each), or an iterable of (key, value) pairs."""
    if not context:
        return []
    out: list[list[str]] = []
    if isinstance(context, Mapping):
        for k, v in context.items():
            _str("a context key", k)
            if isinstance(v, str):
                out.append([k, v])
            else:
                for one in v:
                    out.append([k, _str(f"context value of {k!r}", one)])
        return out
    if isinstance(context, (str, bytes)):
        raise TypeError("context must be a mapping or (key, value) pairs, not a string")
    for pair in context:
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise TypeError("each context item must be a (key, value) pair")
        k, v = pair
        out.append([_str("a context key", k), _str(f"context value of {k!r}", v)])
    return out


def _user_ref(user: str | int) -> dict[str, Any]:
    if isinstance(user, bool):
        raise TypeError("user must be a name (str) or a uin (int), not bool")
    if isinstance(user, int):
        if not 0 <= user < _U64:
            raise ValueError("a uin is an unsigned 64-bit integer")
        return {"Uin": user}
    if isinstance(user, str):
        return {"Name": user}
    raise TypeError(f"user must be a name (str) or a uin (int), not {type(user).__name__}")


@dataclass(frozen=True, slots=True)
class Ask:
    """One question: may ``user`` (a name or a uin), or the owner of the
    access key ``secret_id``/``secret_key``, do ``action`` on ``resource``?
    Make one with :func:`by_user` or :func:`by_key`. The SecretKey is never
    shown (repr, str, errors)."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    user: str | int | None = None
    secret_id: str | None = None
    secret_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        if self.secret_id is not None:
            who = f"secret_id={self.secret_id!r}, secret_key='***'"
        else:
            who = f"user={self.user!r}"
        return (
            f"Ask({who}, action={self.action!r}, resource={self.resource!r}, "
            f"context={self.context!r})"
        )

    __str__ = __repr__

    def wire(self) -> dict[str, Any]:
        """The ``Authorize`` value (``{"ByUser": ...}`` or ``{"ByKey": ...}``)."""
        context = [list(p) for p in self.context]
        if self.secret_id is not None:
            return {
                "ByKey": {
                    "key": {"secret_id": self.secret_id, "secret_key": self.secret_key},
                    "action": self.action,
                    "resource": self.resource,
                    "context": context,
                }
            }
        return {
            "ByUser": {
                "user": _user_ref(self.user),  # type: ignore[arg-type]
                "action": self.action,
                "resource": self.resource,
                "context": context,
            }
        }

    @classmethod
    def from_case(cls, ask: Mapping[str, Any]) -> "Ask":
        """An Ask from the shape tests/clients/cases.json uses:
        ``{"user"|"secret_id"+"secret_key", "action", "resource", "context"}``."""
        context = ask.get("context") or ()
        if "user" in ask:
            return by_user(ask["user"], ask["action"], ask["resource"], context)
        return by_key(ask["secret_id"], ask["secret_key"], ask["action"], ask["resource"], context)


def by_user(user: str | int, action: str, resource: str, context: Context = ()) -> Ask:
    """A question about a sub-user, by name (str) or uin (int)."""
    _user_ref(user)
    return Ask(
        action=_str("action", action),
        resource=_str("resource", resource),
        context=tuple((k, v) for k, v in _context(context)),
        user=user,
    )


def by_key(secret_id: str, secret_key: str, action: str, resource: str, context: Context = ()) -> Ask:
    """A question about the owner of an access key, which camd checks."""
    if not isinstance(secret_key, str):
        raise TypeError("secret_key must be a str")
    return Ask(
        action=_str("action", action),
        resource=_str("resource", resource),
        context=tuple((k, v) for k, v in _context(context)),
        secret_id=_str("secret_id", secret_id),
        secret_key=secret_key,
    )


def _ask(ask: object) -> Ask:
    if not isinstance(ask, Ask):
        raise TypeError(f"expected an Ask (camd.by_user / camd.by_key), not {type(ask).__name__}")
    return ask


# --- requests ---------------------------------------------------------------

_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, allow_nan=False
)
_dumps = _encoder.encode
_loads = json.JSONDecoder().decode


def encode_request(
    id: int, body: Any, auth: Mapping[str, str] | None = None, traceparent: str | None = None
) -> bytes:
    """One request line, its newline included: ``{"id":..,"auth":..,"body":..}``
    in serde's field order and compact form (the bytes camd's own encoder
    makes), then ``"traceparent"`` only when one is given."""
    if traceparent is None:
        text = _dumps({"id": id, "auth": auth, "body": body})
    else:
        text = _dumps({"id": id, "auth": auth, "body": body, "traceparent": traceparent})
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        pass
    # Raised outside the handler: the UnicodeEncodeError holds the whole
    # line (a SecretKey included) and must not ride along as __context__.
    raise ValueError("a string in the request is not valid Unicode (a lone surrogate)")


def check_traceparent(traceparent: object) -> str | None:
    """A W3C ``traceparent`` to send (None: none). Only its type is checked:
    camd ignores one that is not valid."""
    if traceparent is not None:
        _str("traceparent", traceparent)
    return traceparent  # type: ignore[return-value]


def ping_body() -> str:
    return "Ping"


def authorize_body(ask: Ask) -> dict[str, Any]:
    return {"Authorize": _ask(ask).wire()}


def batch_body(asks: Iterable[Ask]) -> dict[str, Any]:
    return {"Batch": [_ask(a).wire() for a in asks]}


def authorize_at_body(min_revision: int, ask: Ask) -> dict[str, Any]:
    if isinstance(min_revision, bool) or not isinstance(min_revision, int):
        raise TypeError("min_revision must be an int")
    if not -_I64 <= min_revision < _I64:
        raise ValueError("min_revision is a signed 64-bit integer")
    return {"AuthorizeAt": {"min_revision": min_revision, "ask": _ask(ask).wire()}}


def _headers(headers: Any) -> list[list[str]]:
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    out = []
    for pair in items:
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise TypeError("headers must be a mapping or (name, value) pairs")
        k, v = pair
        out.append([_str("a header name", k), _str(f"header {k!r}", v)])
    return out


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"body must be bytes (as received), not {type(body).__name__}")


def authorize_signed_body(
    method: str,
    path: str,
    query: str,
    headers: Any,
    body: Any,
    resource: str,
    context: Context = (),
    action: str | None = None,
    *,
    body_sha256: str | None = None,
) -> dict[str, Any]:
    """``AuthorizeSigned``: an HTTP request as received (its body's bytes, or
    ``body_sha256``, their SHA-256 in hex, for a streamed body), the resource,
    the context and the action (or the asking service's name, ``im``, to
    decide ``im:<X-TC-Action>``)."""
    if body_sha256 is not None:
        if body:
            raise ValueError("give the body or its body_sha256, not both")
        payload: dict[str, Any] = {"Sha256Hex": _str("body_sha256", body_sha256)}
    else:
        raw = _bytes(body)
        if len(raw) > INLINE_BODY_LIMIT:
            payload = {"Sha256Hex": hashlib.sha256(raw).hexdigest()}
        else:
            payload = {"Body": list(raw)}
    if action is not None:
        _str("action", action)
    return {
        "AuthorizeSigned": {
            "request": {
                "method": _str("method", method),
                "path": _str("path", path),
                "query": _str("query", query if query is not None else ""),
                "headers": _headers(headers),
                "payload": payload,
            },
            "resource": _str("resource", resource),
            "context": _context(context),
            "action": action,
        }
    }


# --- responses --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """camd's answer: ``allowed``; ``reason`` (``Allow``, ``Root``,
    ``ExplicitDeny``, ``ImplicitDeny``, ``FailClosedDeny``, ``BoundaryDeny``,
    ``BoundaryFailClosedDeny``, ``OutsideBoundary``); the deciding
    ``policy`` and its ``statement`` index (None for an implicit deny); the
    ``uin`` decided for; ``decision_id``, the id of its record in camd's
    decision log (16 lowercase hex digits; None when the log is off), left
    out of ``==``. ``bool(decision)`` is ``decision.allowed``."""

    allowed: bool
    reason: str
    policy: str | None
    statement: int | None
    uin: int
    decision_id: str | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return self.allowed

    def wire(self) -> dict[str, Any]:
        """The ``Decision`` as camd writes it (field order included)."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "policy": self.policy,
            "statement": self.statement,
            "uin": self.uin,
        }

    def explain(self) -> str:
        """``Allow: ...`` / ``Deny: ...``, as ``camctl check`` prints it."""
        verdict = "Allow" if self.allowed else "Deny"
        if self.policy is not None and self.statement is not None:
            why = f"{self.reason} by policy `{self.policy}` statement[{self.statement}]"
        elif self.reason == "ImplicitDeny":
            why = "no statement allows it (implicit deny)"
        elif self.reason == "OutsideBoundary" and self.policy is not None:
            why = f"OutsideBoundary: the permissions boundary `{self.policy}` does not allow it"
        elif self.reason == "Root":
            why = "the root account is allowed everything"
        else:
            why = self.reason
        return f"{verdict}: {why}"


class Response(NamedTuple):
    """A decoded response line: ``ok`` is the reply (``"Done"``, or a
    one-key object such as ``{"Decision": {...}}``) when ``error`` is None;
    ``decision_id``: the (first) decision's id, with camd's decision log on."""

    id: int
    ok: Any
    error: CamdError | None
    revision: int | None
    decision_id: str | None = None


def _garbled(why: str) -> CamdProtocolError:
    return CamdProtocolError(f"camd's answer is garbled: {why}")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_HEX = frozenset("0123456789abcdef")


def _is_decision_id(v: object) -> bool:
    return isinstance(v, str) and len(v) == 16 and all(c in _HEX for c in v)


def nth_decision_id(first: str | None, i: int) -> str | None:
    """The id of a batch's item ``i``: the first item's plus ``i`` (u64 addition)."""
    if first is None:
        return None
    return format((int(first, 16) + i) % _U64, "016x")


def _wire_error(e: object) -> CamdError:
    if not (isinstance(e, dict) and isinstance(e.get("code"), str) and isinstance(e.get("message"), str)):
        raise _garbled("an error without a code and message")
    return error_for(e["code"], e["message"])


def decode_response(line: bytes | str) -> Response:
    """A response line (its newline optional), checked for shape."""
    try:
        obj = _loads(line.decode("utf-8") if isinstance(line, (bytes, bytearray)) else line)
    except (ValueError, UnicodeDecodeError):
        raise _garbled("not a JSON line") from None
    if not isinstance(obj, dict):
        raise _garbled("not a JSON object")
    id_ = obj.get("id")
    if not _is_int(id_) or not 0 <= id_ < _U64:
        raise _garbled("no request id")
    result = obj.get("result")
    if not isinstance(result, dict) or len(result) != 1:
        raise _garbled("no result")
    revision = obj.get("revision")
    if revision is not None and not _is_int(revision):
        raise _garbled("a revision that is not an integer")
    decision_id = obj.get("decision_id")
    if decision_id is not None and not _is_decision_id(decision_id):
        raise _garbled("a decision_id that is not 16 lowercase hex digits")
    if "Ok" in result:
        return Response(id_, result["Ok"], None, revision, decision_id)
    if "Err" in result:
        return Response(id_, None, _wire_error(result["Err"]), revision, decision_id)
    raise _garbled("a result that is neither Ok nor Err")


def expect(reply: Any, variant: str) -> Any:
    """The value of reply variant ``variant`` (camd answers each request with
    its own reply shape; any other is a protocol error)."""
    if isinstance(reply, dict) and len(reply) == 1 and variant in reply:
        return reply[variant]
    if reply == variant:
        return None
    shown = next(iter(reply), reply) if isinstance(reply, dict) else reply
    raise CamdProtocolError(f"camd answered with a reply of another shape: {str(shown)[:64]!r}, not {variant}")


def decode_decision(d: object, decision_id: str | None = None) -> Decision:
    """A ``Decision`` object, every field checked; ``decision_id``: the
    response's."""
    if not isinstance(d, dict):
        raise _garbled("a decision that is not an object")
    allowed, reason = d.get("allowed"), d.get("reason")
    policy, statement, uin = d.get("policy"), d.get("statement"), d.get("uin")
    if (
        not isinstance(allowed, bool)
        or not isinstance(reason, str)
        or not (policy is None or isinstance(policy, str))
        or not (statement is None or (_is_int(statement) and statement >= 0))
        or not (_is_int(uin) and uin >= 0)
    ):
        raise _garbled("a decision with missing or mistyped fields")
    return Decision(allowed, reason, policy, statement, uin, decision_id)


def decode_decisions(
    items: object, expected: int | None = None, first_id: str | None = None
) -> list[Decision | CamdError]:
    """A ``Decisions`` list: a Decision or a CamdError for each question;
    item ``i``'s decision id is ``first_id`` + ``i``."""
    if not isinstance(items, list):
        raise _garbled("decisions that are not a list")
    if expected is not None and len(items) != expected:
        raise _garbled(f"{len(items)} decisions for {expected} questions")
    out: list[Decision | CamdError] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or len(item) != 1:
            raise _garbled("a batch item that is neither Ok nor Err")
        if "Ok" in item:
            out.append(decode_decision(item["Ok"], nth_decision_id(first_id, i)))
        elif "Err" in item:
            out.append(_wire_error(item["Err"]))
        else:
            raise _garbled("a batch item that is neither Ok nor Err")
    return out


def decode_pong(v: object) -> int:
    if not _is_int(v):
        raise _garbled("a Pong without a version")
    return v
