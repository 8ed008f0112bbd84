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

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import eventlet.tpool

from crmkit import parts
from crmkit.context import CallContext
from crmkit.errors import Forbidden
from customers import inputs
from customers.sheets import MAX_UPLOAD_BYTES
from customers.store import Store

T = TypeVar("T")

PART_BYTES = parts.PART_BYTES
MAX_PARTS = parts.max_parts(MAX_UPLOAD_BYTES)
STALE = parts.STALE
COLL = "uploads"
CODES = parts.Codes(too_large="import.too_large", bad_encoding="import.bad_encoding",
                    bad_encoding_message="file must be base64")


def store_part(store: Store, tenant_id: str, user_id: str, upload_id: Any, index: Any, data_b64: Any,
               now: datetime) -> dict[str, Any]:
    return parts.store_part(store.db, COLL, tenant_id, user_id, upload_id, index, data_b64, now, MAX_UPLOAD_BYTES,
                            CODES)


@contextlib.contextmanager
def spooled(store: Store, tenant_id: str, user_id: str, upload_id: Any, parts_sent: Any) -> Iterator[str]:
    """Copy the upload's parts (``0 .. parts-1``) into a temporary file, one part in memory
    at a time, delete them, and yield the file's path (removed afterwards)."""
    with parts.spooled(store.db, COLL, tenant_id, user_id, upload_id, parts_sent, MAX_UPLOAD_BYTES, CODES,
                       suffix=".xlsx") as path:
        yield path


def discard(store: Store, upload_id: str, parts_sent: int) -> None:
    parts.discard(store.db, COLL, upload_id, parts_sent)


def discard_own(store: Store, tenant_id: str, user_id: str, upload_id: Any, parts_sent: Any) -> None:
    """Drop the parts of an upload that will not be read (the caller may not import): only
    the caller's own parts, by ``_id``; bad ids are ignored (the hourly purge remains)."""
    if not isinstance(upload_id, str) or isinstance(parts_sent, bool) or not isinstance(parts_sent, int):
        return
    for i in range(min(max(parts_sent, 0), MAX_PARTS)):
        pid = parts.part_id(upload_id, i)
        row = store.uploads.find_one({"_id": pid}, {"tenant_id": 1, "user_id": 1})
        if row is not None and row.get("tenant_id") == tenant_id and row.get("user_id") == user_id:
            store.uploads.delete_one({"_id": pid})


def purge_stale(store: Store, now: datetime) -> int:
    """Parts of uploads nobody imported (hourly housekeeping; a small collection)."""
    return parts.purge_stale(store.db, COLL, now)


def parsed(store: Store, ctx: CallContext, parse: Callable[[bytes | str], T], file_b64: Any,
           upload_id: Any, parts_sent: Any, allowed: Callable[[CallContext], None]) -> T:
    """The uploaded workbook parsed off the eventlet hub: read from a spool file assembled
    from the parts sent with ``upload_part`` (what the gateway does), or from small base64
    content in the call itself. ``allowed(ctx)`` (the role rule) runs first; a caller it
    refuses leaves no parts behind."""
    caller = ctx
    try:
        allowed(caller)
    except Forbidden:
        discard_own(store, caller.tenant_id, caller.user_id, upload_id, parts_sent)
        raise
    if upload_id is None:
        out: T = eventlet.tpool.execute(parse, inputs.decode_file(file_b64))
        return out
    with spooled(store, caller.tenant_id, caller.user_id, upload_id, parts_sent) as path:
        out = eventlet.tpool.execute(parse, path)
        return out


def purge_abandoned(store: Store, now: datetime) -> int:
    """Parts of uploads never imported and of downloads never finished (abandoned), after
    ``STALE`` (the service's housekeeping timer)."""
    from customers import downloads
    return purge_stale(store, now) + downloads.purge_stale(store, now)
