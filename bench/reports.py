"""Visit reports: the employee summary over 30 days with 200 000 visits in the tenant
(report_rules + reports, the same code the RPC runs: series, 12-month trend, details
page), next to the series' aggregation run with bare pymongo (one $match on month,
$group by employee/status/check-in/day, nothing combined).

Runs on the visits database of the bench stack; with the report mixin wired into
VisitsService it also times the ``employee_visit_summary`` RPC.
Size: ``BENCH_REPORT_VISITS`` (default 200 000)."""
from __future__ import annotations

import os
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
STATUSES = ("completed", "valid", "invalid", "pending_check_in", "expired", "cancelled", "pending_notes")


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
    from visits import reports  # the service's own code, on the bench's database

    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    db = client[f"{env['MONGO_DB_PREFIX']}visits"]
    reports.ensure_indexes(db)
    from visits import store
    store.ensure_indexes(db)
    tenant = "bench-" + uuid.uuid4().hex[:8]
    start = date(2026, 3, 1)
    batch = 5000
    for off in range(0, VISITS, batch):
        db["visits"].insert_many(list(_docs(tenant, start, min(batch, VISITS - off), off)), ordered=False)
    days = [(start + timedelta(days=i)).isoformat() for i in range(DAYS)]
    ctx = CallContext(tenant_id=tenant, user_id="admin", roles=("tenant_admin",))
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    filters = {"from": days[0], "to": days[-1], "limit": 100}

    def ours():
        return reports.employee_summary(db, ctx, None, now, filters)

    def bare():  # the series' own aggregation (one month, grouped by day), nothing else
        list(db["visits"].aggregate([
            {"$match": {"tenant_id": tenant, "month": days[0][:7]}},
            {"$project": {"_id": 0, "employee_id": 1, "status": 1, "day": 1, "ci": {"$type": "$check_in"}}},
            {"$group": {"_id": {"e": "$employee_id", "s": "$status", "ci": "$ci", "d": "$day"}, "n": {"$sum": 1}}}]))

    out = ours()
    t = out["totals"]
    print(f"visits in tenant: {VISITS}, in range: {t['planned']} planned / {t['actual']} actual")
    r_ours = timed_loop("employee summary (30 days, with trend and details)", ours, CALLS)
    r_bare = timed_loop("bare pymongo: the same month $group", bare, CALLS)
    print(r_ours.line())
    print(r_bare.line())
    print(ratio(r_ours, r_bare))
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
    db["visits"].delete_many({"tenant_id": tenant})
