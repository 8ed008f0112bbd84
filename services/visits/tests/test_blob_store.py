"""crmkit.blobs against the real database server (FerretDB here: chunk store; GridFS on MongoDB)."""
from __future__ import annotations

import hashlib
import io
import os
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
import pytest

from crmkit.blobs import CHUNK_SIZE, AlreadyCommitted, ChunkBlobStore, GridFSBlobStore, blob_store
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


# -- put_file and staged blobs (a file uploaded in parts becomes the blob: written once) ----

MIB = 1024 * 1024
OWNER = {"tenant_id": "t1", "user_id": "u1"}


def stores(db):
    """Both implementations against this server (GridFS answers on FerretDB 1.24 too)."""
    chunk = ChunkBlobStore(db, "sc")
    chunk.ensure_indexes()
    grid = GridFSBlobStore(db, "sg")
    grid.ensure_indexes()
    return [chunk, grid]


def chunk_rows(db, store, blob_id):
    if isinstance(store, ChunkBlobStore):
        return db["sc_chunks"].count_documents({"blob_id": blob_id})
    return db["sg.chunks"].count_documents({"files_id": blob_id})


@pytest.mark.parametrize("kind", ["chunks", "gridfs"])
@pytest.mark.parametrize("size", [0, CHUNK_SIZE, 5 * CHUNK_SIZE + 3])
def test_put_file_streams_a_path_or_a_file(db, kind, size, tmp_path):
    store = stores(db)[kind == "gridfs"]
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    a = store.put_file(str(path), "image/jpeg", {"k": 1})
    b = store.put_file(io.BytesIO(data), "image/png")
    assert store.get(a) == (data, "image/jpeg") and store.get(b) == (data, "image/png")
    assert chunk_rows(db, store, a) == -(-size // CHUNK_SIZE)


@pytest.mark.parametrize("kind", ["chunks", "gridfs"])
def test_staged_parts_become_the_blob_without_a_copy(db, kind):
    store = stores(db)[kind == "gridfs"]
    parts = [os.urandom(MIB), os.urandom(MIB), os.urandom(12345)]
    data = b"".join(parts)
    at = datetime.now(UTC)
    for n, p in enumerate(parts):
        assert store.stage_part("uAB", n, p, OWNER, at)
    assert store.stage_part("uAB", 1, parts[1], OWNER, at)  # the same bytes again: fine
    assert not store.stage_part("uAB", 1, b"other", OWNER, at)  # a part is never overwritten
    assert not store.stage_part("uAB", 0, parts[0], {"tenant_id": "t1", "user_id": "u2"}, at)  # not theirs
    assert b"".join(store.staged_parts("uAB", 3, OWNER)) == data
    with pytest.raises(NotFound) as e:
        list(store.staged_parts("uAB", 3, {"tenant_id": "t2", "user_id": "u1"}))
    assert e.value.details["part"] == 0
    with pytest.raises(NotFound) as e:
        list(store.staged_parts("uAB", 4, OWNER))
    assert e.value.details["part"] == 3
    digest = hashlib.sha256(data).hexdigest()
    assert store.commit("uAB", [len(p) for p in parts], "image/jpeg", digest, {"kind": "original"})
    assert store.get("uAB") == (data, "image/jpeg")
    assert chunk_rows(db, store, "uAB") == 3  # the parts are the chunks: nothing was copied
    with pytest.raises(AlreadyCommitted):
        store.commit("uAB", [len(p) for p in parts], "image/jpeg", digest)
    # undone (a failed check-in): the parts stay staged and can be committed again
    store.uncommit("uAB")
    with pytest.raises(NotFound):
        store.get("uAB")
    assert b"".join(store.staged_parts("uAB", 3, OWNER)) == data
    assert store.commit("uAB", [len(p) for p in parts], "image/jpeg", digest)
    store.finish_staged("uAB")
    with pytest.raises(NotFound):  # a used upload is gone for its uploader
        list(store.staged_parts("uAB", 3, OWNER))
    # the stale purge drops uploads never committed, never a blob's chunks
    old = datetime.now(UTC) - timedelta(hours=2)
    store.stage_part("uOLD", 0, b"abc", OWNER, old)
    store.stage_part("uNEW", 0, b"abc", OWNER, datetime.now(UTC))
    assert store.purge_staged(datetime.now(UTC) - timedelta(hours=1), max_parts=20) == 1
    with pytest.raises(NotFound):
        list(store.staged_parts("uOLD", 1, OWNER))
    assert chunk_rows(db, store, "uOLD") == 0
    assert b"".join(store.staged_parts("uNEW", 1, OWNER)) == b"abc"
    assert store.get("uAB")[0] == data
    store.delete("uAB")
    assert chunk_rows(db, store, "uAB") == 0


def test_gridfs_adopts_only_parts_of_one_size(db):
    grid = stores(db)[1]
    at = datetime.now(UTC)
    for n, p in enumerate([b"a" * 100, b"b" * 50, b"c" * 100]):
        grid.stage_part("uODD", n, p, OWNER, at)
    assert grid.commit("uODD", [100, 50, 100], "image/jpeg", "x") is False  # the caller stores a copy
    with pytest.raises(NotFound):
        grid.get("uODD")
    grid.discard_staged("uODD", 3)
    assert chunk_rows(db, grid, "uODD") == 0


def test_the_orphan_sweep_leaves_staged_uploads_alone(db):
    store = stores(db)[0]
    store.stage_part("uLIVE", 0, b"abc", OWNER, datetime.now(UTC))
    db["sc_chunks"].insert_one({"_id": "dead:0", "blob_id": "dead", "n": 0, "data": b"x"})
    assert store.sweep_orphans() == 1
    assert b"".join(store.staged_parts("uLIVE", 1, OWNER)) == b"abc"
