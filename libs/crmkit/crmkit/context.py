"""The call context (tenant, user, roles, request id) and its signature.

The gateway authenticates a caller, builds a :class:`CallContext` and signs it with
the shared ``CRM_CONTEXT_KEY``; the signed string travels in the nameko header
``nameko.crm_context`` (worker ``context_data["crm_context"]``). A service trusts only
a context whose signature verifies and that has not expired, so a message put on the
bus by another AMQP client with a forged tenant or user is refused.

A signed context is **bound to the one call that carries it** (:class:`CallBinding`):
the target service and method, the caller's call id (the last entry of
``nameko.call_id_stack``) and the SHA-256 of the call's canonical arguments
(:func:`call_body`). It lives ``CONTEXT_TTL_SECONDS`` (default 30 s, longer only when the
call's own timeout is longer). A context lifted from the bus is therefore worthless on any
other method, with other arguments, or half a minute later. Whoever makes a call signs
it for that call: the gateway per request and call (:class:`ContextSigner`), a service
for each call it makes to another (``crmkit.nameko.rpc.TimedRpc``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from crmkit.errors import Unauthenticated

HEADER_KEY = "crm_context"  # nameko strips the "nameko." prefix into context_data
HEADER_NAME = f"nameko.{HEADER_KEY}"
DEFAULT_TTL_SECONDS = 30


@dataclass(frozen=True)
class CallContext:
    tenant_id: str
    user_id: str
    roles: tuple[str, ...] = ()
    request_id: str = ""
    idempotency_key: str = ""
    dept_ids: tuple[str, ...] = ()
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # the caller's preferred language (the request's Accept-Language), "" when it gave none
    language: str = ""

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["roles"] = list(self.roles)
        d["dept_ids"] = list(self.dept_ids)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallContext:
        return cls(
            tenant_id=str(d.get("tenant_id", "")),
            user_id=str(d.get("user_id", "")),
            roles=tuple(d.get("roles") or ()),
            request_id=str(d.get("request_id", "")),
            idempotency_key=str(d.get("idempotency_key", "")),
            dept_ids=tuple(d.get("dept_ids") or ()),
            name=str(d.get("name", "")),
            extra=dict(d.get("extra") or {}),
            language=str(d.get("language") or ""),
        )


@dataclass(frozen=True)
class CallBinding:
    """The call a signed context is valid for."""

    service: str
    method: str
    call_id: str  # the caller's own call id: the last entry of the call's nameko.call_id_stack
    digest: str   # sha256 hex of call_body(args, kwargs)

    def to_dict(self) -> dict[str, str]:
        return {"service": self.service, "method": self.method, "call_id": self.call_id, "digest": self.digest}


def call_body(args: Any, kwargs: Any) -> bytes:
    """The canonical bytes of a call's arguments: what the gateway sends as the request body
    and what a service re-creates from the arguments it received."""
    return json.dumps({"args": list(args or ()), "kwargs": kwargs or {}}, separators=(",", ":"),
                      ensure_ascii=False, default=str).encode()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def binding_for(service: str, method: str, call_id: str, args: Any, kwargs: Any) -> CallBinding:
    return CallBinding(service, method, call_id or "", digest(call_body(args, kwargs)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(ctx: CallContext, key: str | bytes, ttl: float = DEFAULT_TTL_SECONDS, now: float | None = None,
         call: CallBinding | None = None) -> str:
    """Serialise and sign a context: ``<b64 json>.<b64 hmac-sha256>``, bound to ``call``."""
    k = key.encode() if isinstance(key, str) else key
    payload = ctx.to_dict()
    payload["exp"] = int((now if now is not None else time.time()) + math.ceil(ttl))
    if call is not None:
        payload["call"] = call.to_dict()
    body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    mac = hmac.new(k, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(token: str | None, key: str | bytes, now: float | None = None,
           call: CallBinding | None = None) -> CallContext:
    """Return the context a signed string carries, or raise :class:`Unauthenticated`.

    With ``call`` (services always pass the call being served) the context must have been
    signed for exactly that call; without it only signature and expiry are checked (tools
    and test stand-ins)."""
    if not token or not isinstance(token, str) or "." not in token:
        raise Unauthenticated("context.missing", "call context missing")
    k = key.encode() if isinstance(key, str) else key
    body, _, mac = token.partition(".")
    expected = hmac.new(k, body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
    except Exception:
        raise Unauthenticated("context.bad_signature", "call context signature invalid") from None
    if not hmac.compare_digest(expected, given):
        raise Unauthenticated("context.bad_signature", "call context signature invalid")
    try:
        payload = json.loads(_unb64(body))
    except Exception:
        raise Unauthenticated("context.malformed", "call context malformed") from None
    if not isinstance(payload, dict):
        raise Unauthenticated("context.malformed", "call context malformed")
    if int(payload.get("exp", 0)) < (now if now is not None else time.time()):
        raise Unauthenticated("context.expired", "call context expired")
    if call is not None:
        bound = payload.get("call")
        if not isinstance(bound, dict):
            raise Unauthenticated("context.unbound", "call context is not bound to a call")
        if not hmac.compare_digest(json.dumps(bound, sort_keys=True), json.dumps(call.to_dict(), sort_keys=True)):
            raise Unauthenticated("context.wrong_call", "call context was signed for another call")
    payload.pop("call", None)
    return CallContext.from_dict(payload)


@dataclass(frozen=True)
class ContextSigner:
    """A verified caller, signed afresh for each call made on its behalf (the gateway hands
    one per request to its RPC bridge, which knows each call's id and arguments)."""

    ctx: CallContext
    key: str
    ttl: float = DEFAULT_TTL_SECONDS

    def for_call(self, call: CallBinding, timeout: float = 0.0) -> str:
        # a call waits in its queue for at most its timeout: the context must outlive that
        return sign(self.ctx, self.key, ttl=max(self.ttl, timeout), call=call)


def system_context(tenant_id: str = "", request_id: str = "", actor: str = "system",
                   language: str = "") -> CallContext:
    """Context for work a service starts by itself (timers, sweeps, event handlers)."""
    return CallContext(tenant_id=tenant_id, user_id=actor, roles=("system",), request_id=request_id,
                       language=language)
