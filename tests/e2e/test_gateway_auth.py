"""The gateway checks access tokens itself (issue 16): no identity RPC per request in steady
state, revocation on the very next request (role changes too), across a gateway restart, a
gateway that cannot load the revocation set never accepts a token, and only signed events
move the set. Real services, real broker; the revocation tests that predate this are
tests/e2e/test_identity_tokens.py (unchanged)."""
from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt as pyjwt
import pika
import pytest

from crmkit.access import EVENT_TYPE, access_key
from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.envelope import make_event, sign_event
from crmkit.errors import Forbidden
from devstack.stack import Proc, free_port
from tests.conftest import TEST_CONTEXT_KEY, TEST_OPERATOR_SECRET
from tests.support import infra as infra_mod
from tests.support.tenants import add_employee, login, make_tenant
from tests.support.waiting import wait_for

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    """One sample of the gateway's /metrics (0 when absent)."""
    text = client.get("/metrics").text
    for line in text.splitlines():
        m = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(m.group(2))
    return 0.0


def authenticate_calls(client: httpx.Client) -> float:
    return metric(client, "crm_gateway_rpc_calls_total", service="identity", method="authenticate")


def wait_synced(client: httpx.Client, timeout: float = 60) -> None:
    wait_for(lambda: metric(client, "crm_gateway_access_synced") == 1.0, timeout, what="revocation set loaded")


@pytest.fixture(scope="module")
def synced(http):
    wait_synced(http)


class Gateway:
    """A gateway process of its own beside the session's (same services, same secrets)."""

    def __init__(self, env: dict[str, str], name: str):
        self.port = free_port()
        env = {**env, "GATEWAY_PORT": str(self.port)}
        log = ROOT / ".local" / "test-logs" / f"gw-auth-{uuid.uuid4().hex[:6]}" / f"{name}.log"
        self.proc = Proc(name, [sys.executable, "-m", "gateway"], env, log)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def start(self) -> None:
        self.proc.start()
        wait_for(lambda: self._ready(), 60, what="gateway /readyz")

    def _ready(self) -> bool:
        try:
            return self.client.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.proc.stop()


@pytest.fixture
def own_gateway(stack_env) -> Iterator[Gateway]:
    gw = Gateway(stack_env, "gateway-b")
    try:
        yield gw
    finally:
        gw.stop()
        gw.client.close()


def test_steady_state_requests_pay_no_identity_rpc_for_authentication(http, tenant, synced):
    headers = tenant.headers("employee")
    assert http.get(f"{API}/me", headers=headers).status_code == 200
    auth_before, me_before = authenticate_calls(http), metric(http, "crm_gateway_rpc_calls_total",
                                                              service="identity", method="me")
    local_before = metric(http, "crm_gateway_authentications_total", path="local")
    n = 40
    for _ in range(n):
        r = http.get(f"{API}/me", headers=headers)
        assert r.status_code == 200 and r.json()["id"] == tenant.ids["employee"]
    assert authenticate_calls(http) == auth_before  # not one identity.authenticate
    assert metric(http, "crm_gateway_rpc_calls_total", service="identity", method="me") == me_before + n  # 1 RPC each
    assert metric(http, "crm_gateway_authentications_total", path="local") >= local_before + n


def test_forged_expired_and_altered_tokens_are_refused_in_the_gateway(http, tenant, synced):
    key = access_key(TEST_CONTEXT_KEY)
    real = pyjwt.decode(tenant.tokens["employee"], key, algorithms=["HS256"], options={"verify_exp": False})
    before = authenticate_calls(http)
    cases = {
        "token.invalid": [
            "garbage",
            pyjwt.encode({**real, "roles": ["tenant_admin"]}, "not-the-key" * 4, algorithm="HS256"),
            pyjwt.encode({**real, "roles": ["tenant_admin"]}, TEST_CONTEXT_KEY, algorithm="HS256"),  # not derived
            tenant.tokens["employee"][:-3] + "AAA",
        ],
        "token.expired": [pyjwt.encode({**real, "exp": int(time.time()) - 1}, key, algorithm="HS256")],
        "token.wrong_type": [pyjwt.encode({**real, "typ": "device"}, key, algorithm="HS256")],
    }
    for code, tokens in cases.items():
        for token in tokens:
            r = http.get(f"{API}/me", headers=_bearer(token))
            assert r.status_code == 401 and r.json()["error"]["code"] == code, (code, r.text)
            assert r.headers.get("www-authenticate") == "Bearer"
    assert authenticate_calls(http) == before  # refused without asking identity


def test_a_role_change_bites_on_the_very_next_request(http, tenant, synced):
    t = tenant
    e = add_employee(http, t, "角色变更", ["employee"], [t.depts["dept_b"]])
    mine = _bearer(e["token"])
    assert http.get(f"{API}/menu-permissions", headers=mine).status_code == 403
    before = authenticate_calls(http)
    r = http.patch(f"{API}/employees/{e['id']}", headers=t.headers(), json={"roles": ["tenant_admin"]})
    assert r.status_code == 200, r.text
    assert http.get(f"{API}/menu-permissions", headers=mine).status_code == 200  # the same token, now an admin
    r = http.patch(f"{API}/employees/{e['id']}", headers=t.headers(), json={"roles": ["employee"]})
    assert r.status_code == 200, r.text
    assert http.get(f"{API}/menu-permissions", headers=mine).status_code == 403
    # a name change travels the same way: services see the new name in the call context
    assert http.patch(f"{API}/employees/{e['id']}", headers=mine, json={"name": "新的名字"}).status_code == 200
    assert http.get(f"{API}/me", headers=mine).json()["name"] == "新的名字"
    assert authenticate_calls(http) == before


