"""Reads: one visit, the app's list and calendar, the records list, photos.

Every query is an equality filter on indexed fields (``tenant_id`` + ``employee_id`` /
``owner_id`` + ``month`` / ``day``): FerretDB pushes only equality down to storage.
"""
from __future__ import annotations

import base64
from collections import Counter
from datetime import date
from typing import Any

from crmkit.errors import InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from visits import inputs, rules
from visits.access import require_records_menu, require_visible, visible_owners
from visits.peers import Identity
from visits.planning import check_assignee
from visits.store import Store, fix_dates
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
    return {"total": len(rows), "items": [summary(fix_dates(r)) for r in rows[off:off + lim]]}


def get_visit(kit: WorkerKit, store: Store, identity: Identity, visit_id: str) -> dict[str, Any]:
    ctx = kit.ctx
    v = store.load_visit(ctx.tenant_id, visit_id)
    require_visible(ctx, v, identity)
    out = public(v)
    settings = store.settings(ctx.tenant_id)
    out["criteria"] = rules.criteria(v, settings)
    out["location_trust"] = plain(rules.location_trust(v, settings))
    return out


def whose(kit: WorkerKit, store: Store, identity: Identity, employee_id: Any) -> str:
    """Whose visits a list or calendar shows: the caller's own, or (``employee_id``) those of a
    person the caller may assign tasks to (their supervisor, a department admin over them, the
    tenant admin) — 403 ``visit.not_supervisor`` otherwise."""
    ctx = kit.ctx
    emp = inputs.ident(employee_id, "employee_id", required=False)
    if not emp or emp == ctx.user_id:
        return ctx.user_id
    check_assignee(ctx, identity, emp)
    return emp


def my_visits(kit: WorkerKit, store: Store,
              identity: Identity, day: str | None = None, month: str | None = None, status: str | None = None,
              limit: Any = 100, offset: Any = 0, employee_id: str | None = None) -> dict[str, Any]:
    """The app's list: the visits the caller makes (planned by them or assigned to them) — or,
    with ``employee_id``, those a subordinate makes (see :func:`whose`)."""
    ctx = kit.ctx
    q = {"tenant_id": ctx.tenant_id, **_filters(day, month, status)}
    inputs.paging(limit, offset, max_limit=MAX_LIMIT)  # refused before any read
    emp = whose(kit, store, identity, employee_id)
    q["employee_id"] = emp
    if "day" in q:  # a day's list: ids from the month bucket, then lookups by _id
        ids = [r["_id"] for r in store.cal_coll(q["day"][:7]).find(
            {"tenant_id": ctx.tenant_id, "employee_id": emp, "day": q["day"]}, {"_id": 1})]
        rows = [r for r in (store.visits.find_one({"_id": i}) for i in ids)
                if r and r.get("employee_id") == emp and (not status or r.get("status") == status)]
        return _page(rows, limit, offset)
    return _page(list(store.visits.find(q)), limit, offset)


#: the longest day range of the records page (as the reports: a year and a day)
MAX_RECORD_DAYS = 366


def _day_range(from_day: Any, to_day: Any) -> tuple[str | None, str | None]:
    lo = rules.parse_day(from_day, "from_day") if from_day not in (None, "") else None
    hi = rules.parse_day(to_day, "to_day") if to_day not in (None, "") else None
    if lo and hi:
        if lo > hi:
            raise InvalidInput("visit.bad_range", "from_day must not be after to_day",
                               {"field": "from_day", "from_day": lo, "to_day": hi})
        if (date.fromisoformat(hi) - date.fromisoformat(lo)).days >= MAX_RECORD_DAYS:
            raise InvalidInput("visit.bad_range", f"a range covers at most {MAX_RECORD_DAYS} days",
                               {"field": "to_day", "max_days": MAX_RECORD_DAYS})
    return lo, hi


