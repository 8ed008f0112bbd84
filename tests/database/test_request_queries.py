"""Every query a request path sends is served by an index or an ``_id`` key (issue 18).

A platform of several tenants (``platform.Loader``: the shapes the services' storage code
writes) is loaded into each service's database on the session's server, with the indexes
each service declares. Then the service's own request-path code runs in this process, for
one tenant, on a pymongo client with a :class:`capture.Capture` listener: every filter it
sends is recorded, its collections get rows of other values (:func:`capture.pad`, other
tenants in effect) and fresh planner statistics, and each filter is explained. A filter
that reads a whole table (PostgreSQL: a ``Seq Scan``; MongoDB: ``COLLSCAN``) fails the test
with its plan, so a query added to a request path without an index to serve it is caught
here, whatever the code around it.

Where a request path asks another service (customers and visits ask identity; the pool's
claim asks customers), that service's own functions answer in this process on its own
database (:class:`Peer`), so their queries are captured too.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest
from pymongo.database import Database

from crmkit.context import CallContext
from crmkit.envelope import make_event
from crmkit.outbox import Outbox
from tests.database import plans
from tests.database.capture import Capture, Query, pad, unserved
from tests.database.platform import Loader, Size, Tenant
from tests.database.test_service_indexes import DECLARED

SERVICES = ("identity", "customers", "pool", "visits", "notify")
TENANTS = 6
SIZE = Size(employees=10, customers=60, visits=40, notifications=20)
PASSWORD = "Query-plan-2024"


class LocalKit:
    """What the services' functions use of their worker kit: database, caller, clock, events."""

    def __init__(self, db: Database, ctx: CallContext):
        self.db, self.ctx = db, ctx
        self.outbox = Outbox(db, self.now)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def event(self, type: str, data: dict[str, Any], *, tenant_id: str | None = None,
              actor_id: str | None = None, event_id: str | None = None) -> dict[str, Any]:
        return make_event(type, tenant_id or self.ctx.tenant_id, actor_id or self.ctx.user_id, data,
                          occurred_at=self.now(), event_id=event_id)

    def change(self, events: list[dict[str, Any]], check: Any = None) -> Any:
        return self.outbox.change(events, check)

    def emit(self, *events: dict[str, Any]) -> None:
        pass


class Peer:
    """Another service's RPCs answered by its own functions (``fn(*lead, **kwargs)``; ``lead``
    defaults to ``(kit, ctx)``)."""

    def __init__(self, module: Any, kit: LocalKit, lead: tuple[Any, ...] | None = None,
                 **extra: Callable[..., Any]):
        self._module, self._kit, self._extra = module, kit, extra
        self._lead = lead if lead is not None else (kit, kit.ctx)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name in self._extra:
            return self._extra[name]
        fn = getattr(self._module, name)
        return lambda *a, **kw: fn(*self._lead, *a, **kw)


