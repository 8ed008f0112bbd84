"""Contacts, tag groups, custom fields, contact notes, timeline, projects, delete,
bad input and the departure handover — through the gateway."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile
from tests.support.waiting import wait_for

C = "/api/v1/customers"
K = "/api/v1/contacts"


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, t, role="employee", **extra):
    n = str(uuid.uuid4().int)
    body = {"name": f"细节{uuid.uuid4().hex[:8]}有限公司", "address": "苏州", "landlines": [f"0512-{n[:8]}"], **extra}
    r = http.post(C, json=body, headers=t.headers(role))
    assert r.status_code == 201, r.text
    return r.json()


def test_bad_input_is_refused_and_nothing_written(http, t):
    before = http.get(C, headers=t.headers("admin")).json()["total"]
    n = str(uuid.uuid4().int)
    cases = [
        {"name": "长" * 100_000, "address": "x", "landlines": [f"0512-{n[:8]}"]},
        {"name": "好公司", "address": "x", "landlines": [f"0512-{n[:8]}"], "location": {"lat": 91, "lng": 0}},
        {"name": "好公司", "address": "x", "landlines": [f"0512-{n[:8]}"], "location": {"lat": "1e999", "lng": 0}},
        {"name": "好公司", "address": "x"},
        {"name": "好公司", "address": "x", "landlines": ["not a phone"]},
        {"name": "好公司", "address": "x", "landlines": [f"0512-{n[:8]}"], "kind": "alien"},
    ]
    for body in cases:
        r = http.post(C, json=body, headers=t.headers("employee"))
        assert r.status_code == 400, (r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "customer.invalid"
    assert http.post(C, content=b"[1,2]", headers=t.headers("employee")).status_code == 400
    assert http.post(C, content=b"{nope", headers=t.headers("employee")).status_code == 400
    r = http.post(f"{C}/duplicate-check", json={"name": "x" * 100_000}, headers=t.headers("employee"))
    assert r.status_code == 400
    assert http.get(C, headers=t.headers("admin")).json()["total"] == before


def test_edit_and_delete_rights(http, t):
    c = new_customer(http, t)
    assert http.patch(f"{C}/{c['id']}", json={"grade": "B"}, headers=t.headers("employee")).status_code == 200
    assert http.patch(f"{C}/{c['id']}", json={"grade": "C"}, headers=t.headers("dept_admin")).status_code == 200
    assert http.patch(f"{C}/{c['id']}", json={"grade": "D"}, headers=t.headers("all_customers")).status_code == 403
    assert http.patch(f"{C}/{c['id']}", json={"owner_id": "x"}, headers=t.headers("admin")).status_code == 400
    assert http.delete(f"{C}/{c['id']}", headers=t.headers("employee")).status_code == 403
    assert http.delete(f"{C}/{c['id']}", headers=t.headers("admin")).status_code == 200
    assert http.get(f"{C}/{c['id']}", headers=t.headers("admin")).status_code == 404
    again = http.post(C, json={"name": c["name"], "address": "x", "landlines": c["landlines"]},
                      headers=t.headers("employee2"))
    assert again.status_code == 201, again.text  # a deleted customer no longer blocks its keys


def test_tag_groups_and_custom_fields(http, t):
    assert http.post("/api/v1/tag-groups", json={"name": "x", "color": "red"},
                     headers=t.headers("employee")).status_code == 403
    assert http.post("/api/v1/tag-groups", json={"name": "x", "color": "pink"},
                     headers=t.headers("admin")).status_code == 400
    g1 = http.post("/api/v1/tag-groups", json={"name": f"阶段{uuid.uuid4().hex[:4]}", "color": "blue",
                                               "tags": ["初访", "意向"]}, headers=t.headers("admin"))
    assert g1.status_code == 201, g1.text
    g2 = http.post("/api/v1/tag-groups", json={"name": f"来源{uuid.uuid4().hex[:4]}", "color": "green",
                                               "tags": ["展会"]}, headers=t.headers("admin")).json()
    a, b = (x["id"] for x in g1.json()["tags"])
    c = new_customer(http, t)
    r = http.patch(f"{C}/{c['id']}", json={"tags": [a, b]}, headers=t.headers("employee"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "tags.exclusive"
    r = http.patch(f"{C}/{c['id']}", json={"tags": [a, g2["tags"][0]["id"]]}, headers=t.headers("employee"))
    assert r.status_code == 200, r.text
    assert {x["id"] for x in http.get(C, params={"tag": a}, headers=t.headers("employee")).json()["items"]} == {c["id"]}
    key = f"size{uuid.uuid4().hex[:4]}"
    f = http.post("/api/v1/custom-fields", json={"entity": "customer", "key": key, "label": "规模", "type": "number"},
                  headers=t.headers("admin"))
    assert f.status_code == 201, f.text
    assert http.patch(f"{C}/{c['id']}", json={"custom": {key: "big"}}, headers=t.headers("employee")).status_code == 400
    assert http.patch(f"{C}/{c['id']}", json={"custom": {key: 30}}, headers=t.headers("employee")).status_code == 200
    fields = http.get("/api/v1/custom-fields", params={"entity": "customer"}, headers=t.headers("admin")).json()
    builtin = next(x for x in fields if x["builtin"])
    assert http.delete(f"/api/v1/custom-fields/{builtin['id']}", headers=t.headers("admin")).status_code == 422
    assert http.delete(f"/api/v1/custom-fields/{f.json()['id']}", headers=t.headers("admin")).status_code == 200


def test_contacts(http, t):
    c = new_customer(http, t)
    mobile = random_mobile()
    r = http.post(K, json={"name": "王经理", "mobile": mobile, "customer_id": c["id"], "title": "采购"},
                  headers=t.headers("employee"))
    assert r.status_code == 201, r.text
    contact = r.json()
    dup = http.post(K, json={"name": "王", "mobile": f"+86 {mobile[:3]} {mobile[3:]}"}, headers=t.headers("employee2"))
    assert dup.status_code == 409, dup.text
    holder = dup.json()["error"]["details"]["holder"]
    assert holder["owner_id"] == t.ids["employee"] and holder["supervisor_id"] == t.ids["dept_admin"]
    assert t.ids["admin"] in holder["admin_ids"]
    colleague = http.post(K, json={"name": "同事", "mobile": t.mobiles["employee2"]}, headers=t.headers("employee"))
    assert colleague.status_code == 422 and colleague.json()["error"]["code"] == "contact.colleague_mobile"
    assert http.post(K, json={"name": "无号"}, headers=t.headers("employee")).status_code == 400
    cid = contact["id"]
    r = http.patch(f"{K}/{cid}", json={"mobile": random_mobile()}, headers=t.headers("employee"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "contact.mobile_immutable"
    assert http.patch(f"{K}/{cid}", json={"title": "总监"}, headers=t.headers("employee")).status_code == 200
    assert http.patch(f"{K}/{cid}", json={"title": "主管"}, headers=t.headers("dept_admin")).status_code == 200
    assert http.patch(f"{K}/{cid}", json={"title": "x"}, headers=t.headers("employee2")).status_code == 404
    assert http.get(K, params={"scope": "company"}, headers=t.headers("employee")).status_code == 403
    assert http.get(K, params={"scope": "unowned"}, headers=t.headers("employee")).status_code == 403
    found = http.get(K, params={"q": mobile[-6:]}, headers=t.headers("employee")).json()["items"]
    assert [x["id"] for x in found] == [cid]
    assert http.get(K, params={"q": "王经理", "scope": "company"}, headers=t.headers("admin")).json()["total"] >= 1
    assert http.delete(f"{K}/{cid}", headers=t.headers("employee")).status_code == 403
    assert http.delete(f"{K}/{cid}", headers=t.headers("admin")).status_code == 200
    readd = http.post(K, json={"name": "王经理", "mobile": mobile}, headers=t.headers("employee2"))
    assert readd.status_code == 201, readd.text


def test_contact_notes_timeline_and_projects(http, t):
    c = new_customer(http, t)
    r = http.post(f"{C}/{c['id']}/contact-notes", json={"kind": "call", "content": "电话沟通报价"},
                  headers=t.headers("employee"))
    assert r.status_code == 201, r.text
    assert http.post(f"{C}/{c['id']}/contact-notes", json={"kind": "fax"},
                     headers=t.headers("employee")).status_code == 400
    notes = http.get(f"{C}/{c['id']}/contact-notes", headers=t.headers("employee")).json()
    assert notes["total"] == 1 and notes["items"][0]["content"] == "电话沟通报价"
    tl = http.get(f"{C}/{c['id']}/timeline", headers=t.headers("employee")).json()["items"]
    assert [e["kind"] for e in tl][:2] == ["customer.contact_noted", "customer.created"]
    assert http.post(f"{C}/{c['id']}/projects", json={"name": "一期"},
                     headers=t.headers("employee")).status_code == 422
    v = new_customer(http, t, kind="vendor")
    p = http.post(f"{C}/{v['id']}/projects", json={"name": "一期", "code": "P-1"}, headers=t.headers("employee"))
    assert p.status_code == 201, p.text
    assert [x["name"] for x in http.get(f"{C}/{v['id']}/projects", headers=t.headers("employee")).json()] == ["一期"]


def test_departure_hands_customers_to_the_supervisor(http, t):
    leaver = add_employee(http, t, "离职员工", ["employee"], [t.depts["dept_a"]])
    h = {"Authorization": f"Bearer {leaver['token']}"}
    n = str(uuid.uuid4().int)
    r = http.post(C, json={"name": f"交接{uuid.uuid4().hex[:6]}有限公司", "address": "x",
                           "landlines": [f"0512-{n[:8]}"]}, headers=h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    m = random_mobile()
    assert http.post(K, json={"name": "客户联系人", "mobile": m}, headers=h).status_code == 201
    assert http.delete(f"/api/v1/employees/{leaver['id']}", headers=t.headers("admin")).status_code in (200, 204)

    def moved():
        doc = http.get(f"{C}/{cid}", headers=t.headers("admin")).json()
        return doc if doc["owner_id"] != leaver["id"] else None

    doc = wait_for(moved, timeout=30, what="handover")
    assert doc["owner_id"] == t.ids["dept_admin"]
    log = http.get(f"{C}/{cid}/ownership", headers=t.headers("admin")).json()
    assert log[-1]["path"] == "handover"
    assert http.get(f"{C}/{cid}", headers=t.headers("dept_admin")).status_code == 200
    found = http.get(K, params={"q": m[-6:]}, headers=t.headers("dept_admin")).json()["items"]
    assert found and found[0]["owner_id"] == t.ids["dept_admin"]
