"""Files received in parts and spooled to a temporary file (no eventlet, no Nameko).

A gateway never sends a whole file in one message: it spools the request body and sends it
in parts of at most ``PART_BYTES`` (a service's ``upload_part`` RPC); the RPC that uses the
file then names the upload (``upload_id`` + number of ``parts``). Each part is one document
of the service's collection ``coll``, keyed ``"<upload id>:<index>"`` (``_id`` lookups only),
owned by the uploading tenant and user. ``spooled`` copies the parts one at a time into a
temporary file, deletes them and yields the file's path — nobody holds the whole file in
memory twice. Parts of abandoned uploads are removed by ``purge_stale`` (a service timer).

The other direction (an export handed out in parts): :func:`store_file` copies a file
into parts, :func:`take_part` hands one out (base64) and deletes it — a one-shot download.

Error codes: ``upload.invalid`` (400), ``upload.not_found`` (404, also for another tenant's
or user's upload) and the caller's codes for too large (413) and bad base64 (400).

The size limit of an upload is one number: ``max_bytes``; a file of ``max_bytes`` bytes
takes :func:`max_parts` parts and a part that would end beyond it is refused
(:func:`check_part`). The check-in photo's limit is one setting, :func:`photo_max_bytes`
(``VISITS_PHOTO_MAX_BYTES``), read by the gateway's photo route and by the visits service.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson.binary import Binary
from pymongo.database import Database

from crmkit.errors import InvalidInput, NotFound, TooLarge

PART_BYTES = 1024 * 1024
STALE = timedelta(hours=1)
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")

#: the one setting of a check-in photo's size limit (bytes): the gateway refuses a larger
#: photo (413 ``photo.too_large``) before anything is sent on, ``upload_part`` refuses a part
#: ending beyond it, and the visits service keeps every tenant's ``max_photo_bytes`` at or below it
PHOTO_MAX_BYTES_ENV = "VISITS_PHOTO_MAX_BYTES"
PHOTO_MAX_BYTES_DEFAULT = 20 * 1024 * 1024


def photo_max_bytes(env: Mapping[str, str] | None = None) -> int:
    """``VISITS_PHOTO_MAX_BYTES`` (default 20 MiB); a malformed or non-positive value is a
    ``ValueError`` (the process refuses to start)."""
    raw = (os.environ if env is None else env).get(PHOTO_MAX_BYTES_ENV)
    if raw is None or str(raw).strip() == "":
        return PHOTO_MAX_BYTES_DEFAULT
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{PHOTO_MAX_BYTES_ENV} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{PHOTO_MAX_BYTES_ENV} must be at least 1")
    return value


@dataclass(frozen=True)
class Codes:
    """The error codes a service shows for its kind of file."""
    too_large: str = "upload.too_large"
    bad_encoding: str = "upload.bad_encoding"
    bad_encoding_message: str = "the data must be base64"


DEFAULT_CODES = Codes()


def max_parts(max_bytes: int) -> int:
    """Parts of ``PART_BYTES`` a file of ``max_bytes`` takes (no part more)."""
    return max(1, -(-max_bytes // PART_BYTES))


def check_part(index: int, size: int, max_bytes: int, codes: Codes = DEFAULT_CODES) -> None:
    """Part ``index`` (every part before it ``PART_BYTES``) must end within ``max_bytes``."""
    if index * PART_BYTES + size > max_bytes:
        raise _too_large(max_bytes, codes)


def too_large(max_bytes: int, codes: Codes = DEFAULT_CODES) -> TooLarge:
    """The refusal (413) of a file above ``max_bytes``."""
    return TooLarge(codes.too_large, f"the file exceeds {max_bytes} bytes", {"limit": max_bytes,
                                                                             "max_bytes": max_bytes})


_too_large = too_large


def part_id(upload_id: str, index: int) -> str:
    return f"{upload_id}:{index:04d}"


def check_ids(upload_id: Any, index: Any, max_bytes: int, codes: Codes = DEFAULT_CODES) -> tuple[str, int]:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise InvalidInput("upload.invalid", "upload_id: 32 hexadecimal characters")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput("upload.invalid", "index / parts: a whole number, the first part is 0")
    if index >= max_parts(max_bytes):
        raise _too_large(max_bytes, codes)
    return upload_id, index


def decode_part(data_b64: Any, codes: Codes = DEFAULT_CODES) -> bytes:
    """One part's bytes from its base64 (at most ``PART_BYTES``)."""
    if not isinstance(data_b64, str) or len(data_b64) > (PART_BYTES * 4) // 3 + 8:
        raise InvalidInput("upload.invalid", f"data_b64: base64 of at most {PART_BYTES} bytes")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(codes.bad_encoding, codes.bad_encoding_message) from None
    if len(data) > PART_BYTES:
        raise InvalidInput("upload.invalid", f"data_b64: base64 of at most {PART_BYTES} bytes")
    return data


