"""Helpers for route modules: read a JSON body, call a service, answer JSON.

Routes are declared with :mod:`gateway.api` (``Api.rpc`` / ``Api.handler`` with models for
path, query, body and answer); a handler calls a service with :func:`call_service`.

The caller's signed context is taken from ``request.state.context_header`` (set by the
auth layer) and sent as the ``nameko.crm_context`` header.
"""
from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmkit.errors import InvalidInput

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 200


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; ``400 invalid_json`` when malformed, not an object,
    too deep or with a lone surrogate (:func:`gateway.validation.parse_json`). Declared routes
    (:mod:`gateway.api`) also check the content type and their model."""
    from gateway.validation import parse_json

    data: dict[str, Any] = parse_json(await request.body(), required=required)
    return data


def context_header(request: Request) -> str | None:
    """The signed call context the auth layer put on the request, if any."""
    return getattr(request.state, "context_header", None)


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput("invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
    return key


async def call_service(
    request: Request, service: str, method: str, kwargs: dict[str, Any], *, timeout: float | None = None
) -> Any:
    bridge = request.app.state.bridge
    return await bridge.call(service, method, kwargs, context=context_header(request), timeout=timeout)


def rpc_route(
    service: str,
    method: str,
    *,
    body: str | None = None,
    path: Mapping[str, str] | None = None,
    query: Iterable[str] = (),
    idempotent: bool = False,
    status_code: int = 200,
    timeout: float | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that calls ``service.method`` and returns its result as JSON.

    kwargs of the call: every path parameter (renamed through ``path``), the listed
    ``query`` parameters that are present, the JSON body object under the name
    ``body`` (when given), and ``idempotency_key`` from the ``Idempotency-Key``
    header when ``idempotent``.
    """
    rename = dict(path or {})
    query_names = tuple(query)

    async def endpoint(request: Request) -> Response:
        kwargs: dict[str, Any] = {}
        for name, value in request.path_params.items():
            kwargs[rename.get(name, name)] = value
        for name in query_names:
            if name in request.query_params:
                kwargs[name] = request.query_params[name]
        if body:
            kwargs[body] = await read_json(request)
        if idempotent:
            key = idempotency_key(request)
            if key:
                kwargs["idempotency_key"] = key
        result = await call_service(request, service, method, kwargs, timeout=timeout)
        if status_code == 204:
            return Response(status_code=204)
        return JSONResponse(result, status_code=status_code)

    endpoint.__name__ = f"{service}_{method}"
    return endpoint


PART_BYTES = 1024 * 1024  # what one ``upload_part`` call carries (crmkit.parts.PART_BYTES)


async def send_in_parts(request: Request, service: str, spool: IO[bytes]) -> dict[str, Any]:
    """Send a spooled upload to ``service`` in parts of ≤ 1 MiB (its ``upload_part`` RPC,
    one part in memory at a time); returns ``{upload_id, parts}`` for the RPC that uses it."""
    upload_id, index = uuid.uuid4().hex, 0
    while True:
        part = await asyncio.to_thread(spool.read, PART_BYTES)
        if not part and index:
            break
        await call_service(request, service, "upload_part",
                           {"upload_id": upload_id, "index": index, "data_b64": base64.b64encode(part).decode()})
        index += 1
        if len(part) < PART_BYTES:
            break
    return {"upload_id": upload_id, "parts": index}
