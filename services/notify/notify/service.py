"""Nameko entrypoints of the notify service: thin, they turn messages into calls."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit


class NotifyService(BaseService):
    name = "notify"
    kit = Kit("notify")
