"""Blob storage behind one small interface (photos, exports).

``BlobStore.put(data, content_type, meta) -> blob_id`` (``put_file(path | file, ...)``
streams a file in chunks, one batch in memory at a time); ``get(blob_id) -> (bytes,
content_type)``; ``delete(blob_id)``; and for streaming readers ``info(blob_id) ->
{length, chunks, content_type}`` with ``read_chunk(blob_id, n)`` (chunk ``n``, at most the
blob's chunk size). Two implementations:

* :class:`GridFSBlobStore` — GridFS on real MongoDB;
* :class:`ChunkBlobStore` — a ``<prefix>`` + ``<prefix>_chunks`` collection pair with
  255 KiB chunks, for FerretDB 1.x (no GridFS). The chunks are written first and the
  ``blobs`` row last, marked ``complete``: a reader never sees a half-written blob, and
  orphan chunks of an interrupted put are removed by :meth:`ChunkBlobStore.sweep_orphans`.
  Chunks are read and deleted by their ``_id`` (``<blob>:<n>``), the only lookup FerretDB
  serves from an index (a ``blob_id`` filter would read every chunk of every blob).

**Staged blobs** (a file uploaded in parts, then kept): :meth:`stage_part` writes part
``n`` straight into the blob's chunk ``n`` (once: a part is never overwritten), bound to
an owner (``{"tenant_id", "user_id"}``); part 0 also writes a small ``<prefix>_staging``
row (the owner and the time). :meth:`staged_parts` reads the parts back one at a time (the
owner checked on every part); :meth:`commit` turns them into the blob by writing its row —
the bytes are written to the database once, as parts, never copied; :meth:`uncommit` undoes
that (the parts stay staged: the caller may try again); :meth:`finish_staged` drops the
staging row once the blob is kept for good (a used upload is gone for its uploader);
:meth:`purge_staged` removes uploads never committed. GridFS keeps every chunk but the last
at one size, so parts of other sizes are not adopted there (:meth:`commit` answers
``False`` and the caller stores a copy with :meth:`put_file`).

:func:`blob_store` picks one by asking the server once.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol

from bson.binary import Binary
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.db import is_ferretdb
from crmkit.errors import NotFound

CHUNK_SIZE = 255 * 1024
BATCH_CHUNKS = 16  # chunks per insert_many (4 MiB): what put_file holds in memory at a time


class AlreadyCommitted(Exception):
    """:meth:`commit` of staged parts that are a blob already (the upload was used)."""


class BlobStore(Protocol):
    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str: ...

    def put_file(self, src: str | IO[bytes], content_type: str, meta: dict[str, Any] | None = None) -> str: ...

    def stage_part(self, blob_id: str, n: int, data: bytes, owner: Mapping[str, str], at: datetime) -> bool: ...

    def staged_parts(self, blob_id: str, parts: int, owner: Mapping[str, str]) -> Iterator[bytes]: ...

    def commit(self, blob_id: str, sizes: Sequence[int], content_type: str, sha256: str,
               meta: dict[str, Any] | None = None) -> bool: ...

    def uncommit(self, blob_id: str) -> None: ...

    def finish_staged(self, blob_id: str) -> None: ...

    def discard_staged(self, blob_id: str, parts: int) -> None: ...

    def purge_staged(self, before: datetime, max_parts: int) -> int: ...

    def get(self, blob_id: str) -> tuple[bytes, str]: ...

    def delete(self, blob_id: str) -> None: ...

    def info(self, blob_id: str) -> dict[str, Any]: ...

    def read_chunk(self, blob_id: str, n: int) -> bytes: ...


def _blocks(src: str | IO[bytes], size: int) -> Iterator[bytes]:
    """The file's bytes in blocks of ``size`` (one in memory at a time)."""
    f = open(src, "rb") if isinstance(src, str) else src  # noqa: SIM115 - closed below when opened here
    try:
        while True:
            block = f.read(size)
            if not block:
                return
            yield block
    finally:
        if isinstance(src, str):
            f.close()


def _owned(row: Mapping[str, Any] | None, owner: Mapping[str, str]) -> bool:
    return row is not None and all(row.get(k) == v for k, v in owner.items())


def _stage_row(staging: Any, blob_id: str, owner: Mapping[str, str], at: datetime) -> bool:
    """Part 0's staging row (who uploads, since when); ``False``: someone else's."""
    try:
        staging.insert_one({"_id": blob_id, **owner, "at": at})
        return True
    except DuplicateKeyError:
        return _owned(staging.find_one({"_id": blob_id}), owner)


def _stage_chunk(chunks: Any, doc: dict[str, Any], owner: Mapping[str, str]) -> bool:
    """Insert a part's chunk once; a resend of the same bytes by the same owner is fine."""
    try:
        chunks.insert_one(doc)
        return True
    except DuplicateKeyError:
        row = chunks.find_one({"_id": doc["_id"]})
        return _owned(row, owner) and row is not None and bytes(row["data"]) == bytes(doc["data"])


