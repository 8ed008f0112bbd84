"""The reports' rollup (real database): kept in step with visit changes, no entry lost
to concurrent writers of one day (FerretDB updates are read-modify-write), the one-off
build keeps fresher entries, and the figures read from it equal a count of the visits."""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime

import pymongo
import pytest

from visits import report_rules as R
from visits import reports, rollup, store
from visits.store import Store


@pytest.fixture(scope="module")
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"rollup_{uuid.uuid4().hex[:8]}"
    Store(client[name]).ensure_indexes()
    yield client[name]
    client.drop_database(name)
    client.close()


def _visit(tenant: str, i: int, day: str, status: str = "pending_check_in") -> dict:
    at = datetime(2026, 3, 1, 2, tzinfo=UTC)
    return {"_id": f"{tenant}-{i}", "tenant_id": tenant, "employee_id": f"e{i % 3}", "customer_id": f"c{i % 4}",
            "customer_name": f"C{i}", "status": status, "day": day, "month": day[:7], "planned_at": at,
            "location": {"address": "a", "lat": 31.2, "lng": 121.4}}


def test_concurrent_touches_of_one_day_lose_nothing(db):
    tenant = "ru" + uuid.uuid4().hex[:8]
    day = "2026-03-05"
    docs = [_visit(tenant, i, day) for i in range(24)]
    db["visits"].insert_many(docs)
    rollup.build(Store(db), tenant)  # empty days until now: mark built
    db["report_days_2026_03"].delete_many({"tenant_id": tenant})
    threads = [threading.Thread(target=rollup.touch, args=(Store(db), d["_id"])) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = {x["id"] for _, x in rollup.day_entries(Store(db), tenant, [day])}
    assert got == {d["_id"] for d in docs}
    assert sum(c["n"] for _, c in rollup.day_counts(Store(db), tenant, [day])) == 24


def test_touch_follows_the_visit_and_build_keeps_fresher_entries(db):
    tenant = "ru" + uuid.uuid4().hex[:8]
    days = ["2026-03-01", "2026-03-02", "2026-04-01"]
    docs = [_visit(tenant, i, days[i % 3], ("completed", "expired", "cancelled", "valid")[i % 4])
            for i in range(12)]
    for d in docs[::2]:
        d["check_in"] = {"at": datetime(2026, 3, 1, 3, tzinfo=UTC), "deviation_m": 12.34,
                         "point": {"source": "gps"}}
    db["visits"].insert_many(docs)
    # a change before the first report: touched, then the build must not overwrite it
    Store(db).apply_step(docs[1]["_id"], {"status": "valid", "check_in": {"at": datetime(2026, 3, 2, tzinfo=UTC)}})
    assert rollup.build(Store(db), tenant) == 12
    assert rollup.build(Store(db), tenant) == 0  # once
    now = {d["_id"]: store.fix_dates(db["visits"].find_one({"_id": d["_id"]})) for d in docs}
    entries = {x["id"]: x for _, x in rollup.day_entries(Store(db), tenant, days)}
    assert entries == {vid: rollup.entry_of(v) for vid, v in now.items()}
    assert entries[docs[1]["_id"]]["s"] == "valid" and entries[docs[1]["_id"]]["r"]["check_in_at"]
    expected = Counter((v["day"], v["employee_id"], v["status"], 1 if v.get("check_in") else 0) for v in now.values())
    got: Counter = Counter()
    for d, c in rollup.day_counts(Store(db), tenant, days):
        got[(d, c["e"], c["s"], c["i"])] += c["n"]
    assert got == expected
    # the series read from the rollup count every actual visit once
    rows = reports.day_rows(Store(db), tenant, days)
    assert sum(r["n"] for r in rows if R.is_actual(r["status"], r["checked_in"])) == \
        sum(1 for v in now.values() if R.is_actual(v["status"], bool(v.get("check_in"))))
