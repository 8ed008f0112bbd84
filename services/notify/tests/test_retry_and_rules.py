import random
from datetime import UTC, datetime

import pytest

from crmkit.errors import InvalidInput
from notify import retry, rules


def test_backoff_grows_exponentially_with_jitter_bounds():
    p = retry.RetryPolicy(base_seconds=10, cap_seconds=1000, max_attempts=5)
    rnd = random.Random(1)
    for attempt in range(1, 8):
        step = min(1000, 10 * 2 ** (attempt - 1))
        for _ in range(50):
            d = p.delay(attempt, rnd)
            assert step / 2 <= d <= step


def test_jitter_spreads_delays():
    p = retry.RetryPolicy(base_seconds=10)
    assert len({round(p.delay(3), 6) for _ in range(20)}) > 1


def test_cap_and_exhaustion():
    p = retry.RetryPolicy(base_seconds=10, cap_seconds=30, max_attempts=3)
    assert p.delay(10) <= 30
    assert not p.exhausted(2) and p.exhausted(3)


def test_policy_from_settings_and_defaults():
    assert retry.policy_from(None, 30).base_seconds == 30
    p = retry.policy_from({"retry_base_seconds": 0.2, "max_attempts": 3}, 30)
    assert p.base_seconds == 0.2 and p.max_attempts == 3
    assert retry.policy_from({"retry_base_seconds": "x"}, 7).base_seconds == 7


def env(type_, data, actor="u0"):
    return {"event_id": "e1", "type": type_, "tenant_id": "t1", "actor_id": actor, "data": data}


def test_invitation_goes_only_to_invitee_never_webhook():
    [i] = rules.intents_for(env("employee.invited", {"employee_id": "e9", "invitation_token": "tok",
                                                     "name": "Li", "language": "en"}))
    assert i.kind == "invitation" and i.to_ids == ["e9"] and i.to_role is None and i.to_address is None
    assert i.values["invitation_token"] == "tok" and "invitation_token" not in i.data
    assert "webhook" not in rules.channels_for("invitation", {"invitation": ["webhook"]})


def test_cbm_notice_only_for_cbm_linked():
    assert rules.intents_for(env("visit.planned", {"visit_id": "v1", "customer_id": "c1"})) == []
    [i] = rules.intents_for(env("visit.planned", {"visit_id": "v1", "cbm": {"email": "cbm@vendor.com",
                                                                           "name": "Wang", "language": "en"}}))
    assert i.kind == "cbm_visit_notice" and i.to_address["email"] == "cbm@vendor.com" and i.to_ids == []
    assert rules.channels_for(i.kind, None) == ["email", "webhook"]  # the CBM by e-mail, the tenant's hooks too
    [i] = rules.intents_for(env("visit.planned", {"visit_id": "v2", "customer_id": "c2", "cbm": {
        "id": "cbm-1", "email": "cbm@vendor.com", "name": "Wang", "mobile": "13800138000"}}))
    assert i.data == {"visit_id": "v2", "customer_id": "c2", "cbm_id": "cbm-1"}
    assert rules.validate_webhook({"url": "https://x.example/h", "kinds": ["cbm_visit_notice"]})["kinds"] == \
        ["cbm_visit_notice"]  # a hook may subscribe to the CBM notice
    with pytest.raises(InvalidInput):
        rules.validate_webhook({"url": "https://x.example/h", "kinds": ["invitation"]})  # never to a hook


def test_pool_and_visit_routing():
    [i] = rules.intents_for(env("pool.claim_request_submitted", {"requester_id": "r1", "customer_id": "c"}))
    assert i.to_role == "support" and i.name_refs == {"requester_name": "r1"}
    [i] = rules.intents_for(env("pool.claim_request_rejected", {"requester_id": "r1", "reason": "dup"}))
    assert i.kind == "claim_request_rejected" and i.to_ids == ["r1"]
    [i] = rules.intents_for(env("pool.reclaim_warning", {"owner_id": "o1", "reclaim_at": "2026-01-01"}))
    assert i.to_ids == ["o1"] and i.values["reclaim_at"] == "2026-01-01"
    [i] = rules.intents_for(env("visit.reviewed", {"employee_id": "e1", "result": "invalid"}))
    assert i.to_ids == ["e1"] and i.values["result"] == "invalid"
    [i] = rules.intents_for(env("report.export_ready", {"export_id": "x", "requested_by": "e2"}))
    assert i.to_ids == ["e2"]