def _read_staged(staging: Any, chunks: Any, blob_id: str, parts: int,
                 owner: Mapping[str, str]) -> Iterator[bytes]:
    if not _owned(staging.find_one({"_id": blob_id}), owner):
        raise NotFound("blob.not_staged", "no such upload", {"blob_id": blob_id, "part": 0})
    for n in range(parts):
        row = chunks.find_one({"_id": f"{blob_id}:{n}"})
        if not _owned(row, owner) or row is None or "at" not in row:  # a staged part carries its time
            raise NotFound("blob.not_staged", f"part {n} is missing", {"blob_id": blob_id, "part": n})
        data = bytes(row["data"])
        del row
        yield data


def _purge(staging: Any, files: Any, before: datetime, drop: Any) -> int:
    """Uploads staged before ``before`` and never committed: their parts and row."""
    n = 0
    for row in list(staging.find({"at": {"$lt": before}}, {"_id": 1})):
        if files.find_one({"_id": row["_id"]}, {"_id": 1}) is None:
            drop(row["_id"])
            n += 1
        staging.delete_one({"_id": row["_id"]})
    return n


class ChunkBlobStore:
    def __init__(self, db: Database[Any], prefix: str = "blobs"):
        self.files = db[prefix]
        self.chunks = db[f"{prefix}_chunks"]
        self.staging = db[f"{prefix}_staging"]

    def ensure_indexes(self) -> None:
        self.chunks.create_index([("blob_id", ASCENDING), ("n", ASCENDING)], unique=True)
        self.chunks.create_index([("blob_id", ASCENDING)])
        self.staging.create_index([("at", ASCENDING)])

    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str:
        view = memoryview(data)
        return self._write((bytes(view[off:off + CHUNK_SIZE]) for off in range(0, len(data), CHUNK_SIZE)),
                           content_type, meta)

    def put_file(self, src: str | IO[bytes], content_type: str, meta: dict[str, Any] | None = None) -> str:
        """Stream a file (a path or an open binary file) into a new blob, ``BATCH_CHUNKS``
        chunks in memory at a time."""
        return self._write(_blocks(src, CHUNK_SIZE), content_type, meta)

    def _write(self, blocks: Iterator[bytes], content_type: str, meta: dict[str, Any] | None) -> str:
        blob_id = uuid.uuid4().hex
        n = length = 0
        digest = hashlib.sha256()
        batch: list[dict[str, Any]] = []
        for block in blocks:
            digest.update(block)
            length += len(block)
            batch.append({"_id": f"{blob_id}:{n}", "blob_id": blob_id, "n": n, "data": Binary(block)})
            n += 1
            if len(batch) >= BATCH_CHUNKS:
                self.chunks.insert_many(batch, ordered=True)
                batch = []
        if batch:
            self.chunks.insert_many(batch, ordered=True)
        self._insert_row(blob_id, length, n, CHUNK_SIZE, content_type, digest.hexdigest(), meta)
        return blob_id

    def _insert_row(self, blob_id: str, length: int, chunks: int, chunk_size: int, content_type: str, sha256: str,
                    meta: dict[str, Any] | None) -> None:
        self.files.insert_one({
            "_id": blob_id, "length": length, "chunks": chunks, "chunk_size": chunk_size,
            "content_type": content_type, "sha256": sha256,
            "meta": dict(meta or {}), "created_at": datetime.now(UTC), "complete": True,
        })

    # -- staged blobs (see the module's doc) ---------------------------------------------
    def stage_part(self, blob_id: str, n: int, data: bytes, owner: Mapping[str, str], at: datetime) -> bool:
        """Part ``n`` of an upload, written once as the blob's chunk ``n``. ``False``: the
        upload is someone else's, or part ``n`` is already there with other bytes."""
        if n == 0 and not _stage_row(self.staging, blob_id, owner, at):
            return False
        return _stage_chunk(self.chunks, {"_id": f"{blob_id}:{n}", "blob_id": blob_id, "n": n, "data": Binary(data),
                                          **owner, "at": at}, owner)

    def staged_parts(self, blob_id: str, parts: int, owner: Mapping[str, str]) -> Iterator[bytes]:
        """The upload's parts ``0 .. parts-1`` in order, one in memory at a time;
        ``NotFound`` (``details.part``) for a part missing or not the owner's."""
        return _read_staged(self.staging, self.chunks, blob_id, parts, owner)

    def commit(self, blob_id: str, sizes: Sequence[int], content_type: str, sha256: str,
               meta: dict[str, Any] | None = None) -> bool:
        """The staged parts (of ``sizes``) become the blob: its row is written, nothing is
        copied. :class:`AlreadyCommitted` when they are a blob already."""
        if not sizes or not sum(sizes):
            return False
        try:
            self._insert_row(blob_id, sum(sizes), len(sizes), max(sizes), content_type, sha256, meta)
        except DuplicateKeyError:
            raise AlreadyCommitted(blob_id) from None
        return True

    def uncommit(self, blob_id: str) -> None:
        """Undo :meth:`commit`: the row goes, the parts stay staged."""
        self.files.delete_one({"_id": blob_id})

    def finish_staged(self, blob_id: str) -> None:
        self.staging.delete_one({"_id": blob_id})

    def discard_staged(self, blob_id: str, parts: int) -> None:
        """An upload's parts and staging row (never a committed blob's chunks)."""
        if self.files.find_one({"_id": blob_id}, {"_id": 1}) is None:
            for n in range(parts):
                self.chunks.delete_one({"_id": f"{blob_id}:{n}"})
        self.staging.delete_one({"_id": blob_id})

    def purge_staged(self, before: datetime, max_parts: int) -> int:
        """Uploads staged before ``before`` that never became a blob (a service timer); the
        staging collection holds only uploads in flight, so this reads a few rows."""
        def drop(blob_id: str) -> None:
            for n in range(max_parts):
                self.chunks.delete_one({"_id": f"{blob_id}:{n}"})
        return _purge(self.staging, self.files, before, drop)

    def _file(self, blob_id: str) -> dict[str, Any]:
        row: dict[str, Any] | None = self.files.find_one({"_id": str(blob_id)})
        if row is None or not row.get("complete"):
            raise NotFound("blob.not_found", "no such blob", {"blob_id": blob_id})
        return dict(row)

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
        """Remove chunks whose blob row never got written (an interrupted put); parts of
        uploads still staged are not orphans (:meth:`purge_staged` handles those)."""
        ids = set(self.chunks.distinct("blob_id"))
        known = {r["_id"] for r in self.files.find({}, {"_id": 1})}
        known |= {r["_id"] for r in self.staging.find({}, {"_id": 1})}
        orphans = list(ids - known)
        if orphans:
            self.chunks.delete_many({"blob_id": {"$in": orphans}})
        return len(orphans)


