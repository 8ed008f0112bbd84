"""Review of completed visits (valid/invalid) and expiry of unfinished ones."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from eventlet.semaphore import Semaphore

from crmkit.clock import iso
from crmkit.errors import BusinessRule, Conflict, InvalidInput
from crmkit.nameko.kit import WorkerKit
from visits import inputs, rules
from visits.access import require_reviewer, require_visible, visible_owners
from visits.peers import Identity
from visits.store import Store, fix_dates
from visits.views import event_data, plain, public, summary

log = logging.getLogger(__name__)

MAX_LIMIT = 500


def queue(kit: WorkerKit, store: Store, identity: Identity, limit: Any = 100, offset: Any = 0) -> dict[str, Any]:
    """Completed visits awaiting review, each criterion with its measured value."""
    ctx = kit.ctx
    require_reviewer(ctx)
    lim, off = inputs.paging(limit, offset, max_limit=MAX_LIMIT)
    settings = store.settings(ctx.tenant_id)
    rows = [fix_dates(r) for r in store.visits.find({"tenant_id": ctx.tenant_id,
                                                                "status": rules.COMPLETED})]
    if not ctx.has_role("support", "tenant_admin"):
        scope = visible_owners(ctx, identity)
        if not scope["all"]:
            ids = set(scope["user_ids"])
            rows = [r for r in rows if r.get("owner_id") in ids or r.get("employee_id") in ids]
    rows.sort(key=lambda r: r.get("completed_at") or r["updated_at"])
    items = []
    for r in rows[off:off + lim]:
        item = summary(r)
        crits = rules.criteria(r, settings)
        item["criteria"] = crits
        item["approvable"] = not rules.failing(crits)
        item["location_trust"] = plain(rules.location_trust(r, settings))
        item["completed_at"] = plain(r.get("completed_at"))
        items.append(item)
    return {"total": len(rows), "items": items}


def review(kit: WorkerKit, store: Store,
           identity: Identity, visit_id: str, decision: str, reason: str | None) -> dict[str, Any]:
    ctx = kit.ctx
    require_reviewer(ctx)
    v = store.load_visit(ctx.tenant_id, visit_id)
    require_visible(ctx, v, identity)
    if decision not in ("approve", "reject"):
        raise InvalidInput("visit.bad_decision", "decision must be approve or reject", {"decision": decision})
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else None
    if reason is None or len(reason) > 1000:
        raise InvalidInput("visit.bad_reason", "reason must be text of at most 1000 characters")
    if decision == "reject" and not reason:
        raise InvalidInput("visit.reason_required", "a rejection needs a reason", {"field": "reason"})
    rules.next_status(v["status"], decision)
    settings = store.settings(ctx.tenant_id)
    crits = rules.criteria(v, settings)
    if decision == "approve" and rules.failing(crits):
        raise BusinessRule("visit.criteria_not_met", "the visit does not meet every validity criterion",
                           {"failing": rules.failing(crits), "criteria": plain(crits)})
    now = kit.now()
    result = rules.VALID if decision == "approve" else rules.INVALID
    rev = {"result": result, "reason": reason, "by": ctx.user_id, "at": now, "criteria": crits}
    ev = kit.event("visit.reviewed", event_data(v, {
        "status": result, "result": result, "reason": reason, "reviewer_id": ctx.user_id, "at": now,
        "customer_name": v.get("customer_name"), "failing": rules.failing(crits)}))
    with kit.change([ev], store.step_check(v, decision)):
        full = store.claim_step(v, decision, {"review": rev}, now)
        store.apply_step(visit_id, full)
    v.update(full)
    return public(v)


def expire_due(kit: WorkerKit, store: Store, now: datetime | None = None, limit: int = 2000) -> int:
    """Expire visits whose planned day ended (tenant time zone) before check-in or
    check-out, at most ``limit`` per run (the next run takes the rest).

    Reads ``open_visits`` (one marker per visit planned and not yet past its day, see
    :func:`visits.store.mark_open`), never the whole ``visits`` collection: a marker whose
    day has not ended costs nothing, one whose day ended is settled — the visit, read by
    ``_id``, is expired if still open — and then removed."""
    now = now or kit.now()
    store.build_open_markers()
    zones: dict[str, str] = {}
    n = 0
    for mark in store.open_marks():
        tenant = str(mark.get("tenant_id"))
        try:
            if tenant not in zones:
                zones[tenant] = store.settings(tenant)["time_zone"]
            if not mark.get("day") or now < rules.end_of_day_utc(mark["day"], zones[tenant]):
                continue
        except Exception:  # one unreadable marker (a day the calendar cannot end) never stops the sweep
            log.exception("open-visit marker %s skipped", mark.get("_id"))
            continue
        row = store.visits.find_one({"_id": mark["_id"]})
        if row is None or row.get("status") not in rules.OPEN_FOR_EXPIRY:
            store.unmark_open(mark["_id"])  # settled by check-out/cancel, or never written
            continue
        if not rules.is_expired(row["status"], row["day"], now, zones[tenant]):  # moved to a later day
            store.move_open_mark(mark["_id"], row["day"])
            continue
        v = fix_dates(row)
        ev = kit.event("visit.expired", event_data(v, {
            "status": rules.EXPIRED, "previous_status": v["status"], "at": now,
            "customer_name": v.get("customer_name")}), tenant_id=v["tenant_id"], actor_id="system")
        try:
            with kit.change([ev], store.step_check(v, "expire")):
                full = store.claim_step(v, "expire", {"expired_at": now}, now)
                store.apply_step(v["_id"], full)
            store.unmark_open(v["_id"])
            n += 1
            if n >= limit:
                return n
        except Conflict:  # checked in/out at the last moment: that wins; the next run settles it
            continue
        except Exception:
            log.exception("expiry of visit %s failed", v["_id"])
    return n


_SWEEP = Semaphore(1)


def sweep(kit: WorkerKit, store: Store) -> int | None:
    """The expiry timer: one sweep at a time in this process (``None``: the previous sweep
    still runs)."""
    if not _SWEEP.acquire(blocking=False):
        return None
    try:
        return expire_due(kit, store)
    finally:
        _SWEEP.release()


def expire_now(kit: WorkerKit, store: Store) -> dict[str, Any]:
    """``_test_expire_now``: the sweep, now."""
    return {"expired": expire_due(kit, store), "now": iso(kit.now())}
