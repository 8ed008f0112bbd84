"""Capacity and daily-limit slots with per-owner hints, on the real database with real
threads: a stale, wrong or lost hint may cost retries but never breaks a limit nor
refuses a claim that fits."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pymongo
import pytest

from crmkit.errors import BusinessRule
from pool import store
from tests.support.concurrency import parallel

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
DAY = "2025-06-02"


@pytest.fixture()
def db() -> Iterator[pymongo.database.Database]:
    uri = os.environ.get("MONGO_URI") or f"mongodb://127.0.0.1:{os.environ.get('FERRET_PORT', '27017')}/"
    client = pymongo.MongoClient(uri, tz_aware=True)
    database = client[f"phint_{uuid.uuid4().hex[:8]}"]
    try:
        yield database
    finally:
        client.drop_database(database.name)
        client.close()


def consistent(db, tenant: str, owner: str) -> int:
    """Every hold names a slot that exists and belongs to its customer; returns the count."""
    slots = {r["_id"]: r for r in db.slots.find({"tenant_id": tenant, "owner_id": owner})}
    holds = list(db.holds.find({"tenant_id": tenant, "owner_id": owner}))
    assert len(slots) == len(holds)
    for h in holds:
        assert slots[h["slot_id"]]["customer_id"] == h["customer_id"]
    return len(slots)


def test_hint_claiming_full_when_nothing_is_held_does_not_refuse(db):
    db.hints.insert_one({"_id": store.hint_id("t", "u"), "slots": list(range(1, 11))})
    sid, took = store.take_slot(db, "t", "u", "c1", 10, NOW)
    assert took and sid.startswith("t:u:")
    assert consistent(db, "t", "u") == 1
    assert store.read_hint(db, "t", "u")["slots"] == [int(sid.rsplit(":", 1)[1])]  # rewritten from the rows


def test_garbage_in_the_hint_is_ignored(db):
    db.hints.insert_one({"_id": store.hint_id("t", "u"), "slots": ["x", -3, 10**9, None, "7"],
                         "day": DAY, "claims": ["?", 1]})
    for i in range(5):
        store.take_slot(db, "t", "u", f"c{i}", 5, NOW)
    with pytest.raises(BusinessRule) as e:
        store.take_slot(db, "t", "u", "c5", 5, NOW)
    assert e.value.code == "pool.capacity_full" and e.value.details["held"] == 5
    assert store.take_claim_slot(db, "t", "u", DAY, "c0", 1, NOW).endswith(":1")


def test_stale_empty_hint_at_295_of_300_twenty_parallel_takes_five_win(db):
    store.seed_holdings(db, "t", "busy", 295, NOW)  # seeds leave the hint stale (empty)
    res = parallel(20, lambda i: store.take_slot(db, "t", "busy", f"new{i}", 300, NOW))
    wins = [r for r in res if isinstance(r, tuple) and r[1]]
    full = [r for r in res if isinstance(r, BusinessRule) and r.code == "pool.capacity_full"]
    assert len(wins) == 5 and len(full) == 15, res
    assert consistent(db, "t", "busy") == 300


def test_lost_hint_updates_under_churn_never_exceed_capacity(db):
    """Parallel takes and frees race on the hint (FerretDB loses concurrent updates);
    the slots stay consistent and within the capacity, and a free number is found."""
    cap = 8
    res = parallel(16, lambda i: store.take_slot(db, "t", "u", f"a{i}", cap, NOW))
    assert sum(1 for r in res if isinstance(r, tuple)) == cap
    holders = [h["customer_id"] for h in db.holds.find({"tenant_id": "t", "owner_id": "u"})]

    def churn(i: int):
        if i < 4:
            return store.free_slot(db, "t", "u", holders[i])
        return store.take_slot(db, "t", "u", f"b{i}", cap, NOW)
    parallel(12, churn)
    assert consistent(db, "t", "u") <= cap
    db.hints.replace_one({"_id": store.hint_id("t", "u")}, {"slots": list(range(1, cap + 1))})  # says full
    for i in range(cap - consistent(db, "t", "u")):  # every free slot is still found
        assert store.take_slot(db, "t", "u", f"fill{i}", cap, NOW)[1]
    with pytest.raises(BusinessRule):
        store.take_slot(db, "t", "u", "over", cap, NOW)
    assert consistent(db, "t", "u") == cap


def test_free_slot_frees_the_holds_slot_and_the_number_is_taken_again(db):
    sid, _ = store.take_slot(db, "t", "u", "c1", 1, NOW)
    with pytest.raises(BusinessRule):
        store.take_slot(db, "t", "u", "c2", 1, NOW)
    store.free_slot(db, "t", "u", "c1")
    assert consistent(db, "t", "u") == 0
    assert store.take_slot(db, "t", "u", "c2", 1, NOW) == (sid, True)
    # the same customer reported twice takes one slot (the second report finds the hold)
    assert store.take_slot(db, "t", "u", "c2", 1, NOW, overflow=True) == (sid, False)
    assert consistent(db, "t", "u") == 1


def test_daily_claim_slots_with_stale_hints(db):
    # the hint says the day is used up, but no claim was made: not refused
    db.hints.insert_one({"_id": store.hint_id("t", "u"), "day": DAY, "claims": [1, 2, 3]})
    assert store.take_claim_slot(db, "t", "u", DAY, "c0", 3, NOW)
    # the hint says nothing was claimed, 10 parallel claims at limit 3: exactly 2 more
    db.hints.delete_one({"_id": store.hint_id("t", "u")})
    res = parallel(10, lambda i: store.take_claim_slot(db, "t", "u", DAY, f"c{i + 1}", 3, NOW))
    assert sum(1 for r in res if isinstance(r, str)) == 2
    refused = [r for r in res if isinstance(r, BusinessRule)]
    assert len(refused) == 8 and refused[0].details == {"claimed_today": 3, "limit": 3}
    # a freed claim slot can be taken again; another day starts empty
    store.free_claim_slot(db, "t", "u", f"t:u:{DAY}:2")
    assert store.take_claim_slot(db, "t", "u", DAY, "again", 3, NOW) == f"t:u:{DAY}:2"
    assert store.take_claim_slot(db, "t", "u", "2025-06-03", "next", 3, NOW) == "t:u:2025-06-03:1"


def test_housekeeping_drops_claim_slots_of_past_days_only(db):
    store.take_claim_slot(db, "t", "u", "2025-06-01", "a", 3, NOW)
    store.take_claim_slot(db, "t", "u", DAY, "b", 3, NOW)
    assert store.purge_claim_slots(db, DAY) == 1
    assert [r["_id"] for r in db.claim_slots.find({})] == [f"t:u:{DAY}:1"]


def test_a_load_that_read_before_a_save_does_not_cache_the_older_rules(db):
    """Greenlets interleave: a load whose read happened before a save must not put the
    older rules into the cache after the save did (claims would use the old limits)."""
    tenant = "t-" + uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    store.save_rules(db, tenant, {"daily_claim_limit": 20}, "admin", now)
    store._rules_cache.clear()

    class SaveDuringRead:
        """``db.rules`` whose find_one reads, then lets a save land before answering."""

        def __init__(self, real):
            self.real = real

        def find_one(self, *a, **kw):
            row = self.real.find_one(*a, **kw)
            store.save_rules(db, tenant, {"daily_claim_limit": 5}, "admin", now)
            return row

    class Db:
        name = db.name
        rules = SaveDuringRead(db.rules)

    assert store.load_rules(Db(), tenant)["daily_claim_limit"] == 20  # what it read
    assert store.load_rules(db, tenant)["daily_claim_limit"] == 5  # the cache kept the save's rules
