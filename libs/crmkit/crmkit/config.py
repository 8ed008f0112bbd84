"""Configuration from the environment (twelve-factor): no defaults for secrets."""
from __future__ import annotations

import os
import sys
from typing import NoReturn

from crmkit.errors import CrmError


class MissingSetting(CrmError):
    default_code = "config.missing"


#: the least a signing key may be (bytes of its UTF-8 form): 256 bits, as HMAC-SHA256 wants
MIN_SECRET_BYTES = 32
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
DEFAULT_CONTEXT_TTL_SECONDS = 30


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise MissingSetting("config.missing", f"environment variable {name} must be set", {"name": name})
    return value


def secret(name: str, min_bytes: int = MIN_SECRET_BYTES) -> str:
    """A secret has no default: fail fast with a clear message when it is missing or shorter
    than ``min_bytes`` (a short key is guessable offline from one signed value)."""
    value = env(name, None)
    if len(value.encode()) < min_bytes:
        raise MissingSetting("config.too_short", f"environment variable {name} must be at least {min_bytes} bytes "
                             f"long (it has {len(value.encode())}); generate one with "
                             "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
                             {"name": name, "min_bytes": min_bytes})
    return value


def positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise MissingSetting("config.invalid", f"environment variable {name} must be a positive whole number, "
                             f"got {raw!r}", {"name": name})
    return int(raw)


def amqp_uri() -> str:
    """The broker, with the project's own user (required: the project never uses guest)."""
    return env("AMQP_URI", None)


def mongo_uri() -> str:
    return env("MONGO_URI", "mongodb://127.0.0.1:27017/")


def db_prefix() -> str:
    """Prefix of every service database name (tests use their own to stay apart)."""
    return os.environ.get("MONGO_DB_PREFIX", "crm_")


def context_key() -> str:
    return secret("CRM_CONTEXT_KEY")


def context_ttl() -> int:
    """Seconds a signed call context stays valid (a call's own timeout may extend it)."""
    return positive_int("CONTEXT_TTL_SECONDS", DEFAULT_CONTEXT_TTL_SECONDS)


def max_message_bytes() -> int:
    """The largest RPC reply or event a service publishes (RabbitMQ's own limit is 128 MB)."""
    return positive_int("MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES)


def fail_fast(process: str, exc: MissingSetting) -> NoReturn:
    """End a process that cannot run for want of a setting: one clear line, exit status 2."""
    print(f"{process}: configuration error: {exc.message}", file=sys.stderr, flush=True)
    raise SystemExit(2)
