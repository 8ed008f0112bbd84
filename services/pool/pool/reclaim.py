"""Automatic reclaim: the sweep, its warnings and the preview of a rule change.

The sweep evaluates every private-pool customer with the same pure function the
preview uses (:func:`pool.rules.next_reclaim`), so a preview made with the rules the
sweep later runs under names exactly the customers the sweep reclaims.

Crash safety: each reclaim is one move in the ownership log with the expected owner
(``ownership.change``), so a re-run after a crash cannot reclaim a customer twice (the
second is a Conflict, skipped; a crash between the log insert and the row write is rolled
forward from the log). The log row and its ``pool.reclaimed`` and ``customer.owner_changed``
events are one staged change. Warnings are one unique insert per (customer, owner epoch,
reclaim day, lead).
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.context import system_context
from crmkit.errors import Conflict, Forbidden, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from pool import inputs, ownership
from pool import rules as R
from pool import store as storage
from pool.store import Store

log = logging.getLogger(__name__)


SWEEP_FIELDS = {"_id": 1, "tenant_id": 1, "owner_id": 1, "entered_at": 1, "private": 1, "last_contact_at": 1,
                "last_visit_at": 1, "last_deal_at": 1, "epoch": 1, "seq": 1, "deleted": 1,
                "name_fix_by": 1, "name_fix_owner": 1, "name": 1}  # the name: what a warning or reclaim notice says
SCAN_BATCH = 2000  # rows per getMore (FerretDB's default is a few hundred)


SweepCrash = ownership.SweepCrash  # the test hook's simulated crash (raised inside the move)


def sweep(kit: WorkerKit, store: Store, tenant_id: str | None = None, crash_after: int | None = None) -> dict[str, Any]:
    now = kit.now()
    today = R.local_day(now)
    query: dict[str, Any] = {"private": True}
    if tenant_id:
        query["tenant_id"] = tenant_id
    rules_by_tenant: dict[str, dict[str, Any]] = {}
    acting: str | None = None
    stats: Counter[str] = Counter()
    reclaimed: list[str] = []
    # one pass over the private rows, only the fields the rules read; a row costs a
    # database round trip only when it is due or inside a warning window
    for row in store.customers.find(query, SWEEP_FIELDS).batch_size(SCAN_BATCH):
        if row.get("deleted") or not row.get("owner_id"):
            continue
        t = row["tenant_id"]
        rules = rules_by_tenant.get(t)
        if rules is None:
            rules = rules_by_tenant[t] = storage.load_rules(store, t, fresh=True)
        stats["evaluated"] += 1
        nxt = storage.next_reclaim_of(row, rules)
        if nxt is None:
            continue
        on, rule = nxt
        if R.is_due(on, today):
            if acting != t:
                kit.act_as(system_context(t, request_id=f"sweep-{iso(now)}"))
                acting = t
            if reclaim_one(kit, store, row, rule, now, crash=(crash_after is not None
                                                                 and stats["reclaimed"] + 1 >= crash_after)):
                stats["reclaimed"] += 1
                if len(reclaimed) < 1000:
                    reclaimed.append(row["_id"])
            else:
                stats["skipped"] += 1
        elif warn_one(kit, store, row, on, rule, today, rules):
            stats["warned"] += 1
    return {"evaluated": stats["evaluated"], "reclaimed": stats["reclaimed"], "warned": stats["warned"],
            "skipped": stats["skipped"], "reclaimed_ids": reclaimed, "day": today.isoformat()}


def reclaim_one(kit: WorkerKit, store: Store, row: dict[str, Any], rule: str, now: datetime,
                crash: bool = False) -> bool:
    cid, owner = row["_id"], row["owner_id"]
    reason = f"reclaim:{rule}"
    try:
        ownership.change(kit, store, cid, expected=owner, new=None, path="reclaim", reason=reason, capacity=None,
                         crash_before_row=crash)
    except (Conflict, NotFound) as exc:
        log.info("reclaim of %s skipped: %s", cid, exc.code)
        return False
    return True


def warn_one(kit: WorkerKit, store: Store, row: dict[str, Any], on: date, rule: str, today: date,
             rules: dict[str, Any]) -> bool:
    leads = rules["warning_lead_days"]
    if not leads or (on - today).days > max(leads):
        return False
    epoch = row.get("epoch") if row.get("epoch") is not None else iso(row["entered_at"])
    # only whether today's lead was sent matters (warning_due), and its row has a known ``_id``
    lead = R.warning_due(on, today, leads, ())
    if lead is None:
        return False
    wid = f"{row['_id']}:{epoch}:{on.isoformat()}:{lead}"
    if store.warnings.find_one({"_id": wid}, {"_id": 1}) is not None:
        return False
    ev = kit.event("pool.reclaim_warning", {"customer_id": row["_id"], "owner_id": row["owner_id"],
                                            "reclaim_on": on.isoformat(), "rule": rule, "lead_days": lead,
                                            "days_left": (on - today).days, "customer_name": row.get("name")},
                   tenant_id=row["tenant_id"], actor_id="system")
    try:
        with kit.change([ev], Check("warnings", {"_id": wid})):
            store.warnings.insert_one({"_id": wid, "tenant_id": row["tenant_id"], "customer_id": row["_id"],
                                        "owner_id": row["owner_id"], "epoch": epoch, "reclaim_on": on.isoformat(),
                                        "lead": lead, "rule": rule, "day": today.isoformat()})
    except DuplicateKeyError:
        return False
    return True


def preview(kit: WorkerKit, store: Store, patch: dict[str, Any] | None, days: Any = 30) -> dict[str, Any]:
    """What the sweep would reclaim under ``patch`` merged over the current rules, day by
    day for the next ``days`` days (overdue customers count on today)."""
    ctx = kit.ctx
    if not ctx.has_role("tenant_admin"):
        raise Forbidden("pool.rules_forbidden", "only the tenant admin may preview pool rules")
    horizon = inputs.integer(days, "days", default=30, lo=1, hi=366, code="pool.preview_days")
    rules = R.validate_rules(patch or {}, storage.load_rules(store, ctx.tenant_id, fresh=True))
    today = R.local_day(kit.now())
    last = today + timedelta(days=horizon - 1)
    by_day: dict[str, list[str]] = {}
    by_rule: Counter[str] = Counter()
    for row in store.customers.find({"tenant_id": ctx.tenant_id, "private": True}, SWEEP_FIELDS).batch_size(SCAN_BATCH):
        if row.get("deleted") or not row.get("owner_id"):
            continue
        nxt = storage.next_reclaim_of(row, rules)
        if nxt is None or nxt[0] > last:
            continue
        day = max(nxt[0], today).isoformat()
        by_day.setdefault(day, []).append(row["_id"])
        by_rule[nxt[1]] += 1
    days_out = [{"day": d, "count": len(ids), "customer_ids": sorted(ids)[:200]} for d, ids in sorted(by_day.items())]
    return {"total": sum(len(v) for v in by_day.values()), "from": today.isoformat(), "to": last.isoformat(),
            "by_day": days_out, "by_rule": dict(by_rule), "rules": rules}


# ------------------------------------------------------------ what the entrypoints call

def run_sweep(kit: WorkerKit, store: Store, crash_after: Any = None) -> dict[str, Any]:
    """Admin trigger: the sweep for the caller's tenant now. ``crash_after`` (test hooks
    only) simulates a crash right after the n-th reclaim's ownership change."""
    ctx = kit.ctx
    if not ctx.has_role("tenant_admin", "operator", "system"):
        raise Forbidden("pool.sweep_forbidden", "only the tenant admin may run the reclaim sweep")
    if crash_after is not None:
        kit.require_test_hooks()
        crash_after = inputs.integer(crash_after, "crash_after", default=0, lo=0, hi=100_000)
    return sweep(kit, store, ctx.tenant_id, crash_after=crash_after)


