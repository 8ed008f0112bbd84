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

from datetime import datetime
from typing import Any

from crmkit import parts
from crmkit.errors import InvalidInput
from customers.store import Store

PART_BYTES = parts.PART_BYTES
MIN_PART_BYTES = 1024
STALE = parts.STALE
COLL = "downloads"
temp_path = parts.temp_path
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


def store_file(store: Store, tenant_id: str, user_id: str, path: str, filename: str, content_type: str,
               now: datetime) -> dict[str, Any]:
    """Copy the file at ``path`` into parts (one in memory at a time); what the export
    RPCs answer."""
    stored = parts.store_file(store.db, COLL, tenant_id, user_id, path, now, part_bytes())
    return {**stored, "filename": filename, "content_type": content_type}


def take_part(store: Store, tenant_id: str, user_id: str, download_id: Any, index: Any) -> dict[str, Any]:
    """Part ``index`` of a download, base64, deleted as it is read (404 for anyone but
    the exporting user, and for a part already read)."""
    return parts.take_part(store.db, COLL, tenant_id, user_id, download_id, index)


def purge_stale(store: Store, now: datetime) -> int:
    """Parts of downloads nobody finished (housekeeping; a small collection)."""
    return parts.purge_stale(store.db, COLL, now)