class Platform:
    def __init__(self, client: pymongo.MongoClient, prefix: str, capture: Capture):
        self.client, self.prefix, self.capture = client, prefix, capture
        self.loader = Loader(client, prefix, SIZE)
        self.dbs = self.loader.dbs
        self.tenants: list[Tenant] = []

    def db_of(self, name: str) -> Database:
        return self.client[name]

    def ctx(self, t: Tenant, user: str, *roles: str) -> CallContext:
        return CallContext(tenant_id=t.tenant_id, user_id=user, roles=tuple(roles or ("employee",)))

    @contextmanager
    def recorded(self) -> Iterator[list[Query]]:
        with self.capture.recording() as queries:
            yield queries

    def check(self, queries: list[Query]) -> None:
        assert queries, "the request paths sent no query: the capture is broken"
        pad(self.db_of, queries)
        failures = unserved(self.db_of, queries)
        assert not failures, "request-path queries no index serves:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def platform(infra: Any, backend: str, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Platform]:
    if backend == plans.SQLITE:
        pytest.skip("FerretDB's SQLite backend serves only `_id` equality (decision 0001)")
    monkeypatch_module.setenv("JWT_SECRET", uuid.uuid4().hex)
    monkeypatch_module.setenv("CRM_CONTEXT_KEY", uuid.uuid4().hex)  # access tokens are signed with a key from it
    monkeypatch_module.setenv("INVITE_TOKEN_TO_INVITER", "1")  # the invitation is accepted here
    capture = Capture()
    client: pymongo.MongoClient = pymongo.MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[capture])
    prefix = f"dbq_{uuid.uuid4().hex[:8]}_"
    p = Platform(client, prefix, capture)
    try:
        for s in SERVICES:
            DECLARED[s](p.dbs[s])
            DECLARED["crmkit"](p.dbs[s])
        from identity.passwords import Passwords
        pw_hash = Passwords().hash(PASSWORD)
        for n in range(TENANTS):
            p.loader.bulk_tenant(n, pw_hash)
        p.tenants = _tenants(p)
        yield p
    finally:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
        client.close()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _tenants(p: Platform) -> list[Tenant]:
    out = []
    for doc in p.dbs["identity"].tenants.find():
        emps = sorted(p.dbs["identity"].employees.find({"tenant_id": doc["_id"]}), key=lambda e: e["name"])
        depts = [doc["root_dept_id"]] + sorted(d["_id"] for d in p.dbs["identity"].departments.find(
            {"tenant_id": doc["_id"], "parent_id": doc["root_dept_id"]}))
        out.append(Tenant(doc["_id"], doc["admin_id"], [e["_id"] for e in emps], depts))
    return out


