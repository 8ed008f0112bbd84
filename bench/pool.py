"""Pool benchmarks for ``make bench`` (wire as ``bench/pool.py``: ``run(stack, infra, env)``).

1. The reclaim sweep over ``BENCH_POOL_CUSTOMERS`` (default 100 000) private-pool customers
   (the real ``run_reclaim_sweep`` RPC; nobody is due, so it measures evaluation), next to a
   bare pymongo scan of the same rows.
2. Claims per second under 20 concurrent clients (real claims: pool slot inserts +
   customers.change_owner + read model), next to bare ``pool.health`` RPCs at the same
   concurrency.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

import pymongo

from bench.load import Result, ratio, timed_loop
from crmkit.context import CallContext

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

    def bare():
        for _ in db["customers"].find({"tenant_id": tenant, "private": True}):
            pass
    r_sweep = timed_loop(f"reclaim sweep over {CUSTOMERS} private customers", sweep, 1)
    r_bare = timed_loop("bare pymongo scan of the same rows", bare, 1)
    print(f"evaluated {out.get('evaluated')}: {out.get('evaluated', 0) / r_sweep.seconds:,.0f} customers/s "
          f"(bare scan {CUSTOMERS / r_bare.seconds:,.0f} rows/s)")
    print(ratio(r_sweep, r_bare))

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
    while time.time() < deadline and rpc.call("pool", "search_pool", ctx=sup, page_size=1)["total"] < CLAIMS:
        time.sleep(0.5)
    clients = [RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"]) for _ in range(CONCURRENCY)]
    local = threading.local()

    def cli():
        if not hasattr(local, "c"):
            local.c = clients.pop()
        return local.c

    def claim(i):
        cli().call("pool", "claim_customer", ctx=CallContext(tenant_id=t2, user_id=f"s{i % 50}"),
                   customer_id=ids[i], timeout=60)
    r_claims = _parallel(f"claims, {CONCURRENCY} concurrent clients", CLAIMS, claim)
    clients = [RpcClient(env["AMQP_URI"], env["CRM_CONTEXT_KEY"]) for _ in range(CONCURRENCY)]
    local = threading.local()
    r_health = _parallel(f"bare pool.health RPC, {CONCURRENCY} concurrent", CLAIMS,
                         lambda i: cli().call("pool", "health", timeout=60))
    print(r_claims.line())
    print(r_health.line())
    print(ratio(r_claims, r_health))
    db["customers"].delete_many({"tenant_id": tenant})
