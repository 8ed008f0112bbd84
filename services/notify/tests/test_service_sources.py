"""Each source produces the right message to the right person (real broker, real DB,
real notify process; events published as signed envelopes on the source's exchange)."""
from __future__ import annotations

import uuid

import pytest

from crmkit.errors import Forbidden, InvalidInput, NotFound

pytestmark = pytest.mark.slow


def setup_tenant(n, smtp, tenant, **settings):
    n.admin("update_settings", tenant, data={"smtp": smtp.settings(), "retry_base_seconds": 0.2, **settings})


def kinds(items):
    return [i["kind"] for i in items]


def test_invitation_goes_only_to_the_invitee(notify_env, smtp, receiver, tenant):
    n = notify_env
    setup_tenant(n, smtp, tenant)
    hook = n.admin("create_webhook", tenant, data={"url": receiver.url(f"/inv-{tenant}")})
    other = n.add_employee(tenant, email=f"other-{tenant}@example.com")
    addr = f"new-{tenant}@example.com"
    invitee = n.add_employee(tenant, name="Alice", email=addr, language="en", status="pending")
    token = "tok-" + uuid.uuid4().hex
    n.publish("identity", "employee.invited", tenant, {"employee_id": invitee, "name": "Alice", "mobile": "138",
                                                       "invitation_id": "inv1", "invitation_token": token,
                                                       "language": "en"})
    [item] = n.wait(lambda: n.inbox(tenant, invitee))
    assert item["kind"] == "invitation" and token in item["body"] and item["language"] == "en"
    assert "Invitation" in item["title"]
    mails = n.wait(lambda: smtp.to(addr))
    assert len(mails) == 1 and token in smtp.text(mails[0])
    assert n.inbox(tenant, other) == []
    assert not [m for m in smtp.handler.messages if token in m["content"] and addr not in m["to"]]
    deliveries = n.admin("list_deliveries", tenant)
    assert {d["channel"] for d in deliveries} == {"email"}
    assert not receiver.at(f"/inv-{tenant}") and hook["id"]


def test_duplicated_event_gives_one_notification(notify_env, smtp, tenant):
    n = notify_env
    setup_tenant(n, smtp, tenant)
    owner = n.add_employee(tenant, email=f"o-{tenant}@example.com")
    env = n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c1", "customer_name": "星河科技",
                                                       "owner_id": owner, "reason": "no follow-up"})
    n.wait(lambda: n.inbox(tenant, owner))
    n.publish("pool", "pool.reclaimed", tenant, {}, envelope=env)
    n.publish("pool", "pool.reclaimed", tenant, {}, envelope=env)
    n.wait(lambda: smtp.to(f"o-{tenant}@example.com"))
    import time
    time.sleep(1.5)
    items = n.inbox(tenant, owner)
    assert len(items) == 1 and "星河科技" in items[0]["body"]
    assert len(smtp.to(f"o-{tenant}@example.com")) == 1
    assert len(n.admin("list_deliveries", tenant, event_id=env["event_id"])) == 1


def test_claim_requests_reach_support_then_requester(notify_env, tenant):
    n = notify_env
    s1 = n.add_employee(tenant, roles=("support",), language="en")
    s2 = n.add_employee(tenant, roles=("employee", "support"))
    bystander = n.add_employee(tenant)
    requester = n.add_employee(tenant, name="张三")
    n.publish("pool", "pool.claim_request_submitted", tenant, {"request_id": "r1", "customer_id": "c1",
                                                               "customer_name": "Galaxy", "requester_id": requester,
                                                               "reason": "met them"})
    [a] = n.wait(lambda: n.inbox(tenant, s1))
    [b] = n.wait(lambda: n.inbox(tenant, s2))
    assert a["kind"] == b["kind"] == "claim_request_submitted"
    assert "张三" in a["body"] and "Galaxy" in a["body"] and a["language"] == "en" and b["language"] == "zh-CN"
    assert n.inbox(tenant, bystander) == [] and n.inbox(tenant, requester) == []
    n.publish("pool", "pool.claim_request_approved", tenant, {"request_id": "r1", "customer_name": "Galaxy",
                                                              "requester_id": requester})
    n.publish("pool", "pool.claim_request_rejected", tenant, {"request_id": "r2", "customer_name": "Moon",
                                                              "requester_id": requester, "reason": "duplicate"})
    items = n.wait(lambda: (lambda x: x if len(x) == 2 else None)(n.inbox(tenant, requester)))
    assert sorted(kinds(items)) == ["claim_request_approved", "claim_request_rejected"]
    rejected = next(i for i in items if i["kind"] == "claim_request_rejected")
    assert "duplicate" in rejected["body"] and "驳回" in rejected["title"]
    assert len(n.inbox(tenant, s1)) == 1


