"""The browser session: the long-lived device token in a cookie, and CSRF protection.

The web app (``web/``) never sees the device token ("bind this device", 现在绑定): it asks
for cookie mode with the header ``X-CRM-Session: cookie`` on ``POST /api/v1/auth/login``;
the gateway then moves the token out of the answer into a cookie

    crm_device=<token>; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=<token lifetime>

and ``POST /api/v1/auth/refresh`` without a ``device_token`` in its body reads the cookie.
The cookie is sent only to ``/api/v1/auth/*`` (refresh and logout), so it authenticates
nothing else; every other call carries the short-lived access token, which the app keeps in
memory and which a cross-site page cannot send. Logout, a refused refresh and a plain login
(普通登录) clear the cookie.

CSRF (decision 0006): a cookie-authenticated call (a refresh from the cookie) and a login
that asks for the cookie must carry ``X-CRM-Session: cookie`` — a custom header that a
cross-site form cannot send and a cross-site script cannot add without a CORS preflight,
which the gateway never grants — and, when the browser sends ``Origin`` (it does on every
POST), that origin must be the gateway's own (``Host``; behind an Ingress
``X-Forwarded-Proto``/``X-Forwarded-Host`` when ``TRUSTED_PROXY_HOPS`` > 0). SameSite=Strict
already keeps the cookie off cross-site requests; the header and Origin checks also refuse
same-site but cross-origin callers. Scripts that send ``device_token`` in the body are
unchanged.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmkit.errors import CrmError, Forbidden
from gateway.errors import error_response, status_for

COOKIE_NAME = "crm_device"
COOKIE_PATH = "/api/v1/auth"
SESSION_HEADER = "x-crm-session"
COOKIE_MODE = "cookie"


def wants_cookie(request: Request) -> bool:
    """The caller (the web app) asks for the device token in a cookie."""
    return request.headers.get(SESSION_HEADER, "").strip().lower() == COOKIE_MODE


def own_origin(request: Request) -> str:
    """``scheme://host[:port]`` of the gateway as the browser addressed it."""
    settings = getattr(request.app.state, "settings", None)
    behind_proxy = getattr(settings, "trusted_proxy_hops", 0) > 0
    scheme = request.url.scheme
    host = request.headers.get("host", "")
    if behind_proxy:
        scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip() or scheme
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip() or host
    return f"{scheme}://{host}".lower()


def check_csrf(request: Request) -> None:
    """Refuse a cookie-mode call without the session header or from another origin (403)."""
    if not wants_cookie(request):
        raise Forbidden("csrf.header_missing", "cookie sessions need the header X-CRM-Session: cookie",
                        {"header": "X-CRM-Session"})
    origin = request.headers.get("origin")
    if origin is not None and origin.strip().lower().rstrip("/") != own_origin(request):
        raise Forbidden("csrf.origin_mismatch", "the request comes from another origin",
                        {"origin": origin[:200]})


def cookie_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE_NAME, "").strip()
    return token or None


def set_device_cookie(response: Response, token: str, max_age: int | None) -> None:
    response.set_cookie(COOKIE_NAME, token, max_age=max_age, path=COOKIE_PATH, secure=True, httponly=True,
                        samesite="strict")


def clear_device_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")


def check_login(request: Request) -> None:
    """A login that asks for the cookie passes the CSRF check first (login CSRF)."""
    if wants_cookie(request):
        check_csrf(request)


def login_response(request: Request, result: dict[str, Any]) -> Response:
    """In cookie mode the device token goes into the cookie and leaves the answer (which says
    ``device_bound``); a plain login (no device token issued) clears an older cookie. Other
    callers get the answer unchanged."""
    if not wants_cookie(request):
        return JSONResponse(result)
    body = dict(result)
    token = body.pop("device_token", None)
    body["device_bound"] = bool(token)
    response = JSONResponse(body)
    if token:
        expires = body.get("device_token_expires_in")
        set_device_cookie(response, str(token), int(expires) if isinstance(expires, int | float) else None)
    else:
        clear_device_cookie(response)
    return response


def refresh_token(request: Request, data: dict[str, Any]) -> tuple[Any, bool]:
    """The device token of a refresh: the body's, or (after the CSRF check) the cookie's.
    Returns ``(token, from_cookie)``; ``token`` is None when there is neither."""
    if data.get("device_token") is not None:
        return data["device_token"], False
    token = cookie_token(request)
    if token is None:
        return None, False
    check_csrf(request)
    return token, True


async def refresh_response(answer: Awaitable[Any], from_cookie: bool) -> Response:
    """The refresh's answer; a cookie that identity refuses (expired, revoked) is cleared.

    A refresh rotates the device token (identity uses the old one up and answers a new one;
    a used-up token presented again revokes the whole family). From the cookie, the new token
    goes into the cookie and leaves the answer, exactly as at login, so the browser never
    sees it and the next refresh presents the new one."""
    try:
        result = await answer
    except CrmError as exc:
        if not from_cookie or status_for(exc) != 401:
            raise
        response = error_response(401, exc.code, exc.message, exc.details)
        clear_device_cookie(response)
        return response
    if not from_cookie or not isinstance(result, dict):
        return JSONResponse(result)
    body = dict(result)
    token = body.pop("device_token", None)
    body["device_bound"] = True
    response = JSONResponse(body)
    if token:
        expires = body.get("device_token_expires_in")
        set_device_cookie(response, str(token), int(expires) if isinstance(expires, int | float) else None)
    return response


def clearing_cookie(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Logout: the endpoint's answer also clears the device cookie."""

    async def wrapped(request: Request) -> Response:
        response = await endpoint(request)
        clear_device_cookie(response)
        return response

    wrapped.__name__ = getattr(endpoint, "__name__", "logout")
    return wrapped
