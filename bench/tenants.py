"""A tenant's requests as other tenants grow (issue 18), ``python -m bench tenants``.

One tenant (made through the API, its data loaded like every other tenant's) is measured
through the gateway at ``CONCURRENCY`` callers:

    /healthz/identity          one ``_id`` read through the same gateway and service (the yardstick)
    /me                        authenticate + identity.me
    customers by owner         GET /api/v1/customers?owner_id=   (admin)
    visit calendar             GET /api/v1/visits/calendar        (an employee's month)
    review queue               GET /api/v1/visits/review-queue    (admin)
    inbox                      GET /api/v1/notifications          (admin)
    claim                      POST /api/v1/pool/customers/{id}/claim   (a department admin; each call
                               another pool customer, released by a colleague)

first on a platform of that one tenant, then after ``TENANTS`` - 1 more tenants are
bulk-loaded through the services' own storage code (not the API, to keep it quick), each
with 20 employees, 200 customers, 100 visits and 50 notifications by default (what each
service writes for them: ``tests/database/platform.py``). After the load every collection gets fresh planner
statistics (``compact``: PostgreSQL's VACUUM ANALYZE, what autovacuum does on a live
platform). Printed per request: req/s at both sizes and the ratio (target ≥ 0.8), and
``/me`` over ``/healthz/identity`` at both sizes (target ≥ 0.5).

    BENCH_TENANTS=2000         tenants on the big platform (the measured one included)
    BENCH_TENANT_EMPLOYEES=20  BENCH_TENANT_CUSTOMERS=200  BENCH_TENANT_VISITS=100
    BENCH_TENANT_NOTIFICATIONS=50
    BENCH_TENANT_REQUESTS=300  requests per measurement (claims: a third of it)
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pymongo

from bench.load import Result, http_load
from identity import store as identity_store
from tests.database.platform import Loader, Size, Tenant, tenant_identity

TENANTS = int(os.environ.get("BENCH_TENANTS", "2000"))
SIZE = Size(employees=int(os.environ.get("BENCH_TENANT_EMPLOYEES", "20")),
            customers=int(os.environ.get("BENCH_TENANT_CUSTOMERS", "200")),
            visits=int(os.environ.get("BENCH_TENANT_VISITS", "100")),
            notifications=int(os.environ.get("BENCH_TENANT_NOTIFICATIONS", "50")))
REQUESTS = int(os.environ.get("BENCH_TENANT_REQUESTS", "300"))
CLAIMS = max(10, REQUESTS // 3)
CLAIMS_ROOM = CLAIMS + 4  # claims of one phase and their warm-up (the pool's limits: room for both phases)
CONCURRENCY = 4
ROUNDS = 2
LOADERS = 3  # threads writing the bulk tenants (FerretDB and PostgreSQL share the 2 cores)
TARGET_GROWTH, TARGET_ME = 0.8, 0.5


def bulk_load(loader: Loader, first: int, count: int, password_hash: str) -> tuple[int, float]:
    """``count`` tenants by ``LOADERS`` threads: (documents written, seconds)."""
    counter = iter(range(first, first + count))
    lock = threading.Lock()
    written = [0]
    errors: list[BaseException] = []
    t0 = time.perf_counter()

    def worker() -> None:
        while not errors:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            try:
                w = loader.bulk_tenant(n, password_hash)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            with lock:
                written[0] += w
                if (n - first + 1) % 200 == 0:
                    print(f"    {n - first + 1} tenants loaded ({written[0]} documents, "
                          f"{time.perf_counter() - t0:.0f} s)", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(LOADERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return written[0], time.perf_counter() - t0


# -- the measured tenant ---------------------------------------------------------------------------
@dataclass
class Measured:
    tenant: Any  # tests.support.tenants.Tenant
    pool_ids: list[str]  # public-pool customers, claimed one per request


def _pool_customers(http: httpx.Client, t: Any, n: int) -> list[str]:
    """``n`` customers entered by one colleague and released to the public pool (the API)."""
    ids = []
    for _ in range(n):
        k = str(uuid.uuid4().int)
        r = http.post("/api/v1/customers", headers=t.headers("employee2"), json={
            "name": f"公海{uuid.uuid4().hex[:8]}电子有限公司", "address": "苏州", "industry": "电子",
            "landlines": [f"0512-{k[:8]}"]})
        r.raise_for_status()
        ids.append(r.json()["id"])
    for cid in ids:
        http.post(f"/api/v1/customers/{cid}/release", headers=t.headers("employee2"),
                  json={"reason": "放公海"}).raise_for_status()
    deadline = time.time() + 120
    for cid in ids:  # the pool learns the release from the customers service's events
        while True:
            r = http.get(f"/api/v1/pool/customers/{cid}", headers=t.headers("admin"))
            if r.status_code == 200 and r.json().get("owner_id") is None:
                break
            if time.time() > deadline:
                raise RuntimeError(f"pool customer {cid} not released in time: {r.status_code} {r.text[:200]}")
            time.sleep(0.2)
    return ids


def setup(stack: Any, env: dict[str, str], loader: Loader) -> Measured:
    from tests.support.tenants import make_tenant

    with httpx.Client(base_url=stack.url, timeout=60) as http:
        t = make_tenant(http, env["OPERATOR_SECRET"])
        http.put("/api/v1/pool/rules", headers=t.headers("admin"),
                 json={"capacity": 2 * CLAIMS_ROOM, "daily_claim_limit": 2 * CLAIMS_ROOM}).raise_for_status()
        pool_ids = _pool_customers(http, t, 2 * CLAIMS_ROOM)
    # the measured tenant's own data, like every other tenant's (its people own the customers)
    # (the claimer, dept_admin, owns none of them: its claims do not grow the measured lists)
    owners = [t.ids[k] for k in ("employee", "employee2", "all_customers")]
    ident = loader.dbs["identity"]
    password_hash = ident.employees.find_one({"_id": t.admin_id})["password_hash"]
    _, _, _, extra = tenant_identity(0, password_hash, loader.now, SIZE)
    for e in extra[: max(0, SIZE.employees - len(t.ids))]:
        e.update(tenant_id=t.tenant_id, dept_ids=[t.depts["dept_b"]], primary_dept_id=t.depts["dept_b"],
                 mobile_key=identity_store.mobile_key(t.tenant_id, e["mobile"]))
        ident.employees.insert_one(e)
    me = Tenant(t.tenant_id, t.admin_id, [t.admin_id, *owners], [t.depts["root"]])
    loader.tenant_data(me, owners)
    return Measured(t, pool_ids)


# -- measuring -------------------------------------------------------------------------------------
def _claims(base_url: str, headers: dict[str, str], ids: list[str]) -> Result:
    """One claim per id, ``CONCURRENCY`` callers."""
    async def run() -> Result:
        latencies: list[float] = []
        todo = list(ids)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as client:
            async def worker() -> None:
                while todo:
                    cid = todo.pop()
                    t = time.perf_counter()
                    r = await client.post(f"/api/v1/pool/customers/{cid}/claim", json={})
                    latencies.append(time.perf_counter() - t)
                    if r.status_code >= 400:
                        raise RuntimeError(f"claim {cid}: {r.status_code} {r.text[:200]}")
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            return Result("claim", len(latencies), time.perf_counter() - started, latencies)
    return asyncio.run(run())


def requests(stack: Any, m: Measured) -> list[tuple[str, Callable[[int], Result]]]:
    t, url = m.tenant, stack.url

    def get(path: str, role: str | None) -> Callable[[int], Result]:
        headers = t.headers(role) if role else {}
        return lambda n: http_load(path, url + path, CONCURRENCY, n, headers=headers)

    month = datetime.now(UTC).strftime("%Y-%m")
    return [
        ("/healthz/identity", get("/healthz/identity", None)),
        ("/me", get("/api/v1/me", "employee")),
        ("customers by owner", get(f"/api/v1/customers?owner_id={t.ids['employee']}", "admin")),
        ("visit calendar", get(f"/api/v1/visits/calendar?month={month}", "employee")),
        ("review queue", get("/api/v1/visits/review-queue", "admin")),
        ("inbox", get("/api/v1/notifications", "admin")),
    ]


def _line(name: str, r: Result) -> str:
    return f"  {name:<22} {r.rps:8.1f} req/s   p50 {r.pct(0.5):7.1f} ms   p99 {r.pct(0.99):7.1f} ms  (n={r.requests})"


def measure(label: str, stack: Any, m: Measured, pool_ids: list[str]) -> dict[str, Result]:
    """Each GET ``ROUNDS`` times in turn (the best round counts: the machine is shared and
    noisy), then the claims once (each needs a pool customer of its own)."""
    print(f"\n  -- {label}: {CONCURRENCY} callers, best of {ROUNDS} rounds", flush=True)
    out: dict[str, Result] = {}
    loads = requests(stack, m)
    for _, load in loads:
        load(max(20, REQUESTS // 10))  # warm-up
    for _ in range(ROUNDS):
        for name, load in loads:
            r = load(REQUESTS)
            if name not in out or r.rps > out[name].rps:
                out[name] = r
    for name, _ in loads:
        print(_line(name, out[name]))
    headers = m.tenant.headers("dept_admin")
    _claims(stack.url, headers, pool_ids[:4])  # warm-up
    out["claim"] = r = _claims(stack.url, headers, pool_ids[4:])
    print(_line("claim", r), flush=True)
    return out


def _login_again(stack: Any, m: Measured) -> None:
    from tests.support.tenants import login

    t = m.tenant
    with httpx.Client(base_url=stack.url, timeout=60) as http:
        for role in t.tokens:
            t.tokens[role] = login(http, t.code, t.mobiles[role], t.password)["access_token"]


def run(stack, infra, env) -> None:
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    loader = Loader(client, env["MONGO_DB_PREFIX"], SIZE)
    m = setup(stack, env, loader)
    half = CLAIMS_ROOM
    small = measure("1 tenant", stack, m, m.pool_ids[:half])
    password_hash = loader.dbs["identity"].employees.find_one({"_id": m.tenant.admin_id})["password_hash"]
    print(f"\n  loading {TENANTS - 1} more tenants ({SIZE.employees} employees, {SIZE.customers} customers, "
          f"{SIZE.visits} visits, {SIZE.notifications} notifications each: {SIZE.documents} documents a tenant)",
          flush=True)
    written, seconds = bulk_load(loader, 1, TENANTS - 1, password_hash)
    t0 = time.perf_counter()
    loader.analyze()
    print(f"  loaded {written} documents in {seconds:.0f} s ({written / max(seconds, 1e-9):.0f}/s); "
          f"planner statistics in {time.perf_counter() - t0:.0f} s")
    _login_again(stack, m)  # the load outlasts an access token
    big = measure(f"{TENANTS} tenants", stack, m, m.pool_ids[half:])
    base = big["/healthz/identity"].rps / small["/healthz/identity"].rps
    print(f"\n  -- req/s at {TENANTS} tenants over 1 tenant (target ≥ {TARGET_GROWTH}); beside it the ratio over "
          f"/healthz/identity's own ({base:.2f}x: what the machine's load alone changed)")
    for name, r in small.items():
        ratio = big[name].rps / r.rps
        print(f"  {name:<22} {r.rps:8.1f} -> {big[name].rps:8.1f} req/s   {ratio:5.2f}x  "
              f"{'ok' if ratio >= TARGET_GROWTH else 'BELOW TARGET'}   (over the yardstick's: {ratio / base:5.2f}x)")
    print(f"\n  -- /me over /healthz/identity at {CONCURRENCY} callers (target ≥ {TARGET_ME})")
    for label, figs in (("1 tenant", small), (f"{TENANTS} tenants", big)):
        ratio = figs["/me"].rps / figs["/healthz/identity"].rps
        print(f"  {label:<22} {figs['/me'].rps:8.1f} / {figs['/healthz/identity'].rps:8.1f} req/s   {ratio:5.2f}x  "
              f"{'ok' if ratio >= TARGET_ME else 'BELOW TARGET'}")
    client.close()