def test_cbm_visit_notice_goes_to_cbm_address(notify_env, smtp, tenant):
    n = notify_env
    setup_tenant(n, smtp, tenant)
    emp = n.add_employee(tenant, name="Bob")
    cbm = f"cbm-{tenant}@vendor.example.com"
    n.publish("visits", "visit.planned", tenant, {"visit_id": "v-plain", "customer_id": "c0", "employee_id": emp,
                                                  "planned_at": "2026-01-01T02:00:00Z"})
    n.publish("visits", "visit.planned", tenant, {"visit_id": "v1", "customer_id": "c1", "customer_name": "Acme",
                                                  "employee_id": emp, "planned_at": "2026-01-02T02:00:00Z",
                                                  "topic": "renewal",
                                                  "cbm": {"name": "Wang", "email": cbm, "language": "en"}})
    [mail] = n.wait(lambda: smtp.to(cbm))
    text = smtp.text(mail)
    assert "Partner visit notice" in text and "Acme" in text and "Bob" in text and "renewal" in text
    assert n.inbox(tenant, emp) == []
    assert len(n.admin("list_deliveries", tenant)) == 1


def test_review_reclaim_handover_export(notify_env, tenant):
    n = notify_env
    emp = n.add_employee(tenant, language="en")
    receiver_emp = n.add_employee(tenant)
    leaver = n.add_employee(tenant, name="李四")
    n.publish("visits", "visit.reviewed", tenant, {"visit_id": "v1", "employee_id": emp, "result": "invalid",
                                                   "reason": "too short", "customer_name": "Acme"})
    n.publish("pool", "pool.reclaim_warning", tenant, {"customer_id": "c1", "owner_id": emp,
                                                       "customer_name": "Acme", "reclaim_at": "2026-02-01"})
    n.publish("visits", "report.export_ready", tenant, {"export_id": "x1", "requested_by": emp,
                                                        "download_url": "/api/v1/exports/x1"})
    n.publish("customers", "customer.owner_changed", tenant, {"customer_id": "c2", "from_owner_id": leaver,
                                                              "to_owner_id": receiver_emp, "path": "handover",
                                                              "customer_name": "Beta", "seq": 3})
    n.publish("customers", "customer.owner_changed", tenant, {"customer_id": "c3", "from_owner_id": None,
                                                              "to_owner_id": receiver_emp, "path": "claim"})
    n.publish("identity", "employee.left", tenant, {"employee_id": leaver, "reason": "left",
                                                    "handover_to": receiver_emp})
    items = n.wait(lambda: (lambda x: x if len(x) == 3 else None)(n.inbox(tenant, emp)))
    assert sorted(kinds(items)) == ["export_ready", "reclaim_warning", "visit_reviewed"]
    review = next(i for i in items if i["kind"] == "visit_reviewed")
    assert "invalid" in review["body"] and "too short" in review["body"]
    assert "/api/v1/exports/x1" in next(i for i in items if i["kind"] == "export_ready")["body"]
    got = n.wait(lambda: (lambda x: x if len(x) == 2 else None)(n.inbox(tenant, receiver_emp)))
    assert sorted(kinds(got)) == ["departure_handover", "handover"]
    assert all("李四" in i["body"] for i in got)


