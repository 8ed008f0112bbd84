"""Gateway settings, read from the environment."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    context_key: str
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
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
    # the map tiles of the console's maps (Leaflet URL template, e.g.
    # https://{s}.tile.example.com/{z}/{x}/{y}.png); empty: maps without a base layer
    map_tile_url: str = ""
    map_tile_attribution: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key = env.get("CRM_CONTEXT_KEY", "").strip()
        if not key:
            raise ConfigError(
                "CRM_CONTEXT_KEY is not set: the gateway signs every call context with it and the "
                "services verify it; set the same secret for the gateway and all services"
            )

        def num(name: str, default: float, kind: type = float) -> float:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                value = kind(raw)
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
            amqp_uri=env.get("AMQP_URI") or cls.amqp_uri,
            host=env.get("GATEWAY_HOST") or cls.host,
            port=int(num("GATEWAY_PORT", cls.port, int)),
            rpc_timeout=num("RPC_TIMEOUT", cls.rpc_timeout),
            ready_timeout=num("READY_TIMEOUT", cls.ready_timeout),
            max_body_bytes=int(num("MAX_BODY_BYTES", cls.max_body_bytes, int)),
            upload_max_bytes=int(num("UPLOAD_MAX_BYTES", cls.upload_max_bytes, int)),
            login_per_client=limit("LOGIN_ATTEMPTS_PER_CLIENT", cls.login_per_client),
            login_per_account=limit("LOGIN_ATTEMPTS_PER_ACCOUNT", cls.login_per_account),
            trusted_proxy_hops=limit("TRUSTED_PROXY_HOPS", cls.trusted_proxy_hops),
            map_tile_url=tile_url,
            map_tile_attribution=(env.get("MAP_TILE_ATTRIBUTION") or "").strip()[:300],
        )
