"""Nameko dependency of the identity service: settings and the password hasher (the database
is :class:`identity.store.IdentityStore`'s).

Created in ``setup()`` (after eventlet patched everything) and failing fast when a
secret (``JWT_SECRET``) is missing."""
from __future__ import annotations

from typing import Any

from crmkit import config
from crmkit.nameko.dependency import Dependency
from identity.access import AccessSettings
from identity.passwords import Passwords


class IdentityDeps:
    def __init__(self, settings: AccessSettings, passwords: Passwords):
        self.settings = settings
        self.passwords = passwords


class Identity(Dependency[IdentityDeps]):
    def setup(self) -> None:
        try:
            self.deps = IdentityDeps(AccessSettings.from_env(), Passwords())
        except config.MissingSetting as exc:
            config.fail_fast("identity", exc)

    def get_dependency(self, worker_ctx: Any) -> IdentityDeps:
        return self.deps
