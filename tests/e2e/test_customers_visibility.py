"""Visibility matrix over roles and two tenants (own + shared / department subtree /
all), on read, list, map and export; transfer moves visibility; ids outside answer 404."""
from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant

C = "/api/v1/customers"
ROLES = ("admin", "dept_admin", "employee", "employee2", "all_customers", "support")


@pytest.fixture(scope="module")
def tenants(http):
    return make_tenant(http, TEST_OPERATOR_SECRET), make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, t, role="employee", **extra):
    n = str(uuid.uuid4().int)
    body = {"name": f"可见{uuid.uuid4().hex[:8]}有限公司", "address": "苏州", "landlines": [f"0512-{n[:8]}"],
            "location": {"lat": 31.3, "lng": 120.6}, **extra}
    r = http.post(C, json=body, headers=t.headers(role))
    assert r.status_code == 201, r.text
    return r.json()


def status_by_role(http, a, b, cid):
    out = {role: http.get(f"{C}/{cid}", headers=a.headers(role)).status_code for role in ROLES}
    out["other_tenant"] = http.get(f"{C}/{cid}", headers=b.headers("admin")).status_code
    return out


def test_matrix_for_an_employees_customer(http, tenants):
    a, b = tenants
    cid = new_customer(http, a)["id"]
    assert status_by_role(http, a, b, cid) == {
        "admin": 200, "dept_admin": 200, "employee": 200, "employee2": 404, "all_customers": 200, "support": 404,
        "other_tenant": 404}
    for role in ROLES:  # list, map and export agree with the read
        visible = http.get(f"{C}/{cid}", headers=a.headers(role)).status_code == 200
        ids = {c["id"] for c in http.get(C, params={"page_size": 200}, headers=a.headers(role)).json()["items"]}
        assert (cid in ids) == visible, role
        feats = http.get(f"{C}/map", headers=a.headers(role)).json()["features"]
        assert (cid in {f["properties"]["id"] for f in feats}) == visible, role
        xl = http.get(f"{C}/export", headers=a.headers(role))
        assert xl.status_code == 200
        rows = load_workbook(io.BytesIO(xl.content), read_only=True).worksheets[0].iter_rows(values_only=True)
        assert (cid in {r[0] for r in rows}) == visible, role
    assert http.get(C, headers=b.headers("admin")).json()["total"] == 0 or cid not in {
        c["id"] for c in http.get(C, params={"page_size": 200}, headers=b.headers("admin")).json()["items"]}


def test_matrix_for_employee2s_customer(http, tenants):
    a, b = tenants
    cid = new_customer(http, a, role="employee2")["id"]
    assert status_by_role(http, a, b, cid) == {
        "admin": 200, "dept_admin": 404, "employee": 404, "employee2": 200, "all_customers": 200, "support": 404,
        "other_tenant": 404}


def test_unknown_and_foreign_ids_are_404_everywhere(http, tenants):
    a, b = tenants
    cid = new_customer(http, a)["id"]
    h = b.headers("admin")
    assert http.patch(f"{C}/{cid}", json={"grade": "A"}, headers=h).status_code == 404
    assert http.delete(f"{C}/{cid}", headers=h).status_code == 404
    assert http.post(f"{C}/{cid}/transfer", json={"new_owner_id": b.ids["employee"]}, headers=h).status_code == 404
    assert http.get(f"{C}/{cid}/timeline", headers=h).status_code == 404
    assert http.post(f"{C}/{cid}/contact-notes", json={"content": "x"}, headers=h).status_code == 404
    assert http.get(f"{C}/{uuid.uuid4().hex}", headers=a.headers("admin")).status_code == 404


