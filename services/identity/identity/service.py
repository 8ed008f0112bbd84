"""Nameko entrypoints of the identity service: thin, they turn messages into calls."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit


class IdentityService(BaseService):
    name = "identity"
    kit = Kit("identity")
