"""Token revocation, the departure event and forged contexts (real services)."""
from __future__ import annotations

import pytest

from crmkit.context import CallContext
from crmkit.errors import Unauthenticated
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, login, make_tenant

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _fresh(http, t, name="撤销测试"):
    e = add_employee(http, t, name, ["employee"], [t.depts["dept_b"]])
    device = login(http, t.code, e["mobile"], t.password, bind_device=True)["device_token"]
    assert http.get(f"{API}/me", headers=_bearer(e["token"])).status_code == 200
    return e, device


def _revoked(http, e, device):
    r = http.get(f"{API}/me", headers=_bearer(e["token"]))
    assert r.status_code == 401, r.text
    assert http.post(f"{API}/auth/refresh", json={"device_token": device}).status_code == 401


def test_no_token_or_a_bad_token_is_401(http):
    r = http.get(f"{API}/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.missing_token"
    r = http.get(f"{API}/me", headers=_bearer("garbage"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token.invalid"
    assert http.get(f"{API}/employees", headers={"Authorization": "Basic abc"}).status_code == 401


def test_logout_revokes_every_token_at_once(http, tenant):
    e, device = _fresh(http, tenant)
    other_session = login(http, tenant.code, e["mobile"], tenant.password)["access_token"]
    assert http.post(f"{API}/auth/logout", headers=_bearer(e["token"])).status_code == 200
    _revoked(http, e, device)
    assert http.get(f"{API}/me", headers=_bearer(other_session)).status_code == 401
    # logging in again works
    assert http.get(f"{API}/me", headers=_bearer(
        login(http, tenant.code, e["mobile"], tenant.password)["access_token"])).status_code == 200


def test_disable_revokes(http, tenant):
    e, device = _fresh(http, tenant)
    assert http.post(f"{API}/employees/{e['id']}/disable", headers=tenant.headers()).status_code == 200
    _revoked(http, e, device)
    # enabling does not bring the old tokens back
    assert http.post(f"{API}/employees/{e['id']}/enable", headers=tenant.headers()).status_code == 200
    _revoked(http, e, device)


def test_delete_revokes(http, tenant):
    e, device = _fresh(http, tenant)
    r = http.delete(f"{API}/employees/{e['id']}", headers=tenant.headers())
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    _revoked(http, e, device)


def test_leave_revokes(http, tenant):
    e, device = _fresh(http, tenant)
    r = http.post(f"{API}/employees/me/leave", headers=_bearer(e["token"]))
    assert r.status_code == 200 and r.json()["status"] == "left"
    _revoked(http, e, device)


def test_departure_names_the_supervisor(http, tenant, rpc):
    t = tenant
    ctx = CallContext(tenant_id=t.tenant_id, user_id="system", roles=("system",))
    # an employee of dept_a: their supervisor is dept_a's manager
    e = add_employee(http, t, "交接测试", ["employee"], [t.depts["dept_a"]])
    assert rpc.call("identity", "supervisor_of", ctx=ctx, employee_id=e["id"]) == {"supervisor_id":
                                                                                  t.ids["dept_admin"]}
    r = http.delete(f"{API}/employees/{e['id']}", headers=t.headers())
    assert r.json()["handover_to"] == t.ids["dept_admin"]
    # the manager of dept_a1 who leaves hands over to dept_a's manager (the parent's)
    m = add_employee(http, t, "子部门经理", ["employee"], [t.depts["dept_a1"]])
    assert http.patch(f"{API}/departments/{t.depts['dept_a1']}", json={"manager_id": m["id"]},
                      headers=t.headers()).status_code == 200
    r = http.post(f"{API}/employees/me/leave", headers=_bearer(m["token"]))
    assert r.json()["handover_to"] == t.ids["dept_admin"]
    # the department lost its manager
    depts = http.get(f"{API}/departments", headers=t.headers()).json()["items"]
    assert next(d for d in depts if d["id"] == t.depts["dept_a1"])["manager_id"] is None
    # nobody manages dept_b: records become unowned
    e = add_employee(http, t, "无主管", ["employee"], [t.depts["dept_b"]])
    assert http.delete(f"{API}/employees/{e['id']}", headers=t.headers()).json()["handover_to"] is None


def test_forged_or_unsigned_context_is_refused(rpc, tenant):
    with pytest.raises(Unauthenticated):
        rpc.call("identity", "list_employees", raw_context="x.y")
    with pytest.raises(Unauthenticated):
        rpc.call("identity", "me")
    forged = CallContext(tenant_id=tenant.tenant_id, user_id=tenant.ids["admin"], roles=("tenant_admin",))
    from crmkit.context import sign
    with pytest.raises(Unauthenticated):
        rpc.call("identity", "list_employees", raw_context=sign(forged, "not-the-key"))
    # the real key works (the same context, signed by whoever holds CRM_CONTEXT_KEY)
    assert rpc.call("identity", "list_employees", ctx=forged)


def test_identity_answers_other_services(rpc, tenant):
    t = tenant
    def ctx(role):
        roles = {"admin": ("tenant_admin",), "dept_admin": ("dept_admin", "employee"),
                 "all_customers": ("all_customers", "employee")}.get(role, ("employee",))
        return CallContext(tenant_id=t.tenant_id, user_id=t.ids[role], roles=roles)
    assert rpc.call("identity", "visible_owner_ids", ctx=ctx("admin"))["all"] is True
    assert rpc.call("identity", "visible_owner_ids", ctx=ctx("all_customers"))["all"] is True
    assert rpc.call("identity", "visible_owner_ids", ctx=ctx("employee")) == {"all": False,
                                                                              "user_ids": [t.ids["employee"]]}
    seen = rpc.call("identity", "visible_owner_ids", ctx=ctx("dept_admin"))
    assert not seen["all"] and t.ids["employee"] in seen["user_ids"] and t.ids["employee2"] not in seen["user_ids"]
    ids = rpc.call("identity", "subtree_employee_ids", ctx=ctx("admin"), dept_id=t.depts["dept_a"])
    assert {t.ids["dept_admin"], t.ids["employee"]} <= set(ids) and t.ids["employee2"] not in ids
    assert rpc.call("identity", "employee_ids_by_name", ctx=ctx("admin"), name="员工 A") == [t.ids["employee"]]
    assert rpc.call("identity", "is_colleague_mobile", ctx=ctx("employee"),
                    mobile=t.mobiles["employee2"]) == {"employee_id": t.ids["employee2"]}
    assert rpc.call("identity", "is_colleague_mobile", ctx=ctx("employee"), mobile="19999999999") == {
        "employee_id": None}
    emps = rpc.call("identity", "get_employees", ctx=ctx("employee"), ids=[t.ids["employee"], "nope"])
    assert [e["id"] for e in emps] == [t.ids["employee"]]
    assert [e["id"] for e in rpc.call("identity", "list_employees", ctx=ctx("admin"), role="support")] == [
        t.ids["support"]]


def test_public_routes_and_bearer_parsing():
    from starlette.datastructures import Headers

    from gateway.auth import bearer_token, is_public
    assert is_public("POST", "/api/v1/auth/login") and is_public("POST", "/api/v1/auth/refresh")
    assert is_public("POST", "/api/v1/invitations/abc/accept") and is_public("GET", "/api/v1/openapi.json")
    assert not is_public("GET", "/api/v1/auth/login") and not is_public("POST", "/api/v1/auth/logout")
    assert not is_public("GET", "/api/v1/me") and not is_public("POST", "/api/v1/invitations/a/b/accept")
    assert bearer_token(Headers({"authorization": "Bearer abc"})) == "abc"
    assert bearer_token(Headers({"authorization": "bearer  abc "})) == "abc"
    assert bearer_token(Headers({"authorization": "Basic abc"})) is None
    assert bearer_token(Headers({})) is None


def test_openapi_documents_the_identity_routes(http):
    doc = http.get(f"{API}/openapi.json").json()
    for path, method in (("/api/v1/auth/login", "post"), ("/api/v1/departments/{id}", "patch"),
                         ("/api/v1/employees/{id}/invitation", "post"), ("/api/v1/menu-permissions", "put"),
                         ("/api/v1/operator/tenants", "post"), ("/api/v1/invitations/{id}/accept", "post")):
        assert doc["paths"][path][method]["summary"], (path, method)
