"""Authentication: every ``/api/v1`` request but the public ones carries a Bearer access
token; the gateway checks it itself — signature, expiry and its revocation set fed by
identity's events (:mod:`gateway.access`, :mod:`gateway.feed`) — and passes the caller on as
a signed :class:`~crmkit.context.CallContext` that the services verify. Until the revocation
set is loaded (and for a token from before access versions) identity says whose the token
is (``identity.authenticate``), as it did for every request before issue 16.

Pure ASGI (no ``BaseHTTPMiddleware``) so uploads and downloads stream through. Install it
inside :class:`gateway.middleware.GatewayMiddleware` (which sets the request id)::

    middleware=[Middleware(GatewayMiddleware, ...), Middleware(AuthMiddleware)]

Sets ``request.state.context`` (the :class:`CallContext`) and ``request.state.context_header``
(a :class:`~crmkit.context.ContextSigner`: the bridge signs the context afresh for each call,
bound to that call's service, method, call id and arguments). Operator routes
(``/api/v1/operator/...``) take the ``X-Operator-Secret`` header instead of a token; without a
configured ``OPERATOR_SECRET`` they are closed (the gateway refuses to start without one).
"""
from __future__ import annotations

import hmac
import re
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from crmkit.context import CallContext, ContextSigner
from crmkit.errors import CrmError
from gateway.access import Who
from gateway.errors import error_response, status_for
from gateway.metrics import AUTHENTICATIONS

API_PREFIX = "/api/v1/"
OPERATOR_PREFIX = "/api/v1/operator/"
OPERATOR_HEADER = "x-operator-secret"
IDEMPOTENCY_HEADER = "idempotency-key"
AUTH_TIMEOUT = 5.0

#: (method or None for any, path pattern) that need no token
PUBLIC: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/api/v1/auth/login/?$")),
    (None, re.compile(r"^/api/v1/auth/refresh/?$")),
    ("POST", re.compile(r"^/api/v1/invitations/[^/]+/accept/?$")),
    (None, re.compile(r"^/api/v1/openapi\.json$")),
)


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def preferred_language(header: str | None) -> str:
    """The caller's first choice in an ``Accept-Language`` header (highest q, then order),
    "" when it names none. Carried in the call context and the events it causes, so a
    notification can fall back to it when the recipient chose no language."""
    best, best_q = "", 0.0
    for part in (header or "")[:500].split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag != "*" and _LANGUAGE_TAG.match(tag) and q > best_q:
            best, best_q = tag, q
    return best


def is_public(method: str, path: str) -> bool:
    return any((m is None or m == method) and p.match(path) for m, p in PUBLIC)


def bearer_token(headers: Headers) -> str | None:
    raw = headers.get("authorization", "")
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def operator_secret_ok(given: str, expected: str | None) -> bool:
    """Only the configured secret opens the operator routes; with none configured, nothing does."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class AuthMiddleware:
    def __init__(self, app: ASGIApp, operator_secret: str | None = None) -> None:
        self.app = app
        self.operator_secret = operator_secret  # default: the settings' (read per request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        if not path.startswith(API_PREFIX) or method == "OPTIONS" or is_public(method, path):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if path.startswith(OPERATOR_PREFIX):
            expected = self.operator_secret
            if expected is None:
                settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
                expected = getattr(settings, "operator_secret", "")
            if not operator_secret_ok(headers.get(OPERATOR_HEADER, ""), expected):
                await error_response(401, "operator.unauthenticated", "X-Operator-Secret missing or wrong")(
                    scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        token = bearer_token(headers)
        if token is None:
            await error_response(401, "auth.missing_token", "Authorization: Bearer <access token> required",
                                 headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        app = scope.get("app")
        try:
            who = await identify(app, token)
        except CrmError as exc:
            status = status_for(exc)
            extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            await error_response(status, exc.code, exc.message, exc.details, headers=extra)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        ctx = CallContext(
            tenant_id=who.tenant_id,
            user_id=who.user_id,
            roles=who.roles,
            request_id=str(state.get("request_id") or ""),
            idempotency_key=(headers.get(IDEMPOTENCY_HEADER) or "").strip()[:200],
            dept_ids=who.dept_ids,
            name=who.name,
            language=preferred_language(headers.get("accept-language")),
        )
        state["context"] = ctx
        settings = app.state.settings  # type: ignore[union-attr]
        state["context_header"] = ContextSigner(ctx, settings.context_key, settings.context_ttl)
        await self.app(scope, receive, send)


async def identify(app: Any, token: str) -> Who:
    """The caller a bearer token stands for: from the gateway's own check when its revocation
    set is loaded, else from ``identity.authenticate``. Raises the 401 (or the 503/504 of an
    identity that cannot answer) as a :class:`CrmError`."""
    local = getattr(app.state, "local_auth", None)
    who: Who | None = local.who(token, time.time()) if local is not None else None
    if who is not None:
        AUTHENTICATIONS.labels("local").inc()
        return who
    AUTHENTICATIONS.labels("identity").inc()
    answer: dict[str, Any] = await app.state.bridge.call("identity", "authenticate", {"token": token},
                                                         timeout=AUTH_TIMEOUT)
    return Who(tenant_id=str(answer["tenant_id"]), user_id=str(answer["user_id"]),
               roles=tuple(answer.get("roles") or ()), dept_ids=tuple(answer.get("dept_ids") or ()),
               name=str(answer.get("name") or ""))
