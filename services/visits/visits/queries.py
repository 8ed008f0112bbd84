"""Reads: one visit, the app's list and calendar, the records list, photos.

Every query is an equality filter on indexed fields (``tenant_id`` + ``employee_id`` /
``owner_id`` + ``month`` / ``day``): FerretDB pushes only equality down to storage.
"""
from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from crmkit.errors import NotFound
from visits import inputs, rules, store
from visits.access import require_records_menu, require_visible, visible_owners
from visits.views import plain, public, summary

MAX_LIMIT = 500


def _filters(day: Any, month: Any, status: Any) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if day:
        f["day"] = rules.parse_day(day)
    elif month:
        rules.parse_month(month)
        f["month"] = month
    if status:
        f["status"] = inputs.choice(status, "status", rules.STATUSES, code="visit.bad_status")
    return f


def _page(rows: list[dict[str, Any]], limit: Any, offset: Any) -> dict[str, Any]:
    lim, off = inputs.paging(limit, offset, max_limit=MAX_LIMIT)
    rows.sort(key=lambda r: (r.get("planned_at") is None, r.get("planned_at")), reverse=False)
    return {"total": len(rows), "items": [summary(store.fix_dates(r)) for r in rows[off:off + lim]]}


def get_visit(kit: Any, identity: Any, visit_id: str) -> dict[str, Any]:
    ctx = kit.ctx
    v = store.load_visit(kit.db, ctx.tenant_id, visit_id)
    require_visible(ctx, v, identity)
    out = public(v)
    settings = store.settings(kit.db, ctx.tenant_id)
    out["criteria"] = rules.criteria(v, settings)
    out["location_trust"] = plain(rules.location_trust(v, settings))
    return out


def my_visits(kit: Any, day: str | None = None, month: str | None = None, status: str | None = None,
              limit: Any = 100, offset: Any = 0) -> dict[str, Any]:
    """The app's list: the visits the caller makes (planned by them or assigned to them)."""
    ctx = kit.ctx
    q = {"tenant_id": ctx.tenant_id, "employee_id": ctx.user_id, **_filters(day, month, status)}
    inputs.paging(limit, offset, max_limit=MAX_LIMIT)  # refused before any read
    if "day" in q:  # a day's list: ids from the month bucket, then lookups by _id
        ids = [r["_id"] for r in store.cal_coll(kit.db, q["day"][:7]).find(
            {"tenant_id": ctx.tenant_id, "employee_id": ctx.user_id, "day": q["day"]}, {"_id": 1})]
        rows = [r for r in (kit.db["visits"].find_one({"_id": i}) for i in ids)
                if r and r.get("employee_id") == ctx.user_id and (not status or r.get("status") == status)]
        return _page(rows, limit, offset)
    return _page(list(kit.db["visits"].find(q)), limit, offset)


def records(kit: Any, identity: Any, day: str | None = None, month: str | None = None, status: str | None = None,
            employee_id: str | None = None, customer_id: str | None = None, limit: Any = 100,
            offset: Any = 0) -> dict[str, Any]:
    """The PC records page: visits to customers whose CURRENT owner the caller may see
    (the transfer rule: visibility follows the customer's owner, not the visit's maker)."""
    ctx = kit.ctx
    base = {"tenant_id": ctx.tenant_id, **_filters(day, month, status)}
    inputs.paging(limit, offset, max_limit=MAX_LIMIT)  # refused before any read
    require_records_menu(ctx, identity)
    if customer_id:
        base["customer_id"] = inputs.ident(customer_id, "customer_id")
    if employee_id:
        base["employee_id"] = inputs.ident(employee_id, "employee_id")
    scope = visible_owners(ctx, identity)
    if scope["all"]:
        rows = list(kit.db["visits"].find(base))
    else:
        rows = []
        for owner in scope["user_ids"]:
            rows.extend(kit.db["visits"].find({**base, "owner_id": owner}))
    return _page(rows, limit, offset)


def calendar(kit: Any, identity: Any, month: str | None, scope: str | None = None) -> dict[str, Any]:
    """Visits per day of a month (tenant time zone), the caller's own by default;
    ``scope=records`` counts what the records page would show."""
    ctx = kit.ctx
    scope = inputs.choice(scope, "scope", ("mine", "records"))
    settings = store.settings(kit.db, ctx.tenant_id)
    tz = settings["time_zone"]
    today = rules.local_day(kit.now(), tz)
    month = month or today[:7]
    days = rules.days_of_month(month)
    prev, nxt = rules.neighbour_months(month)
    counts: Counter[str] = Counter()
    proj = {"day": 1, "_id": 0}
    cal = store.cal_coll(kit.db, month)
    if scope == "records":
        require_records_menu(ctx, identity)
        sc = visible_owners(ctx, identity)
        filters = [{"tenant_id": ctx.tenant_id}] if sc["all"] else \
            [{"tenant_id": ctx.tenant_id, "owner_id": o} for o in sc["user_ids"]]
    else:
        filters = [{"tenant_id": ctx.tenant_id, "employee_id": ctx.user_id}]
    for f in filters:
        for r in cal.find(f, proj):
            counts[r["day"]] += 1
    return {"month": month, "time_zone": tz, "today": today, "previous_month": prev, "next_month": nxt,
            "total": sum(counts[d] for d in days), "days": [{"day": d, "count": counts.get(d, 0)} for d in days]}


def photo(kit: Any, identity: Any, blobs: Any, visit_id: str, kind: str) -> dict[str, Any]:
    ctx = kit.ctx
    if kind not in ("original", "thumbnail", "watermarked"):
        raise NotFound("photo.not_found", "photo kinds are original, thumbnail and watermarked", {"kind": kind})
    v = store.load_visit(kit.db, ctx.tenant_id, visit_id)
    require_visible(ctx, v, identity)
    p = (v.get("check_in") or {}).get("photo") or {}
    blob_id = (p.get("blobs") or {}).get(kind)
    if not blob_id:
        raise NotFound("photo.not_found", "this visit has no photo", {"visit_id": visit_id})
    data, ctype = blobs.get(blob_id)
    return {"content_type": ctype, "data_b64": base64.b64encode(data).decode(), "sha256": p.get("sha256"),
            "kind": kind}