def test_the_pools_and_visits_declared_payloads_fill_the_templates():
    """What the producers send (``contracts``: pool.reclaim_warning, pool.reclaimed,
    report.export_ready), not older guesses of it: every placeholder gets its value."""
    [i] = rules.intents_for(env("pool.reclaim_warning", {
        "customer_id": "c1", "owner_id": "o1", "reclaim_on": "2026-12-09", "rule": "no_contact", "lead_days": 3,
        "days_left": 3, "customer_name": "星河科技"}))
    assert i.to_ids == ["o1"] and i.values == {"customer_name": "星河科技", "reclaim_at": "2026-12-09"}
    [i] = rules.intents_for(env("pool.reclaimed", {
        "customer_id": "c1", "from_owner_id": "o1", "to_owner_id": None, "reason": "no_contact", "seq": 3,
        "at": "2026-12-09T00:00:00+00:00", "customer_name": "星河科技"}))
    assert i.to_ids == ["o1"] and i.values == {"customer_name": "星河科技", "reason": "no_contact"}
    [i] = rules.intents_for(env("report.export_ready", {
        "export_id": "x", "requested_by": "e2", "download_url": "/api/v1/x", "tenant_id": "t",
        "filename": "员工汇总.zip"}))
    assert i.values["name"] == "员工汇总.zip"


def test_owner_changed_only_handover_path():
    assert rules.intents_for(env("customer.owner_changed", {"path": "claim", "to_owner_id": "a"})) == []
    [i] = rules.intents_for(env("customer.owner_changed", {"path": "handover", "to_owner_id": "a",
                                                           "from_owner_id": "b"}))
    assert i.kind == "handover" and i.to_ids == ["a"]


def test_preferences_validation_and_effective():
    assert rules.validate_preferences({"channels": {"reclaimed": ["inbox", "inbox", "email"]}}) == \
        {"reclaimed": ["inbox", "email"]}
    with pytest.raises(InvalidInput):
        rules.validate_preferences({"channels": {"invitation": ["inbox"]}})
    with pytest.raises(InvalidInput):
        rules.validate_preferences({"channels": {"reclaimed": ["sms"]}})
    eff = rules.effective_preferences({"reclaimed": []})
    assert eff["reclaimed"] == [] and eff["handover"] == ["inbox", "email", "webhook"]


def test_settings_validation():
    s = rules.validate_settings({"retry_base_seconds": 0.3, "max_attempts": 3, "timezone": "Europe/Berlin",
                                 "smtp": {"host": "127.0.0.1", "port": 2525, "from_addr": "crm@x.com"}})
    assert s["smtp"]["tls"] == "none" and s["max_attempts"] == 3
    for bad in ({"timezone": "Mars/Base"}, {"max_attempts": 0}, {"smtp": {"host": "h", "port": 25}},
                {"smtp": {"host": "h", "port": 25, "from_addr": "a@b", "tls": "maybe"}},
                {"allow_private_webhooks": "yes"}):
        with pytest.raises(InvalidInput):
            rules.validate_settings(bad)
    # a password is kept when an update leaves it out, and never shown
    s2 = rules.validate_settings({"smtp": {"host": "h2"}}, {"smtp": {"host": "h", "port": 25, "from_addr": "a@b.c",
                                                                      "password": "pw"}})
    assert s2["smtp"]["password"] == "pw"
    assert rules.public_settings(s2, False)["smtp"] == {"host": "h2", "port": 25, "from_addr": "a@b.c",
                                                       "tls": "none", "password_set": True}


def test_tenant_may_switch_operator_allowance_off_never_on():
    assert rules.allow_private({}, True)
    assert not rules.allow_private({"allow_private_webhooks": False}, True)
    assert not rules.allow_private({"allow_private_webhooks": True}, False)


def test_cursor_roundtrip_and_order():
    a = rules.sort_key(datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), "a")
    b = rules.sort_key(datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "a")
    assert a < b
    assert rules.decode_cursor(rules.encode_cursor(b)) == b
    with pytest.raises(InvalidInput):
        rules.decode_cursor("!!!")


def test_local_day():
    day, hour = rules.local_day(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), "Asia/Shanghai")
    assert day == "2026-01-02" and hour == 7
