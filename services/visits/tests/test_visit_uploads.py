"""Check-in photos sent in parts (``upload_part``) against the real service: the parts are
kept until a check-in succeeds (a refused one can be retried with the same upload), then
they are the stored original (written once, never copied) and the upload is gone; one
size limit; the visit read once per check-in (the service's ``_test_db_trace`` hook)."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from datetime import UTC, datetime

import pytest
import visit_images as imgs
from PIL import Image
from test_visits_service import PLAN, World

from crmkit import parts
from crmkit.clock import iso
from crmkit.errors import BusinessRule, InvalidInput, NotFound, TooLarge

MIB = 1024 * 1024


def send(env, ctx, data: bytes, part: int = MIB) -> dict:
    """What the gateway does: the photo in parts of 1 MiB, then the reference check_in takes."""
    upload_id = uuid.uuid4().hex
    n = 0
    for off in range(0, max(1, len(data)), part):
        env.call("upload_part", ctx, upload_id=upload_id, index=n,
                 data_b64=base64.b64encode(data[off:off + part]).decode())
        n += 1
    return {"filename": "sign.jpg", "upload_id": upload_id, "parts": n, "content_type": "image/jpeg"}


def check_in(env, w, vid, ref, **kw):
    return env.call("check_in", w.ctx, visit_id=vid, photo=ref,
                    data={"time": iso(datetime.now(UTC)), "lat": PLAN["lat"], "lng": PLAN["lng"], "accuracy": 10,
                          "source": "gps"}, **kw)


def big_jpeg(exif=None) -> bytes:
    """A noise JPEG of a few MiB (several parts) with the EXIF asked for."""
    img = Image.frombytes("RGB", (1800, 1200), os.urandom(1800 * 1200 * 3))
    block = Image.open(io.BytesIO(imgs.jpeg(size=(8, 8), exif=exif))).info.get("exif", b"")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95, exif=block)
    return buf.getvalue()


def test_a_refused_check_in_keeps_the_parts_and_a_retry_with_the_same_upload_succeeds(visits_env):
    env = visits_env
    w = World(env)
    v = w.plan()
    data = big_jpeg(exif=imgs.GARBAGE_EXIF)
    assert len(data) > 2 * MIB
    ref = send(env, w.ctx, data)
    assert ref["parts"] >= 3
    db = env.db()
    for _ in range(2):  # refused twice: the photo's EXIF is impossible and the tenant rejects that
        with pytest.raises(BusinessRule) as e:
            check_in(env, w, v["id"], ref)
        assert e.value.code == "photo.exif_invalid"
    assert db["blobs"].count_documents({"meta.visit_id": v["id"]}) == 0  # nothing stored
    assert env.call("get_visit", w.ctx, visit_id=v["id"])["status"] == "pending_check_in"
    # the tenant admin accepts such photos now: the same upload, not sent again
    env.call("update_settings", w.admin, changes={"reject_invalid_exif": False})
    out = check_in(env, w, v["id"], ref)
    photo = out["check_in"]["photo"]
    assert photo["sha256"] == hashlib.sha256(data).hexdigest() and photo["size"] == len(data)
    assert base64.b64decode(env.call("get_photo", w.ctx, visit_id=v["id"], kind="original")["data_b64"]) == data
    # the original is the upload's parts: one blob row over the parts, no copy of the bytes
    original = db["blobs"].find_one({"meta.visit_id": v["id"], "meta.kind": "original"})
    assert original["_id"] == "u" + ref["upload_id"] and original["chunks"] == ref["parts"]
    assert db["blobs_chunks"].count_documents({"blob_id": original["_id"]}) == ref["parts"]
    assert sum(len(c["data"]) for c in db["blobs_chunks"].find({"blob_id": original["_id"]})) == len(data)
    assert db["blobs"].count_documents({"meta.visit_id": v["id"]}) == 3
    rows = list(db["blobs"].find({"meta.visit_id": v["id"]}))
    stored = sum(len(c["data"]) for r in rows for c in db["blobs_chunks"].find({"blob_id": r["_id"]}))
    assert stored == sum(r["length"] for r in rows)  # each rendition's bytes once, nothing more
    assert db["photo_uploads"].count_documents({}) == 0  # no second copy of the parts anywhere
    # used once, then gone: naming the upload again is 404, and its parts are not writable
    v2 = w.plan()
    with pytest.raises(NotFound) as e:
        check_in(env, w, v2["id"], ref)
    assert e.value.code == "upload.not_found"
    with pytest.raises(InvalidInput) as e:
        env.call("upload_part", w.ctx, upload_id=ref["upload_id"], index=1, data_b64=base64.b64encode(b"x").decode())
    assert e.value.code == "upload.invalid"
    assert base64.b64decode(env.call("get_photo", w.ctx, visit_id=v["id"], kind="original")["data_b64"]) == data


def test_a_photo_above_the_tenant_limit_keeps_its_parts_until_the_limit_allows_it(visits_env):
    env = visits_env
    w = World(env)
    data = imgs.jpeg(size=(1600, 1200), quality=95)
    env.call("update_settings", w.admin, changes={"max_photo_bytes": len(data) - 1})
    v = w.plan()
    ref = send(env, w.ctx, data, part=64 * 1024)  # parts of any size (≤ 1 MiB) are fine too
    with pytest.raises(TooLarge) as e:
        check_in(env, w, v["id"], ref)
    assert e.value.code == "photo.too_large" and e.value.details["max_bytes"] == len(data) - 1
    env.call("update_settings", w.admin, changes={"max_photo_bytes": len(data)})
    out = check_in(env, w, v["id"], ref)
    assert out["check_in"]["photo"]["size"] == len(data)
    assert base64.b64decode(env.call("get_photo", w.ctx, visit_id=v["id"], kind="original")["data_b64"]) == data


def test_parts_are_bound_to_their_uploader_and_written_once(visits_env):
    env = visits_env
    w = World(env)
    other = env.ctx(w.tenant, "e" + uuid.uuid4().hex[:12])
    data = imgs.jpeg(size=(800, 600))
    ref = send(env, w.ctx, data)
    b64 = base64.b64encode(data).decode()
    # the same part again (a retried call) is fine; other bytes, or another user, are refused
    assert env.call("upload_part", w.ctx, upload_id=ref["upload_id"], index=0, data_b64=b64)["size"] == len(data)
    for ctx, payload in ((w.ctx, base64.b64encode(b"other").decode()), (other, b64)):
        with pytest.raises(InvalidInput) as e:
            env.call("upload_part", ctx, upload_id=ref["upload_id"], index=0, data_b64=payload)
        assert e.value.code == "upload.invalid"
    elsewhere = World(env)  # another tenant's employee naming the upload
    with pytest.raises(NotFound) as e:
        env.call("check_in", elsewhere.ctx, visit_id=elsewhere.plan()["id"], photo=ref,
                 data={"lat": PLAN["lat"], "lng": PLAN["lng"]})
    assert e.value.code == "upload.not_found"
    with pytest.raises(NotFound) as e:  # a part never sent
        check_in(env, w, w.plan()["id"], {**ref, "parts": 2})
    assert e.value.code == "upload.not_found" and e.value.details["part"] == 1
    assert check_in(env, w, w.plan()["id"], ref)["check_in"]["photo"]["size"] == len(data)


def test_one_size_limit_for_the_parts(visits_env):
    """The operator's limit (``VISITS_PHOTO_MAX_BYTES``, default 20 MiB: the number the
    gateway refuses above): a part ending at it is taken, one byte past it is 413."""
    env = visits_env
    w = World(env)
    limit = parts.photo_max_bytes({})
    assert limit == 20 * MIB == env.call("get_settings", w.admin)["max_photo_bytes"]
    last = limit // MIB - 1  # the part that ends exactly at the limit
    upload_id = uuid.uuid4().hex
    ok = env.call("upload_part", w.ctx, upload_id=upload_id, index=last,
                  data_b64=base64.b64encode(b"\0" * MIB).decode())
    assert ok["size"] == MIB
    for index, size in ((last + 1, 1), (last, MIB + 1)):
        with pytest.raises((TooLarge, InvalidInput)) as e:
            env.call("upload_part", w.ctx, upload_id=uuid.uuid4().hex, index=index,
                     data_b64=base64.b64encode(b"\0" * size).decode())
        if size <= MIB:
            assert e.value.code == "photo.too_large" and e.value.details["max_bytes"] == limit
        else:  # a part above 1 MiB is no part
            assert e.value.code == "upload.invalid"


def test_a_check_in_reads_the_visit_once_and_copies_no_photo(visits_env):
    env = visits_env
    w = World(env)
    v = w.plan()
    data = big_jpeg()
    ref = send(env, w.ctx, data)
    env.rpc.call("visits", "_test_db_trace", reset=True)
    check_in(env, w, v["id"], ref, idempotency_key=uuid.uuid4().hex)
    trace = env.rpc.call("visits", "_test_db_trace", reset=True)["check_in"]
    ops = trace["ops"]
    assert trace["calls"] == 1
    # one read of the visit by the check-in; the reports' rollup reads the entry's fields again
    # under its day lock (its own linearisation: the latest state wins), nothing else
    assert ops.get("find:visits") == 2, ops
    assert ops.get("find:blobs_chunks") == ref["parts"], ops  # the parts read back once, for Pillow
    assert ops.get("insert:blobs_chunks") == 2, ops  # the thumbnail's and the watermarked copy's chunks
    assert ops.get("insert:blobs") == 3, ops  # three blob rows: the original's over the parts
    assert "delete:blobs" not in ops and "delete:blobs_chunks" not in ops, ops  # nothing written, then removed
    assert "find:blobs_staging" in ops  # the upload's owner, checked before its parts
    assert ops.get("delete:blobs_staging") == 1, ops  # the upload is used
