"""Nameko entrypoints of the pool service: thin, they turn messages into calls."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit


class PoolService(BaseService):
    name = "pool"
    kit = Kit("pool")