def test_inbox_pagination_read_and_privacy(notify_env, tenant):
    n = notify_env
    me = n.add_employee(tenant)
    other = n.add_employee(tenant)
    for i in range(5):
        n.publish("pool", "pool.reclaimed", tenant, {"customer_id": f"c{i}", "customer_name": f"C{i}",
                                                     "owner_id": me})
        import time
        time.sleep(0.05)
    n.wait(lambda: len(n.inbox(tenant, me)) == 5)
    assert n.call("unread_count", tenant, me) == {"unread": 5}
    page1 = n.call("list_notifications", tenant, me, limit=2)
    page2 = n.call("list_notifications", tenant, me, limit=2, cursor=page1["next_cursor"])
    page3 = n.call("list_notifications", tenant, me, limit=2, cursor=page2["next_cursor"])
    seen = page1["items"] + page2["items"] + page3["items"]
    assert page3["next_cursor"] is None and len({i["id"] for i in seen}) == 5
    stamps = [i["created_at"] for i in seen]
    assert stamps == sorted(stamps, reverse=True)
    first = seen[0]["id"]
    # another employee (same tenant) and another tenant get 404 for my notification
    with pytest.raises(NotFound):
        n.call("mark_read", tenant, other, notification_id=first)
    with pytest.raises(NotFound):
        n.call("mark_read", "t-other", me, notification_id=first)
    assert n.inbox(tenant, other) == []
    assert n.call("mark_read", tenant, me, notification_id=first)["read"] is True
    assert n.call("unread_count", tenant, me) == {"unread": 4}
    assert n.call("list_notifications", tenant, me, unread="true")["items"][0]["id"] != first
    assert n.call("mark_all_read", tenant, me) == {"marked": 4}
    assert n.call("unread_count", tenant, me) == {"unread": 0}


def test_preferences_route_kinds_to_channels(notify_env, smtp, tenant):
    n = notify_env
    setup_tenant(n, smtp, tenant)
    addr = f"p-{tenant}@example.com"
    me = n.add_employee(tenant, email=addr)
    prefs = n.call("set_preferences", tenant, me, data={"channels": {"reclaimed": ["email"]}})
    assert prefs["channels"]["reclaimed"] == ["email"] and prefs["channels"]["handover"] == ["inbox", "email",
                                                                                             "webhook"]
    with pytest.raises(InvalidInput):
        n.call("set_preferences", tenant, me, data={"channels": {"invitation": []}})
    n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c1", "customer_name": "Pref", "owner_id": me})
    n.wait(lambda: smtp.to(addr))
    assert n.inbox(tenant, me) == []


def test_admin_only_channels(notify_env, tenant):
    n = notify_env
    with pytest.raises(Forbidden):
        n.call("list_webhooks", tenant, "u1")
    with pytest.raises(Forbidden):
        n.call("delivery_dead_letters", tenant, "u1")
    with pytest.raises(Forbidden):
        n.call("update_settings", tenant, "u1", data={"max_attempts": 2})


def test_morning_digest_of_todays_pending_visits(notify_env, tenant):
    from datetime import UTC, datetime
    n = notify_env
    # a zone where it is now about noon; no digest yet (hour 13) while the read model fills
    off = 12 - datetime.now(UTC).hour
    tz = "UTC" if off == 0 else (f"Etc/GMT-{off}" if off > 0 else f"Etc/GMT+{-off}")
    n.admin("update_settings", tenant, data={"timezone": tz, "digest_hour": 13})
    emp = n.add_employee(tenant, language="en")
    now = datetime.now(UTC).isoformat()
    n.publish("visits", "visit.planned", tenant, {"visit_id": f"v-{tenant}-1", "employee_id": emp,
                                                  "customer_name": "Alpha", "planned_at": now})
    n.publish("visits", "visit.planned", tenant, {"visit_id": f"v-{tenant}-2", "employee_id": emp,
                                                  "customer_name": "Done", "planned_at": now})
    n.publish("visits", "visit.checked_in", tenant, {"visit_id": f"v-{tenant}-2"})
    n.publish("visits", "visit.planned", tenant, {"visit_id": f"v-{tenant}-3", "employee_id": emp,
                                                  "customer_name": "Later", "planned_at": "2099-01-01T00:00:00Z"})
    import pymongo
    plans = pymongo.MongoClient(n.mongo_uri)[f"{n.prefix}notify"]["visit_plans"]
    n.wait(lambda: {r["_id"]: r.get("status") for r in plans.find({"tenant_id": tenant})} == {
        f"v-{tenant}-1": "pending_check_in", f"v-{tenant}-2": "pending_check_out",
        f"v-{tenant}-3": "pending_check_in"})
    n.call("_test_run_digest", tenant, "system", ("system",))
    assert not n.inbox(tenant, emp)
    n.admin("update_settings", tenant, data={"digest_hour": 12})
    n.call("_test_run_digest", tenant, "system", ("system",))
    [item] = n.wait(lambda: n.inbox(tenant, emp))
    assert item["kind"] == "daily_digest" and "Alpha" in item["body"] and "Done" not in item["body"]
    assert "Later" not in item["body"] and "1 pending" in item["body"]
    n.call("_test_run_digest", tenant, "system", ("system",))
    assert len(n.inbox(tenant, emp)) == 1
