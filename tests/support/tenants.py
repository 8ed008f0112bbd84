"""A fresh tenant for a test, built through the gateway's HTTP API.

    from tests.conftest import TEST_OPERATOR_SECRET
    from tests.support.tenants import make_tenant

    t = make_tenant(http, TEST_OPERATOR_SECRET)
    http.get("/api/v1/me", headers=t.headers("employee"))

Roles (keys of ``tokens``, ``ids``, ``mobiles``): ``admin`` (tenant_admin, in the root
department), ``dept_admin`` (dept_admin, manager of ``dept_a``), ``employee`` (in
``dept_a``), ``employee2`` (in ``dept_b``), ``all_customers`` (in ``dept_b``),
``support`` (in the root department). Every person is joined and logged in; their
password is ``tenant.password``. Departments: ``root``, ``dept_a`` (under root),
``dept_a1`` (under dept_a) and ``dept_b`` (under root).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "Passw0rd!-demo"

#: role key -> (roles, department key, display name)
PEOPLE: dict[str, tuple[list[str], str, str]] = {
    "dept_admin": (["dept_admin", "employee"], "dept_a", "部门管理员 A"),
    "employee": (["employee"], "dept_a", "员工 A"),
    "employee2": (["employee"], "dept_b", "员工 B"),
    "all_customers": (["all_customers", "employee"], "dept_b", "全部客户员工"),
    "support": (["support"], "root", "销售支持"),
}


@dataclass
class Tenant:
    code: str
    tenant_id: str
    password: str
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    mobiles: dict[str, str] = field(default_factory=dict)
    depts: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str = "admin", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}

    @property
    def admin_id(self) -> str:
        return self.ids["admin"]


def _ok(r: httpx.Response, *expected: int) -> Any:
    if r.status_code not in (expected or (200, 201)):
        raise AssertionError(f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text}")
    return r.json()


def random_mobile() -> str:
    return "13" + str(uuid.uuid4().int)[:9]


def login(http: httpx.Client, code: str, mobile: str, password: str, bind_device: bool = False) -> dict[str, Any]:
    return _ok(http.post("/api/v1/auth/login", json={"tenant_code": code, "mobile": mobile, "password": password,
                                                      "bind_device": bind_device}))


def add_employee(http: httpx.Client, tenant: Tenant, name: str, roles: list[str], dept_ids: list[str],
                 *, primary_dept_id: str | None = None, mobile: str | None = None, join: bool = True,
                 password: str | None = None, as_role: str = "admin") -> dict[str, Any]:
    """Create an employee; with ``join`` also invite, accept and log in (``token`` in the answer)."""
    mobile = mobile or random_mobile()
    body: dict[str, Any] = {"name": name, "mobile": mobile, "roles": roles, "dept_ids": dept_ids}
    if primary_dept_id:
        body["primary_dept_id"] = primary_dept_id
    emp = _ok(http.post("/api/v1/employees", json=body, headers=tenant.headers(as_role)), 201)
    if join:
        inv = _ok(http.post(f"/api/v1/employees/{emp['id']}/invitation", json={"mobile": mobile},
                            headers=tenant.headers(as_role)), 201)
        _ok(http.post(f"/api/v1/invitations/{inv['invitation_id']}/accept",
                      json={"token": inv["token"], "password": password or tenant.password}))
        emp["token"] = login(http, tenant.code, mobile, password or tenant.password)["access_token"]
    emp["mobile"] = mobile
    return emp


def make_tenant(http: httpx.Client, operator_secret: str, code: str | None = None) -> Tenant:
    code = code or f"t{uuid.uuid4().hex[:12]}"
    admin_mobile = random_mobile()
    created = _ok(http.post("/api/v1/operator/tenants", headers={"X-Operator-Secret": operator_secret}, json={
        "code": code, "name": f"测试租户 {code}", "admin_mobile": admin_mobile, "admin_name": "主账号",
        "admin_password": PASSWORD}), 201)
    t = Tenant(code=code, tenant_id=created["tenant_id"], password=PASSWORD)
    t.ids["admin"] = created["admin_id"]
    t.mobiles["admin"] = admin_mobile
    t.depts["root"] = created["root_dept_id"]
    t.tokens["admin"] = login(http, code, admin_mobile, PASSWORD)["access_token"]
    for key, parent in (("dept_a", "root"), ("dept_b", "root"), ("dept_a1", "dept_a")):
        d = _ok(http.post("/api/v1/departments", json={"name": f"部门 {key}", "parent_id": t.depts[parent]},
                          headers=t.headers()), 201)
        t.depts[key] = d["id"]
    for key, (roles, dept, name) in PEOPLE.items():
        emp = add_employee(http, t, name, roles, [t.depts[dept]])
        t.ids[key], t.tokens[key], t.mobiles[key] = emp["id"], emp["token"], emp["mobile"]
    _ok(http.patch(f"/api/v1/departments/{t.depts['dept_a']}", json={"manager_id": t.ids["dept_admin"]},
                   headers=t.headers()))
    return t
