"""Signed tokens (JWT, HS256).

* access token: short-lived (``ACCESS_TOKEN_MINUTES``, default 15), signed with the access
  key derived from ``CRM_CONTEXT_KEY`` (:func:`crmkit.access.access_key`) so that the gateway
  verifies it itself; claims ``tid`` (tenant), ``sub`` (employee), ``roles``, ``dept``,
  ``name``, ``tv`` (token version), ``av`` (access version) — see :mod:`crmkit.access`;
* device token: long-lived (``DEVICE_TOKEN_DAYS``, default 90), signed with ``JWT_SECRET``
  (identity's alone), issued only when the user binds the device; it refreshes access tokens.
  It carries ``fam``, the id of the login it descends from: every refresh rotates it (a new
  device token, the old one used up), and a used-up token presented again revokes the whole
  family (see ``access.refresh``).

Every token carries the employee's token version ``tv``. Logout, disable, delete and
leave bump the version, so every older token fails at once: ``refresh`` and
``authenticate`` compare ``tv`` with the database, and the gateway learns the new version
from ``employee.access_changed`` (identity/sessions.py).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from crmkit import access as shared
from crmkit.config import context_key, secret
from crmkit.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = shared.ISSUER
ACCESS, DEVICE = shared.ACCESS, "device"


def access_ttl() -> timedelta:
    """The access-token lifetime (``ACCESS_TOKEN_MINUTES``): also how long a revocation must be remembered."""
    return timedelta(minutes=float(os.environ.get("ACCESS_TOKEN_MINUTES") or 15))


@dataclass(frozen=True)
class TokenSettings:
    secret: str  # JWT_SECRET: device tokens
    access_ttl: timedelta
    device_ttl: timedelta
    access_secret: str = ""  # the access key (crmkit.access.access_key); empty: ``secret`` signs both kinds

    @classmethod
    def from_env(cls) -> TokenSettings:
        return cls(
            secret=secret("JWT_SECRET"),  # no default: fail fast
            access_ttl=access_ttl(),
            device_ttl=timedelta(days=float(os.environ.get("DEVICE_TOKEN_DAYS") or 90)),
            access_secret=shared.access_key(context_key()),
        )

    def key(self, kind: str) -> str:
        return (self.access_secret or self.secret) if kind == ACCESS else self.secret


def issue(settings: TokenSettings, kind: str, *, tenant_id: str, user_id: str, roles: list[str], tv: int,
          now: datetime, family: str | None = None, dept_ids: list[str] | None = None, name: str = "",
          av: int = 0) -> tuple[str, int]:
    ttl = settings.access_ttl if kind == ACCESS else settings.device_ttl
    claims: dict[str, Any] = {
        "iss": ISSUER, "typ": kind, "tid": tenant_id, "sub": user_id, "roles": list(roles), "tv": int(tv),
        "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp()), "jti": uuid.uuid4().hex,
    }
    if kind == ACCESS:  # what the gateway puts in the call context, without asking identity
        claims.update({"dept": list(dept_ids or []), "name": name, "av": int(av)})
    if kind == DEVICE:
        claims["fam"] = family or uuid.uuid4().hex
    return jwt.encode(claims, settings.key(kind), algorithm=ALGORITHM), int(ttl.total_seconds())


def family_of(claims: dict[str, Any]) -> str:
    """The login a device token descends from (a token from before rotation is its own)."""
    return str(claims.get("fam") or claims.get("jti") or "")


def decode(settings: TokenSettings, token: Any, kind: str, now: datetime) -> dict[str, Any]:
    """The claims of a valid token of ``kind``, else :class:`Unauthenticated`."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise Unauthenticated("token.invalid", "token missing or malformed")
    # the other kind's key too: a token of the other kind is ``token.wrong_type``, not invalid
    keys = dict.fromkeys((settings.key(kind), settings.key(DEVICE if kind == ACCESS else ACCESS)))
    claims: dict[str, Any] | None = None
    for key in keys:
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "tid", "tv", "typ"], "verify_exp": False},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidTokenError:
            raise Unauthenticated("token.invalid", "token invalid") from None
    if claims is None:
        raise Unauthenticated("token.invalid", "token invalid")
    if claims.get("typ") != kind:
        raise Unauthenticated("token.wrong_type", f"a {kind} token is required")
    if int(claims["exp"]) <= int(now.timestamp()):  # the service clock (tests may move it)
        raise Unauthenticated("token.expired", "token expired")
    return claims
