"""Gateway settings, read from the environment.

Secrets have no defaults: the gateway refuses to start without ``CRM_CONTEXT_KEY`` (signs
every call context), ``OPERATOR_SECRET`` (guards ``/api/v1/operator/...``) and ``AMQP_URI``
(carries the broker password), and with a key shorter than :data:`MIN_SECRET_BYTES`. It
verifies access tokens itself with a key derived from ``CRM_CONTEXT_KEY``
(:func:`crmkit.access.access_key`, decision 0007), so it needs no ``JWT_SECRET`` (identity's
alone, for device tokens)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


MIN_SECRET_BYTES = 32  # the kit's rule too (crmkit.config.MIN_SECRET_BYTES)


@dataclass(frozen=True)
class Settings:
    context_key: str
    amqp_uri: str = ""  # required from the environment (from_env); no guest default
    operator_secret: str = ""
    # seconds a signed call context lives (a call's own timeout may extend it)
    context_ttl: int = 30
    host: str = "127.0.0.1"
    port: int = 8000
    rpc_timeout: float = 10.0
    ready_timeout: float = 2.0
    max_body_bytes: int = 1024 * 1024
    upload_max_bytes: int = 25 * 1024 * 1024
    # attempts per minute at login / invitation acceptance / token refresh (0 = no limit)
    login_per_client: int = 60
    login_per_account: int = 10
    # proxies in front of the gateway that append to X-Forwarded-For (an ingress: 1); the
    # client address is the entry the outermost trusted proxy added. 0: the socket peer.
    trusted_proxy_hops: int = 0
    # the gateway's own database (<MONGO_DB_PREFIX>gateway): Idempotency-Key claims and kept answers
    mongo_uri: str = "mongodb://127.0.0.1:27017/"
    mongo_db_prefix: str = "crm_"
    idempotency_ttl_hours: float = 24.0
    idempotency_wait_seconds: float = 60.0
    # the map tiles of the console's maps (Leaflet URL template, e.g.
    # https://{s}.tile.example.com/{z}/{x}/{y}.png); empty: maps without a base layer
    map_tile_url: str = ""
    map_tile_attribution: str = ""

    @property
    def gateway_db(self) -> str:
        return f"{self.mongo_db_prefix}gateway"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def secret(name: str, why: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"{name} is not set: {why}")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{name} is too short ({len(value.encode())} bytes; at least {MIN_SECRET_BYTES}): "
                                  f"{why}")
            return value

        key = secret("CRM_CONTEXT_KEY", "the gateway signs every call context with it and the services verify "
                     "it; set the same secret for the gateway and all services")
        operator_secret = secret("OPERATOR_SECRET", "it guards the operator routes (/api/v1/operator/...); set "
                                 "the same secret as identity's")
        amqp_uri = env.get("AMQP_URI", "").strip()
        if not amqp_uri:
            raise ConfigError("AMQP_URI is not set: amqp://<user>:<password>@<host>:5672/<vhost> of the broker "
                              "(the project never uses RabbitMQ's guest account)")

        def num(name: str, default: float, kind: type = float) -> float:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                value: float = kind(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {raw!r}")
            return value

        def limit(name: str, default: int) -> int:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise ConfigError(f"{name} must be a whole number of attempts per minute (0 = no limit), "
                                  f"got {raw!r}")
            return int(raw)

        tile_url = (env.get("MAP_TILE_URL") or "").strip()
        if tile_url and (not re.match(r"^https?://[^/\s]+/\S*$", tile_url)
                         or not all(p in tile_url for p in ("{z}", "{x}", "{y}"))):
            raise ConfigError("MAP_TILE_URL must be an http(s) URL template with {z}, {x} and {y}, "
                              f"got {tile_url!r}")

        return cls(
            context_key=key,
            amqp_uri=amqp_uri,
            operator_secret=operator_secret,
            context_ttl=int(num("CONTEXT_TTL_SECONDS", cls.context_ttl, int)),
            host=env.get("GATEWAY_HOST") or cls.host,
            port=int(num("GATEWAY_PORT", cls.port, int)),
            rpc_timeout=num("RPC_TIMEOUT", cls.rpc_timeout),
            ready_timeout=num("READY_TIMEOUT", cls.ready_timeout),
            max_body_bytes=int(num("MAX_BODY_BYTES", cls.max_body_bytes, int)),
            upload_max_bytes=int(num("UPLOAD_MAX_BYTES", cls.upload_max_bytes, int)),
            login_per_client=limit("LOGIN_ATTEMPTS_PER_CLIENT", cls.login_per_client),
            login_per_account=limit("LOGIN_ATTEMPTS_PER_ACCOUNT", cls.login_per_account),
            trusted_proxy_hops=limit("TRUSTED_PROXY_HOPS", cls.trusted_proxy_hops),
            mongo_uri=env.get("MONGO_URI") or cls.mongo_uri,
            mongo_db_prefix=env.get("MONGO_DB_PREFIX", cls.mongo_db_prefix),
            idempotency_ttl_hours=num("IDEMPOTENCY_TTL_HOURS", cls.idempotency_ttl_hours),
            idempotency_wait_seconds=num("IDEMPOTENCY_WAIT_SECONDS", cls.idempotency_wait_seconds),
            map_tile_url=tile_url,
            map_tile_attribution=(env.get("MAP_TILE_ATTRIBUTION") or "").strip()[:300],
        )
