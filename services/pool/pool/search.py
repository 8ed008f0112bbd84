"""Public-pool search and the daily targets report."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from crmkit.errors import InvalidInput
from crmkit.nameko.kit import WorkerKit
from pool import access, inputs, ownership
from pool import rules as R
from pool import store as storage
from pool.peers import Identity
from pool.store import Store

MAX_PAGE_SIZE = 100


def _checked(errors: dict[str, str], check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one argument check, collecting its problem (every bad field is listed at once)."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as exc:
        errors.update(exc.details.get("fields") or {})
        return None


def _released_key(row: dict[str, Any]) -> str:
    rel = storage.to_dt(row.get("released_at"))
    return rel.isoformat() if rel else ""


def search_pool(kit: WorkerKit, store: Store, *, keyword: str | None = None, released_from: str | None = None,
                released_to: str | None = None, previous_owner_dept_id: str | None = None,
                grade: str | None = None, page: Any = 1, page_size: Any = 20) -> dict[str, Any]:
    ctx = kit.ctx
    errors: dict[str, str] = {}
    p = _checked(errors, inputs.integer, page, "page", default=1, lo=1, hi=100_000) or 1
    size = _checked(errors, inputs.integer, page_size, "page_size", default=20, lo=1, hi=MAX_PAGE_SIZE) or 20
    lo = _checked(errors, inputs.instant, released_from, "released_from") if released_from else None
    hi = None
    if released_to and isinstance(released_to, str) and len(released_to) == 10:  # a whole day, to its end (Beijing)
        last = _checked(errors, inputs.day, released_to, "released_to")
        hi = R.day_start(last + timedelta(days=1)) if last else None
    elif released_to:
        to = _checked(errors, inputs.instant, released_to, "released_to")
        hi = to + timedelta(microseconds=1) if to else None
    _checked(errors, inputs.text, keyword, "keyword", limit=100)
    _checked(errors, inputs.text, grade, "grade", limit=100)
    _checked(errors, inputs.text, previous_owner_dept_id, "previous_owner_dept_id", limit=inputs.MAX_ID)
    if errors:
        raise InvalidInput("pool.search_invalid", "invalid search", {"fields": errors})
    kw = (keyword or "").strip().lower()
    rows = []
    for row in store.customers.find({"tenant_id": ctx.tenant_id, "private": False}):
        if row.get("deleted"):
            continue
        if kw and not any(kw in str(row.get(k) or "").lower() for k in ("name_key", "name", "industry")):
            continue
        if grade and row.get("grade") != grade:
            continue
        if previous_owner_dept_id and row.get("prev_owner_dept_id") != previous_owner_dept_id:
            continue
        rel = storage.to_dt(row.get("released_at"))
        if lo is not None and (rel is None or rel < lo):
            continue
        if hi is not None and (rel is None or rel >= hi):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (_released_key(r), r["_id"]), reverse=True)
    total = len(rows)
    items = [ownership.customer_view(r, masked=True) for r in rows[(p - 1) * size: p * size]]
    return {"items": items, "total": total, "page": p, "page_size": size}


def daily_targets(kit: WorkerKit, store: Store, identity: Identity, day: date | None, who: str) -> dict[str, Any]:
    """``who``'s targets and actuals on ``day`` (default today), for a caller who may see
    ``who`` (404 otherwise, :mod:`pool.access`); the arguments are checked."""
    ctx = kit.ctx
    access.require_may_see(ctx, identity, who)
    d = day or R.local_day(kit.now())
    rules = storage.load_rules(store, ctx.tenant_id)
    t = rules["targets"]
    # the moves log is the record of entries and claims: a move to ``who`` on the day by an
    # entry/import path is a new prospect, by the claim path a claim (one read, not two)
    q = {"tenant_id": ctx.tenant_id, "to_owner_id": who, "day": d.isoformat()}
    kinds = Counter(ownership.ACTIVITY_BY_PATH.get(r.get("path") or "")
                    for r in store.moves.find(q, {"path": 1}))
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
