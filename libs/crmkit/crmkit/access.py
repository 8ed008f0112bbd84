"""Access tokens and the access-change event: what identity issues and emits, and what the
gateway verifies and consumes, declared once for both sides (issue 16).

**The access token** is a compact JWS (JWT, HS256). Identity signs it with
:func:`access_key`, a key derived from ``CRM_CONTEXT_KEY`` (HMAC-SHA256 of a fixed label):
whoever holds that key may already sign a call context for any user, so holding the access
key gives nobody more power than they have, and the gateway verifies tokens without
``JWT_SECRET`` (which stays identity's only, for the long-lived device tokens). Claims:

=========  ==============================================================
``iss``    ``crm-identity``
``typ``    ``access``
``tid``    tenant id
``sub``    employee id
``roles``  the employee's roles
``dept``   the employee's department ids
``name``   the employee's name
``tv``     token version: logout, disable, delete and leave bump it
``av``     access version: bumped by every change of what the token carries (roles,
           departments, name) or of the right to hold one (tv, membership, disabled)
``iat``    issued at, ``exp`` expires at (seconds), ``jti`` a unique id
=========  ==============================================================

**The event** ``employee.access_changed`` (source ``identity``, :class:`AccessChange`) says,
for one employee, the state every token must be checked against from now on: tokens with a
lower ``tv`` are revoked; a token with an ``av`` not above the event's is judged by the
event (``active``, ``roles``, ``dept_ids``, ``name``); ``until`` is when the entry may be
forgotten (no token issued before the change outlives it)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from crmkit.errors import InvalidInput, Unauthenticated

ISSUER = "crm-identity"
ACCESS = "access"
ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 4096
_KEY_LABEL = b"crm access token v1"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")

EVENT_TYPE = "employee.access_changed"
EVENT_VERSION = 1
#: why an employee's access changed (the event's ``reason``)
REASONS = ("logout", "disabled", "enabled", "deleted", "left", "joined", "updated")


def access_key(context_key: str) -> str:
    """The HS256 key of access tokens, derived from ``CRM_CONTEXT_KEY`` (domain-separated:
    a call context and an access token can never stand for one another)."""
    return hmac.new(context_key.encode(), _KEY_LABEL, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says. ``av`` is None for a token issued before access
    versions existed (it carries no departments or name either): the gateway asks identity."""

    tenant_id: str
    user_id: str
    roles: tuple[str, ...]
    dept_ids: tuple[str, ...]
    name: str
    tv: int
    av: int | None
    issued_at: int
    expires_at: int


def _unb64(segment: str) -> bytes:
    if not _SEGMENT.match(segment):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("a list of strings")
    return tuple(value)


def _invalid() -> Unauthenticated:
    return Unauthenticated("token.invalid", "token invalid")


def verify_access_token(token: Any, key: str, now: float) -> AccessClaims:
    """The claims of a valid access token, else :class:`Unauthenticated` with identity's
    codes: ``token.invalid`` (malformed, bad signature, another algorithm, claims missing),
    ``token.wrong_type`` (a device token), ``token.expired`` (``exp`` ≤ ``now``)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated("token.invalid", "token missing or malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise _invalid()
    head, body, sig = parts
    try:
        header = json.loads(_unb64(head))
        given = _unb64(sig)
    except (ValueError, binascii.Error):
        raise _invalid() from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM or "crit" in header:
        raise _invalid()
    expected = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise _invalid()
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise _invalid() from None
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        raise _invalid()
    try:
        tenant_id, user_id, typ = claims["tid"], claims["sub"], claims["typ"]
        tv, iat, exp = claims["tv"], claims["iat"], claims["exp"]
        if not all(isinstance(v, str) for v in (tenant_id, user_id, typ)):
            raise ValueError("ids")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (tv, iat, exp)):
            raise ValueError("numbers")
        roles = _strings(claims.get("roles", []))
        av = claims.get("av")
        if av is not None and (not isinstance(av, int) or isinstance(av, bool)):
            raise ValueError("av")
        dept_ids = _strings(claims.get("dept", []))
        name = claims.get("name", "")
        if not isinstance(name, str):
            raise ValueError("name")
    except (KeyError, ValueError):
        raise _invalid() from None
    if typ != ACCESS:
        raise Unauthenticated("token.wrong_type", f"a {ACCESS} token is required")
    if exp <= int(now):
        raise Unauthenticated("token.expired", "token expired")
    return AccessClaims(tenant_id, user_id, roles, dept_ids, name, tv, av, iat, exp)


@dataclass(frozen=True)
class AccessChange:
    """The payload of ``employee.access_changed`` (and one entry of ``identity.revocations``)."""

    employee_id: str
    tenant_id: str
    tv: int  # tokens with a lower token version are revoked
    av: int  # orders the changes of one employee
    roles: tuple[str, ...]
    dept_ids: tuple[str, ...]
    name: str
    active: bool  # joined and not disabled: may hold a token at all
    reason: str  # one of REASONS ("snapshot" in a revocations answer)
    until: str  # ISO-8601: forget the entry after this instant

    def to_data(self) -> dict[str, Any]:
        return {"employee_id": self.employee_id, "tenant_id": self.tenant_id, "tv": self.tv, "av": self.av,
                "roles": list(self.roles), "dept_ids": list(self.dept_ids), "name": self.name,
                "active": self.active, "reason": self.reason, "until": self.until}

    @classmethod
    def from_data(cls, data: Any) -> AccessChange:
        """Validate a received payload (``400 access_change.malformed`` when it is not one)."""
        try:
            if not isinstance(data, dict):
                raise ValueError("not an object")
            employee_id, tenant_id, name, reason, until = (data["employee_id"], data["tenant_id"], data["name"],
                                                          data["reason"], data["until"])
            if not all(isinstance(v, str) for v in (employee_id, tenant_id, name, reason, until)):
                raise ValueError("strings")
            tv, av, active = data["tv"], data["av"], data["active"]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (tv, av)):
                raise ValueError("numbers")
            if not isinstance(active, bool):
                raise ValueError("active")
            return cls(employee_id, tenant_id, tv, av, _strings(data["roles"]), _strings(data["dept_ids"]),
                       name, active, reason, until)
        except (KeyError, ValueError):
            raise InvalidInput("access_change.malformed", "not an employee.access_changed payload") from None
