"""Public-pool search and the daily targets report."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from crmkit.errors import InvalidInput
from pool import ownership, store
from pool import rules as R

MAX_PAGE_SIZE = 100


def _int(name: str, value: Any, default: int, lo: int, hi: int, errors: dict[str, str]) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        errors[name] = "must be an integer"
        return default
    if not lo <= n <= hi:
        errors[name] = f"must be between {lo} and {hi}"
    return n


def _released_key(row: dict[str, Any]) -> str:
    rel = store.to_dt(row.get("released_at"))
    return rel.isoformat() if rel else ""


def search_pool(kit: Any, *, keyword: str | None = None, released_from: str | None = None,
                released_to: str | None = None, previous_owner_dept_id: str | None = None,
                grade: str | None = None, page: Any = 1, page_size: Any = 20) -> dict[str, Any]:
    ctx = kit.ctx
    errors: dict[str, str] = {}
    p = _int("page", page, 1, 1, 100_000, errors)
    size = _int("page_size", page_size, 20, 1, MAX_PAGE_SIZE, errors)
    lo = hi = None
    try:
        lo = store.to_dt(released_from) if released_from else None
    except ValueError:
        errors["released_from"] = "must be an ISO-8601 date or time"
    try:
        if released_to and len(released_to) == 10:  # a whole day: up to its end (Beijing)
            hi = R.day_start(date.fromisoformat(released_to) + timedelta(days=1))
        elif released_to:
            hi = store.to_dt(released_to) + timedelta(microseconds=1)  # type: ignore[operator]
    except ValueError:
        errors["released_to"] = "must be an ISO-8601 date or time"
    if keyword is not None and len(keyword) > 100:
        errors["keyword"] = "at most 100 characters"
    if errors:
        raise InvalidInput("pool.search_invalid", "invalid search", {"fields": errors})
    kw = (keyword or "").strip().lower()
    rows = []
    for row in kit.db.customers.find({"tenant_id": ctx.tenant_id, "private": False}):
        if row.get("deleted"):
            continue
        if kw and not any(kw in str(row.get(k) or "").lower() for k in ("name_key", "name", "industry")):
            continue
        if grade and row.get("grade") != grade:
            continue
        if previous_owner_dept_id and row.get("prev_owner_dept_id") != previous_owner_dept_id:
            continue
        rel = store.to_dt(row.get("released_at"))
        if lo is not None and (rel is None or rel < lo):
            continue
        if hi is not None and (rel is None or rel >= hi):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (_released_key(r), r["_id"]), reverse=True)
    total = len(rows)
    items = [ownership.customer_view(r, masked=True) for r in rows[(p - 1) * size: p * size]]
    return {"items": items, "total": total, "page": p, "page_size": size}


def daily_targets(kit: Any, day: str | None = None, user_id: str | None = None) -> dict[str, Any]:
    ctx = kit.ctx
    who = user_id or ctx.user_id
    if who != ctx.user_id and not ctx.has_role("tenant_admin", "dept_admin", "all_customers", "support"):
        who = ctx.user_id
    try:
        d = date.fromisoformat(day) if day else R.local_day(kit.now())
    except ValueError:
        raise InvalidInput("pool.targets_invalid", "day must be YYYY-MM-DD", {"fields": {"day": "YYYY-MM-DD"}}) \
            from None
    rules = store.load_rules(kit.db, ctx.tenant_id)
    t = rules["targets"]
    # the moves log is the record of entries and claims: a move to ``who`` on the day by an
    # entry/import path is a new prospect, by the claim path a claim (one read, not two)
    q = {"tenant_id": ctx.tenant_id, "to_owner_id": who, "day": d.isoformat()}
    kinds = Counter(ownership.ACTIVITY_BY_PATH.get(r.get("path") or "")
                    for r in kit.db.moves.find(q, {"path": 1}))
    entries, claims = kinds["entry"], kinds["claim"]
    return {
        "user_id": who, "day": d.isoformat(),
        "targets": dict(t),
        "actuals": {"new_prospects": entries, "claims": claims, "prepared_prospects": entries + claims},
        "rows": [
            {"metric": "prepared_prospects", "target": t["prepared_prospects"], "actual": entries + claims},
            {"metric": "new_prospects", "target": t["new_prospects"], "actual": entries},
            {"metric": "effective_calls", "target": t["effective_calls"], "actual": None},
            {"metric": "field_visits", "target": t["field_visits"], "actual": None},
            {"metric": "field_new_prospects", "target": t["field_new_prospects"], "actual": entries},
        ],
    }
