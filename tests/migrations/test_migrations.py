"""The one-shot migrations in ``scripts/migrations`` on a real database (the session's FerretDB or
MongoDB): what they copy or mark, and that a second run changes nothing."""
from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pymongo
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.replace(".py", ""), ROOT / "scripts" / "migrations" / name)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def client(infra) -> Iterator[tuple[pymongo.MongoClient, str]]:
    c: pymongo.MongoClient = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    prefix = f"mig{uuid.uuid4().hex[:6]}_"
    yield c, prefix
    for name in c.list_database_names():
        if name.startswith(prefix):
            c.drop_database(name)
    c.close()


def test_0001_copies_the_ownership_log_into_the_pool_once(client):
    c, prefix = client
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 the next day in Beijing
    c[f"{prefix}customers"]["ownership_log"].insert_many([
        {"_id": "c1:1", "tenant_id": "t", "customer_id": "c1", "seq": 1, "to_owner_id": "a", "path": "entry", "at": at},
        {"_id": "c1:2", "tenant_id": "t", "customer_id": "c1", "seq": 2, "to_owner_id": None, "path": "release",
         "at": at + timedelta(days=1)}])
    c[f"{prefix}pool"]["moves"].insert_one({"_id": "c1:2", "tenant_id": "t", "path": "release", "newer": True})
    mod = _load("0001_ownership_log_to_pool.py")
    assert mod.migrate(c, prefix) == (2, 1)
    moves = {r["_id"]: r for r in c[f"{prefix}pool"]["moves"].find()}
    assert moves["c1:1"]["day"] == "2026-12-01" and moves["c1:1"]["to_owner_id"] == "a"
    assert moves["c1:2"].get("newer") is True  # the pool's own row wins
    assert mod.migrate(c, prefix) == (2, 0)


def test_0002_marks_rows_with_their_live_approvals_only(client):
    c, prefix = client
    now = datetime.now(UTC)
    pool = c[f"{prefix}pool"]
    pool["customers"].insert_many([{"_id": "live", "tenant_id": "t"}, {"_id": "lapsed", "tenant_id": "t"},
                                   {"_id": "other", "tenant_id": "t2"}, {"_id": "has", "tenant_id": "t",
                                                                         "approved_ids": ["u"]}])
    pool["approvals"].insert_many([
        {"_id": "t:u:live", "tenant_id": "t", "requester_id": "u", "customer_id": "live",
         "enter_by": now + timedelta(days=1)},
        {"_id": "t:u:lapsed", "tenant_id": "t", "requester_id": "u", "customer_id": "lapsed",
         "enter_by": now - timedelta(days=1)},
        {"_id": "t:u:other", "tenant_id": "t", "requester_id": "u", "customer_id": "other",
         "enter_by": now + timedelta(days=1)},
        {"_id": "t:u:has", "tenant_id": "t", "requester_id": "u", "customer_id": "has",
         "enter_by": now + timedelta(days=1)}])
    mod = _load("0002_mark_approved_rows.py")
    assert mod.migrate(c, prefix, now) == (3, 1)
    rows = {r["_id"]: r.get("approved_ids") for r in pool["customers"].find()}
    assert rows == {"live": ["u"], "lapsed": None, "other": None, "has": ["u"]}
    assert mod.migrate(c, prefix, now) == (3, 0)
