"""The small fixed data set of the report tests, written into a real database exactly
as the visits service shapes its documents (plus the reports' own read models, filled
through their event handlers).

Tenant time zone Asia/Shanghai (UTC+8). Range 2026-03-01..2026-03-03, "now" 2026-03-03
12:00Z. Departments: D0 ⊃ D1 ⊃ D1a, D0 ⊃ D2. Employees: A (D1), B (D1a), C (D2),
M (D2, moved to D1 on 2026-03-02), X (D1's manager, no visits).

visit  day    emp cust status            check-in  note
v1     03-01  A   c1   completed         yes       name starts with "=" (formula)
v2     03-01  A   c2   valid             yes
v3     03-01  B   c3   pending_check_in  no        planned, not actual
v4     03-01  M   c5   valid             yes       M still in D2
v5     03-02  M   c5   completed         yes       M now in D1
v6     03-02  C   c4   expired           no        planned, not actual
v7     03-02  A   c1   expired           yes       actual (checked in, then expired)
v8     03-02  B   c3   cancelled         no        neither planned nor actual
v9     03-03  B   c3   invalid           yes       actual unless validated-only
v10    03-04  C   c4   completed         yes       planned 2026-03-03T16:30Z → local 03-04: out of range
v11    03-01  C   c4   completed         yes       planned 2026-02-28T16:30Z → local 03-01: in range
v12    02-15  A   c2   completed         yes       trend only
+ one visit of another tenant on 03-01 (never counted)
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from crmkit.context import CallContext
from visits import reports, rules
from visits.store import Store

TZ = "Asia/Shanghai"
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-03-03"}

NAMES = {"A": "Alice 艾丽", "B": "Bob", "C": "Carol", "M": "Mike", "X": "Xavier"}
GRADES = {"c1": "A", "c2": "B", "c3": "A", "c4": "C", "c5": "B", "c6": None}
OWNERS = {"c1": "A", "c2": "A", "c3": "B", "c4": "C", "c5": "M", "c6": "B"}
CHECKED = ("pending_check_out", "pending_notes", "completed", "valid", "invalid")

VISITS = [
    # id, planned_at (UTC), employee, customer, status, checked in
    ("v1", "2026-03-01T02:00:00+00:00", "A", "c1", "completed", True),
    ("v2", "2026-03-01T03:00:00+00:00", "A", "c2", "valid", True),
    ("v3", "2026-03-01T04:00:00+00:00", "B", "c3", "pending_check_in", False),
    ("v4", "2026-03-01T05:00:00+00:00", "M", "c5", "valid", True),
    ("v5", "2026-03-02T02:00:00+00:00", "M", "c5", "completed", True),
    ("v6", "2026-03-02T03:00:00+00:00", "C", "c4", "expired", False),
    ("v7", "2026-03-02T04:00:00+00:00", "A", "c1", "expired", True),
    ("v8", "2026-03-02T05:00:00+00:00", "B", "c3", "cancelled", False),
    ("v9", "2026-03-03T02:00:00+00:00", "B", "c3", "invalid", True),
    ("v10", "2026-03-03T16:30:00+00:00", "C", "c4", "completed", True),
    ("v11", "2026-02-28T16:30:00+00:00", "C", "c4", "completed", True),
    ("v12", "2026-02-15T02:00:00+00:00", "A", "c2", "completed", True),
]


@dataclass
class FakeIdentity:
    """identity's RPC contract, answered from a table (the service tests' stand-in)."""
    tenant: str
    visible: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> visible_owner_ids answer
    subtrees: dict[str, list[str]] = field(default_factory=dict)
    caller: str = ""

    def visible_owner_ids(self) -> dict[str, Any]:
        return self.visible.get(self.caller, {"all": False, "user_ids": [self.caller]})

    def subtree_employee_ids(self, dept_id: str) -> list[str]:
        return list(self.subtrees.get(dept_id, []))

    def get_employees(self, ids: list[str]) -> list[dict[str, Any]]:
        return [{"id": self.emp(k), "name": NAMES[k]} for k in NAMES if self.emp(k) in ids]

    def list_employees(self, role: str | None = None) -> list[dict[str, Any]]:
        return [{"id": self.emp(k), "name": NAMES[k]} for k in NAMES]

    def emp(self, key: str) -> str:
        return f"{self.tenant}-{key}"


@dataclass
class DataSet:
    tenant: str
    db: Any
    identity: FakeIdentity

    @cached_property
    def store(self) -> Store:
        return Store(self.db)

    def e(self, key: str) -> str:
        return f"{self.tenant}-{key}"

    def c(self, key: str) -> str:
        return f"{self.tenant}-{key}"

    def d(self, key: str) -> str:
        return f"{self.tenant}-{key}"

    def ctx(self, user: str, *roles: str, dept_ids: tuple[str, ...] = ()) -> CallContext:
        self.identity.caller = self.e(user)
        return CallContext(tenant_id=self.tenant, user_id=self.e(user), roles=tuple(roles or ("employee",)),
                           request_id=uuid.uuid4().hex, dept_ids=dept_ids)


def _event(tenant: str, type_: str, data: dict[str, Any], at: str, actor: str = "system") -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "type": type_, "version": 1, "occurred_at": at, "tenant_id": tenant,
            "actor_id": actor, "data": data}


def visit_doc(tenant: str, vid: str, planned_at: str, emp: str, cust: str, status: str, checked: bool,
              owner: str | None, name: str = "") -> dict[str, Any]:
    at = datetime.fromisoformat(planned_at)
    day = rules.local_day(at, TZ)  # the visits service's own cut
    doc: dict[str, Any] = {
        "_id": vid, "tenant_id": tenant, "customer_id": cust, "customer_name": name or f"Customer {cust[-2:]}",
        "customer_kind": "own", "cbm_id": None, "project_ids": [], "employee_id": emp, "created_by": emp,
        "task": False, "owner_id": owner, "planned_at": at, "day": day, "month": rules.month_of(day),
        "location": {"address": f"{cust[-2:]} Road 1号", "lat": 31.2, "lng": 121.4}, "topic": "t", "scenario": "",
        "policy_version": "1", "route_id": None, "status": status, "created_at": at, "updated_at": at,
    }
    if checked:
        doc["check_in"] = {"at": at, "received_at": at, "point": {"lat": 31.2001, "lng": 121.4, "source": "gps",
                                                                  "accuracy": 10.0, "mock_location": False},
                           "photo": None, "flags": [], "travel": None, "deviation_m": 12.34, "tolerance_m": 500}
        if status not in ("pending_check_out", "expired"):
            out = at.replace(minute=42)
            doc["check_out"] = {"at": out, "received_at": out, "point": {"lat": 31.2, "lng": 121.4,
                                                                         "source": "network"},
                                "flags": [], "stay_minutes": 42.0, "plan_to_check_out_m": 45.67,
                                "check_in_to_check_out_m": 11.1, "deviation_m": 45.67, "tolerance_m": 1000}
    return doc


def load(db: Any) -> DataSet:
    tenant = "rt" + uuid.uuid4().hex[:10]
    ident = FakeIdentity(tenant)
    ds = DataSet(tenant, db, ident)
    e, c, d = ds.e, ds.c, ds.d
    db["settings"].insert_one({"_id": tenant, "values": {"time_zone": TZ}})
    # departments and employees through the report read model handlers
    for dep, parent, name in (("D0", None, "总部"), ("D1", "D0", "华东"), ("D1a", "D1", "上海"), ("D2", "D0", "华南")):
        reports.on_department_event(ds.store, _event(tenant, "department.created", {
            "department_id": d(dep), "id": d(dep), "name": name, "parent_id": d(parent) if parent else None},
            "2026-01-01T00:00:00+00:00"))
    for key, dept in (("A", "D1"), ("B", "D1a"), ("C", "D2"), ("M", "D2"), ("X", "D1")):
        reports.on_employee_event(ds.store, _event(tenant, "employee.created", {
            "employee_id": e(key), "name": NAMES[key], "dept_ids": [d(dept)]}, "2026-01-01T00:00:00+00:00"))
    # M moves to D1: at 2026-03-01T16:30Z, which is 2026-03-02 00:30 in Shanghai
    reports.on_employee_event(ds.store, _event(tenant, "employee.updated", {
        "employee_id": e("M"), "name": NAMES["M"], "dept_ids": [d("D1")]}, "2026-03-01T16:30:00+00:00"))
    ident.subtrees = {d("D0"): [e(k) for k in NAMES], d("D1"): [e("A"), e("B"), e("M"), e("X")],
                      d("D1a"): [e("B")], d("D2"): [e("C")]}
    ident.visible = {e("X"): {"all": False, "user_ids": [e("A"), e("B"), e("M"), e("X")]}}
    # customers: visits' read model (owner) + the reports' (grade)
    for key, grade in GRADES.items():
        db["customers_rm"].insert_one({"_id": f"{tenant}:{c(key)}", "tenant_id": tenant, "customer_id": c(key),
                                       "name": f"Customer {key}", "owner_id": e(OWNERS[key]), "kind": "own"})
        reports.on_customer_event(ds.store, _event(tenant, "customer.created", {
            "customer_id": c(key), "name": f"Customer {key}", "owner_id": e(OWNERS[key]), "grade": grade},
            "2026-01-01T00:00:00+00:00"))
    docs = []
    for vid, at, emp, cust, status, checked in VISITS:
        name = "=HYPERLINK(\"http://x\")" if vid == "v1" else ""
        docs.append(visit_doc(tenant, f"{tenant}-{vid}", at, e(emp), c(cust), status, checked, e(OWNERS[cust]),
                              name))
    other = "rt" + uuid.uuid4().hex[:10]
    docs.append(visit_doc(other, f"{other}-v1", "2026-03-01T02:00:00+00:00", e("A"), c("c1"), "valid", True,
                          e("A")))
    db["visits"].insert_many(docs)
    return ds


def activity(ds: DataSet) -> None:
    """Entries, claims and contact notes for the targets report (A)."""
    t, e = ds.tenant, ds.e
    evs = [
        _event(t, "customer.owner_changed", {"customer_id": ds.c("n1"), "to_owner_id": e("A"), "path": "entry",
                                             "seq": 1}, "2026-03-01T02:00:00+00:00", e("A")),
        _event(t, "customer.owner_changed", {"customer_id": ds.c("n2"), "to_owner_id": e("A"), "path": "claim",
                                             "seq": 2}, "2026-02-28T17:00:00+00:00", e("A")),   # local 03-01
        _event(t, "customer.owner_changed", {"customer_id": ds.c("n3"), "to_owner_id": None, "path": "release",
                                             "seq": 3}, "2026-03-01T03:00:00+00:00", e("A")),   # not counted
        _event(t, "customer.contact_noted", {"customer_id": ds.c("c1"), "note_id": "n", "owner_id": e("A"),
                                             "at": "2026-03-01T15:59:00+00:00"}, "2026-03-01T15:59:00+00:00",
               e("A")),                                                                        # local 03-01 23:59
        _event(t, "customer.contact_noted", {"customer_id": ds.c("c1"), "note_id": "m", "owner_id": e("A"),
                                             "at": "2026-03-01T16:01:00+00:00"}, "2026-03-01T16:01:00+00:00",
               e("A")),                                                                        # local 03-02 00:01
    ]
    for ev in evs:
        reports.on_activity_event(ds.store, ev)
    reports.on_activity_event(ds.store, evs[0])  # redelivered: counted once
