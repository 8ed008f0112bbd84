"""The built FerretDB on PostgreSQL: each patch of scripts/ferretdb/ does what decision 0001
says (each test fails on a build without its patch). Plans come from ``explain``, which
carries PostgreSQL's own plan."""
from __future__ import annotations

import pytest
from pymongo import ASCENDING
from pymongo.database import Database

from tests.database import plans
from tests.database.conftest import explain, fill


@pytest.fixture(autouse=True)
def _postgresql(backend: str) -> None:
    if backend != plans.POSTGRESQL:
        pytest.skip(f"the session's server is {backend}, these patches are PostgreSQL's")


def test_id_equality_is_an_index_scan_of_the_id_index(db: Database) -> None:
    """0002: `_id` equality is `_jsonb->'_id' = v`, which the unique `_id` btree serves."""
    coll = db["c"]
    docs = fill(coll, 3000, ["tenant_id"])
    for flt in ({"_id": "k1500"}, {"_id": {"$eq": "k1500"}}, {"_id": "k1500", "tenant_id": "tenant_id-1500"}):
        e = explain(coll, flt)
        assert e["filterPushdown"] is True
        assert plans.full_scans(e) == [], plans.describe(e)
        assert any("__id_" in name for name in plans.index_names(e)), plans.describe(e)
    assert list(coll.find({"_id": "k1500"})) == [docs[1500]]
    assert list(coll.find({"_id": "k1500", "tenant_id": "tenant_id-1"})) == []
    coll.update_one({"_id": "k7"}, {"$set": {"x": 1}})
    assert coll.find_one({"_id": "k7"})["x"] == 1
    assert coll.delete_one({"_id": "k7"}).deleted_count == 1


def test_equality_on_indexed_fields_is_served_by_the_gin_index(db: Database) -> None:
    """0003: pushed-down `@>` on an indexed field reads the GIN index made beside the btree one,
    for scalars and array elements alike, and the index goes with its index."""
    coll = db["c"]
    coll.create_index([("tenant_id", ASCENDING), ("tags", ASCENDING)], name="tenant_tags")
    docs = fill(coll, 3000, ["tenant_id", "tags"], arrays=["tags"])
    for flt in ({"tenant_id": "tenant_id-9"}, {"tenant_id": "tenant_id-9", "tags": "tags-9"}, {"tags": "tags-9"}):
        e = explain(coll, flt)
        assert plans.full_scans(e) == [], plans.describe(e)
        assert any(name.endswith("_gin") for name in plans.index_names(e)), plans.describe(e)
    # MongoDB's semantics are kept: an element of an array matches, other documents do not
    assert list(coll.find({"tenant_id": "tenant_id-9", "tags": "tags-9"})) == [docs[9]]
    assert coll.count_documents({"tags": "tags-all"}) == 3000
    assert coll.count_documents({"tags": ["tags-9", "tags-all"]}) == 1
    coll.drop_index("tenant_tags")
    e = explain(coll, {"tags": "tags-9"})
    assert plans.full_scans(e) and not plans.index_names(e), plans.describe(e)


def test_delete_many_past_65535_documents(db: Database) -> None:
    """0004: one delete of more ids than a PostgreSQL statement may carry parameters."""
    coll = db["c"]
    n = 70_000
    for i in range(0, n, 10_000):
        coll.insert_many([{"_id": f"d{j}", "g": "all"} for j in range(i, i + 10_000)], ordered=False)
    coll.insert_one({"_id": "keep", "g": "other"})
    assert coll.delete_many({"g": "all"}).deleted_count == n
    assert [d["_id"] for d in coll.find({})] == ["keep"]
