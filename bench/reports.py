"""Visit reports: the employee summary over 30 days with 200 000 visits in the tenant
(report_rules + reports, the same code the RPC runs: three series, ranking, 12-month
trend, first details page), next to the same aggregation done with bare pymongo: the
same rollup documents read by ``_id`` (2 of the 30 days' months + 12 trend months + 30
days), counted into the series, ranking, trend and details page in a plain loop.

Also printed: the one-off build of the tenant's rollup from its visits, the cost of
keeping it in step (``rollup.touch`` after a visit change), and, once, what a single
``$match``/``$group`` over the visits collection costs at this size (the old way).

Runs on the visits database of the bench stack and also times the
``employee_visit_summary`` RPC. Size: ``BENCH_REPORT_VISITS`` (default 200 000)."""
from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pymongo

from bench.load import ratio, timed_loop
from crmkit.context import CallContext

VISITS = int(os.environ.get("BENCH_REPORT_VISITS", "200000"))
EMPLOYEES = 200
CUSTOMERS = 5000
DAYS = 30
CALLS = 5
TOUCHES = 20
# settled statuses only: the running service's expiry sweep would otherwise expire the
# past days' open plans during the run (and change the figures between calls)
STATUSES = ("completed", "valid", "invalid", "expired", "expired", "cancelled", "pending_notes")


def _docs(tenant: str, start: date, n: int, offset: int):
    now = datetime.now(UTC)
    span = 365  # a year of visits in the tenant; the report reads 30 days of it
    for i in range(offset, offset + n):
        day = (start - timedelta(days=span - 30) + timedelta(days=i % span)).isoformat()
        status = STATUSES[i % len(STATUSES)]
        doc = {"_id": f"{tenant}-{i}", "tenant_id": tenant, "customer_id": f"c{i % CUSTOMERS}",
               "customer_name": "bench", "employee_id": f"e{i % EMPLOYEES}", "owner_id": f"e{i % EMPLOYEES}",
               "planned_at": now, "day": day, "month": day[:7], "status": status,
               "location": {"address": "bench", "lat": 31.2, "lng": 121.4}, "created_at": now}
        if status not in ("pending_check_in", "cancelled") and i % 3:
            doc["check_in"] = {"at": now, "deviation_m": 10.0, "point": {"source": "gps"}}
        yield doc


def run(stack, infra, env) -> None:
    from visits import report_rules as R
    from visits import reports, rollup  # the service's own code, on the bench's database

    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    db = client[f"{env['MONGO_DB_PREFIX']}visits"]
    from visits.store import Store
    store = Store(db)
    store.ensure_indexes()
    tenant = "bench-" + uuid.uuid4().hex[:8]
    start = date(2026, 3, 1)
    batch = 5000
    t_start = time.perf_counter()
    for off in range(0, VISITS, batch):
        db["visits"].insert_many(list(_docs(tenant, start, min(batch, VISITS - off), off)), ordered=False)
    t_seed = time.perf_counter() - t_start
    days = [(start + timedelta(days=i)).isoformat() for i in range(DAYS)]
    ctx = CallContext(tenant_id=tenant, user_id="admin", roles=("tenant_admin",))
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    filters = {"from": days[0], "to": days[-1], "limit": 100}

    def ours():
        return reports.employee_summary(store, ctx, None, now, filters)

    def bare():  # the same reads, counted in a plain loop
        from collections import Counter
        months = sorted({d[:7] for d in days} | {p["key"] for p in R.trend_periods("months", days[-1])})
        per_day: dict = {}
        trend: Counter = Counter()
        for m in months:
            doc = db[rollup.MONTHS].find_one({"_id": f"{tenant}|{m}"}) or {}
            for d, raw in (doc.get("d") or {}).items():
                for c in json.loads(raw):
                    if c["s"] != "cancelled":
                        trend[(m, "p")] += c["n"]
                    if c["s"] in R.CHECKED_IN_STATUSES or (c["s"] == "expired" and c["i"]):
                        trend[(m, "a")] += c["n"]
                per_day[d] = raw
        actual: Counter = Counter()
        planned: Counter = Counter()
        wanted = set(days)
        for d, raw in per_day.items():
            if d in wanted:
                for c in json.loads(raw):
                    if c["s"] != "cancelled":
                        planned[(c["e"], d)] += c["n"]
                    if c["s"] in R.CHECKED_IN_STATUSES or (c["s"] == "expired" and c["i"]):
                        actual[(c["e"], d)] += c["n"]
        ranking = sorted({e for e, _ in planned}, key=lambda e: -sum(actual[(e, d)] for d in days))
        rows = []
        for d in days:
            doc = db[f"{rollup.DAYS}_{d[:7].replace('-', '_')}"].find_one({"_id": f"{tenant}|{d}"}) or {}
            rows.extend(x["r"] for x in json.loads(doc.get("v") or "[]")
                        if "r" in x and (x["s"] in R.CHECKED_IN_STATUSES or x["s"] == "expired"))
        rows.sort(key=lambda r: (r["check_in_at"] or "", r["visit_id"]))
        return ranking, rows[:100]

    def naive():  # the old way: one aggregation over the visits collection (one month)
        list(db["visits"].aggregate([
            {"$match": {"tenant_id": tenant, "month": days[0][:7]}},
            {"$project": {"_id": 0, "employee_id": 1, "status": 1, "day": 1, "ci": {"$type": "$check_in"}}},
            {"$group": {"_id": {"e": "$employee_id", "s": "$status", "ci": "$ci", "d": "$day"}, "n": {"$sum": 1}}}]))

    t0 = time.perf_counter()
    built = rollup.build(store, tenant)
    print(f"seeded {VISITS} visits in {t_seed:.1f}s; rollup built once from {built} visits in "
          f"{time.perf_counter() - t0:.1f}s (afterwards kept in step by every visit change)")
    out = ours()
    t = out["totals"]
    print(f"in range: {t['planned']} planned / {t['actual']} actual, {out['details']['total']} detail rows")
    r_ours = timed_loop("employee summary (30 days, with trend and details)", ours, CALLS)
    r_bare = timed_loop("bare pymongo: same rollup reads, plain loop", bare, CALLS)
    ids = [f"{tenant}-{i}" for i in range(0, VISITS, max(1, VISITS // TOUCHES))][:TOUCHES]
    it = iter(ids)
    r_touch = timed_loop("rollup.touch after a visit change", lambda: rollup.touch(store, next(it)), len(ids))
    r_naive = timed_loop("old way: one $match/$group on visits (1 month)", naive, 1)
    print(r_ours.line())
    print(r_bare.line())
    print(ratio(r_ours, r_bare))
    print(r_touch.line())
    print(r_naive.line())
    try:
        from tests.support.rpc import RpcClient
        rpc = RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"])
        rpc.call("visits", "employee_visit_summary", ctx=ctx, filters=filters, timeout=120)
        r_rpc = timed_loop("employee_visit_summary over RPC", lambda: rpc.call(
            "visits", "employee_visit_summary", ctx=ctx, filters=filters, timeout=120), CALLS)
        print(r_rpc.line())
        rpc.close()
    except Exception as exc:  # the mixin is not wired into VisitsService yet
        print(f"(RPC not timed: {type(exc).__name__})")
    db["visits"].delete_many({"tenant_id": tenant})  # the bench databases are dropped at the end
