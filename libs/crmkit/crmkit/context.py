"""The call context (tenant, user, roles, request id) and its signature.

The gateway authenticates a caller, builds a :class:`CallContext` and signs it with
the shared ``CRM_CONTEXT_KEY``; the signed string travels in the nameko header
``nameko.crm_context`` (worker ``context_data["crm_context"]``). A service trusts only
a context whose signature verifies and that has not expired, so a message put on the
bus by another AMQP client with a forged tenant or user is refused.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from crmkit.errors import Unauthenticated

HEADER_KEY = "crm_context"  # nameko strips the "nameko." prefix into context_data
DEFAULT_TTL_SECONDS = 300


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
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(ctx: CallContext, key: str | bytes, ttl: int = DEFAULT_TTL_SECONDS, now: float | None = None) -> str:
    """Serialise and sign a context: ``<b64 json>.<b64 hmac-sha256>``."""
    k = key.encode() if isinstance(key, str) else key
    payload = ctx.to_dict()
    payload["exp"] = int((now if now is not None else time.time()) + ttl)
    body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    mac = hmac.new(k, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(token: str | None, key: str | bytes, now: float | None = None) -> CallContext:
    """Return the context a signed string carries, or raise :class:`Unauthenticated`."""
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
    if int(payload.get("exp", 0)) < (now if now is not None else time.time()):
        raise Unauthenticated("context.expired", "call context expired")
    return CallContext.from_dict(payload)


def system_context(tenant_id: str = "", request_id: str = "", actor: str = "system") -> CallContext:
    """Context for work a service starts by itself (timers, sweeps, event handlers)."""
    return CallContext(tenant_id=tenant_id, user_id=actor, roles=("system",), request_id=request_id)
