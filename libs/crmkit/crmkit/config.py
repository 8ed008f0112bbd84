"""Configuration from the environment (twelve-factor): no defaults for secrets."""
from __future__ import annotations

import os

from crmkit.errors import CrmError


class MissingSetting(CrmError):
    default_code = "config.missing"


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise MissingSetting("config.missing", f"environment variable {name} must be set", {"name": name})
    return value


def secret(name: str) -> str:
    """A secret has no default: fail fast with a clear message when it is missing."""
    return env(name, None)


def amqp_uri() -> str:
    return env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def mongo_uri() -> str:
    return env("MONGO_URI", "mongodb://127.0.0.1:27017/")


def db_prefix() -> str:
    """Prefix of every service database name (tests use their own to stay apart)."""
    return os.environ.get("MONGO_DB_PREFIX", "crm_")


def context_key() -> str:
    return secret("CRM_CONTEXT_KEY")
