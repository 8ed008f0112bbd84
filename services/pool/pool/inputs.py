"""The arguments of the pool RPC methods, checked before use. Pure, no I/O.

A service never trusts its caller's types: the gateway validates too, but any AMQP client
with a signed context can send ``limit="abc"`` or ``data=[]``. Every entrypoint argument
goes through one of these. A refusal is ``InvalidInput`` (400) naming the field both as
``details.field`` and, like the pool's other 400s, in ``details.fields``.

Days lie in ``FIRST_YEAR``..``LAST_YEAR``: arithmetic on them (the next day, Beijing time,
working days) never reaches Python's year 1 / year 9999 edge.
"""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from crmkit.errors import InvalidInput

FIRST_YEAR = 2000
LAST_YEAR = 2099
MAX_ID = 128


def refuse(code: str, field: str, problem: str) -> InvalidInput:
    return InvalidInput(code, f"{field}: {problem}", {"field": field, "fields": {field: problem}})


def integer(value: Any, field: str, *, default: int, lo: int, hi: int, code: str = "pool.bad_argument") -> int:
    """A whole number ``lo..hi`` (``None``/``""`` = ``default``); numeric text is taken (query
    strings), fractions, booleans, NaN and anything else are refused."""
    if value is None or value == "":
        return default
    n: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and len(value) <= 20 and value.strip().lstrip("+-").isdigit():
        n = int(value.strip())
    if n is None:
        raise refuse(code, field, "must be an integer")
    if not lo <= n <= hi:
        raise refuse(code, field, f"must be between {lo} and {hi}")
    return n


def day(value: Any, field: str, *, code: str = "pool.bad_argument") -> date:
    """``YYYY-MM-DD`` within the supported years."""
    try:
        if not isinstance(value, str):
            raise ValueError
        d = date.fromisoformat(value)
    except ValueError:
        raise refuse(code, field, "must be YYYY-MM-DD") from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise refuse(code, field, f"must lie in {FIRST_YEAR}..{LAST_YEAR}")
    return d


def instant(value: Any, field: str, *, code: str = "pool.bad_argument") -> datetime:
    """An ISO-8601 date or time (no offset = UTC) within the supported years, aware UTC."""
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise refuse(code, field, "must be an ISO-8601 date or time") from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise refuse(code, field, f"must lie in {FIRST_YEAR}..{LAST_YEAR}")
    return at


def ident(value: Any, field: str, *, required: bool = True, code: str = "pool.bad_argument") -> str | None:
    """An id: a non-empty string of at most ``MAX_ID`` characters (``None`` when optional and absent)."""
    if value is None or value == "":
        if required:
            raise refuse(code, field, "required")
        return None
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise refuse(code, field, f"must be an id (text of at most {MAX_ID} characters)")
    return value


def text(value: Any, field: str, *, limit: int, code: str = "pool.bad_argument") -> str | None:
    """Optional text of at most ``limit`` characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise refuse(code, field, f"text of at most {limit} characters")
    return value


def obj(value: Any, field: str = "data", *, code: str = "pool.bad_argument") -> dict[str, Any]:
    """A JSON object argument; ``None`` is ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise refuse(code, field, "must be an object")
    return value


def id_list(value: Any, field: str, *, hi: int, code: str = "pool.bad_argument") -> list[str]:
    """A non-empty list of at most ``hi`` ids."""
    if not isinstance(value, list) or not value or len(value) > hi:
        raise refuse(code, field, f"must be a list of 1-{hi} ids")
    return [str(ident(v, field, code=code)) for v in value]


def required_id(value: Any, field: str) -> str:
    """A required id argument."""
    return str(ident(value, field))


def entry_path(path: Any) -> str:
    if path not in ("entry", "import"):
        raise InvalidInput("owner_change.invalid_path", "path must be entry or import", {"field": "path"})
    return str(path)


def move_args(reason: Any, capacity: Any) -> tuple[str, str | None]:
    """``change_owner``'s reason (at most 500 characters) and capacity mode."""
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise InvalidInput("owner_change.invalid_reason", "reason: at most 500 characters")
    if capacity not in (None, "exact", "overflow"):
        raise InvalidInput("owner_change.invalid_capacity", "capacity: exact, overflow or null")
    return reason or "", capacity


def rules_patch(data: Any) -> dict[str, Any] | None:
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("pool.rules_invalid", "rules must be an object", {"fields": {"": "object"}})
    return data


def optional_page(page: Any, page_size: Any, code: str) -> tuple[int | None, int | None]:
    """A page and page size given (both optional: without a size every row is answered)."""
    pg = integer(page, "page", default=1, lo=1, hi=100_000, code=code) if page not in (None, "") else None
    size = integer(page_size, "page_size", default=20, lo=1, hi=200, code=code) if page_size not in (None, "") else None
    return pg, size


#: the customer facts ``pool.enter`` keeps on a new row (see :mod:`pool.facts`)
FACT_TEXTS = ("name", "name_key", "industry", "grade", "region")
FACT_NUMBERS = ("landlines", "faxes", "mobiles")
MAX_FACT_TEXT = 1000
MAX_FACT_NUMBERS = 50
MAX_NUMBER = 64


def entry_facts(value: Any, ids: list[str], field: str = "facts") -> dict[str, dict[str, Any]]:
    """``{customer_id: {name, name_key, industry, grade, region, landlines, faxes, mobiles}}``
    for ids of this entry (``None`` = none given). Other keys
    are ignored; texts are at most 1000 characters, at most 50 numbers of 64 per list."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > len(ids):
        raise refuse("pool.bad_argument", field, "must be an object keyed by the entered customer ids")
    known = set(ids)
    out: dict[str, dict[str, Any]] = {}
    for cid, facts in value.items():
        if cid not in known or not isinstance(facts, dict):
            raise refuse("pool.bad_argument", field, "must be an object keyed by the entered customer ids")
        clean: dict[str, Any] = {}
        for key in FACT_TEXTS:
            v = facts.get(key)
            if v is None:
                continue
            if not isinstance(v, str) or len(v) > MAX_FACT_TEXT:
                raise refuse("pool.bad_argument", f"{field}.{key}", f"must be a text of at most {MAX_FACT_TEXT}")
            clean[key] = v
        for key in FACT_NUMBERS:
            v = facts.get(key)
            if v is None:
                continue
            if not isinstance(v, list) or len(v) > MAX_FACT_NUMBERS or \
                    not all(isinstance(n, str) and len(n) <= MAX_NUMBER for n in v):
                raise refuse("pool.bad_argument", f"{field}.{key}",
                             f"must be a list of at most {MAX_FACT_NUMBERS} numbers")
            clean[key] = v
        out[cid] = clean
    return out
