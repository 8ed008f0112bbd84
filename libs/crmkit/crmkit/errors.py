"""One typed error contract for every service and the gateway.

A service raises a subclass of :class:`CrmError`. Nameko serialises it across RPC as
``{"exc_type": <class name>, "exc_path": "crmkit.errors.<class>", "exc_args":
[code, message, details]}``; the gateway turns that back into an HTTP status through
:data:`STATUS_BY_TYPE` and a body ``{"error": {"code", "message", "details"}}``.
Keep args JSON-plain: codes are stable strings, details a dict of plain values.
"""
from __future__ import annotations

from typing import Any


class CrmError(Exception):
    """Base of every error that crosses a service boundary on purpose."""

    status = 500
    default_code = "internal"

    def __init__(self, code: str | None = None, message: str = "", details: dict[str, Any] | None = None):
        self.code = code or self.default_code
        self.message = message or self.code
        self.details = details or {}
        super().__init__(self.code, self.message, self.details)

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(CrmError):
    status = 400
    default_code = "invalid_input"


class Unauthenticated(CrmError):
    status = 401
    default_code = "unauthenticated"


class Forbidden(CrmError):
    status = 403
    default_code = "forbidden"


class NotFound(CrmError):
    status = 404
    default_code = "not_found"


class Conflict(CrmError):
    status = 409
    default_code = "conflict"


class TooLarge(CrmError):
    status = 413
    default_code = "too_large"


class UnsupportedMedia(CrmError):
    status = 415
    default_code = "unsupported_media_type"


class BusinessRule(CrmError):
    status = 422
    default_code = "business_rule"


class RateLimited(CrmError):
    status = 429
    default_code = "rate_limited"


class Unavailable(CrmError):
    status = 503
    default_code = "service_unavailable"


class UpstreamTimeout(CrmError):
    status = 504
    default_code = "upstream_timeout"


ERROR_TYPES: dict[str, type[CrmError]] = {
    cls.__name__: cls
    for cls in (
        CrmError, InvalidInput, Unauthenticated, Forbidden, NotFound, Conflict, TooLarge,
        UnsupportedMedia, BusinessRule, RateLimited, Unavailable, UpstreamTimeout,
    )
}

#: exc_type (class name) -> HTTP status; the gateway's one mapping table.
STATUS_BY_TYPE: dict[str, int] = {name: cls.status for name, cls in ERROR_TYPES.items()}


#: pymongo's errors of a database that is slow or away (not a bug of the request): 503, retry later
DATABASE_ERRORS: dict[str, str] = {
    "NetworkTimeout": "database.timeout", "ExecutionTimeout": "database.timeout", "WTimeoutError": "database.timeout",
    "ServerSelectionTimeoutError": "database.unavailable", "AutoReconnect": "database.unavailable",
    "ConnectionFailure": "database.unavailable", "NotPrimaryError": "database.unavailable",
}


def from_remote(exc_type: str, exc_path: str, exc_args: list[Any] | tuple[Any, ...], value: str) -> CrmError:
    """Rebuild a CrmError from nameko's serialised form (a database that is slow or away is
    503 ``database.timeout`` / ``database.unavailable``; any other unknown error is internal)."""
    if exc_path.startswith("pymongo.errors.") and exc_type in DATABASE_ERRORS:
        return Unavailable(DATABASE_ERRORS[exc_type], "the database did not answer in time; try again shortly",
                           {"exc_type": exc_type})
    cls = ERROR_TYPES.get(exc_type) if exc_path.startswith("crmkit.errors.") else None
    if cls is None:
        return CrmError("internal", "internal error", {"exc_type": exc_type})
    args = list(exc_args or [])
    code = args[0] if args and isinstance(args[0], str) else None
    message = args[1] if len(args) > 1 and isinstance(args[1], str) else value
    details = args[2] if len(args) > 2 and isinstance(args[2], dict) else {}
    return cls(code, message, details)
