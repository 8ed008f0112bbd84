"""Uploaded workbooks, received in parts and spooled to a temporary file.

The gateway never sends a whole workbook in one message: it streams the request body to
a spool file and sends it here in parts of at most ``PART_BYTES`` (``upload_part``); the
import RPCs then name the upload. Each part is one document keyed
``"<upload id>:<index>"`` (``_id`` lookups only), owned by the uploading tenant and user.
To parse, the parts are copied one at a time into a temporary file and deleted, and
openpyxl reads that file in ``read_only`` mode row by row — so neither the gateway nor
this service ever holds the whole workbook in memory, let alone twice. Parts left by an
abandoned upload are purged after ``STALE``.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bson.binary import Binary
from pymongo.database import Database

from crmkit.errors import InvalidInput, NotFound, TooLarge
from customers.sheets import MAX_UPLOAD_BYTES

PART_BYTES = 1024 * 1024
MAX_PARTS = MAX_UPLOAD_BYTES // PART_BYTES + 1
STALE = timedelta(hours=1)
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
COLL = "uploads"


def _part_id(upload_id: str, index: int) -> str:
    return f"{upload_id}:{index:04d}"


def _check_ids(upload_id: Any, index: Any) -> tuple[str, int]:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise InvalidInput("upload.invalid", "upload_id: 32 hexadecimal characters")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput("upload.invalid", "index / parts: a whole number, the first part is 0")
    if index >= MAX_PARTS:
        raise TooLarge("import.too_large", f"the file exceeds {MAX_UPLOAD_BYTES} bytes", {"limit": MAX_UPLOAD_BYTES})
    return upload_id, index


def store_part(db: Database, tenant_id: str, user_id: str, upload_id: Any, index: Any, data_b64: Any,
               now: datetime) -> dict[str, Any]:
    upload_id, index = _check_ids(upload_id, index)
    if not isinstance(data_b64, str) or len(data_b64) > (PART_BYTES * 4) // 3 + 8:
        raise InvalidInput("upload.invalid", f"data_b64: base64 of at most {PART_BYTES} bytes")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("import.bad_encoding", "file must be base64") from None
    db[COLL].replace_one({"_id": _part_id(upload_id, index)},
                         {"_id": _part_id(upload_id, index), "tenant_id": tenant_id, "user_id": user_id,
                          "size": len(data), "data": Binary(data), "at": now}, upsert=True)
    return {"upload_id": upload_id, "index": index, "size": len(data)}


@contextlib.contextmanager
def spooled(db: Database, tenant_id: str, user_id: str, upload_id: Any, parts: Any) -> Iterator[str]:
    """Copy the upload's parts (``0 .. parts-1``) into a temporary file, one part in memory
    at a time, delete them, and yield the file's path (removed afterwards)."""
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise InvalidInput("upload.invalid", "parts: the number of parts sent, at least 1")
    upload_id, last = _check_ids(upload_id, parts - 1)
    fd, path = tempfile.mkstemp(prefix="crm-upload-", suffix=".xlsx")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for i in range(last + 1):
                row = db[COLL].find_one({"_id": _part_id(upload_id, i)})
                if row is None or row.get("tenant_id") != tenant_id or row.get("user_id") != user_id:
                    raise NotFound("upload.not_found", f"part {i} of upload {upload_id} is missing; upload again",
                                   {"upload_id": upload_id, "part": i})
                size += len(row["data"])
                if size > MAX_UPLOAD_BYTES:
                    raise TooLarge("import.too_large", f"the file exceeds {MAX_UPLOAD_BYTES} bytes",
                                   {"limit": MAX_UPLOAD_BYTES})
                out.write(row["data"])
                del row
        discard(db, upload_id, last + 1)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def discard(db: Database, upload_id: str, parts: int) -> None:
    for i in range(parts):
        db[COLL].delete_one({"_id": _part_id(upload_id, i)})


def purge_stale(db: Database, now: datetime) -> int:
    """Parts of uploads nobody imported (hourly housekeeping; a small collection)."""
    return db[COLL].delete_many({"at": {"$lt": now - STALE}}).deleted_count
