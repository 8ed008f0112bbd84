"""The built FerretDB on SQLite (kept for the benchmark's comparison and FERRETDB_BACKEND=sqlite):
patch 0001 makes an `_id` lookup search the `_id` index instead of scanning the table."""
from __future__ import annotations

import uuid

import pymongo

from tests.database import plans
from tests.database.conftest import explain, fill


def test_id_equality_searches_the_id_index(sqlite_ferretdb: pymongo.MongoClient) -> None:
    db = sqlite_ferretdb[f"dbt_{uuid.uuid4().hex[:10]}"]
    try:
        coll = db["c"]
        docs = fill(coll, 500, ["tenant_id"])
        e = explain(coll, {"_id": "k250"})
        assert plans.backend(e) == plans.SQLITE
        assert e["filterPushdown"] is True
        assert plans.full_scans(e) == [], plans.describe(e)
        assert any("__id_" in name for name in plans.index_names(e)), plans.describe(e)
        assert list(coll.find({"_id": "k250"})) == [docs[250]]
    finally:
        sqlite_ferretdb.drop_database(db.name)
