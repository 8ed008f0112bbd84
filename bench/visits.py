"""Visits: a check-in with a 12-megapixel JPEG the way the gateway sends it (the photo in
1 MiB ``upload_part`` calls, then ``check_in`` naming the upload), next to Pillow doing the
same image work in a plain loop (decode at the watermark size, thumbnail, watermark, two
JPEG encodes); the RPCs and database round trips per check-in (the service's
``_test_db_trace`` hook); where the check-in's time goes (image stages timed in this
process, the service's own sections); the calendar month query with 100 000 visits in the
tenant next to a bare pymongo read of the same rows.

``BENCH_VISITS=checkin`` runs the check-in part only."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
from PIL import Image, ImageDraw, ImageFont, ImageOps

from bench.load import Result, ratio, timed_loop
from crmkit.context import CallContext
from tests.support.rpc import RpcClient

CHECK_INS = 25
VISITS = 100_000
EMPLOYEES = 100
CAL_CALLS = 40
PART_BYTES = 1024 * 1024  # what the gateway puts in one upload_part (gateway.routing.PART_BYTES)


def _photo() -> bytes:
    """4000x3000 noise with a flat block and the EXIF a phone writes (time, GPS, orientation)."""
    img = Image.effect_noise((4000, 3000), 50).convert("RGB")  # 12 Mpx
    img.paste((200, 40, 40), (0, 0, 2000, 1500))
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x0132] = datetime.now(UTC).strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 13.0, 49.44), 3: "E", 4: (121.0, 28.0, 25.32)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88, exif=exif)
    return buf.getvalue()


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        from visits.photos import cjk_font_path
        path = cjk_font_path()
        if path:
            return ImageFont.truetype(path, size)
    except Exception:
        pass
    return ImageFont.load_default()


def _bare_image_work(photo: bytes, lines: list[str]) -> tuple[bytes, bytes]:
    """What any service must do with the photo, as plainly as Pillow allows: open, decode
    at the watermark's size (``draft``), thumbnail, watermark, encode both as JPEG."""
    im = Image.open(io.BytesIO(photo))
    w, h = im.size
    k = 1600 / max(w, h)
    im.draft("RGB", (max(1, int(w * k)), max(1, int(h * k))))
    im = ImageOps.exif_transpose(im.convert("RGB"))
    im.thumbnail((1600, 1600))
    thumb = im.copy()
    thumb.thumbnail((320, 320))
    draw = ImageDraw.Draw(im, "RGBA")
    size = max(12, im.width // 45)
    font = _font(size)
    box = (size + size // 4) * len(lines) + size
    draw.rectangle([0, im.height - box, im.width, im.height], fill=(0, 0, 0, 130))
    for i, line in enumerate(lines):
        draw.text((size // 2, im.height - box + size // 2 + i * (size + size // 4)), line, fill="white", font=font)
    out = []
    for img, q in ((thumb, 80), (im, 85)):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        out.append(buf.getvalue())
    return out[0], out[1]


def _stages(photo: bytes) -> dict[str, float]:
    """The image work of ``visits.photos.process`` cut into stages (seconds, this process)."""
    from visits import photos

    t: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        t[name] = t.get(name, 0.0) + now - t0
        return now

    t0 = time.perf_counter()
    im = Image.open(io.BytesIO(photo))
    t0 = lap("open + header", t0)
    photos.read_exif(im, "Asia/Shanghai")
    t0 = lap("EXIF", t0)
    if hasattr(photos, "draft_size"):  # what the service asks of draft()
        im.draft("RGB", photos.draft_size(im.size))
    else:
        im.draft("RGB", (photos.WATERMARK_SIZE, photos.WATERMARK_SIZE))
    im.load()
    t0 = lap(f"decode (draft to {im.size[0]}x{im.size[1]})", t0)
    rgb = (ImageOps.exif_transpose(im) or im).convert("RGB")
    work = rgb.copy()
    work.thumbnail((photos.WATERMARK_SIZE, photos.WATERMARK_SIZE))
    thumb = work.copy()
    thumb.thumbnail((photos.THUMB_SIZE, photos.THUMB_SIZE))
    t0 = lap("orient + resize", t0)
    wm = photos.draw_watermark(work, ["2026-01-01 10:00 (Asia/Shanghai)", "人民广场 1号 31.23040,121.47370",
                                      "Bench @ bench"])
    t0 = lap("watermark", t0)
    photos._jpeg(thumb, 80)
    photos._jpeg(wm, 85)
    t0 = lap("JPEG encode x2", t0)
    hashlib.sha256(photo).hexdigest()
    lap("SHA-256", t0)
    return t


def _visit(tenant: str, employee: str, day: str, status: str = "pending_check_in") -> dict:
    now = datetime.now(UTC)
    return {"_id": uuid.uuid4().hex, "tenant_id": tenant, "customer_id": "c-" + employee, "customer_name": "bench",
            "customer_kind": "own", "employee_id": employee, "created_by": employee, "owner_id": employee,
            "planned_at": now, "day": day, "month": day[:7], "status": status, "task": False,
            "location": {"address": "bench", "lat": 31.2304, "lng": 121.4737}, "topic": "bench", "scenario": "",
            "policy_version": "1", "project_ids": [], "created_at": now, "updated_at": now}


def _send_in_parts(rpc: RpcClient, ctx: CallContext, photo: bytes) -> dict:
    """What the gateway does with a spooled photo (gateway.routing.send_in_parts)."""
    upload_id = uuid.uuid4().hex
    n = 0
    for off in range(0, len(photo), PART_BYTES):
        rpc.call("visits", "upload_part", ctx=ctx, timeout=120, upload_id=upload_id, index=n,
                 data_b64=base64.b64encode(photo[off:off + PART_BYTES]).decode())
        n += 1
    return {"filename": "p.jpg", "upload_id": upload_id, "parts": n, "content_type": "image/jpeg"}


def _print_trace(trace: dict, name: str) -> None:
    st = trace.get(name)
    if not st:
        print(f"{name}: no trace (the service has no _test_db_trace hook)")
        return
    calls = max(1, st["calls"])
    print(f"{name}: {st['ops_per_call']:.1f} database round trips and {st.get('rpcs_per_call', 0):.1f} outgoing "
          f"RPCs per call ({st['calls']} calls, {st['seconds'] / calls * 1000:.1f} ms each)")
    for sec, secs in sorted(st["sections"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {sec}: {secs / calls * 1000:.1f} ms per call ({secs / max(1e-9, st['seconds']):.0%})")
    top = sorted(st["ops"].items(), key=lambda kv: -kv[1])
    print("  " + ", ".join(f"{k} {v / calls:.1f}" for k, v in top))


def run(stack, infra, env) -> None:
    db = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)[f"{env['MONGO_DB_PREFIX']}visits"]
    rpc = RpcClient(infra.amqp_uri, env["CRM_CONTEXT_KEY"])
    tenant = "bench-" + uuid.uuid4().hex[:8]
    emp = "emp-bench"
    ctx = CallContext(tenant_id=tenant, user_id=emp, roles=("employee",), name="Bench")
    op = CallContext(tenant_id="-", user_id="operator", roles=("operator",))
    today = datetime.now(UTC).astimezone().date().isoformat()

    # -- check-in of a 12 Mpx JPEG -------------------------------------------------------
    photo = _photo()
    parts = -(-len(photo) // PART_BYTES)
    print(f"photo: 4000x3000 JPEG with EXIF, {len(photo) / 2**20:.1f} MiB ({parts} parts of 1 MiB)")
    lines = ["2026-01-01 10:00 (Asia/Shanghai)", "bench 31.23040,121.47370", "Bench @ bench"]

    def decode() -> None:
        im = Image.open(io.BytesIO(photo))
        im.load()

    full = timed_loop("Pillow open + full decode (reference)", decode, 10)
    bare = timed_loop("Pillow decode(draft) + thumbnail + watermark", lambda: _bare_image_work(photo, lines),
                      CHECK_INS)
    io_coll = db["bench_photo_io"]
    io_lat: list[float] = []

    def write_and_read() -> None:  # the database floor of any check-in that keeps the original
        t0 = time.perf_counter()
        key = uuid.uuid4().hex
        for n, off in enumerate(range(0, len(photo), PART_BYTES)):
            io_coll.insert_one({"_id": f"{key}:{n}", "data": photo[off:off + PART_BYTES]})
        for n in range(parts):
            io_coll.find_one({"_id": f"{key}:{n}"})
        io_lat.append(time.perf_counter() - t0)
        for n in range(parts):  # not timed
            io_coll.delete_one({"_id": f"{key}:{n}"})

    for _ in range(10):
        write_and_read()
    io_coll.drop()
    io_floor = Result(f"bare pymongo: {parts} x 1 MiB insert + find", len(io_lat), sum(io_lat), io_lat)
    docs = [_visit(tenant, emp, today) for _ in range(CHECK_INS + 1)]
    db["visits"].insert_many(docs)
    lat = []
    started = time.perf_counter()
    for i, d in enumerate(docs):
        if i == 1:
            rpc.call("visits", "_test_db_trace", ctx=op, reset=True)
            started = time.perf_counter()
        t0 = time.perf_counter()
        ref = _send_in_parts(rpc, ctx, photo)
        rpc.call("visits", "check_in", ctx=ctx, timeout=120, visit_id=d["_id"],
                 data={"lat": 31.2304, "lng": 121.4737, "source": "gps",
                       "time": (datetime.now(UTC) + timedelta(hours=3 * i)).isoformat()},
                 photo=ref)
        if i:  # the first one warms up (font lookup, indexes)
            lat.append(time.perf_counter() - t0)
    ours = Result(f"upload_part x{parts} + check_in (EXIF, 3 renditions, state)", len(lat),
                  time.perf_counter() - started, lat)
    trace = rpc.call("visits", "_test_db_trace", ctx=op, reset=True)
    print(full.line())
    print(bare.line())
    print(io_floor.line())
    print(ours.line())
    print(ratio(ours, bare))
    print(f"  (vs full decode alone: throughput {ours.rps / full.rps:.2f}x; vs the image work plus the bare "
          f"database floor, one after the other: {1 / ours.pct(0.5) / (1 / (bare.pct(0.5) + io_floor.pct(0.5))):.2f}x "
          "at p50)")
    up, ci = trace.get("upload_part") or {}, trace.get("check_in") or {}
    if up and ci:
        per = up["calls"] / max(1, ci["calls"])
        print(f"per check-in: {per + 1 + ci.get('rpcs_per_call', 0):.0f} service RPCs ({per:.0f} upload_part + "
              f"check_in + {ci.get('rpcs_per_call', 0):.0f} from visits; the gateway adds its own "
              f"identity.authenticate), {up['ops_per_call'] * per + ci['ops_per_call']:.0f} database round trips "
              f"({up['ops_per_call'] * per:.0f} in upload_part, {ci['ops_per_call']:.0f} in check_in)")
    _print_trace(trace, "upload_part")
    _print_trace(trace, "check_in")
    stages: dict[str, float] = {}
    for _ in range(5):
        for k, v in _stages(photo).items():
            stages[k] = stages.get(k, 0.0) + v / 5
    print("image stages of visits.photos.process, this process: " + ", ".join(
        f"{k} {v * 1000:.0f} ms" for k, v in stages.items()))
    if os.environ.get("BENCH_VISITS") == "checkin":
        rpc.close()
        return

    # -- calendar month with 100 000 visits in the tenant -----------------------------------
    big = "bench-cal-" + uuid.uuid4().hex[:6]
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    t0 = time.perf_counter()
    batch: list[dict] = []
    buckets: dict[str, list[dict]] = {m: [] for m in months}

    def flush() -> None:
        db["visits"].insert_many(batch, ordered=False)
        batch.clear()
        for m, rows in buckets.items():
            if rows:
                db[f"calendar_{m.replace('-', '_')}"].insert_many(rows, ordered=False)
                rows.clear()

    for i in range(VISITS):
        m = months[i % 12]
        e = f"e{(i // 12) % EMPLOYEES}"
        # settled visits (the expiry sweep leaves them alone), with the fields the calendar reads
        row = {"_id": f"{big}-{i}", "tenant_id": big, "employee_id": e, "owner_id": e, "status": "valid",
               "month": m, "day": f"{m}-{(i // 1200) % 28 + 1:02d}", "customer_id": f"c{i % 5000}"}
        batch.append(row)
        buckets[m].append({k: row[k] for k in ("_id", "tenant_id", "employee_id", "owner_id", "day",
                                               "customer_id")})
        if len(batch) == 5000:
            flush()
    if batch:
        flush()
    print(f"seeded {VISITS} visits (+ month buckets) in {time.perf_counter() - t0:.1f}s")
    emp_ctx = CallContext(tenant_id=big, user_id="e7", roles=("employee",))
    admin_ctx = CallContext(tenant_id=big, user_id="admin", roles=("tenant_admin",))
    q = {"tenant_id": big, "employee_id": "e7"}
    naive = timed_loop("bare pymongo find on all visits {tenant, month, employee}",
                       lambda: list(db["visits"].find({**q, "month": "2026-03"}, {"day": 1})), 3)
    base = timed_loop("bare pymongo find on the month bucket {tenant, employee}",
                      lambda: list(db["calendar_2026_03"].find(q, {"day": 1})), CAL_CALLS // 4)
    cal = timed_loop("visits.calendar (employee, ~83 visits in the month)",
                     lambda: rpc.call("visits", "calendar", ctx=emp_ctx, month="2026-03", timeout=120),
                     CAL_CALLS // 4)
    print(naive.line())
    print(base.line())
    print(cal.line())
    print(ratio(cal, base))
    cal_all = timed_loop("visits.calendar scope=records (tenant admin, ~8 300)",
                         lambda: rpc.call("visits", "calendar", ctx=admin_ctx, month="2026-03", scope="records",
                                          timeout=120), 3)
    print(cal_all.line())
    rpc.close()
