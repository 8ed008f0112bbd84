"""Check-in photos received in parts (``upload_part``), written once: as the chunks of the
original's blob (``crmkit.blobs`` staged blobs, blob ``u<upload_id>``).

The gateway spools the multipart photo and sends it in parts of ≤ 1 MiB; ``check_in`` then
gets ``photo={"upload_id", "parts", "filename", ...}``. Each part goes straight into the
blob store, bound to the uploading tenant and user (anyone else: 404 ``upload.not_found``)
and never overwritten. ``check_in`` reads the parts back into a temporary file for Pillow
(:func:`spooled`: one part in memory at a time, the SHA-256 taken on the way); when the
check-in succeeds the parts *become* the stored original (:func:`keep` writes its blob row,
nothing is copied) and the upload is gone (:func:`done`). A check-in that fails — a refused
photo or rule, a database error — leaves the parts as they are, so it can be retried with
the same upload (:func:`release` undoes :func:`keep`). Uploads never used are purged after
``crmkit.parts.STALE`` (service timer).

One size limit: a part ending beyond the operator's ``VISITS_PHOTO_MAX_BYTES`` (the
number the gateway refuses above) is 413 ``photo.too_large``; the spool stops at the
tenant's ``max_photo_bytes`` (at most that number).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmkit import parts
from crmkit.blobs import AlreadyCommitted, BlobStore
from crmkit.context import CallContext
from crmkit.errors import InvalidInput, NotFound
from visits.store import PHOTO_BOUNDS, Store

PART_BYTES = parts.PART_BYTES
CODES = parts.Codes(too_large="photo.too_large", bad_encoding="photo.bad_encoding",
                    bad_encoding_message="photo data is not base64")


def blob_id(upload_id: str) -> str:
    """The blob the upload's parts are staged as (never a ``put`` blob's id: those are 32 hex)."""
    return f"u{upload_id}"


def _owner(tenant_id: str, user_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "user_id": user_id}


def store_part(blobs: BlobStore, tenant_id: str, user_id: str, upload_id: Any, index: Any, data_b64: Any,
               now: datetime, max_bytes: int) -> dict[str, Any]:
    """Part ``index`` of an upload, written once (sending the same bytes again is fine)."""
    upload_id, index = parts.check_ids(upload_id, index, max_bytes, CODES)
    data = parts.decode_part(data_b64, CODES)
    parts.check_part(index, len(data), max_bytes, CODES)
    if not blobs.stage_part(blob_id(upload_id), index, data, _owner(tenant_id, user_id), now):
        raise InvalidInput("upload.invalid", f"part {index} of this upload cannot be written (sent already with "
                           "other bytes, or not your upload); start a new upload",
                           {"upload_id": upload_id, "part": index})
    return {"upload_id": upload_id, "index": index, "size": len(data)}


@dataclass
class Spool:
    """An upload read back into a temporary file (``path``), with what ``keep`` needs."""
    upload_id: str
    blob_id: str
    path: str
    sizes: list[int] = field(default_factory=list)
    sha256: str = ""

    @property
    def size(self) -> int:
        return sum(self.sizes)


def _missing(upload_id: str, part: int) -> NotFound:
    return NotFound("upload.not_found", f"part {part} of upload {upload_id} is missing; upload again",
                    {"upload_id": upload_id, "part": part})


@contextlib.contextmanager
def spooled(blobs: BlobStore, tenant_id: str, user_id: str, upload_id: Any, parts_sent: Any,
            max_bytes: int) -> Iterator[Spool]:
    """The upload's parts ``0 .. parts-1`` copied into a temporary file (removed afterwards),
    one part in memory at a time; the parts stay where they are. A part missing, or
    another tenant's or user's, is ``upload.not_found``; more than ``max_bytes`` is
    ``photo.too_large``."""
    if isinstance(parts_sent, bool) or not isinstance(parts_sent, int) or parts_sent < 1:
        raise InvalidInput("upload.invalid", "parts: the number of parts sent, at least 1")
    upload_id, last = parts.check_ids(upload_id, parts_sent - 1, max_bytes, CODES)
    fd, path = tempfile.mkstemp(prefix="crm-upload-", suffix=".photo")
    spool = Spool(upload_id, blob_id(upload_id), path)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            reader = blobs.staged_parts(spool.blob_id, last + 1, _owner(tenant_id, user_id))
            for n in range(last + 1):
                try:
                    data = next(reader)
                except NotFound as e:
                    raise _missing(upload_id, int((e.details or {}).get("part", n))) from None
                spool.sizes.append(len(data))
                if spool.size > max_bytes:
                    raise parts.too_large(max_bytes, CODES)
                digest.update(data)
                out.write(data)
                del data
        spool.sha256 = digest.hexdigest()
        yield spool
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def keep(blobs: BlobStore, spool: Spool, content_type: str, meta: dict[str, Any]) -> tuple[str, bool]:
    """The original's blob: the staged parts themselves (``True``: adopted, nothing copied)
    or, where the store cannot adopt them (GridFS and parts of uneven sizes), a copy
    streamed from the spool file (``False``). A used upload is ``upload.not_found``."""
    try:
        if blobs.commit(spool.blob_id, spool.sizes, content_type, spool.sha256, meta):
            return spool.blob_id, True
    except AlreadyCommitted:
        raise NotFound("upload.not_found", f"upload {spool.upload_id} was used already; upload again",
                       {"upload_id": spool.upload_id}) from None
    return blobs.put_file(spool.path, content_type, meta), False


def release(blobs: BlobStore, original: str, adopted: bool) -> None:
    """Undo :func:`keep` after a failed check-in: the parts stay for a retry."""
    if adopted:
        blobs.uncommit(original)
    else:
        blobs.delete(original)


def done(blobs: BlobStore, spool: Spool, adopted: bool) -> None:
    """The check-in succeeded: the upload is used (its parts are the original, or gone)."""
    if adopted:
        blobs.finish_staged(spool.blob_id)
    else:
        blobs.discard_staged(spool.blob_id, len(spool.sizes))


def purge_stale(store: Store, now: datetime, max_bytes: int) -> int:
    """Uploads nobody used within ``crmkit.parts.STALE`` (and parts left in the former
    ``photo_uploads`` collection)."""
    return (store.blobs.purge_staged(now - parts.STALE, parts.max_parts(max_bytes))
            + store.purge_legacy_uploads(now))


def receive_part(store: Store, ctx: CallContext, upload_id: Any, index: Any, data_b64: Any,
                 now: datetime) -> dict[str, Any]:
    """``upload_part``: one part of the caller's upload, refused beyond the one photo size
    limit (``VISITS_PHOTO_MAX_BYTES``)."""
    return store_part(store.blobs, ctx.tenant_id, ctx.user_id, upload_id, index, data_b64, now,
                      PHOTO_BOUNDS.max_bytes)


def purge(store: Store, now: datetime) -> int:
    """The purge timer: uploads never used."""
    return purge_stale(store, now, PHOTO_BOUNDS.max_bytes)
