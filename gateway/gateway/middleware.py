"""Pure-ASGI middleware: request id, body size limit, access log and HTTP metrics.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so that uploads and downloads stream
through untouched.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmkit.errors import TooLarge
from gateway.errors import error_response
from gateway.metrics import HTTP_DURATION, HTTP_REQUESTS

access_log = logging.getLogger("gateway.access")
log = logging.getLogger("gateway.middleware")

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"


def request_id_from(headers: Headers) -> str:
    """The caller's ``X-Request-Id`` when it is sane (1-128 of ``[A-Za-z0-9._:-]``), else a new one."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/v1/customers/{id}``), never the raw path."""
    route = scope.get("route")
    if route is None:
        app = scope.get("app")
        router = getattr(app, "router", None)
        for candidate in getattr(router, "routes", ()):
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, upload_max_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_max_bytes = upload_max_bytes

    #: raw file bodies (not JSON) get the upload limit, like multipart forms; each route caps
    #: its own files further (e.g. xlsx at 10 MB)
    UPLOAD_TYPES = ("multipart/", "application/octet-stream",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/")

    def limit_for(self, headers: Headers) -> int:
        content_type = headers.get("content-type", "").lower()
        return self.upload_max_bytes if content_type.startswith(self.UPLOAD_TYPES) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = request_id_from(headers)
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self.limit_for(headers)
        status = 500
        response_started = False
        received = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                raw.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": raw}
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge("too_large", f"request body exceeds {limit} bytes", {"limit": limit})
            return message

        try:
            content_length = _content_length(headers)
            if content_length is not None and content_length > limit:
                response = error_response(
                    413, "too_large", f"request body exceeds {limit} bytes", {"limit": limit}
                )
                await response(scope, receive, send_wrapper)
            else:
                await self.app(scope, limited_receive, send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if response_started:
                raise
            await error_response(500, "internal", "internal error")(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - started_at
            route = route_template(scope)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_DURATION.labels(route, method).observe(duration)
            access_log.info(
                "request",
                extra=_access_fields(scope, request_id, method, route, status, duration),
            )


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _access_fields(scope: Scope, request_id: str, method: str, route: str, status: int,
                   duration: float) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "request_id": request_id,
        "method": method,
        "route": route,
        "path": scope.get("path", ""),
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "client": client[0] if client else None,
    }
