"""Delivery idempotency beyond the kit's per-handler dedupe, against the real database:
dispatching one event twice (e.g. by two handlers or a replayed dead letter) writes one
inbox row and one delivery per recipient and channel; one attempt has one sender."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pymongo
import pytest

from notify import events as sources
from notify import rules
from notify.store import Store


class Directory:
    """Answers the two identity calls dispatch makes (a plain object, no broker)."""

    def __init__(self, people):
        self.people = people

    def get_employees(self, ids):
        return [p for p in self.people if p["id"] in ids]

    def list_employees(self, role=None):
        return [p for p in self.people if role in p["roles"]]


@pytest.fixture
def store(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"notify_store_{uuid.uuid4().hex[:8]}"
    s = Store(client[name])
    s.ensure_indexes()
    yield s
    client.drop_database(name)


def test_dispatch_twice_writes_once(store):
    tenant = "t1"
    people = [{"id": "s1", "name": "S1", "roles": ["support"], "email": "s1@x.com", "language": "en"},
              {"id": "s2", "name": "S2", "roles": ["support"], "email": "s2@x.com"}]
    store.create_webhook(tenant, {"url": "https://hook.example.com", "kinds": []}, datetime.now(UTC))
    env = {"event_id": uuid.uuid4().hex, "type": "pool.claim_request_submitted", "tenant_id": tenant,
           "actor_id": "r", "data": {"requester_id": "r", "customer_name": "C"}}
    [intent] = rules.intents_for(env)
    first = sources.dispatch(store, Directory(people), env, intent, datetime.now(UTC))
    second = sources.dispatch(store, Directory(people), env, intent, datetime.now(UTC))
    assert first == {"inbox": 2, "email": 2, "webhook": 1}
    assert second == {"inbox": 0, "email": 0, "webhook": 0}
    assert store.notifications.count_documents({"event_id": env["event_id"]}) == 2
    assert store.deliveries.count_documents({"event_id": env["event_id"]}) == 3


def test_one_sender_per_attempt(store):
    now = datetime.now(UTC)
    store.add_delivery(tenant_id="t", event_id="e", kind="reclaimed", recipient="r", channel="email",
                       target={"email": "a@b.c"}, message={}, now=now)
    row = store.deliveries.find_one({"event_id": "e"})
    wins = []
    threads = [threading.Thread(target=lambda: wins.append(store.claim_attempt(row, now))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_lost_attempt_is_recorded_once_and_the_delivery_moves_on(store):
    from datetime import timedelta

    from notify import delivery as deliver
    now = datetime.now(UTC)
    store.add_delivery(tenant_id="t", event_id="e2", kind="reclaimed", recipient="r", channel="email",
                       target={"email": "a@b.c"}, message={}, now=now)
    row = store.deliveries.find_one({"event_id": "e2"})
    assert store.claim_attempt(row, now - timedelta(minutes=5))   # a sender claimed it and died
    assert deliver.attempt(store, row, lambda: now, 30) == "retry"
    assert deliver.attempt(store, row, lambda: now, 30) is None     # recorded once only
    after = store.deliveries.find_one({"event_id": "e2"})
    assert after["attempts"] == 1 and after["status"] == "pending" and after["next_at"] > now
    [log] = store.attempts_of(row["_id"])
    assert log["error"] == "attempt lost (sender stopped)"


def test_late_visit_planned_does_not_undo_check_in(store):
    def ev(type_, **data):
        return {"event_id": uuid.uuid4().hex, "type": type_, "tenant_id": "t", "actor_id": "a",
                "data": {"visit_id": "v1", **data}}
    sources.track_visit(store, ev("visit.checked_in"))
    sources.track_visit(store, ev("visit.planned", employee_id="e", planned_at="2026-01-01T00:00:00Z"))
    row = store.visit_plans.find_one({"_id": "v1"})
    assert row["status"] == "pending_check_out" and row["employee_id"] == "e"
    sources.track_visit(store, ev("visit.planned", visit_id="v2", employee_id="e"))
    assert store.visit_plans.find_one({"_id": "v2"})["status"] == "pending_check_in"
