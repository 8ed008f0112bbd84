"""A platform of many tenants, written in the shapes the services' own storage code writes
(not through the API, to be quick): used by ``bench/tenants.py`` (2 000 tenants) and by the
query-plan tests (a few tenants, so that a filter over every tenant's rows shows in a plan).

Per tenant: a department tree (root + 3) and ``employees`` joined employees (identity);
``customers`` customers with their duplicate-check keys (``customers.store.Store.reserve_many``) and
ownership log (customers) and read-model rows (pool); ``visits`` visits this month with their
calendar bucket rows (``visits.store.Store.cal_coll``), a tenth completed and awaiting review; and
``notifications`` inbox rows (notify), half the admin's.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo

from customers import store as customers_store
from customers.rules import validate_customer
from identity import store as identity_store
from notify import rules as notify_rules
from notify.store import delivery_key
from visits.store import Store as VisitsStore


@dataclass
class Size:
    employees: int = 20
    customers: int = 200
    visits: int = 100
    notifications: int = 50

    @property
    def documents(self) -> int:
        """Documents written per tenant (customers: document, 2 keys, log row, pool row)."""
        return 1 + 4 + self.employees + 5 * self.customers + 2 * self.visits + self.notifications


@dataclass
class Tenant:
    """What one tenant's bulk data is keyed by."""
    tenant_id: str
    admin_id: str
    employee_ids: list[str]  # the admin first
    dept_ids: list[str]  # the root first


def tenant_identity(n: int, password_hash: str, now: datetime, size: Size) -> tuple[Tenant, dict, list, list]:
    """A tenant, its department tree (root + 3) and ``size.employees`` joined employees
    (as ``access.create_tenant`` and ``org.create_employee`` write them)."""
    tid = uuid.uuid4().hex
    depts = [uuid.uuid4().hex for _ in range(4)]
    emps = [uuid.uuid4().hex for _ in range(size.employees)]
    tenant = {"_id": tid, "code": f"bulk{n:05d}{tid[:6]}", "name": f"租户 {n}", "root_dept_id": depts[0],
              "admin_id": emps[0], "menu_grants": {}, "created_at": now}
    dept_docs = [{"_id": d, "tenant_id": tid, "name": f"部门 {i}", "parent_id": None if i == 0 else depts[0],
                  "manager_id": emps[0] if i == 0 else emps[i], "created_at": now, "updated_at": now}
                 for i, d in enumerate(depts)]
    emp_docs = []
    for i, e in enumerate(emps):
        dept = depts[0] if i == 0 else depts[1 + i % 3]
        mobile = f"139{n:04d}{i:04d}"
        emp_docs.append({"_id": e, "tenant_id": tid, "name": f"员工 {i}", "mobile": mobile,
                         "mobile_key": identity_store.mobile_key(tid, mobile), "email": None, "language": None,
                         "roles": ["tenant_admin"] if i == 0 else ["employee"], "dept_ids": [dept],
                         "primary_dept_id": dept, "status": "joined", "disabled": False,
                         "password_hash": password_hash, "tv": 1, "created_at": now, "updated_at": now})
    return Tenant(tid, emps[0], emps, depts), tenant, dept_docs, emp_docs


def customers(t: Tenant, owners: list[str], n: int, now: datetime) -> list[dict[str, Any]]:
    """``n`` customers of ``t`` (as ``registry.create_customer`` writes them), owners in turn."""
    out = []
    for i in range(n):
        clean = validate_customer({"name": f"苏州{t.tenant_id[:6]}{i:04d}精密有限公司", "address": f"苏州市 {i} 号",
                                   "industry": "电子", "grade": "ABC"[i % 3], "region": "华东",
                                   "landlines": [f"0512-{60000000 + i}"]})
        name_key, numbers = customers_store.keys_of(clean)
        owner = owners[i % len(owners)]
        out.append({"_id": uuid.uuid4().hex, "tenant_id": t.tenant_id, **clean, "kind": "own",
                    "customer_type": "company", "tags": [], "custom": {}, "name_key": name_key,
                    "phone_keys": numbers, "owner_id": owner, "owner_seq": 1, "owner_since": now, "unowned": False,
                    "shared_with": [], "dept_ids": [], "created_at": now - timedelta(seconds=i), "created_by": owner,
                    "updated_at": now, "deleted": False})
    return out


def visits(t: Tenant, customers: list[dict[str, Any]], employees: list[str], n: int, month_days: list[str],
            now: datetime) -> list[dict[str, Any]]:
    """``n`` visits this month (as ``planning.plan_visit`` writes them), a tenth completed."""
    out = []
    for i in range(n):
        c = customers[i % len(customers)]
        emp = employees[i % len(employees)]
        day = month_days[i % len(month_days)]
        doc = {"_id": uuid.uuid4().hex, "tenant_id": t.tenant_id, "customer_id": c["_id"], "customer_name": c["name"],
               "customer_kind": "own", "employee_id": emp, "created_by": emp, "owner_id": emp, "planned_at": now,
               "day": day, "month": day[:7], "status": "pending_check_in", "task": False, "topic": "回访",
               "scenario": "", "location": {"address": "苏州", "lat": 31.2304, "lng": 121.4737},
               "policy_version": "1", "project_ids": [], "created_at": now, "updated_at": now}
        if i % 10 == 0:
            at = now - timedelta(hours=i)
            doc.update(status="completed", completed_at=at, notes={"text": "谈了新品"},
                       check_in={"at": at - timedelta(minutes=40),
                                 "point": {"lat": 31.2304, "lng": 121.4737, "source": "gps", "accuracy": 10}},
                       check_out={"at": at, "point": {"lat": 31.2305, "lng": 121.4738, "source": "gps",
                                                      "accuracy": 12}})
        out.append(doc)
    return out


