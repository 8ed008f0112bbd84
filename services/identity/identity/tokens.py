"""Signed tokens (JWT, HS256, ``JWT_SECRET``).

* access token: short-lived (``ACCESS_TOKEN_MINUTES``, default 15), claims ``tid``
  (tenant), ``sub`` (employee), ``roles``, ``tv`` (token version);
* device token: long-lived (``DEVICE_TOKEN_DAYS``, default 90), issued only when the user
  binds the device; it refreshes access tokens. It carries ``fam``, the id of the login it
  descends from: every refresh rotates it (a new device token, the old one used up), and a
  used-up token presented again revokes the whole family (see ``access.refresh``).

Every token carries the employee's token version ``tv``. Logout, disable, delete and
leave bump the version, so every older token fails at once: ``authenticate`` compares
``tv`` with the database on every call.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from crmkit.config import secret
from crmkit.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "crm-identity"
ACCESS, DEVICE = "access", "device"


@dataclass(frozen=True)
class TokenSettings:
    secret: str
    access_ttl: timedelta
    device_ttl: timedelta

    @classmethod
    def from_env(cls) -> TokenSettings:
        return cls(
            secret=secret("JWT_SECRET"),  # no default: fail fast
            access_ttl=timedelta(minutes=float(os.environ.get("ACCESS_TOKEN_MINUTES") or 15)),
            device_ttl=timedelta(days=float(os.environ.get("DEVICE_TOKEN_DAYS") or 90)),
        )


def issue(settings: TokenSettings, kind: str, *, tenant_id: str, user_id: str, roles: list[str], tv: int,
          now: datetime, family: str | None = None) -> tuple[str, int]:
    ttl = settings.access_ttl if kind == ACCESS else settings.device_ttl
    claims: dict[str, Any] = {
        "iss": ISSUER, "typ": kind, "tid": tenant_id, "sub": user_id, "roles": list(roles), "tv": int(tv),
        "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp()), "jti": uuid.uuid4().hex,
    }
    if kind == DEVICE:
        claims["fam"] = family or uuid.uuid4().hex
    return jwt.encode(claims, settings.secret, algorithm=ALGORITHM), int(ttl.total_seconds())


def family_of(claims: dict[str, Any]) -> str:
    """The login a device token descends from (a token from before rotation is its own)."""
    return str(claims.get("fam") or claims.get("jti") or "")


def decode(settings: TokenSettings, token: Any, kind: str, now: datetime) -> dict[str, Any]:
    """The claims of a valid token of ``kind``, else :class:`Unauthenticated`."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise Unauthenticated("token.invalid", "token missing or malformed")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "tid", "tv", "typ"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        raise Unauthenticated("token.invalid", "token invalid") from None
    if claims.get("typ") != kind:
        raise Unauthenticated("token.wrong_type", f"a {kind} token is required")
    if int(claims["exp"]) <= int(now.timestamp()):  # the service clock (tests may move it)
        raise Unauthenticated("token.expired", "token expired")
    return claims
