"""The one registry every declaration module adds to (``contracts.EVENTS``/``contracts.RPCS``)."""
from __future__ import annotations

from contracts.base import Registry

REGISTRY = Registry()
event = REGISTRY.event
rpc = REGISTRY.rpc
