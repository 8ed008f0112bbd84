"""The routes the PC console added (issue 14), through the gateway with the real services:
the employee table's page and search, a departure's preview (who receives what: customers,
contacts, future visit plans) matching what the departure then moves, the customers list's
department and unowned filters, the contact tier with its count, and the claim-request queue
in pages."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crmkit.clock import iso
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def ok(r, *codes):
    assert r.status_code in (codes or (200, 201)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


def customer(http, headers, **extra):
    n = str(uuid.uuid4().int)
    return ok(http.post("/api/v1/customers", headers=headers, json={
        "name": f"控制台{uuid.uuid4().hex[:8]}有限公司", "address": "上海市黄浦区", "landlines": [f"021-{n[:8]}"],
        "location": {"lat": 31.23, "lng": 121.47}, **extra}), 201)


def test_the_employee_table_pages_and_searches_by_name_or_mobile(http, tenant):
    everyone = ok(http.get("/api/v1/employees", headers=tenant.headers()))
    assert "total" not in everyone and len(everyone["items"]) >= 6  # without paging: the list as before
    page = ok(http.get("/api/v1/employees", params={"page": 2, "page_size": 2}, headers=tenant.headers()))
    assert page["total"] == len(everyone["items"]) and page["page"] == 2 and len(page["items"]) == 2
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everyone["items"][2:4]]
    found = ok(http.get("/api/v1/employees", params={"q": "员工 a"}, headers=tenant.headers()))
    assert [e["name"] for e in found["items"]] == ["员工 A"]
    by_mobile = ok(http.get("/api/v1/employees", params={"q": tenant.mobiles["support"][-6:]},
                            headers=tenant.headers()))
    assert [e["id"] for e in by_mobile["items"]] == [tenant.ids["support"]]
    for bad in ({"page": "0"}, {"page_size": "500"}, {"page": "x"}):
        r = http.get("/api/v1/employees", params=bad, headers=tenant.headers())
        field = r.json()["error"]["details"]["field"] if r.status_code == 400 else None
        assert field in ("query.page", "query.page_size"), r.text  # the gateway names the query parameter


def test_a_departure_preview_names_the_receiver_and_counts_what_the_departure_moves(http, tenant):
    leaver = add_employee(http, tenant, "离职预览员工", ["employee"], [tenant.depts["dept_a"]])
    mine = {"Authorization": f"Bearer {leaver['token']}"}
    for _ in range(2):
        customer(http, mine)
    ok(http.post("/api/v1/contacts", headers=mine, json={"name": "联系人甲", "mobile": random_mobile()}), 201)
    c = customer(http, mine)
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{c['id']}", headers=mine).status_code == 200)
    ok(http.post("/api/v1/visits", headers=mine, json={
        "customer_id": c["id"], "planned_at": iso(datetime.now(UTC) + timedelta(days=2)),
        "location": {"address": "上海", "lat": 31.23, "lng": 121.47}, "topic": "回访", "policy_accepted": True}), 201)

    preview = ok(http.get(f"/api/v1/employees/{leaver['id']}/departure-preview", headers=tenant.headers()))
    assert preview == {"employee_id": leaver["id"], "name": "离职预览员工", "handover_to": tenant.ids["dept_admin"],
                       "handover_name": "部门管理员 A", "customers": 3, "contacts": 1, "future_visits": 1}
    # a department admin over the leaver sees it too; an employee does not
    ok(http.get(f"/api/v1/employees/{leaver['id']}/departure-preview", headers=tenant.headers("dept_admin")))
    r = http.get(f"/api/v1/employees/{leaver['id']}/departure-preview", headers=tenant.headers("employee2"))
    assert r.status_code == 403, r.text
    assert http.get(f"/api/v1/employees/{uuid.uuid4().hex}/departure-preview",
                    headers=tenant.headers()).status_code == 404

    ok(http.delete(f"/api/v1/employees/{leaver['id']}", headers=tenant.headers()))
    boss = tenant.headers("dept_admin")
    wait_for(lambda: ok(http.get("/api/v1/customers", params={"owner_id": tenant.ids["dept_admin"],
                                                              "page_size": 200}, headers=boss))["total"] >= 3)
    wait_for(lambda: any(v["customer_id"] == c["id"] for v in ok(http.get("/api/v1/visits", headers=boss))["items"]))


def test_the_customers_list_filters_by_department_and_by_unowned_for_admins(http, tenant):
    a = customer(http, tenant.headers("employee"))
    customer(http, tenant.headers("employee"))
    ok(http.post("/api/v1/customers/departments", headers=tenant.headers(),
                 json={"customer_ids": [a["id"]], "dept_ids": [tenant.depts["dept_b"]]}))
    listed = ok(http.get("/api/v1/customers", params={"dept_id": tenant.depts["dept_b"]}, headers=tenant.headers()))
    assert [x["id"] for x in listed["items"]] == [a["id"]]

    gone = add_employee(http, tenant, "无主管员工", ["employee"], [tenant.depts["dept_b"]])  # dept_b has no manager
    orphan = customer(http, {"Authorization": f"Bearer {gone['token']}"})
    ok(http.delete(f"/api/v1/employees/{gone['id']}", headers=tenant.headers()))
    wait_for(lambda: orphan["id"] in [x["id"] for x in ok(http.get(
        "/api/v1/customers", params={"unowned": "true"}, headers=tenant.headers()))["items"]])
    unowned = ok(http.get("/api/v1/customers", params={"unowned": "true"}, headers=tenant.headers()))
    assert all(x["owner_id"] is None for x in unowned["items"])
    r = http.get("/api/v1/customers", params={"unowned": "true"}, headers=tenant.headers("dept_admin"))
    assert r.status_code == 403 and r.json()["error"]["details"]["field"] == "unowned", r.text
    r = http.get("/api/v1/customers", params={"unowned": "perhaps"}, headers=tenant.headers())
    assert r.status_code == 400, r.text


def test_the_contact_tier_is_read_with_its_limit_and_count(http, tenant):
    before = ok(http.get("/api/v1/contacts/tier", headers=tenant.headers()))
    assert before["tier"] == "basic" and before["contact_limit"] == 2000
    body = {"name": "甲", "mobile": random_mobile()}
    ok(http.post("/api/v1/contacts", headers=tenant.headers("employee"), json=body), 201)
    ok(http.put("/api/v1/contacts/tier", json={"tier": "pro"}, headers=tenant.headers()))
    after = ok(http.get("/api/v1/contacts/tier", headers=tenant.headers()))
    assert after["tier"] == "pro" and after["contact_limit"] == 10000 and after["used"] == before["used"] + 1


def test_the_claim_request_queue_comes_in_pages_oldest_first(http, tenant):
    ids = []
    for i in range(3):
        n = str(uuid.uuid4().int)
        ids.append(ok(http.post("/api/v1/pool/claim-requests", headers=tenant.headers("employee"), json={
            "name": f"申请{i}{uuid.uuid4().hex[:6]}贸易有限公司", "address": "上海", "landline": f"021-{n[:8]}",
            "remarks": "客户主动联系"}), 200)["id"])
    support = tenant.headers("support")
    whole = ok(http.get("/api/v1/pool/claim-requests", params={"status": "pending"}, headers=support))
    assert "page" not in whole  # without paging: the whole queue as before
    first = ok(http.get("/api/v1/pool/claim-requests", params={"status": "pending", "page_size": 2}, headers=support))
    second = ok(http.get("/api/v1/pool/claim-requests", params={"status": "pending", "page_size": 2, "page": 2},
                         headers=support))
    assert first["total"] == whole["total"] and first["page"] == 1 and len(first["items"]) == 2
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in whole["items"]][:4]
    assert [r["id"] for r in whole["items"]][-3:] == ids
    r = http.get("/api/v1/pool/claim-requests", params={"page_size": "0"}, headers=support)
    assert r.status_code == 400, r.text
