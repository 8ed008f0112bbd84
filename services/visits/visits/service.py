"""Nameko entrypoints of the visits service: thin, they turn messages into calls."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit


class VisitsService(BaseService):
    name = "visits"
    kit = Kit("visits")
