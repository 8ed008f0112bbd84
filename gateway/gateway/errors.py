"""Exception handlers: every error leaves as ``{"error": {"code", "message", "details"}}``."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from crmkit.errors import STATUS_BY_TYPE, CrmError

log = logging.getLogger("gateway.errors")

HTTP_CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "business_rule",
    429: "rate_limited",
    503: "service_unavailable",
    504: "upstream_timeout",
}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(exc: CrmError) -> int:
    return STATUS_BY_TYPE.get(type(exc).__name__, getattr(exc, "status", 500))


async def crm_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CrmError)
    status = status_for(exc)
    if status >= 500:
        log.warning("upstream error %s: %s", exc.code, exc.message, extra={"details": exc.details})
    headers = None
    if status == 429 and isinstance(exc.details.get("retry_after"), int):
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return JSONResponse(exc.to_body(), status_code=status, headers=headers)


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "internal" if exc.status_code >= 500 else "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def json_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_json", "request body is not valid JSON")


async def internal_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal", "internal error")


def exception_handlers() -> dict[Any, Any]:
    return {
        CrmError: crm_error_handler,
        HTTPException: http_error_handler,
        json.JSONDecodeError: json_error_handler,
        Exception: internal_error_handler,
    }
