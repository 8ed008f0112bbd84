"""Joining the organisation and logging in, through the gateway (real services)."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _login(http, t, mobile, password, **kw):
    return http.post(f"{API}/auth/login", json={"tenant_code": t.code, "mobile": mobile, "password": password, **kw})


def _code(r):
    return r.json()["error"]["code"]


def test_the_whole_joining_flow(http, tenant):
    t = tenant
    mobile = random_mobile()
    r = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "新同事 Ünïcödé 😀", "mobile": mobile, "roles": ["employee"], "dept_ids": [t.depts["dept_a"]]})
    assert r.status_code == 201, r.text
    emp = r.json()
    assert emp["status"] == "created" and emp["name"] == "新同事 Ünïcödé 😀"
    # not invited yet: cannot log in, and the reason says so
    assert _code(_login(http, t, mobile, "whatever-123")) == "login.not_joined"
    # the admin must confirm the right phone number
    r = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": random_mobile()})
    assert r.status_code == 422 and _code(r) == "invitation.mobile_mismatch"
    r = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": mobile})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert http.get(f"{API}/employees/{emp['id']}", headers=t.headers()).json()["status"] == "pending"
    assert _code(_login(http, t, mobile, "whatever-123")) == "login.not_joined"
    # a wrong token, a short password: refused, nothing changes
    r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": "nope", "password": "Secret-123"})
    assert r.status_code == 404 and _code(r) == "invitation.not_found"  # the same as for an unknown id
    r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": inv["token"], "password": "x"})
    assert r.status_code == 400 and _code(r) == "password.too_short"
    r = http.post(f"{API}/invitations/{'0' * 32}/accept", json={"token": inv["token"], "password": "Secret-123"})
    assert r.status_code == 404
    # accept → joined
    r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": inv["token"],
                                                                             "password": "Secret-123"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "joined"
    # one-time
    r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": inv["token"],
                                                                             "password": "Other-1234"})
    assert r.status_code == 409 and _code(r) == "invitation.used"
    # plain login: an access token only
    r = _login(http, t, mobile, "Secret-123")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["access_token"] and body["expires_in"] <= 15 * 60 and "device_token" not in body
    me = http.get(f"{API}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == emp["id"] and me.json()["status"] == "joined"
    assert me.json()["tenant"]["code"] == t.code
    # a joined employee cannot be invited again
    r = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": mobile})
    assert r.status_code == 409


def test_bind_device_gives_a_device_token_that_refreshes(http, tenant):
    t = tenant
    r = _login(http, t, t.mobiles["employee"], t.password, bind_device=True)
    assert r.status_code == 200
    device = r.json()["device_token"]
    r = http.post(f"{API}/auth/refresh", json={"device_token": device})
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]
    assert http.get(f"{API}/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    # an access token is not a device token and vice versa
    assert http.post(f"{API}/auth/refresh", json={"device_token": access}).status_code == 401
    assert http.get(f"{API}/me", headers={"Authorization": f"Bearer {device}"}).status_code == 401


def test_every_login_failure_has_its_code(http, tenant):
    t = tenant
    assert _code(_login(http, t, random_mobile(), "whatever-123")) == "login.unknown_account"
    r = http.post(f"{API}/auth/login", json={"tenant_code": "no-such-tenant-x", "mobile": t.mobiles["admin"],
                                             "password": t.password})
    assert r.status_code == 401 and _code(r) == "login.unknown_account"
    r = _login(http, t, t.mobiles["employee2"], "wrong-password")
    assert r.status_code == 401 and _code(r) == "login.wrong_password"
    assert r.json()["error"]["details"]["remaining_attempts"] >= 1  # numbers stay numbers across RPC
    # disabled
    e = add_employee(http, t, "将被停用", ["employee"], [t.depts["dept_b"]])
    assert http.post(f"{API}/employees/{e['id']}/disable", headers=t.headers()).status_code == 200
    assert _code(_login(http, t, e["mobile"], t.password)) == "login.disabled"
    assert http.post(f"{API}/employees/{e['id']}/enable", headers=t.headers()).status_code == 200
    assert _login(http, t, e["mobile"], t.password).status_code == 200
    # left by themselves
    e = add_employee(http, t, "将离职", ["employee"], [t.depts["dept_b"]])
    assert http.post(f"{API}/employees/me/leave", headers={"Authorization": f"Bearer {e['token']}"}).status_code == 200
    assert _code(_login(http, t, e["mobile"], t.password)) == "login.left"
    # deleted by the admin
    e = add_employee(http, t, "将被删除", ["employee"], [t.depts["dept_b"]])
    assert http.delete(f"{API}/employees/{e['id']}", headers=t.headers()).status_code == 200
    assert _code(_login(http, t, e["mobile"], t.password)) == "login.left"
    # a deleted employee's mobile is free again
    again = add_employee(http, t, "重新入职", ["employee"], [t.depts["dept_b"]], mobile=e["mobile"], join=False)
    assert again["id"] != e["id"]


def test_repeated_failures_lock_the_account(http, tenant):
    t = tenant
    e = add_employee(http, t, "锁定测试", ["employee"], [t.depts["dept_b"]])
    codes = [_code(_login(http, t, e["mobile"], "wrong-password")) for _ in range(5)]
    assert codes[:4] == ["login.wrong_password"] * 4 and codes[4] == "login.locked"
    r = _login(http, t, e["mobile"], t.password)  # even the right password, while locked
    assert r.status_code == 401 and _code(r) == "login.locked"
    assert "locked_until" in r.json()["error"]["details"]


def test_login_bad_input(http, tenant):
    r = http.post(f"{API}/auth/login", json={"tenant_code": tenant.code, "mobile": tenant.mobiles["admin"]})
    assert r.status_code == 400 and _code(r) == "validation.required"
    r = http.post(f"{API}/auth/login", json={"tenant_code": tenant.code, "mobile": 123, "password": "x" * 10})
    assert r.status_code == 400 and _code(r) == "validation.type"
    r = http.post(f"{API}/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and _code(r) == "invalid_json"


def test_duplicate_mobile_in_one_tenant_is_refused(http, tenant):
    t = tenant
    r = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "重复", "mobile": t.mobiles["employee"], "dept_ids": [t.depts["dept_a"]]})
    assert r.status_code == 409 and _code(r) == "employee.mobile_taken"
    # the same mobile in another tenant is fine
    other = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.post(f"{API}/employees", headers=other.headers(), json={
        "name": "同号", "mobile": t.mobiles["employee"], "dept_ids": [other.depts["dept_a"]]})
    assert r.status_code == 201, r.text


def test_operator_route_needs_the_secret(http):
    body = {"code": "x-op-test", "name": "n", "admin_mobile": random_mobile(), "admin_name": "a",
            "admin_password": "Secret-123"}
    r = http.post(f"{API}/operator/tenants", json=body)
    assert r.status_code == 401
    r = http.post(f"{API}/operator/tenants", json=body, headers={"X-Operator-Secret": "wrong"})
    assert r.status_code == 401
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.post(f"{API}/operator/tenants", headers={"X-Operator-Secret": TEST_OPERATOR_SECRET}, json={
        **body, "code": t.code})
    assert r.status_code == 409 and _code(r) == "tenant.code_taken"
