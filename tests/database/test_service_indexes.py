"""Every index a service declares serves an equality on its fields, on the built server: an
index scan (PostgreSQL: no Seq Scan, an index read; MongoDB: IXSCAN), and so do the list
queries of the screens that issue 17 names (customers by owner and by tag, the review queue,
the inbox). Each service's own ``ensure_indexes`` builds the indexes, so an index added
there is checked here without a change to this test."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from crmkit import docstore
from crmkit.blobs import ChunkBlobStore
from crmkit.inbox import Inbox
from crmkit.outbox import Outbox
from customers import store as customers_store
from identity import store as identity_store
from notify.store import Store as NotifyStore
from pool import store as pool_store
from tests.database import plans
from tests.database.conftest import explain, fill
from visits.store import Store as VisitsStore

ROWS = 2000  # enough that a whole-table read costs the planner more than an index read


def _now() -> datetime:
    return datetime.now(UTC)


def _visits(db: Database) -> None:
    store = VisitsStore(db)
    store.ensure_indexes()
    docstore._BUCKETS_READY.discard((db.name, "calendar_2026_01"))  # remembered per process
    store.cal_coll("2026-01")


def _kit(db: Database) -> None:
    Outbox(db, _now).ensure_indexes()
    Inbox(db, _now).ensure_indexes()
    ChunkBlobStore(db, "blobs").ensure_indexes()


DECLARED: dict[str, Callable[[Database], Any]] = {
    "identity": identity_store.ensure_indexes,
    "customers": lambda db: customers_store.Store(db).ensure_indexes(),
    "pool": pool_store.ensure_indexes,
    "visits": _visits,
    "notify": lambda db: NotifyStore(db).ensure_indexes(),
    "crmkit": _kit,
}

#: (service, collection, what, equality fields besides tenant_id, fields of one value everywhere):
#: the list screens of issue 17, in one big tenant (so that `tenant_id` alone selects everything)
HOT: list[tuple[str, str, str, list[str], dict[str, Any]]] = [
    ("customers", "customers", "customer list by owner", ["owner_id"], {"deleted": False}),
    ("customers", "customers", "customer list by tag", ["tags"], {"deleted": False}),
    ("customers", "customers", "customers shared with me", ["shared_with"], {"deleted": False}),
    ("customers", "customers", "customers of my departments", ["dept_ids"], {"deleted": False}),
    ("visits", "visits", "review queue", ["status"], {}),
    ("notify", "notifications", "inbox", ["recipient_id"], {}),
    ("notify", "notifications", "unread inbox", ["recipient_id", "read"], {}),
]


@pytest.fixture(autouse=True)
def _secondary_indexes(backend: str) -> None:
    if backend == plans.SQLITE:
        pytest.skip("FerretDB's SQLite backend serves only `_id` equality (decision 0001)")


@pytest.mark.parametrize("service", sorted(DECLARED))
def test_every_declared_index_serves_equality_on_its_fields(service: str, db: Database) -> None:
    DECLARED[service](db)
    failures: list[str] = []
    checked = 0
    for name in sorted(db.list_collection_names()):
        coll = db[name]
        keys = [[field for field, _ in info["key"]] for info in coll.index_information().values()]
        probe = fill(coll, ROWS, sorted({f for fs in keys for f in fs if f != "_id"}))[ROWS // 2]
        for fs in keys:
            flt = {f: probe[f] for f in fs}
            e = explain(coll, flt)
            checked += 1
            if not plans.served_by_index(e):
                failures.append(f"{name}: index on {fs}: {flt} -> {plans.describe(e)}")
    assert checked > 0
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("service", "collection", "what", "fields", "constants"), HOT, ids=[h[2] for h in HOT])
def test_hot_list_queries_are_served_by_an_index(service: str, collection: str, what: str, fields: list[str],
                                                 constants: dict[str, Any], db: Database) -> None:
    DECLARED[service](db)
    assert collection in db.list_collection_names(), f"{service} no longer declares indexes on {collection}"
    coll = db[collection]
    probe = fill(coll, ROWS, fields, {"tenant_id": "the-tenant", **constants})[ROWS // 2]
    flt = {"tenant_id": "the-tenant", **constants, **{f: probe[f] for f in fields}}
    e = explain(coll, flt)
    assert plans.served_by_index(e), f"{what}: {flt} -> {plans.describe(e)}"
