"""Nameko entrypoints of the customers service: thin, they turn messages into calls."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit


class CustomersService(BaseService):
    name = "customers"
    kit = Kit("customers")