def test_revocation_while_a_gateway_is_down_holds_after_it_starts(http, tenant, own_gateway):
    t = tenant
    gw = own_gateway
    gw.start()
    wait_synced(gw.client)
    revoked = add_employee(http, t, "重启撤销", ["employee"], [t.depts["dept_b"]])
    kept = add_employee(http, t, "重启保留", ["employee"], [t.depts["dept_b"]])
    for who in (revoked, kept):
        assert gw.client.get(f"{API}/me", headers=_bearer(who["token"])).status_code == 200
    gw.stop()
    # revoked while gateway B is down: its queue is gone, the event never reaches it
    assert http.post(f"{API}/employees/{revoked['id']}/disable", headers=t.headers()).status_code == 200
    assert http.get(f"{API}/me", headers=_bearer(revoked["token"])).status_code == 401
    gw.start()
    # the very first request after the start: refused (from identity until the set is loaded)
    r = gw.client.get(f"{API}/me", headers=_bearer(revoked["token"]))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token.revoked", r.text
    wait_synced(gw.client)
    before = authenticate_calls(gw.client)
    r = gw.client.get(f"{API}/me", headers=_bearer(revoked["token"]))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token.revoked", r.text
    assert gw.client.get(f"{API}/me", headers=_bearer(kept["token"])).status_code == 200
    assert authenticate_calls(gw.client) == before  # the loaded set refused it, not identity


def test_a_gateway_that_cannot_load_the_revocations_never_accepts_a_token(infra, stack_env, tenant):
    if not infra.local_broker:
        pytest.skip("needs a vhost of its own on the local RabbitMQ")
    with infra_mod.private_vhost("crm-noidentity") as (_vhost, uri):
        gw = Gateway({**stack_env, "AMQP_URI": uri}, "gateway-alone")  # no identity on this vhost
        try:
            gw.start()
            for _ in range(3):
                r = gw.client.get(f"{API}/me", headers=tenant.headers("employee"))
                assert r.status_code == 503 and r.json()["error"]["code"] == "service_unavailable", r.text
                time.sleep(0.5)
            assert metric(gw.client, "crm_gateway_access_synced") == 0.0
            # every one went to identity.authenticate (which is not there), none was taken on trust
            assert metric(gw.client, "crm_gateway_authentications_total", path="local") == 0.0
            assert metric(gw.client, "crm_gateway_authentications_total", path="identity") == 3.0
            assert authenticate_calls(gw.client) == 3.0
            assert gw.client.get(f"{API}/me", headers=_bearer("garbage")).status_code != 200
        finally:
            gw.stop()
            gw.client.close()


def _publish(amqp_uri: str, envelope: dict) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish("identity.events", EVENT_TYPE, json.dumps(envelope),
                         pika.BasicProperties(content_type="application/json", delivery_mode=2))
    finally:
        conn.close()


def test_only_signed_events_move_the_revocation_set(http, tenant, infra, rpc, synced):
    t = tenant
    e = add_employee(http, t, "事件签名", ["employee"], [t.depts["dept_b"]])
    claims = pyjwt.decode(e["token"], options={"verify_signature": False})
    data = {"employee_id": e["id"], "tenant_id": t.tenant_id, "tv": claims["tv"] + 1, "av": claims["av"] + 1,
            "roles": ["employee"], "dept_ids": [t.depts["dept_b"]], "name": "x", "active": True,
            "reason": "logout", "until": iso(datetime.now(UTC) + timedelta(minutes=15))}
    env = make_event(EVENT_TYPE, t.tenant_id, e["id"], data, occurred_at=datetime.now(UTC))
    refused = metric(http, "crm_gateway_access_events_total", outcome="refused")
    _publish(infra.amqp_uri, sign_event(env, "a-key-the-gateway-does-not-know"))
    wait_for(lambda: metric(http, "crm_gateway_access_events_total", outcome="refused") > refused, 20,
             what="the forged event refused")
    assert http.get(f"{API}/me", headers=_bearer(e["token"])).status_code == 200  # nobody logged out
    _publish(infra.amqp_uri, sign_event({**env, "event_id": uuid.uuid4().hex}, TEST_CONTEXT_KEY))
    wait_for(lambda: http.get(f"{API}/me", headers=_bearer(e["token"])).status_code == 401, 20,
             what="the signed event applied")
    # identity's own revocation set: for a system context only
    admin = CallContext(tenant_id=t.tenant_id, user_id=t.ids["admin"], roles=("tenant_admin",))
    with pytest.raises(Forbidden):
        rpc.call("identity", "revocations", ctx=admin)
    system = CallContext(tenant_id="", user_id="system", roles=("system",))
    page = rpc.call("identity", "revocations", ctx=system, limit=1000)
    assert page["horizon_seconds"] == 15 * 60
    assert all(set(x) >= {"employee_id", "tenant_id", "tv", "av", "active", "until"} for x in page["entries"])


def test_logout_is_seen_by_every_gateway_on_the_next_request(http, tenant, own_gateway):
    """Two gateways: the one that served the logout and another one (its own consumer)."""
    t = tenant
    gw = own_gateway
    gw.start()
    wait_synced(gw.client)
    e = add_employee(http, t, "两个网关", ["employee"], [t.depts["dept_b"]])
    token = login(http, t.code, e["mobile"], t.password)["access_token"]
    assert gw.client.get(f"{API}/me", headers=_bearer(token)).status_code == 200
    before = authenticate_calls(gw.client)
    assert http.post(f"{API}/auth/logout", headers=_bearer(token)).status_code == 200
    r = gw.client.get(f"{API}/me", headers=_bearer(token))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token.revoked", r.text
    assert authenticate_calls(gw.client) == before