def timed_sweep(kit: WorkerKit, store: Store) -> None:
    """The timer's sweep over every tenant; a failure is logged (the next run picks up)."""
    try:
        result = sweep(kit, store)
        log.info("reclaim sweep: %s", {k: v for k, v in result.items() if k != "reclaimed_ids"})
    except Exception:
        log.exception("reclaim sweep failed; the next run picks up where it stopped")


def update_rules(kit: WorkerKit, store: Store, data: Any) -> dict[str, Any]:
    """The tenant admin's new rules; every private row's reclaim date follows at once."""
    ctx = kit.ctx
    if not ctx.has_role("tenant_admin"):
        raise Forbidden("pool.rules_forbidden", "only the tenant admin may change pool rules")
    rules = R.validate_rules(data, storage.load_rules(store, ctx.tenant_id, fresh=True))
    storage.save_rules(store, ctx.tenant_id, rules, ctx.user_id, kit.now())
    storage.refresh_tenant(store, ctx.tenant_id, rules)
    return rules


def get_rules(kit: WorkerKit, store: Store) -> dict[str, Any]:
    return storage.load_rules(store, kit.ctx.tenant_id)


OVERSEERS = ("tenant_admin", "dept_admin", "system", "operator")


def reclaim_log(kit: WorkerKit, store: Store, customer_id: str | None, limit: int) -> list[dict[str, Any]]:
    """The reclaim moves of the tenant (others than the overseers: of their own customers), newest first."""
    ctx = kit.ctx
    q: dict[str, Any] = {"tenant_id": ctx.tenant_id, "path": "reclaim"}
    if customer_id:
        q["customer_id"] = customer_id
    if not ctx.has_role(*OVERSEERS):
        q["from_owner_id"] = ctx.user_id
    rows = sorted(store.moves.find(q), key=lambda r: r["at"], reverse=True)[:limit]
    return [{"customer_id": r["customer_id"], "from_owner_id": r["from_owner_id"], "reason": r["reason"],
             "seq": r["seq"], "at": iso(r["at"])} for r in rows]


def reclaim_warnings(kit: WorkerKit, store: Store, customer_id: str | None) -> list[dict[str, Any]]:
    """The reclaim warnings sent (others than the overseers: their own)."""
    ctx = kit.ctx
    q: dict[str, Any] = {"tenant_id": ctx.tenant_id}
    if customer_id:
        q["customer_id"] = customer_id
    if not ctx.has_role(*OVERSEERS):
        q["owner_id"] = ctx.user_id
    rows = sorted(store.warnings.find(q), key=lambda r: (r["day"], r["lead"]))
    return [{"customer_id": r["customer_id"], "owner_id": r["owner_id"], "reclaim_on": r["reclaim_on"],
             "lead_days": r["lead"], "rule": r["rule"], "day": r["day"]} for r in rows]
