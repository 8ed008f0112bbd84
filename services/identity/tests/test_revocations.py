"""``identity.revocations`` (sessions.py) on the real database: only the employees whose last
access change is still to be remembered, page by page, for a system context only; and every
access change bumps ``av`` and sets ``access_until`` in the employee's own update."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
import pytest

from crmkit.access import EVENT_TYPE, AccessChange
from crmkit.context import CallContext
from crmkit.envelope import make_event
from crmkit.errors import Forbidden
from identity import sessions, store

SYSTEM = CallContext(tenant_id="", user_id="system", roles=("system",))


class Kit:
    """What the functions use of the worker kit: the clock and events (no database: the store)."""

    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now

    def event(self, type: str, data: dict[str, Any], *, tenant_id: str | None = None) -> dict[str, Any]:
        return make_event(type, tenant_id or "", "system", data, occurred_at=self._now)


@pytest.fixture
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"rev{uuid.uuid4().hex[:8]}_identity"
    database = client[name]
    store.ensure_indexes(database)
    yield database
    client.drop_database(name)
    client.close()


def _employee(db, i: int, until: datetime | None, av: int = 3) -> str:
    doc = {"_id": f"e{i:03d}", "tenant_id": "t1", "name": f"n{i}", "mobile": f"1390000{i:04d}",
           "mobile_key": f"t1:{i}", "roles": ["employee"], "dept_ids": ["d1"], "status": "joined",
           "disabled": i % 2 == 1, "tv": 2, "av": av}
    if until is not None:
        doc["access_until"] = until
    db.employees.insert_one(doc)
    return doc["_id"]


def test_only_entries_still_to_remember_are_answered_in_pages(db):
    now = datetime.now(UTC)
    live = [_employee(db, i, now + timedelta(minutes=10)) for i in range(7)]
    _employee(db, 50, now - timedelta(minutes=5))  # its tokens have all expired
    _employee(db, 51, None)  # never changed since access versions exist
    kit = Kit(now)
    seen, after, pages = [], None, 0
    while True:
        page = sessions.revocations(kit, store.Store(db), SYSTEM, after, 3)
        seen += [AccessChange.from_data(x) for x in page["entries"]]
        pages += 1
        after = page["next"]
        if not after:
            break
    assert [c.employee_id for c in seen] == live and pages == 3
    assert all(c.tv == 2 and c.av == 3 and c.reason == "snapshot" for c in seen)
    assert [c.active for c in seen[:2]] == [True, False]  # disabled: may hold no token
    with pytest.raises(Forbidden):
        sessions.revocations(kit, store.Store(db), CallContext(tenant_id="t1", user_id="e001", roles=("tenant_admin",)))


def test_an_access_change_writes_av_and_access_until_with_the_change(db):
    now = datetime.now(UTC)
    eid = _employee(db, 1, None, av=4)
    doc = db.employees.find_one({"_id": eid})
    kit = Kit(now)
    event, fields = sessions.prepare(kit, doc, {"disabled": True}, reason="disabled", bump_tv=True)
    store.Store(db).set_employee(eid, fields, bump_tv=True, bump_av=True)
    after = db.employees.find_one({"_id": eid})
    change = AccessChange.from_data(event["data"])
    assert event["type"] == EVENT_TYPE and change.reason == "disabled" and not change.active
    assert (after["tv"], after["av"]) == (change.tv, change.av) == (3, 5)
    assert abs((after["access_until"] - (now + timedelta(minutes=15))).total_seconds()) < 1
    assert [c["employee_id"] for c in sessions.revocations(kit, store.Store(db), SYSTEM)["entries"]] == [eid]
