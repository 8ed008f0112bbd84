"""The gateway application factory."""
from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from gateway import openapi, ops, web
from gateway.access import LocalAuth
from gateway.auth import AuthMiddleware
from gateway.bridge import RpcBridge
from gateway.errors import exception_handlers
from gateway.feed import AccessFeed
from gateway.idempotency import IdempotencyMiddleware, purge_loop, stop_purge
from gateway.keystore import KeyStore
from gateway.middleware import GatewayMiddleware
from gateway.ratelimit import AttemptLimits
from gateway.settings import Settings

#: modules under ``gateway`` that expose ``routes`` (a list of Starlette routes) for /api/v1.
API_ROUTE_MODULES: tuple[str, ...] = ()


def api_routes() -> list[BaseRoute]:
    from gateway.routes import all_routes

    collected: list[BaseRoute] = all_routes()
    for name in API_ROUTE_MODULES:
        collected.extend(importlib.import_module(name).routes)
    return collected


def create_app(
    settings: Settings | None = None, bridge: Any = None, extra_routes: Sequence[BaseRoute] = (),
    local_auth: bool | None = None,
) -> Starlette:
    """Build the app. Without ``bridge`` it creates an :class:`RpcBridge` that the
    lifespan starts and stops; an injected bridge is the injector's to start and stop.

    ``local_auth`` (default: when the app owns its bridge) runs the revocation feed
    (:mod:`gateway.feed`) so that tokens are checked in the gateway; without it every request
    asks ``identity.authenticate``."""
    settings = settings or Settings.from_env()
    owns_bridge = bridge is None
    rpc = bridge if bridge is not None else RpcBridge(settings.amqp_uri, settings.rpc_timeout)
    keys = KeyStore(settings.mongo_uri, settings.gateway_db, timedelta(hours=settings.idempotency_ttl_hours))
    auth = LocalAuth(settings.context_key) if (owns_bridge if local_auth is None else local_auth) else None
    feed = AccessFeed(settings.amqp_uri, auth, rpc, settings.context_key) if auth is not None else None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if owns_bridge:
            await rpc.start()
        if feed is not None:
            await feed.start()
        await keys.open()
        stop = asyncio.Event()
        purge = asyncio.create_task(purge_loop(keys, stop))
        try:
            yield
        finally:
            await stop_purge(purge, stop)
            await keys.close()
            if feed is not None:
                await feed.stop()
            if owns_bridge:
                await rpc.stop()

    app = Starlette(
        routes=[*ops.routes, *openapi.routes, *api_routes(), *extra_routes, *web.routes(settings=settings)],
        middleware=[
            Middleware(
                GatewayMiddleware,
                max_body_bytes=settings.max_body_bytes,
                upload_max_bytes=settings.upload_max_bytes,
            ),
            Middleware(AuthMiddleware),  # inside: the request id is already set
            Middleware(IdempotencyMiddleware, wait=settings.idempotency_wait_seconds),  # after auth: keys per user
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    from gateway.metrics import init_upstream

    init_upstream(ops.SERVICES)
    app.state.settings = settings
    app.state.attempt_limits = AttemptLimits(settings.login_per_client, settings.login_per_account)
    app.state.bridge = rpc
    app.state.local_auth = auth
    app.state.access_feed = feed
    app.state.idempotency = keys
    return app
