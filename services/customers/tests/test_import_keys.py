"""Real database: the key reads of an import check (three strategies, one answer) and the
import's reservation that collects every held key and keeps none."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pymongo
import pytest

from customers import imports, store


@pytest.fixture
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri)
    name = f"t{uuid.uuid4().hex[:8]}_customers"
    yield client[name]
    client.drop_database(name)


def _keys(db, tenant: str, keys: dict[str, str]) -> None:
    now = datetime.now(UTC)
    db["name_keys"].insert_many([{"_id": f"{tenant}|{k}", "tenant_id": tenant, "key": k, "customer_id": c, "at": now}
                                 for k, c in keys.items()])


def test_lookups_scan_and_in_give_the_same_answer(db, monkeypatch):
    t, other = uuid.uuid4().hex, uuid.uuid4().hex
    held = {f"k{i}": uuid.uuid4().hex for i in range(30)}
    _keys(db, t, held)
    _keys(db, other, {"k100": "x", "k101": "y"})
    want = [f"k{i}" for i in range(0, 120, 3)]
    expected = {k: c for k, c in held.items() if k in want}
    answers = []
    for cost, ferret in ((0, True), (10**9, True), (1, False)):  # per-key, one scan, $in batches
        monkeypatch.setattr(imports, "LOOKUP_COST", cost)
        monkeypatch.setattr(imports, "_is_ferretdb", lambda _db, f=ferret: f)
        answers.append(imports._held_rows(store.Store(db).name_keys, t, want))
    assert answers == [expected] * 3
    assert imports._size(store.Store(db).name_keys) == 32


def test_reserve_many_collects_every_held_key_and_keeps_none(db):
    t, now = uuid.uuid4().hex, datetime.now(UTC)
    holder = uuid.uuid4().hex
    db["customers"].insert_one({"_id": holder, "tenant_id": t, "deleted": False})
    _keys(db, t, {"held1": holder, "held2": holder})
    db["phone_keys"].insert_one({"_id": f"{t}|051260000000", "tenant_id": t, "key": "051260000000",
                                 "customer_id": holder, "at": now})
    items = [("a", "held1", ["051211111111"]), ("b", "free", ["051260000000"]), ("c", "held2", [])]
    keys = store.Store(db)
    with pytest.raises(store.KeysHeld) as exc:
        keys.reserve_many(t, items, now, max_held=10)
    got = {(h["for_customer_id"], h["on"], h["value"], h["customer_id"]) for h in exc.value.details["held"]}
    assert got == {("a", "name_key", "held1", holder), ("c", "name_key", "held2", holder),
                   ("b", "phone", "051260000000", holder)}
    assert db["name_keys"].find_one({"_id": f"{t}|free"}) is None
    assert db["phone_keys"].find_one({"_id": f"{t}|051211111111"}) is None
    # without max_held the first held key is a Conflict, and nothing stays reserved either
    with pytest.raises(store.Conflict):
        keys.reserve_many(t, items, now)
    assert db["name_keys"].find_one({"_id": f"{t}|free"}) is None
    # a clean plan is reserved
    assert dict(keys.reserve_many(t, [("d", "new", ["051222222222"])], now)) == {
        "d": [("name_keys", "new"), ("phone_keys", "051222222222")]}


class _Kit:
    """What ``run_import`` uses of the worker kit: the clock, events in the caller's context and
    the kit's outbox (the real ``crmkit.outbox.Outbox`` on ``db``); the rows go through the Store."""

    def __init__(self, outbox) -> None:
        self.outbox = outbox

    def now(self) -> datetime:
        return datetime.now(UTC)

    def event(self, type: str, data: dict) -> dict:
        from crmkit.envelope import make_event
        return make_event(type, self.ctx.tenant_id, self.ctx.user_id, data, occurred_at=self.now(), version=1)


def _import(db, outbox, rows: int):
    from crmkit.context import CallContext
    from customers.rules import validate_customer
    from customers.sheets import Parsed

    kit = _Kit(outbox)
    kit.ctx = CallContext(tenant_id=uuid.uuid4().hex, user_id=uuid.uuid4().hex, roles=("employee",))
    tag = uuid.uuid4().hex[:6]
    parsed = Parsed(rows=[(i + 2, validate_customer({"name": f"苏州{tag}{i:04d}精密有限公司", "address": "苏州",
                                                     "landlines": [f"0512-{60000000 + i}"]}))
                          for i in range(rows)])
    return kit, imports.run_import(kit, store.Store(db), kit.ctx, parsed)


def test_import_events_go_through_the_kits_outbox_each_with_its_customers_check(db, monkeypatch):
    from crmkit.outbox import Outbox

    monkeypatch.setattr(imports, "BATCH", 7)  # several chunks
    seen: list[str] = []
    outbox = Outbox(db, lambda: datetime.now(UTC), validate=lambda e: seen.append(e["event_id"]))
    _, rep = _import(db, outbox, 20)
    rows = list(db["outbox"].find({}))
    assert len(rows) == rep["created"] == 20 and set(seen) == {r["_id"] for r in rows}
    assert {r["status"] for r in rows} == {"pending"}
    for r in rows:
        assert r["check"] == {"collection": "customers", "filter": {"_id": r["envelope"]["data"]["customer_id"]}}
        assert db["customers"].find_one({"_id": r["envelope"]["data"]["customer_id"]}) is not None


def test_an_event_the_outbox_refuses_writes_nothing_of_the_import(db, monkeypatch):
    from crmkit.errors import InvalidInput, TooLarge
    from crmkit.outbox import Outbox

    monkeypatch.setattr(imports, "BATCH", 5)
    calls = []

    def refuse_the_eighth(envelope) -> None:  # the contracts check at emit, refusing one event
        calls.append(envelope["event_id"])
        if len(set(calls)) == 8:
            raise InvalidInput("event.invalid", "refused")

    with pytest.raises(InvalidInput):
        _import(db, Outbox(db, lambda: datetime.now(UTC), validate=refuse_the_eighth), 12)
    # the first chunk was staged and written, then everything went: rows, keys, events
    assert db["outbox"].count_documents({}) == 0
    assert db["customers"].count_documents({}) == 0
    assert db["name_keys"].count_documents({}) == 0 and db["phone_keys"].count_documents({}) == 0
    with pytest.raises(TooLarge):  # the outbox's message-size limit covers the import too
        _import(db, Outbox(db, lambda: datetime.now(UTC), max_bytes=200), 3)
    assert db["outbox"].count_documents({}) == 0 and db["customers"].count_documents({}) == 0
