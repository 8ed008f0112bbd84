"""HTTP routes of /api/v1, one module per service (identity.py, customers.py, ...).

Each module exposes ``ROUTES`` (a list of Starlette routes) and registers its
operations in :mod:`gateway.openapi`. Every module in this package is wired in.
"""
from __future__ import annotations

import importlib
import pkgutil

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    collected: list[BaseRoute] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        collected.extend(getattr(module, "ROUTES", None) or getattr(module, "routes", []))
    return collected
