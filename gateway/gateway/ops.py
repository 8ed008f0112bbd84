"""Operations endpoints: liveness, readiness (which services answer) and metrics."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmkit.errors import CrmError, NotFound
from gateway.openapi import operation, schema

SERVICES = ("identity", "customers", "pool", "visits", "notify")

READINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ready", "broker", "services"],
    "properties": {
        "ready": {"type": "boolean"},
        "broker": {"type": "boolean"},
        "services": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "ready": {"type": "boolean"},
                    "latency_ms": {"type": "number"},
                    "error": {"type": "string"},
                },
            },
        },
    },
}

READINESS_REF = schema("Readiness", READINESS_SCHEMA)

operation("GET", "/healthz", "Liveness: the gateway process is up", tags=["ops"],
          responses={200: {"description": "alive", "schema": {
              "type": "object", "properties": {"status": {"const": "ok"}}}}})
operation("GET", "/readyz", "Readiness: the broker and every service answer a health call", tags=["ops"],
          responses={
              200: {"description": "all services answered", "schema": READINESS_REF},
              503: {"description": "the broker or some service did not answer",
                    "schema": READINESS_REF},
          })
operation("GET", "/metrics", "Prometheus metrics", tags=["ops"],
          responses={200: {"description": "Prometheus text format", "content_type": "text/plain",
                           "schema": {"type": "string"}}})


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _probe(bridge: Any, service: str, timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await bridge.call(service, "health", {}, timeout=timeout)
    except CrmError as exc:
        return {"ready": False, "error": exc.code}
    except Exception:  # noqa: BLE001 - a probe reports, never raises
        return {"ready": False, "error": "internal"}
    return {"ready": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def readyz(request: Request) -> JSONResponse:
    bridge = request.app.state.bridge
    timeout = request.app.state.settings.ready_timeout
    results = await asyncio.gather(*(_probe(bridge, s, timeout) for s in SERVICES))
    services = dict(zip(SERVICES, results, strict=True))
    broker = bool(bridge.connected)
    ready = broker and all(r["ready"] for r in results)
    return JSONResponse({"ready": ready, "broker": broker, "services": services}, status_code=200 if ready else 503)


operation("GET", "/healthz/{service}", "One service's health answer, through the RPC bridge", tags=["ops"],
          responses={200: {"description": "the service answered"},
                      503: {"description": "the service is not running or the broker is down"},
                      504: {"description": "the service did not answer in time"}})


async def service_health(request: Request) -> JSONResponse:
    """Calls the service like any API call does: 503 when it is down, 504 on timeout."""
    service = request.path_params["service"]
    if service not in SERVICES:
        raise NotFound("service.unknown", f"no service {service!r}", {"known": list(SERVICES)})
    result = await request.app.state.bridge.call(service, "health", {})
    return JSONResponse(result)


async def metrics(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/readyz", readyz, methods=["GET"], name="readyz"),
    Route("/healthz/{service}", service_health, methods=["GET"], name="service_health"),
    Route("/metrics", metrics, methods=["GET"], name="metrics"),
]