def test_transfer_moves_visibility(http, tenants):
    a, b = tenants
    cid = new_customer(http, a)["id"]
    assert http.post(f"{C}/{cid}/transfer", json={"new_owner_id": a.ids["employee2"]},
                     headers=a.headers("employee")).status_code == 403
    r = http.post(f"{C}/{cid}/transfer", json={"new_owner_id": a.ids["employee2"], "reason": "territory"},
                  headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["seq"] == 2
    s = status_by_role(http, a, b, cid)
    assert (s["employee"], s["employee2"], s["dept_admin"], s["other_tenant"]) == (404, 200, 404, 404)
    log = http.get(f"{C}/{cid}/ownership", headers=a.headers("admin")).json()
    assert [(e["path"], e["to_owner_id"]) for e in log] == [("entry", a.ids["employee"]),
                                                             ("transfer", a.ids["employee2"])]
    assert log[1]["actor_id"] == a.ids["admin"] and log[1]["reason"] == "territory"
    tl = http.get(f"{C}/{cid}/timeline", headers=a.headers("employee2")).json()["items"]
    assert tl[0]["kind"] == "customer.owner_changed"


def test_share_all_of_a_with_several_b(http, tenants):
    a, _ = tenants
    cid = new_customer(http, a)["id"]
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).status_code == 404
    r = http.post(f"{C}/share", json={"from_owner_id": a.ids["employee"],
                                      "to_user_ids": [a.ids["employee2"], a.ids["support"]]},
                  headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["customers"] >= 1
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).status_code == 200
    assert http.get(f"{C}/{cid}", headers=a.headers("support")).status_code == 200
    later = new_customer(http, a)["id"]  # the share covers customers entered later too
    assert http.get(f"{C}/{later}", headers=a.headers("employee2")).status_code == 200
    xl = http.get(f"{C}/export/employee-customers", headers=a.headers("admin"))
    rows = list(load_workbook(io.BytesIO(xl.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert (a.ids["employee2"], "共享", cid) in {(r[0], r[2], r[3]) for r in rows}
    assert http.post(f"{C}/share", json={"from_owner_id": a.ids["employee"], "to_user_ids": [a.ids["employee2"]]},
                     headers=a.headers("employee2")).status_code == 403
    http.post(f"{C}/share", json={"from_owner_id": a.ids["employee"], "to_user_ids": [a.ids["employee2"],
                                                                                      a.ids["support"]],
                                  "unshare": True}, headers=a.headers("admin"))
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).status_code == 404


def test_department_assignment_reaches_that_departments_admins_not_its_members(http, tenants):
    """分配到部门: a customer assigned to a department is seen by the department admins over
    it (SPEC §3: a department admin sees their subtree), never by its plain members — an
    employee sees only what they follow and what is shared with them."""
    a, b = tenants
    cid = new_customer(http, a, role="employee2")["id"]  # followed in dept_b
    see = lambda role: http.get(f"{C}/{cid}", headers=a.headers(role)).status_code  # noqa: E731
    assert (see("dept_admin"), see("employee")) == (404, 404)
    r = http.post(f"{C}/departments", json={"customer_ids": [cid], "dept_ids": [a.depts["dept_a1"]]},
                  headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    assert see("dept_admin") == 200  # dept_a1 lies in the subtree dept_admin manages
    assert see("employee") == 404  # a plain member of dept_a gains nothing
    listed = {c["id"] for c in http.get(C, params={"page_size": 200}, headers=a.headers("dept_admin")).json()["items"]}
    assert cid in listed
    tl = http.get(f"{C}/{cid}/timeline", headers=a.headers("admin")).json()["items"]
    assert tl[0]["kind"] == "customer.departments" and "部门 dept_a1" in tl[0]["summary"]
    http.post(f"{C}/departments", json={"customer_ids": [cid], "dept_ids": [a.depts["dept_a1"]], "unassign": True},
              headers=a.headers("admin"))
    assert see("dept_admin") == 404


def test_a_department_admin_assigns_only_inside_their_subtree(http, tenants):
    a, b = tenants
    cid = new_customer(http, a)["id"]  # the employee's, in dept_a: visible to dept_admin
    post = lambda depts, role="dept_admin": http.post(  # noqa: E731
        f"{C}/departments", json={"customer_ids": [cid], "dept_ids": depts}, headers=a.headers(role))
    r = post([a.depts["dept_b"]])
    assert r.status_code == 403 and r.json()["error"]["code"] == "departments.outside_scope", r.text
    assert r.json()["error"]["details"]["ids"] == [a.depts["dept_b"]]
    assert http.get(f"{C}/{cid}", headers=a.headers("all_customers")).json()["dept_ids"] == []  # nothing written
    for bad in ([uuid.uuid4().hex], [b.depts["dept_a"]]):  # random and other tenants' ids
        r = post(bad, "admin")
        assert r.status_code == 404 and r.json()["error"]["code"] == "department.not_found", r.text
    assert post([a.depts["dept_a1"]]).status_code == 200
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).status_code == 404  # dept_b's member: no


def test_bind_and_unbind(http, tenants):
    a, _ = tenants
    cid = new_customer(http, a)["id"]
    assert http.post(f"{C}/bind", json={"customer_ids": [cid], "owner_id": a.ids["employee2"]},
                     headers=a.headers("employee")).status_code == 403
    r = http.post(f"{C}/bind", json={"customer_ids": [cid], "owner_id": a.ids["employee2"]},
                  headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).json()["owner_id"] == a.ids["employee2"]
    r = http.post(f"{C}/bind", json={"customer_ids": [cid], "owner_id": None}, headers=a.headers("admin"))
    assert r.status_code == 200
    assert http.get(f"{C}/{cid}", headers=a.headers("employee2")).status_code == 404
    assert http.get(f"{C}/{cid}", headers=a.headers("admin")).json()["owner_id"] is None


def test_map_for_several_employees_and_pagination(http, tenants):
    a, _ = tenants
    mine = [new_customer(http, a)["id"] for _ in range(3)]
    theirs = new_customer(http, a, role="employee2")["id"]
    geo = http.get(f"{C}/map", params={"owner_ids": f"{a.ids['employee']},{a.ids['employee2']}"},
                   headers=a.headers("admin")).json()
    ids = {f["properties"]["id"] for f in geo["features"]}
    assert set(mine) <= ids and theirs in ids
    assert geo["features"][0]["geometry"]["coordinates"] == [120.6, 31.3]
    page = http.get(C, params={"owner_id": a.ids["employee"], "page_size": 2, "page": 1},
                    headers=a.headers("admin")).json()
    assert len(page["items"]) == 2 and page["total"] >= 3
    assert http.get(C, params={"page_size": 1000}, headers=a.headers("admin")).status_code == 400
