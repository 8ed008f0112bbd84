"""Visits: check-in server time for a 12-megapixel JPEG (p50/p99) next to Pillow alone
opening and fully decoding the same photo; the calendar month query with 100 000 visits
in the tenant next to a bare pymongo read of the same rows."""
from __future__ import annotations

import base64
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
from PIL import Image

from bench.load import Result, ratio, timed_loop
from crmkit.context import CallContext
from tests.support.rpc import RpcClient

CHECK_INS = 25
VISITS = 100_000
EMPLOYEES = 100
CAL_CALLS = 40


def _photo() -> bytes:
    img = Image.effect_noise((4000, 3000), 50).convert("RGB")  # 12 Mpx
    img.paste((200, 40, 40), (0, 0, 2000, 1500))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def _visit(tenant: str, employee: str, day: str, status: str = "pending_check_in") -> dict:
    now = datetime.now(UTC)
    return {"_id": uuid.uuid4().hex, "tenant_id": tenant, "customer_id": "c-" + employee, "customer_name": "bench",
            "customer_kind": "own", "employee_id": employee, "created_by": employee, "owner_id": employee,
            "planned_at": now, "day": day, "month": day[:7], "status": status, "task": False,
            "location": {"address": "bench", "lat": 31.2304, "lng": 121.4737}, "topic": "bench", "scenario": "",
            "policy_version": "1", "project_ids": [], "created_at": now, "updated_at": now}


def run(stack, infra, env) -> None:
    db = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)[f"{env['MONGO_DB_PREFIX']}visits"]
    rpc = RpcClient(infra.amqp_uri, env["CRM_CONTEXT_KEY"])
    tenant = "bench-" + uuid.uuid4().hex[:8]
    emp = "emp-bench"
    ctx = CallContext(tenant_id=tenant, user_id=emp, roles=("employee",), name="Bench")
    today = datetime.now(UTC).astimezone().date().isoformat()

    # -- check-in of a 12 Mpx JPEG -------------------------------------------------------
    photo = _photo()
    print(f"photo: 4000x3000 JPEG, {len(photo) / 1e6:.1f} MB")

    def decode() -> None:
        im = Image.open(io.BytesIO(photo))
        im.load()

    bare = timed_loop("Pillow open + full decode (bench process)", decode, CHECK_INS)
    docs = [_visit(tenant, emp, today) for _ in range(CHECK_INS + 1)]
    db["visits"].insert_many(docs)
    b64 = base64.b64encode(photo).decode()
    lat = []
    started = time.perf_counter()
    for i, d in enumerate(docs):
        t0 = time.perf_counter()
        rpc.call("visits", "check_in", ctx=ctx, timeout=120, visit_id=d["_id"],
                 data={"lat": 31.2304, "lng": 121.4737, "source": "gps",
                       "time": (datetime.now(UTC) + timedelta(hours=3 * i)).isoformat()},
                 photo={"filename": "p.jpg", "data_b64": b64})
        if i:  # the first one warms up (font lookup, indexes)
            lat.append(time.perf_counter() - t0)
    ours = Result("visits.check_in RPC (validate, EXIF, 3 blobs, state)", len(lat),
                  time.perf_counter() - started, lat)
    print(bare.line())
    print(ours.line())
    print(ratio(ours, bare))

    # -- calendar month with 100 000 visits in the tenant -----------------------------------
    big = "bench-cal-" + uuid.uuid4().hex[:6]
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    t0 = time.perf_counter()
    batch: list[dict] = []
    buckets: dict[str, list[dict]] = {m: [] for m in months}

    def flush() -> None:
        db["visits"].insert_many(batch, ordered=False)
        batch.clear()
        for m, rows in buckets.items():
            if rows:
                db[f"calendar_{m.replace('-', '_')}"].insert_many(rows, ordered=False)
                rows.clear()

    for i in range(VISITS):
        m = months[i % 12]
        e = f"e{(i // 12) % EMPLOYEES}"
        # settled visits (the expiry sweep leaves them alone), with the fields the calendar reads
        row = {"_id": f"{big}-{i}", "tenant_id": big, "employee_id": e, "owner_id": e, "status": "valid",
               "month": m, "day": f"{m}-{(i // 1200) % 28 + 1:02d}", "customer_id": f"c{i % 5000}"}
        batch.append(row)
        buckets[m].append({k: row[k] for k in ("_id", "tenant_id", "employee_id", "owner_id", "day",
                                               "customer_id")})
        if len(batch) == 5000:
            flush()
    if batch:
        flush()
    print(f"seeded {VISITS} visits (+ month buckets) in {time.perf_counter() - t0:.1f}s")
    emp_ctx = CallContext(tenant_id=big, user_id="e7", roles=("employee",))
    admin_ctx = CallContext(tenant_id=big, user_id="admin", roles=("tenant_admin",))
    q = {"tenant_id": big, "employee_id": "e7"}
    naive = timed_loop("bare pymongo find on all visits {tenant, month, employee}",
                       lambda: list(db["visits"].find({**q, "month": "2026-03"}, {"day": 1})), 3)
    base = timed_loop("bare pymongo find on the month bucket {tenant, employee}",
                      lambda: list(db["calendar_2026_03"].find(q, {"day": 1})), CAL_CALLS // 4)
    cal = timed_loop("visits.calendar (employee, ~83 visits in the month)",
                     lambda: rpc.call("visits", "calendar", ctx=emp_ctx, month="2026-03", timeout=120),
                     CAL_CALLS // 4)
    print(naive.line())
    print(base.line())
    print(cal.line())
    print(ratio(cal, base))
    cal_all = timed_loop("visits.calendar scope=records (tenant admin, ~8 300)",
                         lambda: rpc.call("visits", "calendar", ctx=admin_ctx, month="2026-03", scope="records",
                                          timeout=120), 3)
    print(cal_all.line())
    rpc.close()
