"""Outbox and inbox against the real MongoDB-protocol server of the test infra."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
import pytest

from crmkit.clock import Clock
from crmkit.inbox import Inbox
from crmkit.outbox import STAGED_GRACE, Check, Outbox, backoff


@pytest.fixture
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"kit_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()


def ev(n=0):
    return {"event_id": uuid.uuid4().hex, "type": "thing.changed", "n": n}


def test_change_commits_events_and_relay_publishes_in_order(db):
    clock = Clock()
    box = Outbox(db, clock.now)
    events = [ev(i) for i in range(3)]
    with box.change(events, Check("things", {"_id": 1})):
        db.things.insert_one({"_id": 1})
    published = []
    assert box.relay_once(published.append) == 3
    assert [e["n"] for e in published] == [0, 1, 2]
    assert box.relay_once(published.append) == 0
    assert box.backlog() == 0
    assert db.outbox.count_documents({}) == 0 and db.outbox_sent.count_documents({}) == 3


def test_a_failed_change_leaves_no_event(db):
    box = Outbox(db, Clock().now)
    with pytest.raises(RuntimeError), box.change([ev()], Check("things", {"_id": 2})):
        raise RuntimeError("write failed")
    assert db.outbox.count_documents({}) == 0


def test_publish_failure_is_retried_later_and_nothing_is_lost(db):
    clock = Clock()
    box = Outbox(db, clock.now)
    box.emit([ev(1)])

    def broken(_):
        raise ConnectionError("broker down")

    assert box.relay_once(broken) == 0
    row = db.outbox.find_one()
    assert row["attempts"] == 1 and row["status"] == "pending"
    clock.advance(timedelta(minutes=2))
    got = []
    assert box.relay_once(got.append) == 1 and got[0]["n"] == 1


def test_staged_rows_of_a_crashed_process_are_recovered_by_their_check(db):
    clock = Clock()
    box = Outbox(db, clock.now)
    happened, never = ev(1), ev(2)
    box.stage([happened], Check("things", {"_id": "a"}))
    db.things.insert_one({"_id": "a"})           # the change happened, the process died before commit
    box.stage([never], Check("things", {"_id": "b"}))  # died before the change
    got = []
    assert box.relay_once(got.append) == 0        # too young: the writer may still be running
    clock.advance(STAGED_GRACE + timedelta(seconds=1))
    box.relay_once(got.append)
    assert [e["n"] for e in got] == [1]
    assert db.outbox.find_one({"_id": never["event_id"]})["status"] == "aborted"


def test_backoff_grows_and_is_capped():
    assert all(0 <= backoff(n, base=1, cap=8) <= min(8, 2 ** (n - 1)) for n in range(1, 10) for _ in range(20))


def test_inbox_claims_once_under_concurrency(db):
    inbox = Inbox(db, lambda: datetime.now(UTC))
    results = []
    barrier = threading.Barrier(10)

    def claim():
        barrier.wait()
        results.append(inbox.claim("svc.handler", "e1")[0])

    threads = [threading.Thread(target=claim) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("run") == 1 and results.count("busy") == 9
    inbox.done("svc.handler", "e1")
    assert inbox.claim("svc.handler", "e1")[0] == "done"


def test_inbox_failure_then_park_and_unpark(db):
    inbox = Inbox(db, lambda: datetime.now(UTC))
    assert inbox.claim("h", "e2")[0] == "run"
    assert inbox.failed("h", "e2", "boom") == 1
    assert inbox.claim("h", "e2")[0] == "run"          # a retry delivery runs again
    dl = inbox.park("h", "q", {"event_id": "e2", "type": "t", "tenant_id": "x"}, "boom", 5)
    assert inbox.claim("h", "e2")[0] == "done"          # parked: no more runs until replay
    assert inbox.count_dead() == 1
    assert inbox.unpark(dl)["event_id"] == "e2"
    assert inbox.claim("h", "e2")[0] == "run"
