"""The arguments of the visits RPC methods, checked before use. Pure, no I/O.

A service never trusts its caller's types: the gateway validates too, but any AMQP client
with a signed context can send ``limit="abc"`` or ``location="here"``. Every entrypoint
argument that is not a plain id goes through one of these (days, months and instants go
through :mod:`visits.rules`, which holds the supported calendar). Each refusal is an
``InvalidInput`` (400) naming the field in ``details.field``.
"""
from __future__ import annotations

import math
from typing import Any

from crmkit.errors import InvalidInput

MAX_ID = 128
#: no list answer pages further than this (the collections are read in Python past it)
MAX_OFFSET = 1_000_000


def integer(value: Any, field: str, *, default: int, lo: int, hi: int, code: str = "visit.bad_field") -> int:
    """A whole number ``lo..hi`` (``None``/``""`` = ``default``); numeric strings are taken
    (query strings are text), fractions, booleans, NaN and anything else are refused."""
    if value is None or value == "":
        return default
    n: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and len(value) <= 20:
        text = value.strip()
        if text.lstrip("+-").isdigit():
            n = int(text)
    if n is None:
        raise InvalidInput(code, f"{field} must be a whole number", {"field": field, "value": str(value)[:40]})
    if not lo <= n <= hi:
        raise InvalidInput(code, f"{field} must be between {lo} and {hi}", {"field": field, "min": lo, "max": hi})
    return n


def paging(limit: Any, offset: Any, *, max_limit: int, default_limit: int = 100,
           code: str = "visit.bad_paging") -> tuple[int, int]:
    """``(limit, offset)`` of a list answer: limit ``1..max_limit``, offset ``0..MAX_OFFSET``."""
    return (integer(limit, "limit", default=default_limit, lo=1, hi=max_limit, code=code),
            integer(offset, "offset", default=0, lo=0, hi=MAX_OFFSET, code=code))


def obj(value: Any, field: str, *, code: str = "visit.bad_body", required: bool = True) -> dict[str, Any]:
    """A JSON object argument (``None`` is ``{}`` unless ``required``)."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(code, f"{field} must be an object", {"field": field})
    return value


def ident(value: Any, field: str, *, required: bool = True, code: str = "visit.bad_field") -> str | None:
    """An id: a non-empty string of at most ``MAX_ID`` characters."""
    if value is None or value == "":
        if required:
            raise InvalidInput("visit.missing_field", f"{field} is required", {"field": field})
        return None
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise InvalidInput(code, f"{field} must be an id (text of at most {MAX_ID} characters)", {"field": field})
    return value


def choice(value: Any, field: str, options: tuple[str, ...], *, code: str = "visit.bad_field") -> str | None:
    """One of ``options`` (``None``/``""`` = not given)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(code, f"{field} must be one of {', '.join(options)}",
                           {"field": field, "allowed": list(options)})
    return value


def optional_location(value: Any, field: str = "location") -> dict[str, Any]:
    """A plan's location: absent (the customer's own is used) or an object
    ``{address?, lat, lng}`` -- never silently replaced when it is something else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("visit.bad_location", f"{field} must be an object {{address, lat, lng}}",
                           {"field": field})
    return value