def store_part(db: Database[Any], coll: str, tenant_id: str, user_id: str, upload_id: Any, index: Any,
               data_b64: Any, now: datetime, max_bytes: int, codes: Codes = DEFAULT_CODES) -> dict[str, Any]:
    """Keep one part (≤ ``PART_BYTES``) of an upload; sending a part again replaces it."""
    upload_id, index = check_ids(upload_id, index, max_bytes, codes)
    data = decode_part(data_b64, codes)
    pid = part_id(upload_id, index)
    db[coll].replace_one({"_id": pid}, {"_id": pid, "tenant_id": tenant_id, "user_id": user_id, "size": len(data),
                                        "data": Binary(data), "at": now}, upsert=True)
    return {"upload_id": upload_id, "index": index, "size": len(data)}


@contextlib.contextmanager
def spooled(db: Database[Any], coll: str, tenant_id: str, user_id: str, upload_id: Any, parts: Any,
            max_bytes: int, codes: Codes = DEFAULT_CODES, suffix: str = "") -> Iterator[str]:
    """Copy the upload's parts (``0 .. parts-1``) into a temporary file, one part in memory
    at a time, delete them, and yield the file's path (removed afterwards). A part that is
    missing or belongs to another tenant or user is ``upload.not_found``."""
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise InvalidInput("upload.invalid", "parts: the number of parts sent, at least 1")
    upload_id, last = check_ids(upload_id, parts - 1, max_bytes, codes)
    fd, path = tempfile.mkstemp(prefix="crm-upload-", suffix=suffix)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for i in range(last + 1):
                row = db[coll].find_one({"_id": part_id(upload_id, i)})
                if row is None or row.get("tenant_id") != tenant_id or row.get("user_id") != user_id:
                    raise NotFound("upload.not_found", f"part {i} of upload {upload_id} is missing; upload again",
                                   {"upload_id": upload_id, "part": i})
                size += len(row["data"])
                if size > max_bytes:
                    raise _too_large(max_bytes, codes)
                out.write(row["data"])
                del row
        discard(db, coll, upload_id, last + 1)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def discard(db: Database[Any], coll: str, upload_id: str, parts: int) -> None:
    for i in range(parts):
        db[coll].delete_one({"_id": part_id(upload_id, i)})


def purge_stale(db: Database[Any], coll: str, now: datetime, stale: timedelta = STALE) -> int:
    """Parts of uploads nobody used (periodic housekeeping; a small collection)."""
    return db[coll].delete_many({"at": {"$lt": now - stale}}).deleted_count


# -- the other direction: a file handed out in parts -----------------------------------------

@contextlib.contextmanager
def temp_path(suffix: str = "", prefix: str = "crm-download-") -> Iterator[str]:
    """A temporary file's path to write an export to; removed afterwards."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def store_file(db: Database[Any], coll: str, tenant_id: str, user_id: str, path: str, now: datetime,
               part_bytes: int = PART_BYTES) -> dict[str, Any]:
    """Copy the file at ``path`` into parts of ``part_bytes`` (one in memory at a time),
    bound to the tenant and user: ``{download_id, parts, size}``."""
    download_id, size, index = uuid.uuid4().hex, 0, 0
    with open(path, "rb") as f:
        while True:
            data = f.read(part_bytes)
            if not data and index:
                break
            db[coll].insert_one({"_id": part_id(download_id, index), "tenant_id": tenant_id, "user_id": user_id,
                                 "size": len(data), "data": Binary(data), "at": now})
            size += len(data)
            index += 1
            if len(data) < part_bytes:
                break
    return {"download_id": download_id, "parts": index, "size": size}


def take_part(db: Database[Any], coll: str, tenant_id: str, user_id: str, download_id: Any, index: Any,
              invalid_code: str = "download.invalid", not_found_code: str = "download.not_found") -> dict[str, Any]:
    """Part ``index`` of a stored file, base64, deleted as it is read (not found for anyone
    but its user, and for a part already read)."""
    if not isinstance(download_id, str) or not _UPLOAD_ID.match(download_id):
        raise InvalidInput(invalid_code, "download_id: 32 hexadecimal characters")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 10_000:
        raise InvalidInput(invalid_code, "index: a whole number, the first part is 0")
    pid = part_id(download_id, index)
    row = db[coll].find_one({"_id": pid})
    if row is None or row.get("tenant_id") != tenant_id or row.get("user_id") != user_id:
        raise NotFound(not_found_code, f"part {index} of download {download_id} is gone; export again",
                       {"download_id": download_id, "part": index})
    db[coll].delete_one({"_id": pid})
    return {"download_id": download_id, "index": index, "size": row["size"],
            "data_b64": base64.b64encode(row["data"]).decode()}
