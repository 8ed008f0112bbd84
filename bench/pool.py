"""Pool benchmarks for ``make bench`` (wire as ``bench/pool.py``: ``run(stack, infra, env)``).

1. The reclaim sweep over ``BENCH_POOL_CUSTOMERS`` (default 100 000) private-pool customers
   (the real ``run_reclaim_sweep`` RPC; nobody is due, so it measures evaluation), next to a
   bare pymongo scan of the same rows (same query and batch size), alternated twice; then
   what one find and one update by ``_id`` cost on that collection.
2. Claims per second under 20 concurrent clients (real claims: slot inserts, the ownership
   log insert and the read-model row, all in the pool; one RPC gateway-side), next to bare
   ``pool.health`` RPCs at the same concurrency, on a read model without the sweep's rows;
   with the pool's own count of database round trips per claim (``_test_db_trace``; its
   sections would name any RPC the claim made to another service).
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

import pymongo

from bench.load import Result, ratio
from crmkit.context import CallContext
from crmkit.errors import CrmError

CUSTOMERS = int(os.environ.get("BENCH_POOL_CUSTOMERS", "100000"))
CLAIMS = int(os.environ.get("BENCH_POOL_CLAIMS", "200"))
CONCURRENCY = 20


def _rows(tenant: str, n: int, offset: int):
    now = datetime.now(UTC)
    for i in range(offset, offset + n):
        yield {"_id": f"{tenant}-{i}", "tenant_id": tenant, "owner_id": f"e{i % 300}", "private": True,
               "deleted": False, "entered_at": now, "seq": 1, "epoch": 1, "name": f"bench {i}"}


def _parallel(name: str, n: int, fn) -> Result:
    lat: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            fn(i)
            with lock:
                lat.append(time.perf_counter() - t0)
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return Result(name, n, time.perf_counter() - t0, lat)


def run(stack, infra, env) -> None:
    from tests.support.rpc import RpcClient

    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    db = client[f"{env['MONGO_DB_PREFIX']}pool"]
    tenant = "bench-" + uuid.uuid4().hex[:8]
    for off in range(0, CUSTOMERS, 5000):
        db["customers"].insert_many(list(_rows(tenant, min(5000, CUSTOMERS - off), off)), ordered=False)
    admin = CallContext(tenant_id=tenant, user_id="admin", roles=("tenant_admin",))
    rpc = RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"])
    out = {}

    def sweep():
        out.update(rpc.call("pool", "run_reclaim_sweep", ctx=admin, timeout=1800))

    def bare():  # the same query and batch size as the sweep, every field of every row
        for _ in db["customers"].find({"tenant_id": tenant, "private": True}).batch_size(2000):
            pass
    # alternate (bare, sweep, sweep, bare): the machine is shared, so both see the same noise
    runs: dict[str, list[float]] = {"sweep": [], "bare": []}
    for name in ("bare", "sweep", "sweep", "bare"):
        t0 = time.perf_counter()
        (sweep if name == "sweep" else bare)()
        runs[name].append(time.perf_counter() - t0)
    r_sweep = Result(f"reclaim sweep over {CUSTOMERS} private customers", 2, sum(runs["sweep"]), runs["sweep"])
    r_bare = Result("bare pymongo scan of the same rows", 2, sum(runs["bare"]), runs["bare"])
    per = [f"{CUSTOMERS / s:,.0f}" for s in runs["sweep"]], [f"{CUSTOMERS / s:,.0f}" for s in runs["bare"]]
    print(f"evaluated {out.get('evaluated')} per sweep: {2 * CUSTOMERS / r_sweep.seconds:,.0f} customers/s "
          f"(runs {', '.join(per[0])}); bare scan {2 * CUSTOMERS / r_bare.seconds:,.0f} rows/s "
          f"(runs {', '.join(per[1])})")
    print(ratio(r_sweep, r_bare))
    from pool.reclaim import SWEEP_FIELDS
    t0 = time.perf_counter()
    for _ in db["customers"].find({"tenant_id": tenant, "private": True}, SWEEP_FIELDS).batch_size(2000):
        pass
    t_proj = time.perf_counter() - t0
    print(f"bare pymongo scan with the sweep's projection: {CUSTOMERS / t_proj:,.0f} rows/s "
          f"(the sweep: {out.get('evaluated', 0) * 2 / r_sweep.seconds / (CUSTOMERS / t_proj):.2f}x of it)")
    # what any write to a row of this collection costs here (FerretDB/SQLite pushes no filter of
    # an update down: an update by ``_id`` reads the whole collection; a find by ``_id`` does not)
    t0 = time.perf_counter()
    for i in range(3):
        db["customers"].find_one({"_id": f"{tenant}-{i}"})
    t_find = (time.perf_counter() - t0) / 3
    t0 = time.perf_counter()
    db["customers"].update_one({"_id": f"{tenant}-0"}, {"$set": {"touched": True}})
    t_upd = time.perf_counter() - t0
    print(f"bare pymongo on the {CUSTOMERS}-row collection: find_one by _id {t_find * 1000:.1f} ms, "
          f"update_one by _id {t_upd * 1000:.1f} ms")
    # the claims below run on a read model without the sweep's rows (FerretDB cannot delete
    # 100 000 rows in one statement: "too many SQL variables"; the collection holds only them)
    db["customers"].drop()
    from pool.store import ensure_indexes
    ensure_indexes(db)

    # claims under 20 concurrent clients
    t2 = "bench-" + uuid.uuid4().hex[:8]
    sup = CallContext(tenant_id=t2, user_id="bench-admin", roles=("tenant_admin",))
    ids = []
    for _ in range(CLAIMS):
        n = str(uuid.uuid4().int)
        c = rpc.call("customers", "create_customer", ctx=sup, data={
            "name": f"压测{uuid.uuid4().hex[:10]}有限公司", "address": "苏州", "landlines": [f"0512-{n[:8]}"]})
        rpc.call("customers", "change_owner", ctx=sup, customer_id=c["id"], expected_owner_id="bench-admin",
                 new_owner_id=None, path="release", reason="bench")
        ids.append(c["id"])
    deadline = time.time() + 300

    def public(cid: str) -> bool:
        try:
            return rpc.call("pool", "get_pool_customer", ctx=sup, customer_id=cid)["owner_id"] is None
        except CrmError:  # not in the pool's read model yet
            return False
    for cid in ids:  # each public in the pool's read model (by id: a search would scan the sweep's rows)
        while time.time() < deadline and not public(cid):
            time.sleep(0.2)
    clients = [RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"]) for _ in range(CONCURRENCY)]
    local = threading.local()

    def cli():
        if not hasattr(local, "c"):
            local.c = clients.pop()
        return local.c

    def claim(i):
        cli().call("pool", "claim_customer", ctx=CallContext(tenant_id=t2, user_id=f"s{i % 50}"),
                   customer_id=ids[i], timeout=60)
    trace0 = rpc.call("pool", "_test_db_trace", reset=True)
    r_claims = _parallel(f"claims, {CONCURRENCY} concurrent clients", CLAIMS, claim)
    time.sleep(2)  # let the owner_changed events of the last claims be handled
    trace = rpc.call("pool", "_test_db_trace", reset=True)
    clients = [RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"]) for _ in range(CONCURRENCY)]
    local = threading.local()
    r_health = _parallel(f"bare pool.health RPC, {CONCURRENCY} concurrent", CLAIMS,
                         lambda i: cli().call("pool", "health", timeout=60))
    print(r_claims.line())
    print(r_health.line())
    print(ratio(r_claims, r_health))
    cpu = trace["_process"]["cpu_seconds"] - trace0["_process"]["cpu_seconds"]
    print(f"pool process CPU: {cpu / CLAIMS * 1000:.1f} ms per claim (all its work, events included)")
    for name in ("claim_customer", "on_owner_changed"):
        st = trace.get(name)
        if not st:
            continue
        print(f"{name}: {st['ops_per_call']:.1f} database round trips per call "
              f"({st['calls']} calls, {st['seconds'] / max(1, st['calls']) * 1000:.1f} ms each)")
        for sec, secs in sorted(st["sections"].items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {sec}: {secs / max(1, st['calls']) * 1000:.1f} ms per call "
                  f"({secs / max(1e-9, st['seconds']):.0%} of the {name} time)")
        top = sorted(st["ops"].items(), key=lambda kv: -kv[1])
        print("  " + ", ".join(f"{k} {v / st['calls']:.1f}" for k, v in top))
