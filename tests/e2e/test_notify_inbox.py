"""Notifications through the gateway with the real services: the invitee's own inbox,
privacy of the inbox (404), the tenant admin's channels, the SSRF guard and dead letters."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pika
import pytest

from crmkit.envelope import make_event, sign_event
from tests.conftest import TEST_CONTEXT_KEY, TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def publish(infra, source, type_, tenant_id, data):
    env = sign_event(make_event(type_, tenant_id, "system", data, occurred_at=datetime.now(UTC)), TEST_CONTEXT_KEY)
    conn = pika.BlockingConnection(pika.URLParameters(infra.amqp_uri))
    try:
        conn.channel().basic_publish(f"{source}.events", type_, json.dumps(env),
                                     pika.BasicProperties(content_type="application/json", delivery_mode=2))
    finally:
        conn.close()
    return env


def poll(fn, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError("condition not met")


def inbox(http, t, role, **params):
    r = http.get(f"{API}/notifications", headers=t.headers(role), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_invitee_alone_gets_the_invitation(http, tenant):
    t = tenant
    items = poll(lambda: [i for i in inbox(http, t, "employee")["items"] if i["kind"] == "invitation"])
    assert len(items) == 1 and items[0]["data"]["employee_id"] == t.ids["employee"]
    # nobody else sees that invitation (each invitee has only their own)
    for role in ("admin", "support", "employee2"):
        others = [i for i in inbox(http, t, role)["items"] if i["kind"] == "invitation"]
        assert all(i["data"]["employee_id"] == t.ids[role] for i in others)


def test_inbox_read_flow_and_privacy(http, infra, tenant):
    t = tenant
    me = t.ids["employee2"]
    for n in range(3):
        publish(infra, "pool", "pool.reclaimed", t.tenant_id, {"customer_id": f"c{n}", "customer_name": f"客户{n}",
                                                               "owner_id": me, "reason": "30 天未跟进"})
    poll(lambda: len([i for i in inbox(http, t, "employee2")["items"] if i["kind"] == "reclaimed"]) == 3)
    page = inbox(http, t, "employee2", limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = inbox(http, t, "employee2", limit=2, cursor=page["next_cursor"])
    assert rest["items"] and page["items"][0]["created_at"] >= rest["items"][0]["created_at"]
    before = http.get(f"{API}/notifications/unread-count", headers=t.headers("employee2")).json()["unread"]
    nid = page["items"][0]["id"]
    r = http.post(f"{API}/notifications/{nid}/read", headers=t.headers("employee"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "notification.not_found"
    r = http.post(f"{API}/notifications/{nid}/read", headers=t.headers("employee2"))
    assert r.status_code == 200 and r.json()["read"] is True
    assert http.get(f"{API}/notifications/unread-count", headers=t.headers("employee2")).json()["unread"] == before - 1
    r = http.post(f"{API}/notifications/read-all", headers=t.headers("employee2"))
    assert r.status_code == 200
    assert http.get(f"{API}/notifications/unread-count", headers=t.headers("employee2")).json()["unread"] == 0


def test_claim_request_goes_to_support(http, infra, tenant):
    t = tenant
    publish(infra, "pool", "pool.claim_request_submitted", t.tenant_id, {
        "request_id": uuid.uuid4().hex, "customer_id": "c9", "customer_name": "银河公司",
        "requester_id": t.ids["employee"], "reason": "老客户"})
    items = poll(lambda: [i for i in inbox(http, t, "support")["items"] if i["kind"] == "claim_request_submitted"])
    assert "银河公司" in items[0]["body"] and "员工 A" in items[0]["body"]
    assert not [i for i in inbox(http, t, "employee")["items"] if i["kind"] == "claim_request_submitted"]


def test_channels_are_tenant_admin_only(http, tenant):
    t = tenant
    assert http.get(f"{API}/notify/webhooks", headers=t.headers("employee")).status_code == 403
    assert http.get(f"{API}/notify/dead-letters", headers=t.headers("support")).status_code == 403
    assert http.get(f"{API}/notify/settings", headers=t.headers()).status_code == 200


def test_ssrf_guard_with_operator_allowance_switched_off(http, tenant):
    t = tenant
    r = http.put(f"{API}/notify/settings", headers=t.headers(), json={"allow_private_webhooks": False})
    assert r.status_code == 200 and r.json()["private_webhooks_effective"] is False
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data"):
        r = http.post(f"{API}/notify/webhooks", headers=t.headers(), json={"url": url})
        assert r.status_code == 400 and r.json()["error"]["code"] == "webhook.url_not_allowed", r.text
    r = http.post(f"{API}/notify/webhooks", headers=t.headers(), json={"url": "ftp://example.com/"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "webhook.url_invalid"
    http.put(f"{API}/notify/settings", headers=t.headers(), json={"allow_private_webhooks": True})


def test_dead_letter_and_resend_through_the_gateway(http, infra, tenant):
    t = tenant
    state = {"fail": True, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["hits"] += 1
            self.send_response(500 if state["fail"] else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = http.put(f"{API}/notify/settings", headers=t.headers(),
                     json={"retry_base_seconds": 0.1, "max_attempts": 2})
        assert r.status_code == 200, r.text
        r = http.post(f"{API}/notify/webhooks", headers=t.headers(), json={
            "url": f"http://127.0.0.1:{server.server_address[1]}/hook", "kinds": ["export_ready"]})
        assert r.status_code == 201, r.text
        publish(infra, "visits", "report.export_ready", t.tenant_id, {"export_id": "x1",
                                                                      "requested_by": t.ids["employee"]})
        dead = poll(lambda: http.get(f"{API}/notify/dead-letters", headers=t.headers()).json())
        assert dead[0]["dead_reason"] == "http 500" and dead[0]["attempts"] == 2 and state["hits"] == 2
        state["fail"] = False
        r = http.post(f"{API}/notify/dead-letters/{dead[0]['id']}/resend", headers=t.headers())
        assert r.status_code == 200
        poll(lambda: http.get(f"{API}/notify/deliveries/{dead[0]['id']}", headers=t.headers()).json()["status"]
             == "sent")
        assert state["hits"] == 3
        assert http.get(f"{API}/notify/dead-letters", headers=t.headers()).json() == []
    finally:
        server.shutdown()


def test_a_claim_request_names_its_customer_to_support_and_back_to_the_requester(http, tenant):
    t = tenant
    name = f"申请{uuid.uuid4().hex[:8]}有限公司"
    r = http.post(f"{API}/pool/claim-requests", headers=t.headers("employee"), json={
        "name": name, "landline": f"0512-{str(uuid.uuid4().int)[:8]}", "address": "苏州工业园区",
        "remarks": "老客户回访"})
    assert r.status_code in (200, 201), r.text
    rid = r.json()["id"]
    submitted = poll(lambda: [i for i in inbox(http, t, "support")["items"]
                              if i["kind"] == "claim_request_submitted" and name in i["body"]])
    assert "老客户回访" in submitted[0]["body"]
    r = http.post(f"{API}/pool/claim-requests/{rid}/approve", headers=t.headers("support"), json={})
    assert r.status_code == 200, r.text
    approved = poll(lambda: [i for i in inbox(http, t, "employee")["items"] if i["kind"] == "claim_request_approved"
                             and name in i["body"]])
    assert approved[0]["title"] == "领取申请已通过"
