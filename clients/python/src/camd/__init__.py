"""camd's Python client: ask the local camd "may this caller do this action
on this resource?" over its Unix socket (JSON lines; docs/protocol.md).

    import camd
    with camd.Client() as c:          # $CAMD_SOCKET, else state/camd.sock
        d = c.authorize_user("alice", "im:SendMessage",
                             "qcs::im::uin/100000000001:sdkappid/1400000001")
        if d.allowed: ...

``camd.Client`` is blocking and thread-safe; ``camd.AsyncClient`` is for
asyncio. Both raise :class:`CamdError` (with camd's CAM error ``code``) and
:class:`CamdConnectionError` (closed, garbled, timed out).
"""

from ._async import AsyncClient
from ._core import DEFAULT_TIMEOUT, Key
from ._errors import (
    AuthFailureError,
    CamdConnectionError,
    CamdError,
    CamdInternalError,
    CamdProtocolError,
    CamdTimeoutError,
    Error,
    FailedOperationError,
    InvalidParameterError,
    LimitExceededError,
    OperationDeniedError,
    ResourceNotFoundError,
    error_for,
)
from ._sync import Client
from ._wire import (
    INLINE_BODY_LIMIT,
    INSTALLED_SOCKET,
    PROTOCOL_VERSION,
    Ask,
    Decision,
    by_key,
    by_user,
    default_socket,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "Client",
    "Ask",
    "Decision",
    "Key",
    "by_user",
    "by_key",
    "default_socket",
    "DEFAULT_TIMEOUT",
    "INLINE_BODY_LIMIT",
    "INSTALLED_SOCKET",
    "PROTOCOL_VERSION",
    "Error",
    "CamdError",
    "AuthFailureError",
    "ResourceNotFoundError",
    "InvalidParameterError",
    "LimitExceededError",
    "FailedOperationError",
    "OperationDeniedError",
    "CamdInternalError",
    "CamdConnectionError",
    "CamdTimeoutError",
    "CamdProtocolError",
    "error_for",
]