class GridFSBlobStore:
    def __init__(self, db: Database[Any], prefix: str = "blobs"):
        import gridfs

        self.fs = gridfs.GridFS(db, collection=prefix)
        self.files = db[f"{prefix}.files"]
        self.chunks = db[f"{prefix}.chunks"]
        self.staging = db[f"{prefix}.staging"]

    def ensure_indexes(self) -> None:  # GridFS creates its own on first use; staged parts need them first
        self.chunks.create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
        self.files.create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
        self.staging.create_index([("at", ASCENDING)])

    def put(self, data: bytes, content_type: str, meta: dict[str, Any] | None = None) -> str:
        blob_id = uuid.uuid4().hex
        self.fs.put(data, _id=blob_id, content_type=content_type, metadata=dict(meta or {}),
                    sha256=hashlib.sha256(data).hexdigest())
        return blob_id

    def put_file(self, src: str | IO[bytes], content_type: str, meta: dict[str, Any] | None = None) -> str:
        """Stream a file into GridFS (GridFS writes its chunks as it reads)."""
        blob_id = uuid.uuid4().hex
        digest = hashlib.sha256()
        with self.fs.new_file(_id=blob_id, content_type=content_type, metadata=dict(meta or {})) as out:
            for block in _blocks(src, CHUNK_SIZE * BATCH_CHUNKS):
                digest.update(block)
                out.write(block)
            out.sha256 = digest.hexdigest()
        return blob_id

    # -- staged blobs: parts are GridFS chunks (``files_id`` = the blob) until the files row exists
    def stage_part(self, blob_id: str, n: int, data: bytes, owner: Mapping[str, str], at: datetime) -> bool:
        if n == 0 and not _stage_row(self.staging, blob_id, owner, at):
            return False
        return _stage_chunk(self.chunks, {"_id": f"{blob_id}:{n}", "files_id": blob_id, "n": n,
                                          "data": Binary(data), **owner, "at": at}, owner)

    def staged_parts(self, blob_id: str, parts: int, owner: Mapping[str, str]) -> Iterator[bytes]:
        return _read_staged(self.staging, self.chunks, blob_id, parts, owner)

    def commit(self, blob_id: str, sizes: Sequence[int], content_type: str, sha256: str,
               meta: dict[str, Any] | None = None) -> bool:
        """GridFS reads every chunk but the last at ``chunkSize``: parts of other sizes are
        not adopted (``False``; store a copy)."""
        if not sizes or not sizes[0] or any(x != sizes[0] for x in sizes[:-1]) or sizes[-1] > sizes[0]:
            return False
        try:
            self.files.insert_one({"_id": blob_id, "length": sum(sizes), "chunkSize": sizes[0],
                                   "uploadDate": datetime.now(UTC), "contentType": content_type,
                                   "metadata": dict(meta or {}), "sha256": sha256})
        except DuplicateKeyError:
            raise AlreadyCommitted(blob_id) from None
        return True

    def uncommit(self, blob_id: str) -> None:
        self.files.delete_one({"_id": blob_id})

    def finish_staged(self, blob_id: str) -> None:
        self.staging.delete_one({"_id": blob_id})

    def discard_staged(self, blob_id: str, parts: int) -> None:
        if self.files.find_one({"_id": blob_id}, {"_id": 1}) is None:
            self.chunks.delete_many({"files_id": blob_id})
        self.staging.delete_one({"_id": blob_id})

    def purge_staged(self, before: datetime, max_parts: int) -> int:
        return _purge(self.staging, self.files, before, lambda b: self.chunks.delete_many({"files_id": b}))

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
