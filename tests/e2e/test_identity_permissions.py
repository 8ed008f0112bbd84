"""Permission matrix over the identity routes: every role of tenant A and the admin of
tenant B. Allowed calls succeed, forbidden ones get 403, tenant A's ids seen from
tenant B get 404; nothing leaks across tenants."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile

API = "/api/v1"
ROLES = ("admin", "dept_admin", "employee", "employee2", "all_customers", "support", "other_tenant")
ALL = {r: 200 for r in ROLES}


@pytest.fixture(scope="module")
def tenants(http):
    return make_tenant(http, TEST_OPERATOR_SECRET), make_tenant(http, TEST_OPERATOR_SECRET)


def _fresh_employee(http, t, dept="dept_a"):
    r = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": f"目标 {uuid.uuid4().hex[:6]}", "mobile": random_mobile(), "dept_ids": [t.depts[dept]]})
    assert r.status_code == 201, r.text
    return r.json()


def _fresh_dept(http, t):
    r = http.post(f"{API}/departments", headers=t.headers(), json={"name": f"空部门 {uuid.uuid4().hex[:6]}",
                                                                     "parent_id": t.depts["dept_b"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _only_admin(created=200, other=404, dept_admin=403):
    out = {r: 403 for r in ROLES}
    out.update(admin=created, other_tenant=other, dept_admin=dept_admin)
    return out


# name -> (build(http, A) -> (method, path, json), expected status by role)
CASES = {
    "me": (lambda h, a: ("GET", "/me", None), ALL),
    "list_departments": (lambda h, a: ("GET", "/departments", None), ALL),
    "create_department": (lambda h, a: ("POST", "/departments", {"name": f"新部门 {uuid.uuid4().hex[:6]}",
                                                                  "parent_id": a.depts["dept_a"]}),
                          _only_admin(201)),
    "rename_department": (lambda h, a: ("PATCH", f"/departments/{a.depts['dept_a1']}",
                                        {"name": f"改名 {uuid.uuid4().hex[:6]}"}), _only_admin()),
    "delete_department": (lambda h, a: ("DELETE", f"/departments/{_fresh_dept(h, a)}", None), _only_admin()),
    "list_employees": (lambda h, a: ("GET", "/employees", None), ALL),
    "get_employee": (lambda h, a: ("GET", f"/employees/{a.ids['employee']}", None), {**ALL, "other_tenant": 404}),
    "create_employee": (lambda h, a: ("POST", "/employees", {"name": "新人", "mobile": random_mobile(),
                                                              "dept_ids": [a.depts["dept_a"]]}),
                        _only_admin(201, dept_admin=201)),
    "create_employee_outside_scope": (lambda h, a: ("POST", "/employees", {
        "name": "新人", "mobile": random_mobile(), "dept_ids": [a.depts["dept_b"]]}), _only_admin(201)),
    "update_employee": (lambda h, a: ("PATCH", f"/employees/{_fresh_employee(h, a)['id']}", {"name": "改"}),
                        _only_admin(dept_admin=200)),
    "update_employee_outside_scope": (lambda h, a: ("PATCH", f"/employees/{_fresh_employee(h, a, 'dept_b')['id']}",
                                                    {"name": "改"}), _only_admin()),
    "disable_employee": (lambda h, a: ("POST", f"/employees/{_fresh_employee(h, a)['id']}/disable", None),
                         _only_admin(dept_admin=200)),
    "enable_employee": (lambda h, a: ("POST", f"/employees/{_fresh_employee(h, a)['id']}/enable", None),
                        _only_admin(dept_admin=200)),
    "delete_employee": (lambda h, a: ("DELETE", f"/employees/{_fresh_employee(h, a)['id']}", None),
                        _only_admin(dept_admin=200)),
    "invite_employee": (lambda h, a: (lambda e: ("POST", f"/employees/{e['id']}/invitation",
                                                 {"mobile": e["mobile"]}))(_fresh_employee(h, a)),
                        _only_admin(201, dept_admin=201)),
    "get_menu_permissions": (lambda h, a: ("GET", "/menu-permissions", None), _only_admin(other=200)),
    "set_menu_permissions": (lambda h, a: ("PUT", "/menu-permissions",
                                           {"grants": {"customer_visits": [a.depts["dept_a"]]}}), _only_admin()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_permission_matrix(http, tenants, case):
    a, b = tenants
    build, expected = CASES[case]
    got = {}
    for role in ROLES:
        method, path, body = build(http, a)
        headers = b.headers("admin") if role == "other_tenant" else a.headers(role)
        r = http.request(method, API + path, json=body, headers=headers)
        got[role] = r.status_code
        if r.status_code >= 400:
            assert set(r.json()["error"]) == {"code", "message", "details"}
    assert got == expected


def test_nothing_leaks_across_tenants(http, tenants):
    a, b = tenants
    b_emps = http.get(f"{API}/employees", headers=b.headers()).json()["items"]
    assert b_emps and not {e["id"] for e in b_emps} & set(a.ids.values())
    assert all(e["tenant_id"] == b.tenant_id for e in b_emps)
    b_depts = http.get(f"{API}/departments", headers=b.headers()).json()["items"]
    assert not {d["id"] for d in b_depts} & set(a.depts.values())
    # B cannot put A's departments or people into its own records
    r = http.post(f"{API}/employees", headers=b.headers(), json={"name": "x", "mobile": random_mobile(),
                                                                 "dept_ids": [a.depts["dept_a"]]})
    assert r.status_code == 404
    r = http.patch(f"{API}/departments/{b.depts['dept_a']}", headers=b.headers(),
                   json={"manager_id": a.ids["employee"]})
    assert r.status_code == 404
    r = http.patch(f"{API}/departments/{b.depts['dept_a']}", headers=b.headers(),
                   json={"parent_id": a.depts["dept_b"]})
    assert r.status_code == 404


def test_an_employee_may_edit_only_their_own_profile_fields(http, tenants):
    a, _ = tenants
    me = a.ids["employee"]
    r = http.patch(f"{API}/employees/{me}", headers=a.headers("employee"), json={"name": "员工 A", "language": "en"})
    assert r.status_code == 200 and r.json()["language"] == "en"
    r = http.patch(f"{API}/employees/{me}", headers=a.headers("employee"), json={"roles": ["tenant_admin"]})
    assert r.status_code == 403


def test_a_dept_admin_cannot_grant_broad_roles(http, tenants):
    a, _ = tenants
    r = http.post(f"{API}/employees", headers=a.headers("dept_admin"), json={
        "name": "x", "mobile": random_mobile(), "dept_ids": [a.depts["dept_a"]], "roles": ["all_customers"]})
    assert r.status_code == 403


def test_menu_permission_per_department(http, tenants, rpc):
    from crmkit.context import CallContext
    a, _ = tenants
    def allowed(role):
        return http.get(f"{API}/me", headers=a.headers(role)).json()["menus"]["customer_visits"]
    r = http.put(f"{API}/menu-permissions", headers=a.headers(), json={"grants": {"customer_visits": []}})
    assert r.status_code == 200
    assert allowed("admin") and not allowed("employee") and not allowed("employee2")
    r = http.put(f"{API}/menu-permissions", headers=a.headers(), json={"grants": {"customer_visits":
                                                                                  [a.depts["dept_a"]]}})
    assert r.status_code == 200
    assert http.get(f"{API}/menu-permissions", headers=a.headers()).json() == {
        "grants": {"customer_visits": [a.depts["dept_a"]]}}
    assert allowed("employee") and allowed("dept_admin") and not allowed("employee2")
    ctx = CallContext(tenant_id=a.tenant_id, user_id=a.ids["employee2"], roles=("employee",))
    assert rpc.call("identity", "menu_allowed", ctx=ctx, menu="customer_visits") is False
    r = http.put(f"{API}/menu-permissions", headers=a.headers(), json={"grants": {"nope": []}})
    assert r.status_code == 400
