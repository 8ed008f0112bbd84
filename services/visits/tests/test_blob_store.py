"""crmkit.blobs against the real database server (FerretDB here: chunk store; GridFS on MongoDB)."""
from __future__ import annotations

import os
import uuid

import pymongo
import pytest

from crmkit.blobs import CHUNK_SIZE, ChunkBlobStore, blob_store
from crmkit.db import is_ferretdb
from crmkit.errors import NotFound


@pytest.fixture
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"blobtest_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * 1024 * 1024 + 17])
def test_round_trip(db, size):
    store = blob_store(db, "photos")
    data = os.urandom(size)
    blob_id = store.put(data, "image/jpeg", {"visit_id": "v1"})
    assert store.get(blob_id) == (data, "image/jpeg")
    store.delete(blob_id)
    with pytest.raises(NotFound):
        store.get(blob_id)


def test_picks_the_store_for_the_server(db):
    store = blob_store(db)
    assert isinstance(store, ChunkBlobStore) == is_ferretdb(db)


def test_chunk_store_hides_incomplete_blobs_and_sweeps_orphans(db):
    store = ChunkBlobStore(db, "b")
    store.ensure_indexes()
    data = os.urandom(CHUNK_SIZE * 2 + 5)
    blob_id = store.put(data, "image/png")
    assert db["b_chunks"].count_documents({"blob_id": blob_id}) == 3
    db["b_chunks"].delete_one({"_id": f"{blob_id}:1"})
    with pytest.raises(NotFound):
        store.get(blob_id)
    # chunks without a blob row (a put that died before its last write)
    db["b_chunks"].insert_one({"_id": "dead:0", "blob_id": "dead", "n": 0, "data": b"x"})
    assert store.sweep_orphans() == 1
    assert db["b_chunks"].count_documents({"blob_id": "dead"}) == 0
    with pytest.raises(NotFound):
        store.get("no-such-blob")


@pytest.mark.parametrize("size", [1, CHUNK_SIZE, 2 * CHUNK_SIZE + 17])
def test_a_blob_can_be_read_chunk_by_chunk_and_delete_leaves_nothing(db, size):
    store = blob_store(db, "zips")
    data = os.urandom(size)
    blob_id = store.put(data, "application/zip")
    info = store.info(blob_id)
    assert info == {"length": size, "chunks": -(-size // CHUNK_SIZE), "content_type": "application/zip"}
    parts = [store.read_chunk(blob_id, n) for n in range(info["chunks"])]
    assert all(len(p) <= CHUNK_SIZE for p in parts) and b"".join(parts) == data
    store.delete(blob_id)
    with pytest.raises(NotFound):
        store.info(blob_id)
    if isinstance(store, ChunkBlobStore):
        assert db["zips_chunks"].count_documents({}) == 0
