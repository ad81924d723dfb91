"""The errors the client raises: camd's answers and broken connections."""

from __future__ import annotations

__all__ = [
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


class Error(Exception):
    """Base of every error this package raises."""


class CamdError(Error):
    """camd answered with an error: ``code`` is the CAM error code
    (``ResourceNotFound.UserNotExist``, ``AuthFailure.InvalidAuthorization``,
    ...; docs/errors.md), ``message`` camd's explanation."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CamdError):
            return NotImplemented
        return (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __reduce__(self):
        return (error_for, (self.code, self.message))


class AuthFailureError(CamdError):
    """``AuthFailure.*``: an unknown, wrong or disabled key, a bad signature,
    or an operation the caller may not do."""


class ResourceNotFoundError(CamdError):
    """``ResourceNotFound.*``: no such user, group, policy or key."""


class InvalidParameterError(CamdError):
    """``InvalidParameter``, ``InvalidParameter.*``, ``InvalidParameterValue``,
    ``MissingParameter``, ``UnknownParameter``: the question is malformed."""


class LimitExceededError(CamdError):
    """``LimitExceeded.*`` and ``RequestLimitExceeded*`` (throttled: retry later)."""


class FailedOperationError(CamdError):
    """``FailedOperation.*`` (in cluster mode, e.g. a revision not reached)."""


class OperationDeniedError(CamdError):
    """``OperationDenied.*``."""


class CamdInternalError(CamdError):
    """``InternalError.*``: camd could not do it."""


_FAMILIES: dict[str, type[CamdError]] = {
    "AuthFailure": AuthFailureError,
    "ResourceNotFound": ResourceNotFoundError,
    "InvalidParameter": InvalidParameterError,
    "InvalidParameterValue": InvalidParameterError,
    "MissingParameter": InvalidParameterError,
    "UnknownParameter": InvalidParameterError,
    "LimitExceeded": LimitExceededError,
    "RequestLimitExceeded": LimitExceededError,
    "FailedOperation": FailedOperationError,
    "OperationDenied": OperationDeniedError,
    "InternalError": CamdInternalError,
}


def error_for(code: str, message: str = "") -> CamdError:
    """The CamdError (of the code's family's class) for camd's error."""
    cls = _FAMILIES.get(code.split(".", 1)[0], CamdError)
    return cls(code, message)


class CamdConnectionError(Error, ConnectionError):
    """The connection to camd failed: it could not be opened, it closed
    before the answer came, or it carried bytes that are not camd's answer.
    No answer is ever guessed; the next call opens a new connection."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CamdTimeoutError(CamdConnectionError, TimeoutError):
    """camd did not answer (or accept the connection) within the timeout.
    The connection is dropped, so a late answer can never be taken for
    another request's."""


class CamdProtocolError(CamdConnectionError):
    """camd's bytes made no sense (not JSON, the wrong id, the wrong shape)."""