def _people(p: Platform) -> tuple[Tenant, dict[str, Any], str, str, str]:
    """The measured tenant, its tenant document, its admin, a department manager (employee 1,
    manager of department 1) and a plain employee."""
    t = p.tenants[len(p.tenants) // 2]
    tenant = p.dbs["identity"].tenants.find_one({"_id": t.tenant_id})
    assert tenant is not None
    return t, tenant, t.admin_id, t.employee_ids[1], t.employee_ids[4]


def identity_peer(p: Platform, ctx: CallContext) -> Peer:
    """identity's questions (``org.fn(store, ctx, ...)``)."""
    from identity import org
    from identity.store import Store
    return Peer(org, LocalKit(p.dbs["identity"], ctx), lead=(Store(p.dbs["identity"]), ctx))


def pool_peer(p: Platform, ctx: CallContext) -> Peer:
    """The pool's ownership RPCs the customers service calls, answered by the pool's functions."""
    from pool import ownership
    from pool.store import Store
    kit, store = LocalKit(p.dbs["pool"], ctx), Store(p.dbs["pool"])
    return Peer(ownership, kit,
                enter=lambda **kw: ownership.enter(kit, store, kw["customer_ids"], kw["owner_id"], kw["path"],
                                                   kw.get("import_id")),
                change_owner=lambda **kw: ownership.change(
                    kit, store, kw["customer_id"], expected=kw["expected_owner_id"], new=kw["new_owner_id"],
                    path=kw["path"], reason=kw.get("reason") or "", capacity=kw.get("capacity"),
                    unowned=bool(kw.get("unowned"))),
                ownership_history=lambda **kw: ownership.history(kit, store, ctx.tenant_id, kw["customer_id"]))


# -- identity ------------------------------------------------------------------------------------
def test_identity_request_paths(platform: Platform) -> None:
    from identity import access, org
    from identity.passwords import Passwords
    from identity.store import Store

    p = platform
    t, tenant, admin, manager, employee = _people(p)
    db = p.dbs["identity"]
    store = Store(db)
    emp_doc = db.employees.find_one({"_id": employee})
    assert emp_doc is not None
    settings = access.AccessSettings.from_env()
    as_admin = LocalKit(db, p.ctx(t, admin, "tenant_admin"))
    as_manager = LocalKit(db, p.ctx(t, manager, "dept_admin", "employee"))
    as_employee = LocalKit(db, p.ctx(t, employee))
    with p.recorded() as queries:
        # sessions: login (tenant by code, employee by mobile, failures), authenticate, a failed login
        session = access.login(as_employee, store, Passwords(), settings, tenant_code=tenant["code"],
                               mobile=emp_doc["mobile"], password=PASSWORD)
        access.authenticate(as_employee, store, settings, session["access_token"])
        with pytest.raises(Exception):  # noqa: B017,PT011 - any refusal; the queries are what counts
            access.login(as_employee, store, Passwords(), settings, tenant_code=tenant["code"],
                         mobile=emp_doc["mobile"], password="wrong-Password-1")
        # me, departments, employees, menus
        org.me(store, as_employee.ctx)
        org.me(store, as_manager.ctx)
        org.list_departments(store, as_admin.ctx)
        org.get_department(store, as_admin.ctx, t.dept_ids[1])
        org.list_employees(store, as_admin.ctx)
        org.list_employees(store, as_manager.ctx, dept_id=t.dept_ids[1])
        org.get_employee(store, as_admin.ctx, employee)
        org.get_menu_permissions(store, as_admin.ctx)
        org.menu_allowed(store, as_employee.ctx, "customer_visits")
        # the questions other services ask
        org.visible_owner_ids(store, as_manager.ctx)
        org.visible_owner_ids(store, as_employee.ctx)
        org.get_employees(store, as_manager.ctx, t.employee_ids[:5])
        org.get_employees(store, as_manager.ctx, t.employee_ids * 6)  # past the one-by-one lookups
        org.holders(store, as_manager.ctx, t.employee_ids[:5])
        org.subtree_employee_ids(store, as_manager.ctx, t.dept_ids[1])
        org.supervisor_of(store, as_manager.ctx, employee)
        org.employee_ids_by_name(store, as_manager.ctx, emp_doc["name"])
        org.is_colleague_mobile(store, as_manager.ctx, emp_doc["mobile"])
        store.family_revoked("no-such-family")
        # the admin's writes: a department, an employee invited and joining, a change, a device session
        dept = org.create_department(as_admin, store, as_admin.ctx, {"name": "新部门", "parent_id": t.dept_ids[0]})
        org.update_department(as_admin, store, as_admin.ctx, dept["id"], {"manager_id": manager})
        mobile = f"137{uuid.uuid4().int % 10**8:08d}"
        new = org.create_employee(as_admin, store, as_admin.ctx, {"name": "新员工", "mobile": mobile,
                                                                  "roles": ["employee"], "dept_ids": [dept["id"]]})
        inv = org.invite_employee(as_admin, store, as_admin.ctx, new["id"], {"mobile": mobile})
        access.accept_invitation(as_admin, store, Passwords(), invitation_id=inv["invitation_id"], token=inv["token"],
                                 password=PASSWORD)
        org.update_employee(as_admin, store, as_admin.ctx, new["id"], {"name": "新员工二"})
        org.set_disabled(as_admin, store, as_admin.ctx, new["id"], True)
        bound = access.login(as_employee, store, Passwords(), settings, tenant_code=tenant["code"],
                             mobile=emp_doc["mobile"], password=PASSWORD, bind_device=True)
        access.refresh(as_employee, store, settings, bound["device_token"])
        access.logout(as_employee, store, as_employee.ctx)
    p.check(queries)


# -- customers -----------------------------------------------------------------------------------
def test_customers_request_paths(platform: Platform) -> None:
    from customers import catalog, contacts, lifecycle, registry, timeline
    from customers import ownership as customers_ownership
    from customers.peers import Directory
    from customers.store import Store as CustomersStore

    p = platform
    t, _, admin, manager, employee = _people(p)
    db = p.dbs["customers"]
    store = CustomersStore(db)
    mine = db.customers.find_one({"tenant_id": t.tenant_id, "owner_id": employee})
    assert mine is not None
    with p.recorded() as queries:
        for user, roles in ((admin, ("tenant_admin",)), (manager, ("dept_admin", "employee")), (employee, ())):
            ctx = p.ctx(t, user, *roles)
            kit = LocalKit(db, ctx)
            d = Directory(identity_peer(p, ctx), ctx)
            registry.list_customers(store, ctx, d)
            registry.list_customers(store, ctx, d, owner_id=employee)
            registry.list_customers(store, ctx, d, q=mine["name"][2:8])
            registry.get_visible(store, ctx, d, mine["_id"])
        ctx = p.ctx(t, employee)
        kit, d = LocalKit(db, ctx), Directory(identity_peer(p, ctx), ctx)
        registry.duplicate_check(store, ctx, d, {"name": mine["name"], "landlines": mine["landlines"]})
        # an entry, a change, the detail screens
        made = registry.create_customer(kit, store, ctx, d, {"name": f"无锡{uuid.uuid4().hex[:6]}精工有限公司",
                                                             "address": "无锡", "landlines": ["0510-81234567"]},
                                        pool=pool_peer(p, ctx))
        registry.update_customer(kit, store, ctx, d, made["id"], {"grade": "A"})
        pool_peer(p, ctx).ownership_history(customer_id=made["id"])
        timeline.list_entries(store, t.tenant_id, made["id"], 1, 20)
        phone = f"136{uuid.uuid4().int % 10**8:08d}"
        contact = contacts.create_contact(kit, store, ctx, d, {"name": "张经理", "mobile": phone,
                                                               "customer_id": made["id"]})
        contacts.list_contacts(store, ctx, d, customer_id=made["id"])
        contacts.get_contact(store, ctx, d, contact["id"])
        catalog.list_tag_groups(store, ctx)
        catalog.list_custom_fields(store, ctx, None)
        ctx = p.ctx(t, admin, "tenant_admin")
        kit, d = LocalKit(db, ctx), Directory(identity_peer(p, ctx), ctx)
        customers_ownership.change_owner(kit, store, ctx, d, pool_peer(p, ctx), made["id"], employee, manager,
                                         "transfer", "调岗")
        lifecycle.list_deleted(store, ctx, d)
    p.check(queries)


# -- visits --------------------------------------------------------------------------------------
def test_visits_request_paths(platform: Platform) -> None:
    from customers import registry
    from customers.peers import Directory
    from customers.store import Store as CustomersStore
    from visits import planning, review
    from visits import queries as visit_queries
    from visits.store import Store as VisitsStore

    p = platform
    t, _, admin, manager, employee = _people(p)
    db = p.dbs["visits"]
    store = VisitsStore(db)
    month = datetime.now(UTC).strftime("%Y-%m")
    one = db.visits.find_one({"tenant_id": t.tenant_id, "employee_id": employee})
    assert one is not None
    # the records page is granted to the whole tenant (the root department and below)
    customer = p.dbs["customers"].customers.find_one({"tenant_id": t.tenant_id, "owner_id": employee})
    done = db.visits.find_one({"tenant_id": t.tenant_id, "status": "completed"})
    assert customer is not None and done is not None
    grants = {"customer_visits": [t.dept_ids[0]]}
    p.dbs["identity"].tenants.update_one({"_id": t.tenant_id}, {"$set": {"menu_grants": grants}})
    with p.recorded() as queries:
        for user, roles in ((admin, ("tenant_admin",)), (manager, ("dept_admin", "employee")), (employee, ())):
            ctx = p.ctx(t, user, *roles)
            kit, identity = LocalKit(db, ctx), identity_peer(p, ctx)
            visit_queries.calendar(kit, store, identity, month)
            visit_queries.my_visits(kit, store, identity, month=month)
            visit_queries.my_visits(kit, store, identity, day=f"{month}-01")
            if roles:
                visit_queries.calendar(kit, store, identity, month, "records")
                visit_queries.records(kit, store, identity, month=month)
                # the console's records of a department over a range of days, a subordinate's list
                visit_queries.records(kit, store, identity, dept_id=t.dept_ids[0], from_day=f"{month}-01",
                                      to_day=f"{month}-07")
                visit_queries.my_visits(kit, store, identity, month=month, employee_id=employee)
                visit_queries.calendar(kit, store, identity, month, employee_id=employee)
                review.queue(kit, store, identity)
        ctx = p.ctx(t, employee)
        visit_queries.get_visit(LocalKit(db, ctx), store, identity_peer(p, ctx), one["_id"])
        # a plan (the customer asked of the customers service), and a review of a completed visit
        ckit, cstore = LocalKit(p.dbs["customers"], ctx), CustomersStore(p.dbs["customers"])
        d = Directory(identity_peer(p, ctx), ctx)
        customers = Peer(registry, ckit, get_customer=lambda customer_id: registry.view(
            cstore, ctx, registry.get_visible(cstore, ctx, d, customer_id)))
        planning.plan(LocalKit(db, ctx), store, customers, identity_peer(p, ctx), {
            "customer_id": customer["_id"], "planned_at": datetime.now(UTC).isoformat(), "topic": "回访",
            "location": {"address": "苏州", "lat": 31.23, "lng": 121.47}, "policy_accepted": True})
        ctx = p.ctx(t, admin, "tenant_admin")
        review.review(LocalKit(db, ctx), store, identity_peer(p, ctx), done["_id"], "reject", "照片不清")
    p.check(queries)


# -- notify --------------------------------------------------------------------------------------
def test_notify_request_paths(platform: Platform) -> None:
    from notify import operations
    from notify.store import Store

    p = platform
    t, _, admin, _, employee = _people(p)
    store = Store(p.dbs["notify"])
    with p.recorded() as queries:
        for user in (admin, employee):
            ctx = p.ctx(t, user)
            page = operations.list_notifications(store, ctx, None, 20, None)
            operations.list_notifications(store, ctx, None, 20, "true")
            if page["items"]:
                operations.mark_read(store, ctx, page["items"][0]["id"], datetime.now(UTC))
            store.unread_count(t.tenant_id, user)
            store.mark_all_read(t.tenant_id, user, datetime.now(UTC))
    p.check(queries)


# -- pool ----------------------------------------------------------------------------------------
def test_pool_claim_and_search(platform: Platform) -> None:
    from pool import ownership, requests, search
    from pool import store as pool_store

    p = platform
    t, _, admin, manager, employee = _people(p)
    pool_db, cust_db = p.dbs["pool"], p.dbs["customers"]
    # a customer of a colleague goes to the public pool (the release path), then the manager claims it
    row = cust_db.customers.find_one({"tenant_id": t.tenant_id, "owner_id": employee})
    assert row is not None
    cid = row["_id"]

    store = pool_store.Store(pool_db)
    with p.recorded() as queries:
        ctx = p.ctx(t, employee)
        ownership.release(LocalKit(pool_db, ctx), store, cid, {"reason": "放公海"})
        ctx = p.ctx(t, manager, "dept_admin", "employee")
        kit = LocalKit(pool_db, ctx)
        search.search_pool(kit, store, keyword=row["name"][2:8])
        pool_store.get_customer(store, t.tenant_id, cid)
        ownership.claim(kit, store, cid, {})
        ownership.capacity_status(kit, store, manager)
        pool_store.load_rules(store, t.tenant_id, fresh=True)
        requests.list_requests(kit, store)
    p.check(queries)


def test_me_answers_this_process_writes_at_once(platform: Platform) -> None:
    """``me`` keeps the tenant's organisation for a few seconds (``store.ORG_TTL``); a write
    of the departments or the menu grants in this process is seen by the next ``me`` at once."""
    from identity import org
    from identity.store import Store

    p = platform
    t, _, admin, manager, employee = _people(p)
    db = p.dbs["identity"]
    store = Store(db)
    as_admin = LocalKit(db, p.ctx(t, admin, "tenant_admin"))
    as_employee = LocalKit(db, p.ctx(t, employee))
    org.set_menu_permissions(as_admin, store, as_admin.ctx, {"grants": {"customer_visits": []}})
    me = org.me(store, as_employee.ctx)
    assert me["managed_dept_ids"] == [] and me["menus"] == {"customer_visits": False}
    dept = me["dept_ids"][0]
    org.update_department(as_admin, store, as_admin.ctx, dept, {"manager_id": employee})
    assert org.me(store, as_employee.ctx)["managed_dept_ids"] == [dept]
    org.set_menu_permissions(as_admin, store, as_admin.ctx, {"grants": {"customer_visits": [dept]}})
    assert org.me(store, as_employee.ctx)["menus"] == {"customer_visits": True}
    org.set_menu_permissions(as_admin, store, as_admin.ctx, {"grants": {"customer_visits": []}})
    org.update_department(as_admin, store, as_admin.ctx, dept, {"manager_id": None})
    me = org.me(store, as_employee.ctx)
    assert me["managed_dept_ids"] == [] and me["menus"] == {"customer_visits": False}
    assert manager != employee
