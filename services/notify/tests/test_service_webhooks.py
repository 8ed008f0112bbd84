"""Signed webhooks: retries with back-off, exactly one success, dead letters and re-send,
signature verification by the receiver, and the SSRF guard on the route's RPC."""
from __future__ import annotations

import json

import pytest

from crmkit.errors import InvalidInput, NotFound
from notify import signing

pytestmark = pytest.mark.slow


def test_receiver_failing_twice_gets_it_exactly_once_after_backoff(notify_env, receiver, tenant):
    n = notify_env
    n.admin("update_settings", tenant, data={"retry_base_seconds": 0.5, "max_attempts": 5})
    path = f"/flaky-{tenant}"
    receiver.plans[path] = [500, 503]
    hook = n.admin("create_webhook", tenant, data={"url": receiver.url(path), "name": "group robot"})
    assert len(hook["secret"]) >= 16
    owner = n.add_employee(tenant)
    env = n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c1", "customer_name": "Acme",
                                                       "owner_id": owner})
    n.wait(lambda: [r for r in receiver.at(path) if r["status"] == 200], timeout=20)
    import time
    time.sleep(1.5)
    reqs = receiver.at(path)
    assert [r["status"] for r in reqs] == [500, 503, 200]
    # back-off: the gaps grow and are at least base/2 and base (equal jitter)
    assert reqs[1]["at"] - reqs[0]["at"] >= 0.25
    assert reqs[2]["at"] - reqs[1]["at"] >= 0.5
    ok = reqs[-1]
    assert signing.verify(ok["body"], ok["headers"], hook["secret"])
    assert not signing.verify(ok["body"].replace(b"Acme", b"Evil"), ok["headers"], hook["secret"])
    assert not signing.verify(ok["body"], ok["headers"], hook["secret"], now=time.time() + 3600)
    payload = json.loads(ok["body"])
    assert payload["event_id"] == env["event_id"] and payload["kind"] == "reclaimed"
    assert payload["recipients"] == [owner]
    [d] = n.admin("list_deliveries", tenant, event_id=env["event_id"])
    full = n.admin("get_delivery", tenant, delivery_id=d["id"])
    assert full["status"] == "sent" and full["attempts"] == 3
    log = full["attempt_log"]
    assert [a["outcome"] for a in log] == ["failed", "failed", "ok"]
    assert log[0]["error"] == "http 500" and all(a["latency_ms"] >= 0 and a["channel"] == "webhook" for a in log)


def test_always_failing_receiver_is_dead_lettered_and_can_be_resent(notify_env, receiver, tenant):
    n = notify_env
    n.admin("update_settings", tenant, data={"retry_base_seconds": 0.1, "max_attempts": 3})
    path = f"/down-{tenant}"
    receiver.plans[path + "#always"] = [500]
    n.admin("create_webhook", tenant, data={"url": receiver.url(path), "kinds": ["reclaim_warning"]})
    owner = n.add_employee(tenant)
    n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c0", "owner_id": owner})  # not this hook's kind
    n.publish("pool", "pool.reclaim_warning", tenant, {"customer_id": "c1", "owner_id": owner})
    [dead] = n.wait(lambda: n.admin("delivery_dead_letters", tenant), timeout=20)
    assert dead["status"] == "dead" and dead["attempts"] == 3 and dead["dead_reason"] == "http 500"
    assert len(dead["attempt_log"]) == 3 and dead["kind"] == "reclaim_warning"
    assert len(receiver.at(path)) == 3
    with pytest.raises(NotFound):
        n.admin("resend_delivery", "t-someone-else", delivery_id=dead["id"])
    receiver.plans[path + "#always"] = [200]
    again = n.admin("resend_delivery", tenant, delivery_id=dead["id"])
    assert again["status"] == "pending"
    n.wait(lambda: n.admin("get_delivery", tenant, delivery_id=dead["id"])["status"] == "sent", timeout=10)
    assert n.admin("delivery_dead_letters", tenant) == []
    assert [r["status"] for r in receiver.at(path)] == [500, 500, 500, 200]
    with pytest.raises(NotFound):
        n.admin("resend_delivery", tenant, delivery_id=dead["id"])


def test_ssrf_guard_refuses_private_targets_when_not_allowed(notify_env, receiver, tenant):
    n = notify_env
    settings = n.admin("update_settings", tenant, data={"allow_private_webhooks": False})
    assert settings["private_webhooks_effective"] is False
    for url in (receiver.url("/x"), "http://localhost:8080/", "http://10.0.0.8/", "http://169.254.169.254/meta"):
        with pytest.raises(InvalidInput) as e:
            n.admin("create_webhook", tenant, data={"url": url})
        assert e.value.code == "webhook.url_not_allowed" and e.value.status == 400
    with pytest.raises(InvalidInput) as e:
        n.admin("create_webhook", tenant, data={"url": "file:///etc/passwd"})
    assert e.value.code == "webhook.url_invalid"
    assert n.admin("list_webhooks", tenant) == []


def test_webhook_crud(notify_env, receiver, tenant):
    n = notify_env
    hook = n.admin("create_webhook", tenant, data={"url": receiver.url("/crud"), "kinds": ["handover"]})
    assert [h["id"] for h in n.admin("list_webhooks", tenant)] == [hook["id"]]
    assert "secret" not in n.admin("get_webhook", tenant, webhook_id=hook["id"])
    upd = n.admin("update_webhook", tenant, webhook_id=hook["id"], data={"active": False})
    assert upd["active"] is False
    with pytest.raises(NotFound):
        n.admin("get_webhook", "t-other", webhook_id=hook["id"])
    assert n.admin("delete_webhook", tenant, webhook_id=hook["id"]) == {"deleted": hook["id"]}
    with pytest.raises(NotFound):
        n.admin("delete_webhook", tenant, webhook_id=hook["id"])


def test_create_webhook_is_idempotent_with_a_key(notify_env, receiver, tenant):
    n = notify_env
    a = n.admin("create_webhook", tenant, data={"url": receiver.url("/idem")}, idempotency_key="k1")
    b = n.admin("create_webhook", tenant, data={"url": receiver.url("/idem")}, idempotency_key="k1")
    assert a["id"] == b["id"] and a["secret"] == b["secret"]
    assert len(n.admin("list_webhooks", tenant)) == 1


def test_a_test_delivery_reaches_the_hook_signed_and_is_logged(notify_env, receiver, tenant):
    n = notify_env
    path = f"/test-{tenant}"
    hook = n.admin("create_webhook", tenant, data={"url": receiver.url(path), "name": "销售群机器人",
                                                   "active": False})  # a test reaches even an inactive hook
    queued = n.admin("test_webhook", tenant, webhook_id=hook["id"])
    assert queued["kind"] == "webhook_test" and queued["status"] == "pending" and queued["channel"] == "webhook"
    [req] = n.wait(lambda: receiver.at(path), timeout=20)
    assert signing.verify(req["body"], req["headers"], hook["secret"])
    payload = json.loads(req["body"])
    assert payload["kind"] == "webhook_test" and "销售群机器人" in payload["body"] and payload["data"]["test"] is True
    n.wait(lambda: n.admin("get_delivery", tenant, delivery_id=queued["id"])["status"] == "sent", timeout=10)
    full = n.admin("get_delivery", tenant, delivery_id=queued["id"])
    assert [a["outcome"] for a in full["attempt_log"]] == ["ok"]
    assert queued["id"] in {d["id"] for d in n.admin("list_deliveries", tenant)}
    with pytest.raises(NotFound):
        n.admin("test_webhook", "t-someone-else", webhook_id=hook["id"])
