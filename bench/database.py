"""The database under the list screens (issue 17), ``python -m bench database``.

One tenant holds 100 000 customers, loaded by the customers service's own import code
(``customers.imports.run_import``: 400 imports of 250 rows, one owner each — below the pool's
default private capacity of 300 per sales person — keys reserved,
ownership log and timeline written; the import's events are staged in an outbox of a side
database that no relay reads, so the other services are not flooded), 2 000 of them tagged;
100 000 visits (500 completed, awaiting review) and 100 000 notifications (1 000 the admin's).

Each screen is measured through the gateway and, on the same server in the same run, as the
bare pymongo queries the service makes for it:

    customers by owner       GET /api/v1/customers?owner_id=   (console; count + sorted page)
    my customers             GET /api/v1/customers             (an employee: own, shared, departments)
    customers by tag         GET /api/v1/customers?tag=
    customers by keyword     GET /api/v1/customers?q=          (every visible row is read: no index serves it)
    review queue             GET /api/v1/visits/review-queue
    inbox                    GET /api/v1/notifications

first on the session's server (FerretDB on PostgreSQL by default): p50 with one caller and
throughput with one and with ``CONCURRENCY`` callers, gateway / bare. Then the same load on
FerretDB's SQLite backend (the same build, a private server and a second stack), where it
builds: there every screen reads whole tables, so each is measured once bare, and once through
the gateway when the bare queries alone fit in the gateway's RPC timeout (else the gateway
cannot answer it: the bare time is then a lower bound of the gateway's). Printed: the ratios
of the two backends' p50s (SQLite's gateway, or its bare lower bound, over PostgreSQL's gateway)
and of the two loads' durations.

    BENCH_DB_CUSTOMERS=100000   customers (visits and notifications: the same number)
    BENCH_DB_SQLITE=1           0: skip the SQLite comparison
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pymongo

from bench.load import Result, http_load, thread_load, timed_loop
from crmkit.context import CallContext
from crmkit.envelope import make_event, sign_event
from crmkit.outbox import Outbox
from customers import imports as customer_imports
from customers.rules import validate_customer
from customers.sheets import Parsed
from customers.store import Store as CustomerStore
from devstack.stack import base_env, free_port, full_stack
from notify import rules as notify_rules
from notify.store import delivery_key

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = int(os.environ.get("BENCH_DB_CUSTOMERS", "100000"))
WITH_SQLITE = os.environ.get("BENCH_DB_SQLITE", "1") != "0"
OWNERS = 400  # sales people holding the customers, 250 each at 100 000
GATEWAY_TIMEOUT = 10.0  # the gateway's default RPC timeout (gateway/settings.py)
TAGGED = CUSTOMERS // 50
REVIEWS = 500
CONCURRENCY = 4
THROUGHPUT_CALLS = 100


@dataclass
class Data:
    tenant: Any  # tests.support.tenants.Tenant
    owner_id: str  # a sales person with CUSTOMERS // OWNERS customers (not the measured employee)
    tag_id: str
    keyword: str
    employee_depts: list[str] = field(default_factory=list)
    load_seconds: float = 0.0  # the customers' imports


class _ImportKit:
    """What ``run_import`` uses of the customers service's kit: its clock, events in the caller's
    context and the outbox (here one that no relay reads); ``store`` is the service's ``Store``."""

    def __init__(self, db: Any, side_db: Any, key: str):
        self.store = CustomerStore(db)
        self.outbox = Outbox(side_db, self.now)
        self.key = key
        self.ctx: CallContext | None = None

    def now(self) -> datetime:
        return datetime.now(UTC)

    def event(self, type: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self.ctx is not None
        return sign_event(make_event(type, self.ctx.tenant_id, self.ctx.user_id, data, occurred_at=self.now()),
                          self.key)


def _customer_row(i: int) -> dict[str, Any]:
    """A clean row as the import's sheet parser makes it."""
    return validate_customer({"name": f"苏州基准{i:06d}精密有限公司", "address": f"苏州市工业园区 {i} 号",
                              "industry": "电子", "grade": "ABC"[i % 3], "region": "华东", "remark": None,
                              "landlines": [f"0512-{60000000 + i}"], "faxes": [], "mobiles": [],
                              "location": {"lat": 31.2 + (i % 100) / 1000, "lng": 120.5 + (i % 100) / 1000}})


def _load_customers(kit: _ImportKit, tenant: Any, employee_id: str, dept_id: str) -> str:
    """CUSTOMERS rows by OWNERS importers; the first import is the measured employee's."""
    owners = [employee_id] + [f"bench-owner-{n:03d}" for n in range(1, OWNERS)]
    per = CUSTOMERS // OWNERS
    for n, owner in enumerate(owners):
        kit.ctx = CallContext(tenant_id=tenant.tenant_id, user_id=owner, roles=("employee",),
                              dept_ids=(dept_id,) if owner == employee_id else ())
        parsed = Parsed(rows=[(r + 2, _customer_row(n * per + r)) for r in range(per)])
        customer_imports.run_import(kit, kit.store, kit.ctx, parsed)
    return owners[1]


def _tag(db: Any, tenant_id: str, tag_id: str) -> None:
    """Every 50th customer carries the tag (the write ``update_customer`` makes, without its event)."""
    ids = [d["_id"] for d in db["customers"].find({"tenant_id": tenant_id}, {"_id": 1})]
    for cid in sorted(ids)[::50][:TAGGED]:
        db["customers"].update_one({"_id": cid}, {"$set": {"tags": [tag_id]}})


def _load_visits(db: Any, tenant_id: str) -> None:
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    for i in range(CUSTOMERS):
        day = (now - timedelta(days=i % 60)).date().isoformat()
        emp = f"bench-owner-{i % OWNERS:03d}"
        doc = {"_id": f"bv-{i}", "tenant_id": tenant_id, "customer_id": f"c{i}", "customer_name": "bench",
               "customer_kind": "own", "employee_id": emp, "created_by": emp, "owner_id": emp, "planned_at": now,
               "day": day, "month": day[:7], "status": "valid", "task": False, "topic": "bench", "scenario": "",
               "location": {"address": "bench", "lat": 31.2304, "lng": 121.4737}, "policy_version": "1",
               "project_ids": [], "created_at": now, "updated_at": now}
        if i % (CUSTOMERS // REVIEWS) == 0:  # checked in and out, awaiting review
            at = now - timedelta(hours=i % 500)
            doc.update(status="completed", completed_at=at, notes={"text": "谈了新品"},
                       check_in={"at": at - timedelta(minutes=40), "point": {"lat": 31.2304, "lng": 121.4737,
                                                                             "source": "gps", "accuracy": 10}},
                       check_out={"at": at, "point": {"lat": 31.2305, "lng": 121.4738, "source": "gps",
                                                      "accuracy": 12}})
        batch.append(doc)
        if len(batch) == 5000:
            db["visits"].insert_many(batch, ordered=False)
            batch.clear()
    if batch:
        db["visits"].insert_many(batch, ordered=False)


def _load_notifications(db: Any, tenant_id: str, admin_id: str) -> None:
    """Rows as ``notify.store.Store.add_notification`` writes them, in bulk."""
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    for i in range(CUSTOMERS):
        recipient = admin_id if i % OWNERS == 0 else f"bench-owner-{i % OWNERS:03d}"
        event_id = f"bench-ev-{i}"
        nid = delivery_key(event_id, recipient, "inbox")
        at = now - timedelta(seconds=i)
        batch.append({"_id": nid, "tenant_id": tenant_id, "event_id": event_id, "recipient_id": recipient,
                      "channel": "inbox", "kind": "pool.reclaimed", "title": f"客户 {i} 已回收", "body": "到期回收",
                      "language": "zh-CN", "data": {"customer_id": f"c{i}"}, "read": i % 3 == 0, "read_at": None,
                      "created_at": at, "sort_key": notify_rules.sort_key(at, nid)})
        if len(batch) == 5000:
            db["notifications"].insert_many(batch, ordered=False)
            batch.clear()
    if batch:
        db["notifications"].insert_many(batch, ordered=False)


def load(stack: Any, client: pymongo.MongoClient, env: dict[str, str]) -> Data:
    from tests.support.tenants import make_tenant

    prefix = env["MONGO_DB_PREFIX"]
    with httpx.Client(base_url=stack.url, timeout=60) as http:
        tenant = make_tenant(http, env["OPERATOR_SECRET"])
        group = http.post("/api/v1/tag-groups", headers=tenant.headers(), json={
            "name": "客户级别", "color": "red", "tags": [{"name": "重点"}]})
        group.raise_for_status()
        tag_id = group.json()["tags"][0]["id"]
        me = http.get("/api/v1/me", headers=tenant.headers("employee")).json()
    depts = list(me.get("dept_ids") or [tenant.depts["dept_a"]])
    t0 = time.perf_counter()
    kit = _ImportKit(client[f"{prefix}customers"], client[f"{prefix}bench_side_outbox"], env["CRM_CONTEXT_KEY"])
    owner = _load_customers(kit, tenant, tenant.ids["employee"], depts[0])
    seconds = time.perf_counter() - t0
    print(f"  loaded {CUSTOMERS} customers by {OWNERS} imports in {seconds:.1f}s")
    t0 = time.perf_counter()
    _tag(client[f"{prefix}customers"], tenant.tenant_id, tag_id)
    _load_visits(client[f"{prefix}visits"], tenant.tenant_id)
    _load_notifications(client[f"{prefix}notify"], tenant.tenant_id, tenant.admin_id)
    print(f"  tagged {TAGGED}, loaded {CUSTOMERS} visits and {CUSTOMERS} notifications in "
          f"{time.perf_counter() - t0:.1f}s")
    return Data(tenant=tenant, owner_id=owner, tag_id=tag_id, keyword="基准05012", employee_depts=depts,
                load_seconds=seconds)


# -- the screens: (name, path, role, bare queries) ------------------------------------------------
def screens(client: pymongo.MongoClient, env: dict[str, str], data: Data) -> list[tuple[str, str, str, Callable]]:
    prefix, t = env["MONGO_DB_PREFIX"], data.tenant
    customers = client[f"{prefix}customers"]["customers"]
    visits_db = client[f"{prefix}visits"]
    inbox = client[f"{prefix}notify"]["notifications"]
    live = {"tenant_id": t.tenant_id, "deleted": False}

    def page(base: dict[str, Any]) -> None:  # registry.list_customers, everything visible
        customers.count_documents(base)
        list(customers.find(base).sort([("created_at", -1), ("_id", -1)]).skip(0).limit(50))

    def union(filters: list[dict[str, Any]], keyword: str = "") -> None:  # registry.visible_docs + page
        seen: dict[str, dict[str, Any]] = {}
        proj = {"_id": 1, "created_at": 1, "name": 1, "name_key": 1, "phone_keys": 1}
        for f in filters:
            for r in customers.find({**live, **f}, proj):
                seen.setdefault(r["_id"], r)
        rows = sorted(seen.values(), key=lambda r: (r["created_at"], r["_id"]), reverse=True)
        if keyword:
            rows = [r for r in rows if keyword in r.get("name", "").lower() or keyword in r.get("name_key", "")]
        for r in rows[:50]:
            customers.find_one({"_id": r["_id"]})

    def review() -> None:  # visits.review.queue
        visits_db["settings"].find_one({"_id": t.tenant_id})
        rows = list(visits_db["visits"].find({"tenant_id": t.tenant_id, "status": "completed"}))
        rows.sort(key=lambda r: r.get("completed_at") or r["updated_at"])

    def inbox_page() -> None:  # notify.store.list_notifications
        list(inbox.find({"tenant_id": t.tenant_id, "recipient_id": t.admin_id}).sort("sort_key", -1).limit(21))

    me = t.ids["employee"]
    return [
        ("customers by owner", f"/api/v1/customers?owner_id={data.owner_id}", "admin",
         lambda: page({**live, "owner_id": data.owner_id})),
        ("my customers (employee)", "/api/v1/customers", "employee",
         lambda: union([{"owner_id": me}, {"shared_with": me}] + [{"dept_ids": d} for d in data.employee_depts])),
        ("customers by tag", f"/api/v1/customers?tag={data.tag_id}", "admin",
         lambda: page({**live, "tags": data.tag_id})),
        ("customers by keyword", f"/api/v1/customers?q={data.keyword}", "admin",
         lambda: union([{}], data.keyword)),
        ("review queue", "/api/v1/visits/review-queue", "admin", review),
        ("inbox", "/api/v1/notifications", "admin", inbox_page),
    ]


def _calls(seconds_each: float, budget: float, lo: int, hi: int) -> int:
    """How many calls of ``seconds_each`` fit in ``budget`` seconds, within [lo, hi]."""
    return max(lo, min(hi, int(budget / max(seconds_each, 1e-3))))


@dataclass
class Figures:
    bare: Result
    gateway: Result | None = None  # None: failed (``failure``) or not tried (``failure`` says why)
    gateway_c: Result | None = None  # CONCURRENCY callers
    bare_c: Result | None = None
    failure: str = ""


def _error(exc: RuntimeError) -> str:
    return str(exc).split(": ", 1)[-1][:100]


def measure(label: str, stack: Any, client: pymongo.MongoClient, env: dict[str, str], data: Data,
            slow: bool = False) -> dict[str, Figures]:
    """Per screen: p50 with one caller bare and through the gateway, then req/s with CONCURRENCY
    callers both ways. Sample counts fit a time budget, so a screen that reads whole tables costs
    a few calls, not minutes of them. ``slow`` (a server that reads whole tables for every screen):
    one bare call, and one gateway call when the bare queries fit in the gateway's RPC timeout."""
    from tests.support.tenants import login

    t = data.tenant
    with httpx.Client(base_url=stack.url, timeout=60) as http:  # fresh tokens after the load
        tokens = {role: login(http, t.code, t.mobiles[role], t.password)["access_token"]
                  for role in ("admin", "employee")}
    out: dict[str, Figures] = {}
    print(f"\n  -- {label}: " + ("one bare call per screen, one through the gateway where it can answer" if slow
                                   else f"p50 with one caller, throughput with {CONCURRENCY} callers"))
    for name, path, role, bare in screens(client, env, data):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        url = stack.url + path
        if slow:
            fig = Figures(timed_loop(f"{name}: bare", bare, 1))
            if fig.bare.seconds < GATEWAY_TIMEOUT:
                try:
                    fig.gateway = http_load(f"{name}: gateway", url, 1, 1, headers=headers, timeout=600)
                except RuntimeError as exc:
                    fig.failure = _error(exc)
            else:
                fig.failure = f"not tried: the bare queries alone take more than the gateway's {GATEWAY_TIMEOUT:.0f} s"
        else:
            first = timed_loop("bare warm-up", bare, 1)
            fig = Figures(timed_loop(f"{name}: bare", bare, _calls(first.seconds, 15, 1, 30)))
            try:
                warm = http_load("warm-up", url, 1, 2, headers=headers, timeout=600)
                fig.gateway = http_load(f"{name}: gateway", url, 1, _calls(min(warm.latencies), 15, 3, 30),
                                        headers=headers, timeout=600)
            except RuntimeError as exc:  # the gateway answered an error: report it, go on
                fig.failure = _error(exc)
        out[name] = fig
        line = f"  {name:<26} bare p50 {fig.bare.pct(0.5):9.1f} ms (n={fig.bare.requests})"
        if fig.gateway is None:
            print(f"{line}   gateway: {fig.failure}")
            continue
        ours = fig.gateway
        line += f"   gateway p50 {ours.pct(0.5):9.1f} ms (n={ours.requests})"
        if not slow:
            line += f"   one caller's req/s gateway/bare {ours.rps / fig.bare.rps:.2f}x"
            if ours.pct(0.5) < 5000:
                total = _calls(ours.pct(0.5) / 1000 / CONCURRENCY, 20, 2 * CONCURRENCY, THROUGHPUT_CALLS)
                fig.bare_c = thread_load(f"{name}: bare x{CONCURRENCY}", bare, CONCURRENCY, total)
                try:
                    fig.gateway_c = http_load(f"{name}: gateway x{CONCURRENCY}", url, CONCURRENCY, total,
                                              headers=headers, timeout=600)
                    line += (f"   x{CONCURRENCY}: req/s gateway {fig.gateway_c.rps:6.2f} bare {fig.bare_c.rps:6.2f}"
                             f" = {fig.gateway_c.rps / fig.bare_c.rps:.2f}x")
                except RuntimeError as exc:
                    line += f"   x{CONCURRENCY}: bare {fig.bare_c.rps:6.2f} req/s, gateway FAILED {_error(exc)[:60]}"
        print(line)
    return out


def _backend(client: pymongo.MongoClient, prefix: str) -> str:
    from tests.database.plans import backend

    db = client[f"{prefix}bench_probe"]
    db.probe.insert_one({"_id": "p"})
    try:
        return backend(db.command("explain", {"find": "probe", "filter": {"_id": "p"}}))
    finally:
        client.drop_database(db.name)


def _built_binary() -> str | None:
    """The patched FerretDB binary (built when missing), or None where it does not build."""
    try:
        return subprocess.run([str(ROOT / "scripts" / "infra.sh"), "binary"], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
    except subprocess.CalledProcessError as exc:
        print(f"\n  SQLite comparison skipped: FerretDB does not build here ({exc.stderr[-200:]})")
        return None


def _sqlite_side(binary: str, env: dict[str, str]) -> tuple[Any, pymongo.MongoClient, dict[str, str], Callable]:
    """A FerretDB on SQLite (the same build), its own vhost and a second stack on them; the
    function returned stops and removes all of it (also what a failed start left)."""
    data_dir = ROOT / ".local" / "bench-sqlite" / uuid.uuid4().hex[:8]
    data_dir.mkdir(parents=True)
    port = free_port()
    vhost = f"crm-bench-{uuid.uuid4().hex[:8]}"
    mongo_uri = f"mongodb://127.0.0.1:{port}/"
    log = open(data_dir / "ferretdb.log", "ab")  # noqa: SIM115 - the child owns it
    server = subprocess.Popen([binary, "--handler=sqlite", f"--sqlite-url=file:{data_dir}/", f"--state-dir={data_dir}",
                               f"--listen-addr=127.0.0.1:{port}", "--debug-addr=127.0.0.1:0", "--telemetry=disable",
                               "--log-level=warn"], stdout=log, stderr=subprocess.STDOUT)
    client: pymongo.MongoClient = pymongo.MongoClient(mongo_uri, tz_aware=True)
    env2 = base_env(f"amqp://guest:guest@127.0.0.1:5672/{vhost}", mongo_uri, **{
        k: env[k] for k in ("MONGO_DB_PREFIX", "CRM_CONTEXT_KEY", "JWT_SECRET", "OPERATOR_SECRET",
                            "CRM_TEST_HOOKS", "LOG_LEVEL")})
    stack = full_stack(env2, ROOT / ".local" / "bench-logs" / f"sqlite-{vhost}")

    def stop() -> None:
        stack.stop()
        client.close()
        server.terminate()
        server.wait(10)
        log.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
        shutil.rmtree(data_dir, ignore_errors=True)

    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        deadline = time.time() + 30
        while True:
            try:
                client.admin.command("ping")
                break
            except pymongo.errors.PyMongoError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        stack.start()
        stack.wait_ready()
    except BaseException:
        stop()
        raise
    return stack, client, env2, stop


def run(stack, infra, env) -> None:
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    label = f"FerretDB on {_backend(client, env['MONGO_DB_PREFIX'])}"
    print(f"  {label} (the session's server), {CUSTOMERS} customers")
    data = load(stack, client, env)
    main = measure(label, stack, client, env, data)
    client.drop_database(f"{env['MONGO_DB_PREFIX']}bench_side_outbox")
    if not WITH_SQLITE:
        return
    if not infra.local_broker:
        print("\n  SQLite comparison skipped: it needs the local RabbitMQ for a vhost of its own")
        return
    binary = _built_binary()
    if binary is None:
        return
    s_stack, s_client, s_env, stop = _sqlite_side(binary, env)
    try:
        print(f"\n  FerretDB on sqlite (the same build: a private server and stack), {CUSTOMERS} customers")
        s_data = load(s_stack, s_client, s_env)
        other = measure("FerretDB on sqlite", s_stack, s_client, s_env, s_data, slow=True)
    finally:
        stop()
    print(f"\n  -- {label} against FerretDB on sqlite")
    print(f"  {'import of the customers':<35} {data.load_seconds:9.1f} s  vs {s_data.load_seconds:9.1f} s   "
          f"sqlite/this {s_data.load_seconds / data.load_seconds:.2f}x")
    print("  p50, sqlite over this server's gateway (sqlite bare: a lower bound where its gateway cannot answer):")
    for name, fig in main.items():
        theirs = other[name]
        if fig.gateway is None:
            print(f"  {name:<35} no gateway figure here ({fig.failure})")
            continue
        ours_ms = fig.gateway.pct(0.5)
        if theirs.gateway is not None:
            theirs_ms, how = theirs.gateway.pct(0.5), "gateway"
        else:
            theirs_ms, how = theirs.bare.pct(0.5), "bare, ≥"
        print(f"  {name:<35} {ours_ms:9.1f} ms vs {theirs_ms:10.1f} ms ({how})   {theirs_ms / ours_ms:7.1f}x")
