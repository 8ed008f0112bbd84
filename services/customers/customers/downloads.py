"""Exported files, stored in parts for the gateway to stream out.

The mirror of ``uploads``: an export is written to a temporary file (openpyxl
``write_only``, rows appended as they are made), then copied into parts of at most
``part_bytes()`` — one document per part keyed ``"<download id>:<index>"`` (``_id``
lookups only), bound to the exporting tenant and user — and the file is removed. The
export RPC answers ``{download_id, parts, size, filename, content_type}``; the gateway
then fetches part after part with ``download_part`` and streams each one to the client,
so no process ever holds the whole file.

A download is one-shot: each part is deleted as it is read, so after the last part
nothing is left. Parts of a download nobody finished (a client that went away) are
purged after ``STALE`` by the service's housekeeping timer.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bson.binary import Binary
from pymongo.database import Database

from crmkit.errors import InvalidInput, NotFound

PART_BYTES = 1024 * 1024
MIN_PART_BYTES = 1024
STALE = timedelta(hours=1)
COLL = "downloads"
_DOWNLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_part_bytes = PART_BYTES  # changed only by the ``_test_set_download_part_bytes`` hook


def part_bytes() -> int:
    return _part_bytes


def set_part_bytes(n: Any) -> int:
    """Test hook: a smaller part size, so that small exports travel in several parts
    (``None`` restores ``PART_BYTES``)."""
    global _part_bytes
    if n is None:
        n = PART_BYTES
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_PART_BYTES <= n <= PART_BYTES:
        raise InvalidInput("download.invalid", f"part_bytes: {MIN_PART_BYTES} .. {PART_BYTES}")
    _part_bytes = n
    return n


def _part_id(download_id: str, index: int) -> str:
    return f"{download_id}:{index:04d}"


@contextlib.contextmanager
def temp_path(suffix: str) -> Iterator[str]:
    """A temporary file's path for an export to be written to; removed afterwards."""
    fd, path = tempfile.mkstemp(prefix="crm-download-", suffix=suffix)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def store_file(db: Database, tenant_id: str, user_id: str, path: str, filename: str, content_type: str,
               now: datetime) -> dict[str, Any]:
    """Copy the file at ``path`` into parts (one in memory at a time); what the export
    RPCs answer."""
    download_id, size, index, step = uuid.uuid4().hex, 0, 0, part_bytes()
    with open(path, "rb") as f:
        while True:
            data = f.read(step)
            if not data and index:
                break
            db[COLL].insert_one({"_id": _part_id(download_id, index), "tenant_id": tenant_id, "user_id": user_id,
                                 "size": len(data), "data": Binary(data), "at": now})
            size += len(data)
            index += 1
            if len(data) < step:
                break
    return {"download_id": download_id, "parts": index, "size": size, "filename": filename,
            "content_type": content_type}


def take_part(db: Database, tenant_id: str, user_id: str, download_id: Any, index: Any) -> dict[str, Any]:
    """Part ``index`` of a download, base64, deleted as it is read (404 for anyone but
    the exporting user, and for a part already read)."""
    if not isinstance(download_id, str) or not _DOWNLOAD_ID.match(download_id):
        raise InvalidInput("download.invalid", "download_id: 32 hexadecimal characters")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 10_000:
        raise InvalidInput("download.invalid", "index: a whole number, the first part is 0")
    pid = _part_id(download_id, index)
    row = db[COLL].find_one({"_id": pid})
    if row is None or row.get("tenant_id") != tenant_id or row.get("user_id") != user_id:
        raise NotFound("download.not_found", f"part {index} of download {download_id} is gone; export again",
                       {"download_id": download_id, "part": index})
    db[COLL].delete_one({"_id": pid})
    return {"download_id": download_id, "index": index, "size": row["size"],
            "data_b64": base64.b64encode(row["data"]).decode()}


def purge_stale(db: Database, now: datetime) -> int:
    """Parts of downloads nobody finished (housekeeping; a small collection)."""
    return db[COLL].delete_many({"at": {"$lt": now - STALE}}).deleted_count