def records(kit: WorkerKit, store: Store,
            identity: Identity, day: str | None = None, month: str | None = None, status: str | None = None,
            employee_id: str | None = None, customer_id: str | None = None, limit: Any = 100,
            offset: Any = 0, dept_id: str | None = None, from_day: str | None = None,
            to_day: str | None = None) -> dict[str, Any]:
    """The PC records page: visits to customers whose CURRENT owner the caller may see
    (the transfer rule: visibility follows the customer's owner, not the visit's maker).
    ``dept_id`` keeps visits made by members of that department's subtree (identity's
    ``subtree_employee_ids``); ``from_day``..``to_day`` is an inclusive range of planned days."""
    ctx = kit.ctx
    base = {"tenant_id": ctx.tenant_id, **_filters(day, month, status)}
    inputs.paging(limit, offset, max_limit=MAX_LIMIT)  # refused before any read
    lo, hi = _day_range(from_day, to_day)
    dept = inputs.ident(dept_id, "dept_id", required=False)
    require_records_menu(ctx, identity)
    if customer_id:
        base["customer_id"] = inputs.ident(customer_id, "customer_id")
    if employee_id:
        base["employee_id"] = inputs.ident(employee_id, "employee_id")
    members = set(identity.subtree_employee_ids(dept_id=dept) or []) if dept else None
    scope = visible_owners(ctx, identity)
    if scope["all"]:
        rows = list(store.visits.find(base))
    else:
        rows = []
        for owner in scope["user_ids"]:
            rows.extend(store.visits.find({**base, "owner_id": owner}))
    rows = [r for r in rows if (lo is None or r.get("day", "") >= lo) and (hi is None or r.get("day", "") <= hi)
            and (members is None or r.get("employee_id") in members)]
    return _page(rows, limit, offset)


def calendar(kit: WorkerKit, store: Store, identity: Identity, month: str | None, scope: str | None = None,
             employee_id: str | None = None) -> dict[str, Any]:
    """Visits per day of a month (tenant time zone), the caller's own by default (or, with
    ``employee_id``, a subordinate's, see :func:`whose`); ``scope=records`` counts what the
    records page would show."""
    ctx = kit.ctx
    scope = inputs.choice(scope, "scope", ("mine", "records"))
    emp = whose(kit, store, identity, employee_id) if scope != "records" else ctx.user_id
    settings = store.settings(ctx.tenant_id)
    tz = settings["time_zone"]
    today = rules.local_day(kit.now(), tz)
    month = month or today[:7]
    days = rules.days_of_month(month)
    prev, nxt = rules.neighbour_months(month)
    counts: Counter[str] = Counter()
    proj = {"day": 1, "_id": 0}
    cal = store.cal_coll(month)
    if scope == "records":
        require_records_menu(ctx, identity)
        sc = visible_owners(ctx, identity)
        filters = [{"tenant_id": ctx.tenant_id}] if sc["all"] else \
            [{"tenant_id": ctx.tenant_id, "owner_id": o} for o in sc["user_ids"]]
    else:
        filters = [{"tenant_id": ctx.tenant_id, "employee_id": emp}]
    for f in filters:
        for r in cal.find(f, proj):
            counts[r["day"]] += 1
    return {"month": month, "time_zone": tz, "today": today, "previous_month": prev, "next_month": nxt,
            "employee_id": emp if scope != "records" else None,
            "total": sum(counts[d] for d in days), "days": [{"day": d, "count": counts.get(d, 0)} for d in days]}


def photo(kit: WorkerKit, store: Store, identity: Identity, visit_id: str, kind: str) -> dict[str, Any]:
    ctx = kit.ctx
    if kind not in ("original", "thumbnail", "watermarked"):
        raise NotFound("photo.not_found", "photo kinds are original, thumbnail and watermarked", {"kind": kind})
    v = store.load_visit(ctx.tenant_id, visit_id)
    require_visible(ctx, v, identity)
    p = (v.get("check_in") or {}).get("photo") or {}
    blob_id = (p.get("blobs") or {}).get(kind)
    if not blob_id:
        raise NotFound("photo.not_found", "this visit has no photo", {"visit_id": visit_id})
    data, ctype = store.blobs.get(blob_id)
    return {"content_type": ctype, "data_b64": base64.b64encode(data).decode(), "sha256": p.get("sha256"),
            "kind": kind}
