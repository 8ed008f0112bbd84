"""Pool hardening through the gateway with the real customers and identity services (issue 12):
arguments are checked (400 with the field), a person's pool figures are theirs, their
supervisors' and the admins' (404 for anyone else), and ids in bodies must be the tenant's own."""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from crmkit.context import CallContext
from crmkit.errors import InvalidInput
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant
from tests.support.waiting import wait_for

C = "/api/v1/customers"
P = "/api/v1/pool"


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


@pytest.fixture(scope="module")
def other(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def refused(r: httpx.Response, status: int, field: str) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    err = r.json()["error"]
    assert err["code"] and field in json.dumps(err["details"]), err
    return err


def public_customer(http, t) -> str:
    """A customer in the public pool of ``t``: entered by the employee, released."""
    n = str(uuid.uuid4().int)
    c = http.post(C, json={"name": f"公海{uuid.uuid4().hex[:8]}电子有限公司", "address": "苏州",
                           "landlines": [f"0512-{n[:8]}"]}, headers=t.headers("employee"))
    assert c.status_code == 201, c.text
    cid = c.json()["id"]
    wait_for(lambda: http.get(f"{P}/customers/{cid}", headers=t.headers("admin")).json().get("owner_id"),
             timeout=60, what="entered")
    r = http.post(f"{C}/{cid}/release", json={"reason": "测试"}, headers=t.headers("employee"))
    assert r.status_code == 200, r.text
    wait_for(lambda: http.get(f"{P}/customers/{cid}", headers=t.headers("admin")).json().get("owner_id") is None,
             timeout=60, what="released")
    return cid


def test_arguments_are_checked(http, t, rpc):
    refused(http.get(f"{P}/reclaims", params={"limit": "abc"}, headers=t.headers("employee")), 400, "limit")
    refused(http.get(f"{P}/customers", params={"released_to": "9999-12-31"}, headers=t.headers("employee")), 400,
            "released_to")
    refused(http.get(f"{P}/customers", params={"page": "abc"}, headers=t.headers("employee")), 400, "page")
    refused(http.get(f"{P}/targets", params={"day": "9999-12-31"}, headers=t.headers("employee")), 400, "day")
    ctx = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    for kwargs in ({"limit": "abc"}, {"limit": [10]}):
        with pytest.raises(InvalidInput) as e:
            rpc.call("pool", "reclaim_log", ctx=ctx, **kwargs)
        assert e.value.details["field"] == "limit"


def test_pool_figures_of_a_peer_are_not_for_peers(http, t, other):
    emp = t.ids["employee"]  # in dept_a, managed by dept_admin
    for path, param in (("capacity", "owner_id"), ("targets", "user_id")):
        for role in ("employee", "dept_admin", "admin", "support"):
            r = http.get(f"{P}/{path}", params={param: emp}, headers=t.headers(role))
            assert r.status_code == 200, (path, role, r.text)
            assert r.json()[param] == emp
        for role in ("employee2", "all_customers"):
            r = http.get(f"{P}/{path}", params={param: emp}, headers=t.headers(role))
            assert r.status_code == 404 and r.json()["error"]["code"] == "pool.employee_not_found", (path, role)
        for unknown in ("no-such-employee", other.ids["employee"]):
            assert http.get(f"{P}/{path}", params={param: unknown}, headers=t.headers("admin")).status_code == 404
        assert http.get(f"{P}/{path}", headers=t.headers("employee2")).json()[param] == t.ids["employee2"]


def test_the_manager_of_the_primary_department_sees_the_figures(http, t):
    """A supervisor without the dept_admin role: the manager of the employee's primary department."""
    boss = add_employee(http, t, "主管", ["employee"], [t.depts["dept_a1"]])
    r = http.patch(f"/api/v1/departments/{t.depts['dept_a1']}", json={"manager_id": boss["id"]},
                   headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    sub = add_employee(http, t, "下属", ["employee"], [t.depts["dept_a1"]])
    h = {"Authorization": f"Bearer {boss['token']}"}
    assert http.get(f"{P}/capacity", params={"owner_id": sub["id"]}, headers=h).status_code == 200
    assert http.get(f"{P}/targets", params={"user_id": sub["id"]}, headers=h).status_code == 200
    assert http.get(f"{P}/capacity", params={"owner_id": t.ids["employee2"]}, headers=h).status_code == 404


def test_assignment_refuses_unknown_foreign_and_inactive_owners(http, t, other):
    cid = public_customer(http, t)
    for owner in ("no-such-employee", other.ids["employee"]):
        err = refused(http.post(f"{P}/customers/{cid}/assign", json={"owner_id": owner},
                                headers=t.headers("support")), 404, "employee_id")
        assert err["code"] == "pool.employee_not_found"
    gone = add_employee(http, t, "停用员工", ["employee"], [t.depts["dept_b"]])
    r = http.post(f"/api/v1/employees/{gone['id']}/disable", headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    err = refused(http.post(f"{P}/customers/{cid}/assign", json={"owner_id": gone["id"]},
                            headers=t.headers("support")), 422, "owner_id")
    assert err["code"] == "pool.owner_inactive"
    assert http.get(f"{P}/customers/{cid}", headers=t.headers("admin")).json()["owner_id"] is None  # untouched
    foreign = public_customer(http, other)
    r = http.post(f"{P}/customers/{foreign}/assign", json={"owner_id": t.ids["employee"]},
                  headers=t.headers("support"))
    assert r.status_code == 404
    r = http.post(f"{P}/customers/{cid}/assign", json={"owner_id": t.ids["employee2"]}, headers=t.headers("support"))
    assert r.status_code == 200 and r.json()["owner_id"] == t.ids["employee2"], r.text


def test_claim_requests_name_only_the_tenants_customers(http, t, other):
    foreign = public_customer(http, other)
    body = {"name": f"申请{uuid.uuid4().hex[:8]}有限公司", "landline": f"0512-{str(uuid.uuid4().int)[:8]}",
            "address": "苏州工业园区"}
    for cid in (foreign, "no-such-customer"):
        err = refused(http.post(f"{P}/claim-requests", json={**body, "customer_id": cid},
                                headers=t.headers("employee")), 404, "customer_id")
        assert err["code"] == "pool.customer_not_found"
    mine = http.get(f"{P}/claim-requests", headers=t.headers("employee")).json()
    assert all(r["customer_id"] not in (foreign, "no-such-customer") for r in mine["items"])
    r = http.post(f"{P}/claim-requests", json=body, headers=t.headers("employee"))  # a new customer: no id
    assert r.status_code in (200, 201), r.text
