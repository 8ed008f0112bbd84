"""Check-in photos received in parts (``upload_part``), spooled to a temporary file for
``check_in`` — the shared ``crmkit.parts`` store in the collection ``photo_uploads``.

The gateway spools the multipart photo and sends it in parts of ≤ 1 MiB; ``check_in`` then
gets ``photo={"upload_id", "parts", "filename", ...}``. The parts are bound to the uploading
tenant and user (anyone else: 404 ``upload.not_found``), deleted once spooled, and purged
after ``crmkit.parts.STALE`` when never used (service timer).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pymongo.database import Database

from crmkit import parts

COLL = "photo_uploads"
PART_BYTES = parts.PART_BYTES
CODES = parts.Codes(too_large="photo.too_large", bad_encoding="photo.bad_encoding",
                    bad_encoding_message="photo data is not base64")


def store_part(db: Database[Any], tenant_id: str, user_id: str, upload_id: Any, index: Any, data_b64: Any,
               now: datetime, max_bytes: int) -> dict[str, Any]:
    return parts.store_part(db, COLL, tenant_id, user_id, upload_id, index, data_b64, now, max_bytes, CODES)


@contextlib.contextmanager
def spooled(db: Database[Any], tenant_id: str, user_id: str, upload_id: Any, parts_sent: Any,
            max_bytes: int) -> Iterator[str]:
    with parts.spooled(db, COLL, tenant_id, user_id, upload_id, parts_sent, max_bytes, CODES,
                       suffix=".photo") as path:
        yield path


def purge_stale(db: Database[Any], now: datetime) -> int:
    return parts.purge_stale(db, COLL, now)
