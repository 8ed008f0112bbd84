"""Operations endpoints: liveness, readiness (the broker, the gateway's own database and which
services answer) and metrics."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmkit.errors import CrmError
from gateway.api import Api, Inputs
from gateway.schemas.base import Answer, Open, Query

SERVICES = ("identity", "customers", "pool", "visits", "notify")
ServiceName = Literal["identity", "customers", "pool", "visits", "notify"]


class Alive(Answer):
    status: Literal["ok"]


class ServiceReadiness(Answer):
    ready: bool
    latency_ms: float | None = None
    error: str | None = None


class Readiness(Answer):
    ready: bool
    broker: bool
    database: bool = Field(description="the gateway's own database (the Idempotency-Key store) answers a ping")
    services: dict[str, ServiceReadiness]


class ServicePath(Query):
    service: ServiceName


class Health(Open):
    """The service's own health answer."""


async def healthz(_request: Request, _inp: Inputs) -> JSONResponse:
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


async def _database(store: Any, timeout: float) -> bool:
    """The idempotency store's ping, bounded by ``timeout`` without awaiting a cancellation (the
    driver may finish its own server selection first; the abandoned ping ends by itself)."""
    ping = asyncio.ensure_future(store.ping())
    done, _ = await asyncio.wait({ping}, timeout=timeout)
    if not done:
        ping.cancel()
        return False
    return bool(ping.result())


async def readyz(request: Request, _inp: Inputs) -> JSONResponse:
    bridge = request.app.state.bridge
    timeout = request.app.state.settings.ready_timeout
    database, *results = await asyncio.gather(_database(request.app.state.idempotency, timeout),
                                              *(_probe(bridge, s, timeout) for s in SERVICES))
    services = dict(zip(SERVICES, results, strict=True))
    broker = bool(bridge.connected)
    ready = broker and database and all(r["ready"] for r in results)
    return JSONResponse({"ready": ready, "broker": broker, "database": database, "services": services},
                        status_code=200 if ready else 503)


async def service_health(request: Request, inp: Inputs) -> JSONResponse:
    """Calls the service like any API call does: 503 when it is down, 504 on timeout."""
    service = inp.path["service"]
    result = await request.app.state.bridge.call(service, "health", {})
    return JSONResponse(result)


async def metrics(_request: Request, _inp: Inputs) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


_api = Api(tags=["ops"])
routes = [
    _api.handler("GET", "/healthz", healthz, "Liveness: the gateway process is up", response=Alive),
    _api.handler("GET", "/readyz", readyz, "Readiness: the broker, the gateway's database and every service "
                 "answer",
                 response=Readiness, errors={200: "all services answered",
                                             503: ("the broker, the database or some service did not answer",
                                                   Readiness)}),
    _api.handler("GET", "/healthz/{service}", service_health, "One service's health answer, through the RPC bridge",
                 path_model=ServicePath, response=Health,
                 errors={503: "the service is not running or the broker is down",
                         504: "the service did not answer in time"}),
    _api.handler("GET", "/metrics", metrics, "Prometheus metrics", response_content="text/plain"),
]
