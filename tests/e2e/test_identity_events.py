"""Identity's facts reach the bus (outbox relay), the lock lifts after its time, and
an invitation works exactly once under concurrent accepts."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pika
import pytest

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.envelope import verify_event
from tests.conftest import TEST_CONTEXT_KEY, TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


@pytest.fixture
def bus(infra):
    conn = pika.BlockingConnection(pika.URLParameters(infra.amqp_uri))
    ch = conn.channel()
    ch.exchange_declare("identity.events", exchange_type="topic", durable=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    for key in ("employee.*", "department.*"):
        ch.queue_bind(q, "identity.events", routing_key=key)

    def collect(pred, timeout=15.0):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            _m, _p, body = ch.basic_get(q, auto_ack=True)
            if body is None:
                time.sleep(0.1)
                continue
            env = json.loads(body)
            seen.append(env)
            if pred(env):
                return env, seen
        raise AssertionError(f"event not seen; got {[e['type'] for e in seen]}")

    yield collect
    conn.close()


def test_events_of_joining_and_departure_reach_the_bus(http, tenant, bus):
    t = tenant
    e = add_employee(http, t, "事件测试", ["employee"], [t.depts["dept_a"]])
    env, _ = bus(lambda ev: ev["type"] == "employee.joined" and ev["data"]["employee_id"] == e["id"])
    verify_event(env, TEST_CONTEXT_KEY)  # signed by the service
    assert env["tenant_id"] == t.tenant_id and env["data"]["status"] == "joined"
    assert http.delete(f"{API}/employees/{e['id']}", headers=t.headers()).status_code == 200
    env, _ = bus(lambda ev: ev["type"] == "employee.left" and ev["data"]["employee_id"] == e["id"])
    assert env["data"]["reason"] == "deleted" and env["data"]["handover_to"] == t.ids["dept_admin"]
    assert env["actor_id"] == t.ids["admin"]


def test_invitation_event_carries_the_token(http, tenant, bus):
    t = tenant
    mobile = random_mobile()
    emp = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "邀请事件", "mobile": mobile, "dept_ids": [t.depts["dept_b"]], "language": "en"}).json()
    inv = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": mobile}).json()
    env, _ = bus(lambda ev: ev["type"] == "employee.invited" and ev["data"]["employee_id"] == emp["id"])
    assert env["data"]["invitation_id"] == inv["invitation_id"]
    assert env["data"]["invitation_token"] == inv["token"] and env["data"]["language"] == "en"
    assert env["data"]["mobile"] == mobile
    assert env["data"]["tenant_name"] == http.get(f"{API}/me", headers=t.headers()).json()["tenant"]["name"]
    # the link opens the mobile app's join page with the token (APP_URL: the local gateway by default)
    assert env["data"]["accept_url"] == (f"http://127.0.0.1:8000/m/join/{inv['invitation_id']}"
                                         f"?token={inv['token']}")


def test_an_invitation_is_accepted_exactly_once_under_concurrency(http, tenant):
    t = tenant
    mobile = random_mobile()
    emp = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "并发接受", "mobile": mobile, "dept_ids": [t.depts["dept_b"]]}).json()
    inv = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": mobile}).json()

    def accept(i):
        import httpx
        with httpx.Client(base_url=str(http.base_url), timeout=30) as c:
            return c.post(f"{API}/invitations/{inv['invitation_id']}/accept",
                          json={"token": inv["token"], "password": f"Password-{i}"}).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(accept, range(6)))
    assert codes.count(200) == 1 and set(codes) == {200, 409}, codes
    # a re-invitation supersedes the old one
    left = add_employee(http, t, "再邀请", ["employee"], [t.depts["dept_b"]], join=False)
    first = http.post(f"{API}/employees/{left['id']}/invitation", headers=t.headers(),
                      json={"mobile": left["mobile"]}).json()
    second = http.post(f"{API}/employees/{left['id']}/invitation", headers=t.headers(),
                       json={"mobile": left["mobile"]}).json()
    r = http.post(f"{API}/invitations/{first['invitation_id']}/accept", json={"token": first["token"],
                                                                              "password": "Password-1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invitation.superseded"
    r = http.post(f"{API}/invitations/{second['invitation_id']}/accept", json={"token": second["token"],
                                                                               "password": "Password-1"})
    assert r.status_code == 200


def test_the_lock_lifts_after_its_time_and_invitations_expire(http, tenant, rpc):
    t = tenant
    e = add_employee(http, t, "锁定到期", ["employee"], [t.depts["dept_b"]])
    mobile2 = random_mobile()
    late = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "过期邀请", "mobile": mobile2, "dept_ids": [t.depts["dept_b"]]}).json()
    inv = http.post(f"{API}/employees/{late['id']}/invitation", headers=t.headers(), json={"mobile": mobile2}).json()
    body = {"tenant_code": t.code, "mobile": e["mobile"]}
    for _ in range(5):
        http.post(f"{API}/auth/login", json={**body, "password": "wrong-password"})
    r = http.post(f"{API}/auth/login", json={**body, "password": t.password})
    assert r.json()["error"]["code"] == "login.locked"
    ctx = CallContext(tenant_id=t.tenant_id, user_id="test", roles=("system",))
    try:
        rpc.call("identity", "_test_set_clock", ctx=ctx, now=iso(datetime.now(UTC) + timedelta(minutes=16)))
        r = http.post(f"{API}/auth/login", json={**body, "password": t.password})
        assert r.status_code == 200, r.text
        rpc.call("identity", "_test_set_clock", ctx=ctx, now=iso(datetime.now(UTC) + timedelta(days=8)))
        r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": inv["token"],
                                                                                 "password": "Password-1"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invitation.expired"
    finally:
        rpc.call("identity", "_test_set_clock", ctx=ctx, now=None)


def test_one_mobile_one_employee_under_concurrency(http, tenant):
    t = tenant
    mobile = random_mobile()

    def create(i):
        import httpx
        with httpx.Client(base_url=str(http.base_url), timeout=30) as c:
            return c.post(f"{API}/employees", headers=t.headers(), json={
                "name": f"并发 {i}", "mobile": mobile, "dept_ids": [t.depts["dept_b"]]}).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(create, range(6)))
    assert codes.count(201) == 1 and set(codes) == {201, 409}, codes
    holders = [e for e in http.get(f"{API}/employees", headers=t.headers()).json()["items"] if e["mobile"] == mobile]
    assert len(holders) == 1


def test_a_leaver_can_be_invited_back(http, tenant):
    t = tenant
    e = add_employee(http, t, "回流员工", ["employee"], [t.depts["dept_b"]])
    assert http.post(f"{API}/employees/me/leave", headers={"Authorization": f"Bearer {e['token']}"}).status_code == 200
    inv = http.post(f"{API}/employees/{e['id']}/invitation", headers=t.headers(), json={"mobile": e["mobile"]})
    assert inv.status_code == 201, inv.text
    r = http.post(f"{API}/invitations/{inv.json()['invitation_id']}/accept",
                  json={"token": inv.json()["token"], "password": "Back-again-1"})
    assert r.status_code == 200
    r = http.post(f"{API}/auth/login", json={"tenant_code": t.code, "mobile": e["mobile"], "password": "Back-again-1"})
    assert r.status_code == 200


def test_deleting_a_leaver_frees_the_mobile_without_a_second_handover(http, tenant, bus):
    t = tenant
    e = add_employee(http, t, "先离职后删除", ["employee"], [t.depts["dept_a"]])
    assert http.post(f"{API}/employees/me/leave", headers={"Authorization": f"Bearer {e['token']}"}).status_code == 200
    bus(lambda ev: ev["type"] == "employee.left" and ev["data"]["employee_id"] == e["id"])
    r = http.delete(f"{API}/employees/{e['id']}", headers=t.headers())
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    env, seen = bus(lambda ev: ev["type"] == "employee.updated" and ev["data"]["employee_id"] == e["id"])
    assert env["data"]["status"] == "deleted"
    assert not [x for x in seen if x["type"] == "employee.left" and x["data"]["employee_id"] == e["id"]]
    again = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "同号新人", "mobile": e["mobile"], "dept_ids": [t.depts["dept_a"]]})
    assert again.status_code == 201
