"""Departments and bad input through the gateway: each refusal is a clear 4xx with a
code, and nothing is written."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _code(r):
    return r.json()["error"]["code"]


def _snapshot(http, t):
    depts = http.get(f"{API}/departments", headers=t.headers()).json()["items"]
    emps = http.get(f"{API}/employees", headers=t.headers()).json()["items"]
    return sorted((d["id"], d["name"], d["parent_id"], d["manager_id"]) for d in depts), \
        sorted((e["id"], e["name"], e["mobile"], tuple(e["roles"]), tuple(e["dept_ids"])) for e in emps)


def test_department_tree_crud(http, tenant):
    t = tenant
    h = t.headers()
    top = http.post(f"{API}/departments", headers=h, json={"name": "华东大区 🌏"}).json()
    assert top["parent_id"] == t.depts["root"]
    mid = http.post(f"{API}/departments", headers=h, json={"name": "上海", "parent_id": top["id"]}).json()
    low = http.post(f"{API}/departments", headers=h, json={"name": "浦东", "parent_id": mid["id"]}).json()
    tree = http.get(f"{API}/departments", headers=h).json()["tree"]
    assert len(tree) == 1 and tree[0]["id"] == t.depts["root"]
    node = next(c for c in tree[0]["children"] if c["id"] == top["id"])
    assert node["children"][0]["children"][0]["id"] == low["id"]
    # rename, move, sibling names unique
    r = http.patch(f"{API}/departments/{low['id']}", headers=h, json={"name": "浦东新区"})
    assert r.status_code == 200 and r.json()["name"] == "浦东新区"
    r = http.patch(f"{API}/departments/{low['id']}", headers=h, json={"parent_id": top["id"]})
    assert r.status_code == 200 and r.json()["parent_id"] == top["id"]
    r = http.post(f"{API}/departments", headers=h, json={"name": "上海", "parent_id": top["id"]})
    assert r.status_code == 409 and _code(r) == "department.name_taken"
    # a department with people or children cannot be deleted
    r = http.delete(f"{API}/departments/{top['id']}", headers=h)
    assert r.status_code == 409 and _code(r) == "department.not_empty"
    emp = http.post(f"{API}/employees", headers=h, json={"name": "x", "mobile": random_mobile(),
                                                          "dept_ids": [mid["id"]]}).json()
    r = http.delete(f"{API}/departments/{mid['id']}", headers=h)
    assert r.status_code == 409 and emp["id"] in r.json()["error"]["details"]["employee_ids"]
    assert http.delete(f"{API}/employees/{emp['id']}", headers=h).status_code == 200
    assert http.delete(f"{API}/departments/{mid['id']}", headers=h).status_code == 200
    assert http.delete(f"{API}/departments/{mid['id']}", headers=h).status_code == 404
    # the root stays
    r = http.delete(f"{API}/departments/{t.depts['root']}", headers=h)
    assert r.status_code == 422 and _code(r) == "department.root"


def test_department_cycle_is_refused_and_nothing_changes(http, tenant):
    t = tenant
    before = _snapshot(http, t)
    for dept, parent in (("dept_a", "dept_a1"), ("dept_a", "dept_a")):
        r = http.patch(f"{API}/departments/{t.depts[dept]}", headers=t.headers(),
                       json={"parent_id": t.depts[parent], "name": "改名不应生效"})
        assert r.status_code == 400 and _code(r) == "department.cycle", r.text
    assert _snapshot(http, t) == before


def test_an_employee_in_two_departments(http, tenant):
    t = tenant
    r = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "两个部门", "mobile": random_mobile(), "dept_ids": [t.depts["dept_a"], t.depts["dept_b"]],
        "primary_dept_id": t.depts["dept_b"]})
    assert r.status_code == 201 and r.json()["primary_dept_id"] == t.depts["dept_b"]
    r = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "主部门不对", "mobile": random_mobile(), "dept_ids": [t.depts["dept_a"]],
        "primary_dept_id": t.depts["dept_b"]})
    assert r.status_code == 400 and _code(r) == "employee.primary_not_member"


BAD_EMPLOYEES = [
    ({"mobile": "13800000000", "dept_ids": ["x"]}, "validation.required"),
    ({"name": "", "mobile": "13800000000", "dept_ids": ["x"]}, "validation.required"),
    ({"name": 5, "mobile": "13800000000", "dept_ids": ["x"]}, "validation.type"),
    ({"name": "x" * 65, "mobile": "13800000000", "dept_ids": ["x"]}, "validation.too_long"),
    ({"name": "a", "mobile": 13800000000, "dept_ids": ["x"]}, "validation.type"),
    ({"name": "a", "mobile": "not a phone", "dept_ids": ["x"]}, "validation.mobile"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": "x"}, "validation.type"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": []}, "validation.required"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": ["x"], "roles": ["king"]}, "validation.role"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": ["x"], "roles": "employee"}, "validation.type"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": ["x"], "language": "fr"}, "validation.language"),
    ({"name": "a", "mobile": "13800000000", "dept_ids": ["x"], "is_admin": True}, "validation.unknown_field"),
    ({"name": "a\u0000b", "mobile": "13800000000", "dept_ids": ["x"]}, "validation.characters"),
]


@pytest.mark.parametrize("body,code", BAD_EMPLOYEES)
def test_bad_employee_input_writes_nothing(http, tenant, body, code):
    before = _snapshot(http, tenant)
    r = http.post(f"{API}/employees", headers=tenant.headers(), json=body)
    assert r.status_code == 400 and _code(r) == code, r.text
    assert _snapshot(http, tenant) == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\"text\"", b"\xff\xfe"])
def test_malformed_json(http, tenant, raw):
    before = _snapshot(http, tenant)
    for path in ("/departments", "/employees"):
        r = http.post(API + path, content=raw, headers={**tenant.headers(), "content-type": "application/json"})
        assert r.status_code == 400 and _code(r) == "invalid_json", r.text
    assert _snapshot(http, tenant) == before


def test_bad_department_input(http, tenant):
    h = tenant.headers()
    before = _snapshot(http, tenant)
    for body, status, code in (({}, 400, "validation.required"), ({"name": ["x"]}, 400, "validation.type"),
                               ({"name": "x", "parent_id": 7}, 400, "validation.type"),
                               ({"name": "x", "parent_id": "nope"}, 404, "department.not_found"),
                               ({"name": "x", "manager_id": "nope"}, 404, "employee.not_found")):
        r = http.post(f"{API}/departments", headers=h, json=body)
        assert (r.status_code, _code(r)) == (status, code), r.text
    assert _snapshot(http, tenant) == before


def test_ten_megabyte_body_is_413(http, tenant):
    before = _snapshot(http, tenant)
    big = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    r = http.post(f"{API}/employees", content=big, headers={**tenant.headers(), "content-type": "application/json"})
    assert r.status_code == 413 and _code(r) == "too_large"
    r = http.post(f"{API}/auth/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert _snapshot(http, tenant) == before


def test_unicode_names_round_trip(http, tenant):
    for name in ("张三", "Zoë Ñúñez", "عبد الله", "😀 emoji 名字", "𠀀𠀁 ext-B"):
        r = http.post(f"{API}/employees", headers=tenant.headers(), json={
            "name": name, "mobile": random_mobile(), "dept_ids": [tenant.depts["dept_b"]]})
        assert r.status_code == 201, r.text
        got = http.get(f"{API}/employees/{r.json()['id']}", headers=tenant.headers()).json()
        assert got["name"] == name


def test_idempotency_key_gives_exactly_one_effect(http, tenant):
    h = {**tenant.headers(), "Idempotency-Key": uuid.uuid4().hex}
    body = {"name": f"幂等 {uuid.uuid4().hex[:6]}", "mobile": random_mobile(), "dept_ids": [tenant.depts["dept_b"]]}
    first = http.post(f"{API}/employees", headers=h, json=body)
    second = http.post(f"{API}/employees", headers=h, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    names = [e["name"] for e in http.get(f"{API}/employees", headers=tenant.headers()).json()["items"]]
    assert names.count(body["name"]) == 1


def test_last_admin_cannot_leave_or_be_disabled(http, tenant):
    r = http.post(f"{API}/employees/me/leave", headers=tenant.headers())
    assert r.status_code == 422 and _code(r) == "employee.last_admin"
    r = http.post(f"{API}/employees/{tenant.admin_id}/disable", headers=tenant.headers())
    assert r.status_code == 422