def notifications(t: Tenant, n: int, now: datetime) -> list[dict[str, Any]]:
    """``n`` inbox rows (as ``notify.store.Store.add_notification`` writes them), half the admin's."""
    out = []
    for i in range(n):
        recipient = t.admin_id if i % 2 == 0 else t.employee_ids[1 + i % (len(t.employee_ids) - 1)]
        event_id = uuid.uuid4().hex
        nid = delivery_key(event_id, recipient, "inbox")
        at = now - timedelta(seconds=i)
        out.append({"_id": nid, "tenant_id": t.tenant_id, "event_id": event_id, "recipient_id": recipient,
                    "channel": "inbox", "kind": "pool.reclaimed", "title": f"客户 {i} 已回收", "body": "到期回收",
                    "language": "zh-CN", "data": {"customer_id": f"c{i}"}, "read": i % 3 == 0, "read_at": None,
                    "created_at": at, "sort_key": notify_rules.sort_key(at, nid)})
    return out


class Loader:
    """Writes tenants' data into the five services' databases."""

    def __init__(self, client: pymongo.MongoClient, prefix: str, size: Size | None = None):
        self.size = size or Size()
        self.dbs = {s: client[f"{prefix}{s}"] for s in ("identity", "customers", "pool", "visits", "notify")}
        self.now = datetime.now(UTC)
        self.month_days = [d.isoformat() for d in days_until_today(self.now)]

    def tenant_data(self, t: Tenant, owners: list[str]) -> int:
        """Customers, pool rows, visits and notifications of ``t``; the documents written."""
        dbs, now, size = self.dbs, self.now, self.size
        custs = customers(t, owners, size.customers, now)
        customers_store.Store(dbs["customers"]).reserve_many(
            t.tenant_id, [(c["_id"], c["name_key"], c["phone_keys"]) for c in custs], now)
        dbs["pool"]["moves"].insert_many([  # the ownership log is the pool's
            {"_id": f"{c['_id']}:1", "tenant_id": t.tenant_id, "customer_id": c["_id"], "seq": 1,
             "from_owner_id": None, "to_owner_id": c["owner_id"], "path": "entry", "reason": "entry",
             "actor_id": c["owner_id"], "at": now, "day": now.date().isoformat()} for c in custs], ordered=False)
        dbs["customers"]["customers"].insert_many(custs, ordered=False)
        dbs["pool"]["customers"].insert_many([
            {"_id": c["_id"], "tenant_id": t.tenant_id, "owner_id": c["owner_id"], "private": True, "deleted": False,
             "entered_at": now, "seq": 1, "epoch": 1, "name": c["name"], "name_key": c["name_key"]}
            for c in custs], ordered=False)
        rows = visits(t, custs, owners, size.visits, self.month_days, now)
        dbs["visits"]["visits"].insert_many(rows, ordered=False)
        by_month: dict[str, list[dict[str, Any]]] = {}
        for v in rows:  # the calendar bucket rows ``store.cal_add`` writes
            by_month.setdefault(v["month"], []).append(
                {"_id": v["_id"], "tenant_id": v["tenant_id"], "employee_id": v["employee_id"],
                 "owner_id": v.get("owner_id"), "day": v["day"], "customer_id": v["customer_id"]})
        for month, rows in by_month.items():
            VisitsStore(dbs["visits"]).cal_coll(month).insert_many(rows, ordered=False)
        notes = notifications(t, size.notifications, now)
        if notes:
            dbs["notify"]["notifications"].insert_many(notes, ordered=False)
        return 5 * len(custs) + 2 * len(rows) + len(notes)

    def bulk_tenant(self, n: int, password_hash: str) -> int:
        t, tenant, depts, emps = tenant_identity(n, password_hash, self.now, self.size)
        self.dbs["identity"].tenants.insert_one(tenant)
        self.dbs["identity"].departments.insert_many(depts, ordered=False)
        self.dbs["identity"].employees.insert_many(emps, ordered=False)
        return 1 + len(depts) + len(emps) + self.tenant_data(t, t.employee_ids[1:])

    def analyze(self) -> None:
        """Fresh planner statistics for every collection (FerretDB: VACUUM ANALYZE; MongoDB: no-op)."""
        for db in self.dbs.values():
            for name in db.list_collection_names():
                try:
                    db.command("compact", name)
                except pymongo.errors.OperationFailure:
                    pass


def days_until_today(now: datetime) -> Iterator[Any]:
    today = now.date()
    d = today.replace(day=1)
    while d <= today:
        yield d
        d += timedelta(days=1)


