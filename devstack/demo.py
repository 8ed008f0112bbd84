"""The demo tenant that ``make run`` loads, built through the gateway's HTTP API.

Tenant ``demo``: an admin; a three-level department tree with a manager in each
department; employees in every role; one employee in two departments; everyone joined
with the password :data:`PASSWORD`; the sales departments hold the PC records grant.
Idempotent: when the tenant exists, missing people are added and the logins are returned.
"""
from __future__ import annotations

from typing import Any

import httpx

CODE = "demo"
PASSWORD = "Demo-pass-2024"
ADMIN = {"key": "admin", "name": "王主账号", "mobile": "13900000001", "roles": ["tenant_admin"]}

#: key, name, parent key
DEPARTMENTS: list[tuple[str, str, str]] = [
    ("sales", "销售部", "root"),
    ("east", "华东大区", "sales"),
    ("shanghai", "上海组", "east"),
    ("north", "华北大区", "sales"),
    ("service", "客户服务部", "root"),
]

#: key, name, mobile, roles, departments (first = primary)
PEOPLE: list[tuple[str, str, str, list[str], list[str]]] = [
    ("sales_manager", "李销售总监", "13900000002", ["dept_admin", "employee"], ["sales"]),
    ("east_manager", "张华东经理", "13900000003", ["dept_admin", "employee"], ["east"]),
    ("shanghai_lead", "陈上海组长", "13900000004", ["employee"], ["shanghai"]),
    ("rep_shanghai", "刘销售", "13900000005", ["employee"], ["shanghai"]),
    ("rep_two_depts", "赵两部门", "13900000006", ["employee"], ["shanghai", "north"]),
    ("north_manager", "孙华北经理", "13900000007", ["dept_admin", "employee"], ["north"]),
    ("all_customers", "周全部客户", "13900000008", ["all_customers", "employee"], ["sales"]),
    ("support", "吴销售支持", "13900000009", ["support"], ["service"]),
]

#: departments granted the PC customer-visits records page (SPEC §2: per department, by the
#: tenant admin); customer service is left out, so the demo shows both sides of the grant
RECORDS_GRANTED = ("sales", "east", "shanghai", "north")

#: department key -> manager key
MANAGERS = {"sales": "sales_manager", "east": "east_manager", "shanghai": "shanghai_lead",
            "north": "north_manager", "service": "support"}


def _ok(r: httpx.Response, *expected: int) -> Any:
    if r.status_code not in (expected or (200, 201)):
        raise RuntimeError(f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text}")
    return r.json()


def logins() -> dict[str, Any]:
    users = [{"key": ADMIN["key"], "name": ADMIN["name"], "mobile": ADMIN["mobile"], "roles": ADMIN["roles"],
              "departments": ["root"]}]
    users += [{"key": k, "name": n, "mobile": m, "roles": r, "departments": d} for k, n, m, r, d in PEOPLE]
    return {"tenant_code": CODE, "password": PASSWORD, "login": "POST /api/v1/auth/login "
            "{tenant_code, mobile, password, bind_device}", "users": users}


def load_demo(base_url: str, operator_secret: str) -> dict[str, Any]:
    op = {"X-Operator-Secret": operator_secret}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        r = http.get(f"/api/v1/operator/tenants/{CODE}", headers=op)
        if r.status_code == 404:
            _ok(http.post("/api/v1/operator/tenants", headers=op, json={
                "code": CODE, "name": "演示科技有限公司", "admin_mobile": ADMIN["mobile"],
                "admin_name": ADMIN["name"], "admin_password": PASSWORD}), 201)
            tenant = _ok(http.get(f"/api/v1/operator/tenants/{CODE}", headers=op))
        else:
            tenant = _ok(r)
        token = _ok(http.post("/api/v1/auth/login", json={"tenant_code": CODE, "mobile": ADMIN["mobile"],
                                                          "password": PASSWORD}))["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        depts = {"root": tenant["root_dept_id"]}
        existing = _ok(http.get("/api/v1/departments", headers=h))["items"]
        by_parent_name = {(d["parent_id"], d["name"]): d["id"] for d in existing}
        for key, name, parent in DEPARTMENTS:
            found = by_parent_name.get((depts[parent], name))
            depts[key] = found or _ok(http.post("/api/v1/departments", headers=h,
                                                json={"name": name, "parent_id": depts[parent]}), 201)["id"]
        people = {e["mobile"]: e for e in _ok(http.get("/api/v1/employees", headers=h))["items"]}
        ids: dict[str, str] = {}
        for key, name, mobile, roles, dept_keys in PEOPLE:
            emp = people.get(mobile) or _ok(http.post("/api/v1/employees", headers=h, json={
                "name": name, "mobile": mobile, "roles": roles, "dept_ids": [depts[d] for d in dept_keys],
                "primary_dept_id": depts[dept_keys[0]]}), 201)
            ids[key] = emp["id"]
            if emp["status"] in ("created", "pending"):
                inv = _ok(http.post(f"/api/v1/employees/{emp['id']}/invitation", headers=h,
                                    json={"mobile": mobile}), 201)
                _ok(http.post(f"/api/v1/invitations/{inv['invitation_id']}/accept",
                              json={"token": inv["token"], "password": PASSWORD}))
        for dept_key, person in MANAGERS.items():
            _ok(http.patch(f"/api/v1/departments/{depts[dept_key]}", headers=h, json={"manager_id": ids[person]}))
        _ok(http.put("/api/v1/menu-permissions", headers=h,
                     json={"grants": {"customer_visits": [depts[k] for k in RECORDS_GRANTED]}}))
    return logins()
