"""CBM records end to end: admins keep per-tenant CBMs (name, e-mail, mobile), a customer
links to one by id (checked in the tenant), its view shows the CBM — and a visit planned
for a CBM-linked customer reaches the CBM by e-mail (a real SMTP server) and the tenant's
webhooks (a real HTTP receiver)."""
from __future__ import annotations

import email
import json
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crmkit.clock import iso
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile
from tests.support.waiting import wait_for

C = "/api/v1/customers"
CBMS = "/api/v1/cbms"
PLACE = {"address": "上海市黄浦区人民大道 200 号", "lat": 31.2304, "lng": 121.4737}


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append({"to": list(envelope.rcpt_tos), "content": envelope.content})
        return "250 OK"

    def to(self, addr: str) -> list[str]:
        out = []
        for m in self.messages:
            if addr in m["to"]:
                msg = email.message_from_bytes(m["content"], policy=policy.default)
                out.append(f"{msg['Subject']}\n{msg.get_body().get_content()}")
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp():
    box = _Mailbox()
    port = _free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@pytest.fixture
def hook():
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield got, f"http://127.0.0.1:{server.server_address[1]}/cbm-hook"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def tenants(http):
    return make_tenant(http, TEST_OPERATOR_SECRET), make_tenant(http, TEST_OPERATOR_SECRET)


def test_cbm_records_are_admin_kept_and_checked_when_a_customer_links_one(http, tenants):
    a, b = tenants
    body = {"name": "王经理", "email": "Wang.CBM@Vendor.example.com", "mobile": "138 0013 8000"}
    assert http.post(CBMS, json=body, headers=a.headers("employee")).status_code == 403
    for bad in ({"name": "x", "email": "not-an-address"}, {"name": "x"}, {"email": "a@b.cn"},
                {"name": "x", "email": "a@b.cn", "mobile": "abc"}, {"name": "x", "email": "a@b.cn", "extra": 1}):
        r = http.post(CBMS, json=bad, headers=a.headers())
        assert r.status_code == 400 and r.json()["error"]["code"] == "cbm.invalid", (bad, r.text)
    r = http.post(CBMS, json=body, headers=a.headers())
    assert r.status_code == 201, r.text
    cbm = r.json()
    assert (cbm["email"], cbm["mobile"]) == ("wang.cbm@vendor.example.com", "13800138000")
    listed = http.get(CBMS, headers=a.headers("employee")).json()
    assert cbm["id"] in {c["id"] for c in listed["items"]}
    assert http.get(f"{CBMS}/{cbm['id']}", headers=b.headers()).status_code == 404  # another tenant's
    r = http.patch(f"{CBMS}/{cbm['id']}", json={"name": "王总"}, headers=a.headers())
    assert r.status_code == 200 and r.json()["name"] == "王总"
    foreign = http.post(CBMS, json={"name": "别家", "email": "other@vendor.example.com"}, headers=b.headers()).json()
    n = str(uuid.uuid4().int)
    new = {"name": f"厂商{uuid.uuid4().hex[:6]}有限公司", "address": "x", "landlines": [f"0512-{n[:8]}"]}
    for bad in (uuid.uuid4().hex, foreign["id"]):
        r = http.post(C, json={**new, "cbm_id": bad}, headers=a.headers("employee"))
        assert r.status_code == 404 and r.json()["error"]["code"] == "cbm.not_found", r.text
    r = http.post(C, json={**new, "cbm_id": cbm["id"]}, headers=a.headers("employee"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    view = http.get(f"{C}/{cid}", headers=a.headers("employee")).json()
    assert view["cbm"] == {"id": cbm["id"], "name": "王总", "email": "wang.cbm@vendor.example.com",
                           "mobile": "13800138000"}
    r = http.patch(f"{C}/{cid}", json={"cbm_id": foreign["id"]}, headers=a.headers("employee"))
    assert r.status_code == 404
    assert http.delete(f"{CBMS}/{cbm['id']}", headers=a.headers()).status_code == 200
    assert http.get(f"{C}/{cid}", headers=a.headers("employee")).json()["cbm"] is None  # no notice any more
    r = http.post(C, json={**new, "name": f"另{new['name']}", "landlines": [f"0512-{n[8:16]}"],
                           "cbm_id": cbm["id"]}, headers=a.headers("employee"))
    assert r.status_code == 404


def test_a_visit_planned_for_a_cbm_linked_customer_reaches_the_cbm_and_the_webhooks(http, tenants, smtp, hook):
    a, _ = tenants
    box, port = smtp
    received, url = hook
    r = http.put("/api/v1/notify/settings", headers=a.headers(), json={
        "smtp": {"host": "127.0.0.1", "port": port, "from_addr": "crm@example.com", "tls": "none"},
        "retry_base_seconds": 0.2})
    assert r.status_code == 200, r.text
    r = http.post("/api/v1/notify/webhooks", headers=a.headers(), json={"url": url})  # every kind
    assert r.status_code == 201, r.text
    addr = f"cbm-{uuid.uuid4().hex[:8]}@vendor.example.com"
    cbm = http.post(CBMS, json={"name": "李经理", "email": addr, "mobile": random_mobile()},
                    headers=a.headers()).json()
    name = f"上海{uuid.uuid4().hex[:8]}精密电子有限公司"
    c = http.post(C, json={"name": name, "address": PLACE["address"], "mobiles": [random_mobile()],
                           "location": {"lat": PLACE["lat"], "lng": PLACE["lng"]}, "cbm_id": cbm["id"]},
                  headers=a.headers("employee"))
    assert c.status_code == 201, c.text
    plain = http.post(C, json={"name": f"上海{uuid.uuid4().hex[:8]}电子有限公司", "address": PLACE["address"],
                               "mobiles": [random_mobile()], "location": {"lat": PLACE["lat"], "lng": PLACE["lng"]}},
                      headers=a.headers("employee")).json()
    for cid in (plain["id"], c.json()["id"]):
        r = http.post("/api/v1/visits", headers=a.headers("employee"), json={
            "customer_id": cid, "planned_at": iso(datetime.now(UTC) + timedelta(days=1)), "location": PLACE,
            "topic": "季度回访", "scenario": "上门", "policy_accepted": True})
        assert r.status_code == 201, r.text
    visit = r.json()
    [mail] = wait_for(lambda: box.to(addr), timeout=60, what="the CBM's e-mail")
    assert name in mail and "李经理" in mail and "季度回访" in mail
    [post] = wait_for(lambda: [p for p in received if p.get("kind") == "cbm_visit_notice"], timeout=60,
                      what="the tenant's webhook")
    assert post["data"]["customer_id"] == c.json()["id"] and post["data"]["visit_id"] == visit["id"]
    assert post["data"]["cbm_id"] == cbm["id"] and post["recipients"] == [f"mailto:{addr}"]
    assert post["tenant_id"] == a.tenant_id
    # the customer without a CBM sent nothing to anyone outside
    assert all(p["data"].get("customer_id") != plain["id"] for p in received)
    assert [m for m in box.messages if addr not in m["to"]] == []
