"""crmkit.docstore against the real MongoDB-protocol server of the test infra, with real
concurrent callers (threads, each with its own connection pool share)."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
import pytest

from crmkit import docstore
from crmkit.errors import Conflict, InvalidInput


@pytest.fixture
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True, maxPoolSize=32)
    name = f"kit_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()


def _together(n, fn):
    """Run ``fn(i)`` in n threads released at once; their results (or exceptions) in order."""
    gate = threading.Barrier(n)
    out: list = [None] * n

    def one(i):
        gate.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:  # collected, asserted by the caller
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_of_concurrent_inserts_of_one_key_exactly_one_wins(db):
    won = _together(16, lambda i: docstore.insert_once(db.locks, {"_id": "the-lock", "by": i}))
    assert won.count(True) == 1 and won.count(False) == 15
    row = db.locks.find_one({"_id": "the-lock"})
    assert won[row["by"]] is True


def test_concurrent_upserts_of_a_new_row_all_land_without_an_error(db):
    out = _together(12, lambda i: docstore.upsert(db.rows, {"_id": "r"}, {"$set": {f"f{i}": i}}))
    assert all(o is None for o in out), out
    assert db.rows.count_documents({"_id": "r"}) == 1


def test_a_keyed_command_has_exactly_one_effect_and_every_caller_gets_its_answer(db):
    idem = docstore.Idempotency(db.idempotency, sleep=lambda s: threading.Event().wait(s))
    effects = []

    def work():
        effects.append(1)
        threading.Event().wait(0.3)  # still running while the others arrive
        return {"id": "made-once"}

    out = _together(10, lambda i: idem.run("t1:u1:create:key-1", work))
    assert effects == [1]
    assert out == [{"id": "made-once"}] * 10
    assert idem.run("t1:u1:create:key-1", work) == {"id": "made-once"} and effects == [1]
    assert idem.run(None, lambda: "no key") == "no key"


def test_a_failed_first_call_releases_its_key(db):
    idem = docstore.Idempotency(db.idempotency)

    def fail():
        raise ValueError("refused")

    with pytest.raises(ValueError):
        idem.run("k", fail)
    assert db.idempotency.count_documents({"_id": "k"}) == 0
    assert idem.run("k", lambda: 7) == 7


def test_a_repeat_while_the_first_still_runs_waits_then_is_refused(db):
    idem = docstore.Idempotency(db.idempotency, wait=0.3)
    assert idem.begin("k") is None
    with pytest.raises(Conflict) as exc:
        idem.begin("k")
    assert exc.value.code == "idempotency.in_progress"


def test_a_claim_whose_caller_died_is_taken_over(db):
    now = datetime.now(UTC)
    idem = docstore.Idempotency(db.idempotency, now=lambda: now, stale=timedelta(minutes=5))
    db.idempotency.insert_one({"_id": "k", "status": "running", "at": now - timedelta(minutes=6)})
    assert idem.begin("k") is None
    assert db.idempotency.find_one({"_id": "k"})["at"] == now.replace(microsecond=now.microsecond // 1000 * 1000)


def test_aware_reads_naive_datetimes_as_utc_and_leaves_the_rest():
    naive = datetime(2026, 12, 1, 8, 30)
    assert docstore.aware(naive) == naive.replace(tzinfo=UTC)
    local = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert docstore.aware(local) is local
    assert docstore.aware(None) is None and docstore.aware("2026-12-01") == "2026-12-01"


def test_month_buckets_are_one_collection_per_month_with_their_indexes(db):
    coll = docstore.month_bucket(db, "calendar", "2026-12", [("tenant_id", "employee_id")])
    assert coll.name == "calendar_2026_12"
    coll.insert_one({"_id": 1})
    keys = [list(ix["key"]) for ix in coll.list_indexes()]
    assert ["tenant_id", "employee_id"] in keys
    for bad in ("2026-1", "2026/12", "20261200", "abcd-ef"):
        with pytest.raises(InvalidInput):
            docstore.month_bucket(db, "calendar", bad)


def test_page_arguments_are_bounded_and_a_page_has_its_total():
    assert docstore.page_args(None, None) == (1, 50)
    assert docstore.page_args("2", "10") == (2, 10)
    for page, size in ((0, 10), (1, 0), (1, 201), ("x", 1), (1, [])):
        with pytest.raises(InvalidInput):
            docstore.page_args(page, size)
    assert docstore.page_of(list(range(25)), 3, 10) == {"items": [20, 21, 22, 23, 24], "total": 25, "page": 3,
                                                        "page_size": 10}


def _busy() -> Exception:
    return TimeoutError("busy")


def test_a_lease_lock_serialises_read_modify_writes_of_one_row(db):
    """20 callers each read a counter and write it back plus one, inside the lock: none is lost
    (without it FerretDB and MongoDB alike lose some: each writes what it read)."""
    db.rows.insert_one({"_id": "r", "n": 0})

    def bump(_i):
        with docstore.lease_lock(db.locks, "row:r", lease=timedelta(seconds=30), wait=60, busy=_busy):
            n = db.rows.find_one({"_id": "r"})["n"]
            db.rows.replace_one({"_id": "r"}, {"_id": "r", "n": n + 1})
    res = _together(20, bump)
    assert [r for r in res if r is not None] == []
    assert db.rows.find_one({"_id": "r"})["n"] == 20
    assert db.locks.count_documents({}) == 0  # every holder let go


def test_a_lease_lock_takes_over_a_dead_holder_and_refuses_when_held(db):
    db.locks.insert_one({"_id": "row:x", "token": "dead", "at": datetime.now(UTC) - timedelta(minutes=5)})
    with docstore.lease_lock(db.locks, "row:x", lease=timedelta(seconds=30), wait=1, busy=_busy):
        assert db.locks.find_one({"_id": "row:x"})["token"] != "dead"
        # a live holder: the next one waits, then is refused
        with pytest.raises(TimeoutError), \
                docstore.lease_lock(db.locks, "row:x", lease=timedelta(seconds=30), wait=0.2, busy=_busy):
            pass
    assert db.locks.count_documents({}) == 0
