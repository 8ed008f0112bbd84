"""Authorization through the gateway: the supervisor (manager of the owner's primary
department) without the dept_admin role; reference ids in bodies checked against the
tenant (random ids, other tenants' ids, inactive employees); an admin reassigning unowned
contacts; deleted customers' audit, list and restore; which tags a timeline entry names."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile
from tests.support.waiting import wait_for

C = "/api/v1/customers"
K = "/api/v1/contacts"


@pytest.fixture(scope="module")
def tenants(http):
    return make_tenant(http, TEST_OPERATOR_SECRET), make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, token_headers, **extra):
    n = str(uuid.uuid4().int)
    body = {"name": f"权限{uuid.uuid4().hex[:8]}有限公司", "address": "苏州", "landlines": [f"0512-{n[:8]}"], **extra}
    r = http.post(C, json=body, headers=token_headers)
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def team(http, tenants):
    """A department whose manager holds only the employee role, and one of its members."""
    a, _ = tenants
    dept = http.post("/api/v1/departments", json={"name": f"小组{uuid.uuid4().hex[:4]}", "parent_id": a.depts["root"]},
                     headers=a.headers()).json()
    boss = add_employee(http, a, "组长", ["employee"], [dept["id"]])
    member = add_employee(http, a, "组员", ["employee"], [dept["id"]])
    r = http.patch(f"/api/v1/departments/{dept['id']}", json={"manager_id": boss["id"]}, headers=a.headers())
    assert r.status_code == 200, r.text
    return {"dept": dept, "boss": boss, "member": member}


def test_the_supervisor_views_and_edits_a_subordinates_customers_and_contacts(http, tenants, team):
    a, _ = tenants
    boss, member = bearer(team["boss"]["token"]), bearer(team["member"]["token"])
    cid = new_customer(http, member)["id"]
    assert http.get(f"{C}/{cid}", headers=boss).status_code == 200  # 404 before: no dept_admin role
    r = http.patch(f"{C}/{cid}", json={"grade": "A"}, headers=boss)
    assert r.status_code == 200 and r.json()["grade"] == "A", r.text
    assert http.get(f"{C}/{cid}/timeline", headers=boss).status_code == 200
    mine = http.get(C, params={"owner_id": team["member"]["id"], "page_size": 200}, headers=boss).json()
    assert [c["id"] for c in mine["items"]] == [cid]
    # a peer of the member, and the member towards the boss, gain nothing
    assert http.get(f"{C}/{cid}", headers=a.headers("employee")).status_code == 404
    boss_cid = new_customer(http, boss)["id"]
    assert http.get(f"{C}/{boss_cid}", headers=member).status_code == 404
    # contacts likewise
    contact = http.post(K, json={"name": "下属的联系人", "mobile": random_mobile()}, headers=member)
    assert contact.status_code == 201, contact.text
    kid = contact.json()["id"]
    assert http.get(f"{K}/{kid}", headers=boss).status_code == 200
    r = http.patch(f"{K}/{kid}", json={"title": "采购"}, headers=boss)
    assert r.status_code == 200 and r.json()["title"] == "采购", r.text
    assert http.get(f"{K}/{kid}", headers=a.headers("employee")).status_code == 404


def test_reference_ids_in_bodies_must_be_of_the_tenant(http, tenants):
    a, b = tenants
    cid = new_customer(http, a.headers("employee"))["id"]
    pending = add_employee(http, a, "未加入", ["employee"], [a.depts["dept_a"]], join=False)
    left = add_employee(http, a, "离职者", ["employee"], [a.depts["dept_a"]])
    assert http.delete(f"/api/v1/employees/{left['id']}", headers=a.headers()).status_code == 200
    strangers = {"random": uuid.uuid4().hex, "other_tenant": b.ids["employee"]}
    inactive = {"pending": pending["id"], "left": left["id"]}
    h = a.headers("admin")
    for label, who in strangers.items():
        for method, path, body in (
                ("POST", f"{C}/{cid}/transfer", {"new_owner_id": who}),
                ("POST", f"{C}/bind", {"customer_ids": [cid], "owner_id": who}),
                ("POST", f"{C}/share", {"from_owner_id": a.ids["employee"], "to_user_ids": [who]}),
                ("POST", f"{C}/share", {"from_owner_id": who, "to_user_ids": [a.ids["employee2"]]})):
            r = http.request(method, path, json=body, headers=h)
            assert r.status_code == 404, (label, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "employee.not_found", r.text
            assert who in r.json()["error"]["details"]["ids"]
    for label, who in inactive.items():
        for path, body in ((f"{C}/{cid}/transfer", {"new_owner_id": who}),
                           (f"{C}/bind", {"customer_ids": [cid], "owner_id": who}),
                           (f"{C}/share", {"from_owner_id": a.ids["employee"], "to_user_ids": [who]})):
            r = http.post(path, json=body, headers=h)
            assert r.status_code == 422 and r.json()["error"]["code"] == "employee.inactive", (label, path, r.text)
    # nothing moved: the owner and the log are as entered, nobody got a share
    got = http.get(f"{C}/{cid}", headers=h).json()
    assert got["owner_id"] == a.ids["employee"] and got["shared_with"] == []
    assert [e["path"] for e in http.get(f"{C}/{cid}/ownership", headers=h).json()] == ["entry"]
    # a bind naming one unknown customer moves none of the others
    other = new_customer(http, a.headers("employee"))["id"]
    r = http.post(f"{C}/bind", json={"customer_ids": [other, uuid.uuid4().hex], "owner_id": a.ids["employee2"]},
                  headers=h)
    assert r.status_code == 404
    assert http.get(f"{C}/{other}", headers=h).json()["owner_id"] == a.ids["employee"]
    # contact notes: contact_id must be a contact of the tenant
    for bad in (uuid.uuid4().hex, _contact_of(http, b)):
        r = http.post(f"{C}/{cid}/contact-notes", json={"content": "电话", "contact_id": bad},
                      headers=a.headers("employee"))
        assert r.status_code == 404 and r.json()["error"]["code"] == "contact.not_found", r.text
    mine = http.post(K, json={"name": "客户联系人", "mobile": random_mobile(), "customer_id": cid},
                     headers=a.headers("employee")).json()
    r = http.post(f"{C}/{cid}/contact-notes", json={"content": "电话", "contact_id": mine["id"]},
                  headers=a.headers("employee"))
    assert r.status_code == 201, r.text
    # and the valid references still work
    r = http.post(f"{C}/{cid}/transfer", json={"new_owner_id": a.ids["employee2"]}, headers=h)
    assert r.status_code == 200, r.text


def _contact_of(http, t) -> str:
    r = http.post(K, json={"name": "别家的", "mobile": random_mobile()}, headers=t.headers("employee"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_an_admin_reassigns_unowned_contacts_after_a_departure_without_supervisor(http, tenants):
    a, b = tenants
    dept = http.post("/api/v1/departments", json={"name": f"无主管{uuid.uuid4().hex[:4]}",
                                                  "parent_id": a.depts["root"]}, headers=a.headers()).json()
    leaver = add_employee(http, a, "将离职", ["employee"], [dept["id"]])
    kid = http.post(K, json={"name": "留下的联系人", "mobile": random_mobile()},
                    headers=bearer(leaver["token"])).json()["id"]
    assert http.delete(f"/api/v1/employees/{leaver['id']}", headers=a.headers()).status_code == 200
    wait_for(lambda: http.get(f"{K}/{kid}", headers=a.headers()).json()["unowned"], what="contact unowned")
    unowned = http.get(K, params={"scope": "unowned"}, headers=a.headers()).json()["items"]
    assert kid in {c["id"] for c in unowned}
    assert http.patch(f"{K}/{kid}", json={"owner_id": a.ids["employee"]},
                      headers=a.headers("employee")).status_code == 404  # unowned: admins only see it
    own = http.post(K, json={"name": "自己的", "mobile": random_mobile()}, headers=a.headers("employee")).json()
    r = http.patch(f"{K}/{own['id']}", json={"owner_id": a.ids["employee2"]}, headers=a.headers("employee"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "contact.owner_change_forbidden"
    for bad, code in ((uuid.uuid4().hex, 404), (b.ids["employee"], 404), (leaver["id"], 422)):
        r = http.patch(f"{K}/{kid}", json={"owner_id": bad}, headers=a.headers())
        assert r.status_code == code, r.text
    r = http.patch(f"{K}/{kid}", json={"owner_id": a.ids["employee"]}, headers=a.headers())
    assert r.status_code == 200, r.text
    assert r.json()["owner_id"] == a.ids["employee"] and r.json()["unowned"] is False
    assert http.get(f"{K}/{kid}", headers=a.headers("employee")).status_code == 200


def test_a_deleted_customers_audit_the_deleted_list_and_restore(http, tenants):
    a, b = tenants
    c = new_customer(http, a.headers("employee"))
    cid = c["id"]
    assert http.delete(f"{C}/{cid}", params={"reason": "客户注销"}, headers=a.headers()).status_code == 200
    # the audit answers for admins, 404 for everyone else (and other tenants)
    log = http.get(f"{C}/{cid}/ownership", headers=a.headers())
    assert log.status_code == 200, log.text
    assert [(e["path"], e["actor_id"], e["reason"]) for e in log.json()][-1] == ("delete", a.ids["admin"], "客户注销")
    tl = http.get(f"{C}/{cid}/timeline", headers=a.headers()).json()["items"]
    assert (tl[0]["kind"], tl[0]["actor_id"]) == ("customer.deleted", a.ids["admin"]) and "客户注销" in tl[0]["summary"]
    for role in ("employee", "dept_admin", "all_customers"):
        assert http.get(f"{C}/{cid}/ownership", headers=a.headers(role)).status_code == 404
        assert http.get(f"{C}/{cid}/timeline", headers=a.headers(role)).status_code == 404
    assert http.get(f"{C}/{cid}/timeline", headers=b.headers()).status_code == 404
    # the deleted list (admin only)
    items = http.get("/api/v1/deleted-customers", headers=a.headers()).json()["items"]
    mine = next(i for i in items if i["id"] == cid)
    assert mine["deleted_by"] == a.ids["admin"] and mine["deleted_by_name"] == "主账号" and mine["reason"] == "客户注销"
    assert http.get("/api/v1/deleted-customers", headers=a.headers("employee")).status_code == 403
    assert cid not in {i["id"] for i in http.get("/api/v1/deleted-customers", headers=b.headers()).json()["items"]}
    # restore re-runs the duplicate check: a newer customer took the number meanwhile → 409 naming it
    taker = http.post(C, json={"name": f"抢注{uuid.uuid4().hex[:6]}有限公司", "address": "x",
                               "landlines": c["landlines"]}, headers=a.headers("employee2"))
    assert taker.status_code == 201, taker.text
    r = http.post(f"/api/v1/deleted-customers/{cid}/restore", json={}, headers=a.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "customer.duplicate", r.text
    assert r.json()["error"]["details"]["matches"][0]["customer_id"] == taker.json()["id"]
    assert http.post(f"/api/v1/deleted-customers/{cid}/restore", headers=a.headers("employee")).status_code == 403
    assert http.post(f"/api/v1/deleted-customers/{cid}/restore", headers=b.headers()).status_code == 404
    assert http.delete(f"{C}/{taker.json()['id']}", headers=a.headers()).status_code == 200
    r = http.post(f"/api/v1/deleted-customers/{cid}/restore", json={"reason": "误删"}, headers=a.headers())
    assert r.status_code == 200, r.text
    assert r.json()["owner_id"] == a.ids["employee"]  # back to its previous owner, still active
    assert http.get(f"{C}/{cid}", headers=a.headers("employee")).status_code == 200
    assert [e["path"] for e in http.get(f"{C}/{cid}/ownership", headers=a.headers()).json()] == \
        ["entry", "delete", "restore"]
    assert http.get(f"{C}/{cid}/timeline", headers=a.headers()).json()["items"][0]["kind"] == "customer.restored"
    dup = http.post(f"{C}/duplicate-check", json={"landlines": c["landlines"]}, headers=a.headers("employee2"))
    assert [m["customer_id"] for m in dup.json()["matches"]] == [cid]  # its keys are held again
    r = http.post(f"/api/v1/deleted-customers/{cid}/restore", headers=a.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "customer.not_deleted"


def test_a_restored_customer_is_back_in_the_pool_and_the_owners_private_pool(http, tenants):
    """The pool's read model un-deletes it (customer.restored) and the restore owner change
    puts it back into its owner's private pool, counted in their capacity."""
    a, _ = tenants
    emp = a.headers("employee")
    held = lambda: http.get("/api/v1/pool/capacity", headers=emp).json()["held"]  # noqa: E731
    before = held()  # the employee's count without this customer (the module's other entries have settled)
    cid = new_customer(http, emp)["id"]
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=emp).status_code == 200, what="pool row")
    wait_for(lambda: held() == before + 1, 60, what="slot taken")
    assert http.delete(f"{C}/{cid}", headers=a.headers()).status_code == 200
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=emp).status_code == 404, what="pool delete")
    wait_for(lambda: held() == before, 60, what="slot freed")
    r = http.post(f"/api/v1/deleted-customers/{cid}/restore", json={}, headers=a.headers())
    assert r.status_code == 200, r.text

    def back() -> dict | None:
        got = http.get(f"/api/v1/pool/customers/{cid}", headers=emp)
        return got.json() if got.status_code == 200 and got.json()["owner_id"] == a.ids["employee"] else None

    row = wait_for(back, what="restored pool row")
    assert row["pool"] == "private"
    wait_for(lambda: held() == before + 1, 60, what="slot taken again")


def test_the_timeline_names_the_tags_set_and_removed(http, tenants):
    a, _ = tenants
    g = http.post("/api/v1/tag-groups", json={"name": f"意向{uuid.uuid4().hex[:4]}", "color": "orange",
                                              "tags": ["高", "低"]}, headers=a.headers()).json()
    high, low = (t["id"] for t in g["tags"])
    cid = new_customer(http, a.headers("employee"))["id"]
    assert http.patch(f"{C}/{cid}", json={"tags": [high]}, headers=a.headers("employee")).status_code == 200
    assert http.patch(f"{C}/{cid}", json={"tags": [low]}, headers=a.headers("employee")).status_code == 200
    entries = [e for e in http.get(f"{C}/{cid}/timeline", headers=a.headers("employee")).json()["items"]
               if e["kind"] == "customer.tags_changed"]
    name = g["name"]
    assert [e["summary"] for e in entries] == [f"tags: +{name} / 低, -{name} / 高", f"tags: +{name} / 高"]
    assert entries[0]["data"]["added"] == [{"id": low, "label": f"{name} / 低"}]
