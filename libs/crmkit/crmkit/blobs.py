"""Blob storage behind one small interface (photos, exports).

``BlobStore.put(data, content_type, meta) -> blob_id``; ``get(blob_id) -> (bytes,
content_type)``; ``delete(blob_id)``; and for streaming readers ``info(blob_id) ->
{length, chunks, content_type}`` with ``read_chunk(blob_id, n)`` (≤ ``CHUNK_SIZE`` bytes).
Two implementations:

* :class:`GridFSBlobStore` — GridFS on real MongoDB;
* :class:`ChunkBlobStore` — a ``<prefix>`` + ``<prefix>_chunks`` collection pair with
  255 KiB chunks, for FerretDB 1.x (no GridFS). The chunks are written first and the
  ``blobs`` row last, marked ``complete``: a reader never sees a half-written blob, and
  orphan chunks of an interrupted put are removed by :meth:`ChunkBlobStore.sweep_orphans`.
  Chunks are read and deleted by their ``_id`` (``<blob>:<n>``), the only lookup FerretDB
  serves from an index (a ``blob_id`` filter would read every chunk of every blob).

:func:`blob_store` picks one by asking the server once.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.database import Database

from crmkit.db import is_ferretdb
from crmkit.errors import NotFound

CHUNK_SIZE = 255 * 1024


class BlobStore(Protocol):
    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str: ...

    def get(self, blob_id: str) -> tuple[bytes, str]: ...

    def delete(self, blob_id: str) -> None: ...

    def info(self, blob_id: str) -> dict[str, Any]: ...

    def read_chunk(self, blob_id: str, n: int) -> bytes: ...


class ChunkBlobStore:
    def __init__(self, db: Database[Any], prefix: str = "blobs"):
        self.files = db[prefix]
        self.chunks = db[f"{prefix}_chunks"]

    def ensure_indexes(self) -> None:
        self.chunks.create_index([("blob_id", ASCENDING), ("n", ASCENDING)], unique=True)
        self.chunks.create_index([("blob_id", ASCENDING)])

    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str:
        blob_id = uuid.uuid4().hex
        n = 0
        batch: list[dict[str, Any]] = []
        for off in range(0, len(data), CHUNK_SIZE):
            batch.append({"_id": f"{blob_id}:{n}", "blob_id": blob_id, "n": n, "data": data[off:off + CHUNK_SIZE]})
            n += 1
            if len(batch) >= 16:
                self.chunks.insert_many(batch, ordered=True)
                batch = []
        if batch:
            self.chunks.insert_many(batch, ordered=True)
        self.files.insert_one({
            "_id": blob_id, "length": len(data), "chunks": n, "chunk_size": CHUNK_SIZE,
            "content_type": content_type, "sha256": hashlib.sha256(data).hexdigest(),
            "meta": dict(meta or {}), "created_at": datetime.now(UTC), "complete": True,
        })
        return blob_id

    def _file(self, blob_id: str) -> dict[str, Any]:
        row: dict[str, Any] | None = self.files.find_one({"_id": str(blob_id)})
        if row is None or not row.get("complete"):
            raise NotFound("blob.not_found", "no such blob", {"blob_id": blob_id})
        return row

    def info(self, blob_id: str) -> dict[str, Any]:
        """``{length, chunks, content_type}``: what a reader needs to stream the blob."""
        row = self._file(blob_id)
        return {"length": int(row["length"]), "chunks": int(row["chunks"]), "content_type": str(row["content_type"])}

    def read_chunk(self, blob_id: str, n: int) -> bytes:
        """Chunk ``n`` of the blob (one ``_id`` lookup: the only filter FerretDB serves
        from an index)."""
        c = self.chunks.find_one({"_id": f"{blob_id}:{int(n)}"})
        if c is None:
            raise NotFound("blob.incomplete", "blob data is missing", {"blob_id": blob_id, "chunk": n})
        return bytes(c["data"])

    def get(self, blob_id: str) -> tuple[bytes, str]:
        row = self._file(blob_id)
        data = b"".join(self.read_chunk(blob_id, n) for n in range(int(row["chunks"])))
        if len(data) != int(row["length"]):
            raise NotFound("blob.incomplete", "blob data is incomplete", {"blob_id": blob_id})
        return data, str(row["content_type"])

    def delete(self, blob_id: str) -> None:
        row = self.files.find_one({"_id": str(blob_id)}) or {}
        self.files.delete_one({"_id": str(blob_id)})
        for n in range(int(row.get("chunks") or 0)):
            self.chunks.delete_one({"_id": f"{blob_id}:{n}"})

    def sweep_orphans(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Remove chunks whose blob row never got written (an interrupted put)."""
        ids = set(self.chunks.distinct("blob_id"))
        known = {r["_id"] for r in self.files.find({}, {"_id": 1})}
        orphans = list(ids - known)
        if orphans:
            self.chunks.delete_many({"blob_id": {"$in": orphans}})
        return len(orphans)


class GridFSBlobStore:
    def __init__(self, db: Database[Any], prefix: str = "blobs"):
        import gridfs

        self.fs = gridfs.GridFS(db, collection=prefix)

    def ensure_indexes(self) -> None:  # GridFS creates its own
        return None

    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str:
        blob_id = uuid.uuid4().hex
        self.fs.put(data, _id=blob_id, content_type=content_type, metadata=dict(meta or {}),
                    sha256=hashlib.sha256(data).hexdigest())
        return blob_id

    def get(self, blob_id: str) -> tuple[bytes, str]:
        import gridfs

        try:
            f = self.fs.get(str(blob_id))
        except gridfs.errors.NoFile:
            raise NotFound("blob.not_found", "no such blob", {"blob_id": blob_id}) from None
        return f.read(), str(getattr(f, "content_type", None) or "application/octet-stream")

    def info(self, blob_id: str) -> dict[str, Any]:
        f = self._open(blob_id)
        return {"length": int(f.length), "chunks": -(-int(f.length) // CHUNK_SIZE),
                "content_type": str(getattr(f, "content_type", None) or "application/octet-stream")}

    def read_chunk(self, blob_id: str, n: int) -> bytes:
        """Bytes ``n * CHUNK_SIZE`` … of the blob (GridFS seeks to its own chunks)."""
        f = self._open(blob_id)
        f.seek(int(n) * CHUNK_SIZE)
        return bytes(f.read(CHUNK_SIZE))

    def _open(self, blob_id: str) -> Any:
        import gridfs

        try:
            return self.fs.get(str(blob_id))
        except gridfs.errors.NoFile:
            raise NotFound("blob.not_found", "no such blob", {"blob_id": blob_id}) from None

    def delete(self, blob_id: str) -> None:
        self.fs.delete(str(blob_id))


def blob_store(db: Database[Any], prefix: str = "blobs") -> ChunkBlobStore | GridFSBlobStore:
    store: ChunkBlobStore | GridFSBlobStore
    store = ChunkBlobStore(db, prefix) if is_ferretdb(db) else GridFSBlobStore(db, prefix)
    store.ensure_indexes()
    return store
