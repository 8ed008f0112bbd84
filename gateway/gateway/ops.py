"""Operations endpoints: liveness, readiness and metrics.

Readiness answers from the gateway's own dependencies only — the broker connection with the
bridge's reply consumer, and the gateway's own database (the Idempotency-Key store) — so one
sick service never takes the whole API out of rotation (its own calls answer 503/504).
``/readyz?verbose`` adds, for operators and start-up scripts, which services answer their
``health`` RPC in time; the probe never asks for it."""
from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BeforeValidator, Field
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
    ready: bool = Field(description="the broker and the gateway's own database are up (services are not asked)")
    broker: bool = Field(description="the broker connection, its channel and the bridge's reply consumer are up")
    database: bool = Field(description="the gateway's own database (the Idempotency-Key store) answers a ping")
    services: dict[str, ServiceReadiness] | None = Field(
        None, description="verbose only: each service's `health` RPC, bounded by READY_TIMEOUT")
    services_ready: bool | None = Field(None, description="verbose only: every service answered")


def _flag(value: Any) -> Any:
    """``?verbose`` without a value means true."""
    return True if value == "" else value


class ReadinessQuery(Query):
    verbose: Annotated[bool, BeforeValidator(_flag)] = Field(
        False, description="also ask every service (`?verbose`, `?verbose=1`); for operators, not for probes")


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


async def readyz(request: Request, inp: Inputs) -> JSONResponse:
    bridge = request.app.state.bridge
    timeout = request.app.state.settings.ready_timeout
    verbose = isinstance(inp.query_model, ReadinessQuery) and inp.query_model.verbose
    probes = [_probe(bridge, s, timeout) for s in SERVICES] if verbose else []
    database, *results = await asyncio.gather(_database(request.app.state.idempotency, timeout), *probes)
    broker = bool(bridge.connected)
    ready = broker and database
    body: dict[str, Any] = {"ready": ready, "broker": broker, "database": database}
    if verbose:
        body["services"] = dict(zip(SERVICES, results, strict=True))
        body["services_ready"] = all(r["ready"] for r in results)
    return JSONResponse(body, status_code=200 if ready else 503)


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
    _api.handler("GET", "/readyz", readyz, "Readiness: the broker, the bridge and the gateway's database",
                 description="The services are not asked (one sick service must not take the API out of "
                             "rotation); `?verbose` adds each service's `health` answer for operators, with the "
                             "same status code.",
                 query=ReadinessQuery, response=Readiness,
                 errors={200: "the broker connection, the reply consumer and the database are up",
                         503: ("the broker, the bridge's reply consumer or the database is down", Readiness)}),
    _api.handler("GET", "/healthz/{service}", service_health, "One service's health answer, through the RPC bridge",
                 path_model=ServicePath, response=Health,
                 errors={503: "the service is not running or the broker is down",
                         504: "the service did not answer in time"}),
    _api.handler("GET", "/metrics", metrics, "Prometheus metrics", response_content="text/plain"),
]
