"""Visits end to end: the whole stack through the gateway (real broker and database)."""
from __future__ import annotations

import io
import math
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from crmkit.clock import iso
from crmkit.context import CallContext
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile
from tests.support.waiting import wait_for

PLAN = {"address": "上海市黄浦区人民大道 200 号", "lat": 31.2304, "lng": 121.4737}
M_PER_DEG = math.pi * 6_371_008.8 / 180.0
V = "/api/v1/visits"


def jpeg(size=(640, 480), exif: dict | None = None) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    ex = Image.Exif()
    for k, v in (exif or {}).items():
        if k == "time":
            ex.get_ifd(0x8769)[0x9003] = v
        elif k == "gps":
            g = ex.get_ifd(0x8825)
            g[1], g[2], g[3], g[4] = v
        elif k == "orientation":
            ex[0x0112] = v
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=ex)
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (0, 128, 0)).save(buf, "PNG")
    return buf.getvalue()


def ok(r: httpx.Response, *codes: int):
    assert r.status_code in (codes or (200,)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, t, role="employee") -> str:
    tag = uuid.uuid4().hex[:10]
    c = ok(http.post("/api/v1/customers", headers=t.headers(role), json={
        "name": f"上海{tag}精密电子有限公司", "address": PLAN["address"], "mobiles": [random_mobile()],
        "location": {"lat": PLAN["lat"], "lng": PLAN["lng"]}, "kind": "own"}), 201)
    return c["id"]


def plan(http, t, cid, role="employee", **over):
    body = {"customer_id": cid, "planned_at": iso(datetime.now(UTC) + timedelta(days=1)), "location": PLAN,
            "topic": "季度回访", "scenario": "上门", "policy_accepted": True}
    body.update(over)
    return http.post(V, json=body, headers=t.headers(role))


def check_in(http, t, vid, photo: bytes | None = b"d", name="sign.jpg", metres=0.0, at=None, key=None,
             role="employee"):
    fields = {"time": iso(at or datetime.now(UTC)), "lat": str(PLAN["lat"] + metres / M_PER_DEG),
              "lng": str(PLAN["lng"]), "accuracy": "15", "source": "gps", "mock_location": "false", "fix_age_s": "2"}
    files = None
    if photo is not None:
        files = {"photo": (name, jpeg() if photo == b"d" else photo, "image/jpeg")}
    headers = t.headers(role, **({"Idempotency-Key": key} if key else {}))
    if files is None:
        return http.post(f"{V}/{vid}/check-in", json=fields, headers=headers)
    return http.post(f"{V}/{vid}/check-in", data=fields, files=files, headers=headers)


def test_happy_path_to_valid(http, tenant):
    t = tenant
    cid = new_customer(http, t)
    v = ok(plan(http, t, cid), 201)
    assert v["status"] == "pending_check_in" and v["owner_id"] == t.ids["employee"]
    t0 = datetime.now(UTC)
    ci = ok(check_in(http, t, v["id"], photo=jpeg(exif={"orientation": 6}), at=t0, metres=30))
    assert ci["status"] == "pending_check_out" and len(ci["check_in"]["photo"]["sha256"]) == 64
    point = {"time": iso(t0 + timedelta(minutes=45)), "lat": PLAN["lat"] + 80 / M_PER_DEG, "lng": PLAN["lng"],
             "accuracy": 10, "source": "gps"}
    co = ok(http.post(f"{V}/{v['id']}/check-out", headers=t.headers("employee", **{"Idempotency-Key": "co-1"}),
                      json=point))
    assert co["status"] == "pending_notes" and co["check_out"]["stay_minutes"] == 45
    again = ok(http.post(f"{V}/{v['id']}/check-out", headers=t.headers("employee", **{"Idempotency-Key": "co-1"}),
                         json=point))  # a retry is the same request (another body under the key is a 422)
    assert again["check_out"] == co["check_out"]  # same key: the first answer, no second effect
    done = ok(http.post(f"{V}/{v['id']}/notes", json={"text": "客户计划下季度扩容"}, headers=t.headers("employee")))
    assert done["status"] == "completed"
    queue = ok(http.get(f"{V}/review-queue", headers=t.headers("support")))
    item = next(i for i in queue["items"] if i["id"] == v["id"])
    assert item["approvable"]
    assert {c["name"]: c["passed"] for c in item["criteria"]} == {
        "notes": True, "stay": True, "plan_to_check_out": True, "check_in_to_check_out": True, "photo": True}
    assert http.get(f"{V}/review-queue", headers=t.headers("employee")).status_code == 403
    r = ok(http.post(f"{V}/{v['id']}/review", json={"decision": "approve", "reason": "符合"},
                     headers=t.headers("support")))
    assert r["status"] == "valid"
    r2 = http.post(f"{V}/{v['id']}/review", json={"decision": "reject", "reason": "x"}, headers=t.headers("support"))
    assert r2.status_code == 409 and r2.json()["error"]["details"]["status"] == "valid"
    for kind in ("original", "thumbnail", "watermarked"):
        p = http.get(f"{V}/{v['id']}/photos/{kind}", headers=t.headers("employee"))
        assert p.status_code == 200 and p.content[:3] == b"\xff\xd8\xff"
    assert http.get(f"{V}/{v['id']}/photos/original", headers=t.headers("employee2")).status_code == 404
    day = v["day"]
    cal = ok(http.get(f"{V}/calendar", params={"month": day[:7]}, headers=t.headers("employee")))
    assert next(d for d in cal["days"] if d["day"] == day)["count"] >= 1
    assert any(i["id"] == v["id"] for i in ok(http.get(V, params={"day": day}, headers=t.headers("employee")))["items"])


def test_each_criterion_failing_alone(http, tenant):
    t = tenant
    cases = [({"stay": 29}, "stay"), ({"co": 501, "ci": 480}, "plan_to_check_out"), ({"photo": None}, "photo")]
    for over, name in cases:
        cid = new_customer(http, t)
        v = ok(plan(http, t, cid), 201)
        t0 = datetime.now(UTC)
        ok(check_in(http, t, v["id"], photo=over.get("photo", b"d"), at=t0, metres=over.get("ci", 0)))
        ok(http.post(f"{V}/{v['id']}/check-out", headers=t.headers("employee"), json={
            "time": iso(t0 + timedelta(minutes=over.get("stay", 40))),
            "lat": PLAN["lat"] + over.get("co", 0) / M_PER_DEG, "lng": PLAN["lng"], "source": "gps"}))
        ok(http.post(f"{V}/{v['id']}/notes", json={"text": "ok"}, headers=t.headers("employee")))
        got = ok(http.get(f"{V}/{v['id']}", headers=t.headers("support")))
        assert [c["name"] for c in got["criteria"] if not c["passed"]] == [name]
        r = http.post(f"{V}/{v['id']}/review", json={"decision": "approve"}, headers=t.headers("support"))
        assert r.status_code == 422 and r.json()["error"]["details"]["failing"] == [name]
    # no notes: the visit stays pending_notes and cannot be reviewed
    cid = new_customer(http, t)
    v = ok(plan(http, t, cid), 201)
    ok(check_in(http, t, v["id"]))
    ok(http.post(f"{V}/{v['id']}/check-out", headers=t.headers("employee"),
                 json={"time": iso(datetime.now(UTC) + timedelta(minutes=40)), "lat": PLAN["lat"],
                       "lng": PLAN["lng"]}))
    got = ok(http.get(f"{V}/{v['id']}", headers=t.headers("support")))
    assert [c["name"] for c in got["criteria"] if not c["passed"]] == ["notes"]
    r = http.post(f"{V}/{v['id']}/review", json={"decision": "approve"}, headers=t.headers("support"))
    assert r.status_code == 409 and r.json()["error"]["details"]["status"] == "pending_notes"


def test_customer_not_visible_is_404(http, tenant):
    cid = new_customer(http, tenant)
    r = plan(http, tenant, cid, role="employee2")
    assert r.status_code == 404
    v = ok(plan(http, tenant, cid), 201)
    assert http.get(f"{V}/{v['id']}", headers=tenant.headers("employee2")).status_code == 404
    assert check_in(http, tenant, v["id"], role="employee2").status_code == 404


def test_ten_concurrent_check_ins_with_one_key(http, tenant, stack):
    t = tenant
    v = ok(plan(http, t, new_customer(http, t)), 201)
    photo = jpeg(size=(2000, 1500))
    at = datetime.now(UTC)  # one request retried: the same fields (another body under the key is a 422)
    answers: list[httpx.Response] = []

    def go():
        with httpx.Client(base_url=stack.url, timeout=90) as c:
            answers.append(check_in(c, t, v["id"], photo=photo, key="same-key-1", at=at))

    threads = [threading.Thread(target=go) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers if a.status_code != 200]
    assert len({a.json()["check_in"]["photo"]["sha256"] + a.json()["check_in"]["at"] for a in answers}) == 1
    assert check_in(http, t, v["id"], key="another-key").status_code == 409


def test_bad_uploads_refused_and_nothing_stored(http, tenant):
    t = tenant
    v = ok(plan(http, t, new_customer(http, t)), 201)
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")
    good = jpeg(size=(800, 600))
    cases = [
        (b"%PDF-1.7 definitely not an image" * 20, 415, "photo.unsupported_type"),
        (good[: len(good) // 2], 400, "photo.corrupt"),
        (bomb.getvalue(), 413, "photo.too_many_pixels"),
        (b"\xff\xd8\xff" + os.urandom(50 * 1024 * 1024), 413, "too_large"),
        (jpeg(exif={"time": "garbage!!", "gps": ("N", (999.0, 0.0, 0.0), "E", (1.0, 2.0, 3.0))}), 422,
         "photo.exif_invalid"),
    ]
    for data, status, code in cases:
        r = check_in(http, t, v["id"], photo=data)
        assert r.status_code == status, r.text
        assert code in r.json()["error"]["code"]
    got = ok(http.get(f"{V}/{v['id']}", headers=t.headers("employee")))
    assert got["status"] == "pending_check_in" and not got.get("check_in")
    assert http.get(f"{V}/{v['id']}/photos/original", headers=t.headers("employee")).status_code == 404
    # a PNG named .jpg is the PNG it is
    r = ok(check_in(http, t, v["id"], photo=png(), name="photo.jpg"))
    assert r["check_in"]["photo"]["content_type"] == "image/png"
    p = http.get(f"{V}/{v['id']}/photos/original", headers=t.headers("employee"))
    assert p.headers["content-type"] == "image/png" and p.content == png()


def big_jpeg() -> bytes:
    """A JPEG of noise, a few MiB: several 1 MiB parts on the way to the service."""
    img = Image.frombytes("RGB", (2000, 1400), os.urandom(2000 * 1400 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_large_photo_travels_in_parts(http, tenant):
    import hashlib

    t = tenant
    data = big_jpeg()
    assert len(data) > 2 * 1024 * 1024  # three parts or more
    v = ok(plan(http, t, new_customer(http, t)), 201)
    r = ok(check_in(http, t, v["id"], photo=data, name="big.jpg"))
    photo = r["check_in"]["photo"]
    assert photo["sha256"] == hashlib.sha256(data).hexdigest() and photo["size"] == len(data)
    assert photo["filename"] == "big.jpg" and photo["width"] == 2000
    p = http.get(f"{V}/{v['id']}/photos/original", headers=t.headers("employee"))
    assert p.status_code == 200 and p.content == data
    thumb = http.get(f"{V}/{v['id']}/photos/thumbnail", headers=t.headers("employee"))
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) <= 320


def test_a_photo_upload_is_only_its_uploaders(http, tenant, rpc):
    """Parts are tenant- and user-bound: another user naming the upload gets 404."""
    import base64

    from crmkit.errors import NotFound

    t = tenant
    data = jpeg(size=(800, 600))
    upload_id = uuid.uuid4().hex
    owner = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    other = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee2"], roles=("employee",))
    rpc.call("visits", "upload_part", ctx=owner, upload_id=upload_id, index=0,
             data_b64=base64.b64encode(data).decode())
    v2 = ok(plan(http, t, new_customer(http, t, role="employee2"), role="employee2"), 201)
    fields = {"time": iso(datetime.now(UTC)), "lat": PLAN["lat"], "lng": PLAN["lng"], "accuracy": 15,
              "source": "gps"}
    ref = {"filename": "a.jpg", "upload_id": upload_id, "parts": 1}
    with pytest.raises(NotFound) as info:
        rpc.call("visits", "check_in", ctx=other, visit_id=v2["id"], data=fields, photo=ref)
    assert info.value.code == "upload.not_found"
    r = http.post(f"{V}/{v2['id']}/check-in", headers=t.headers("employee2"), json=fields)
    assert ok(r)["check_in"]["photo"] is None  # the refused check-in changed nothing
    v1 = ok(plan(http, t, new_customer(http, t)), 201)
    got = rpc.call("visits", "check_in", ctx=owner, visit_id=v1["id"], data=fields, photo=ref)
    assert got["check_in"]["photo"]["filename"] == "a.jpg"
    with pytest.raises(NotFound):  # spooled once, then gone
        rpc.call("visits", "check_in", ctx=owner, visit_id=ok(plan(http, t, new_customer(http, t)), 201)["id"],
                  data=fields, photo=ref)


def test_transfer_rule_on_records(http, tenant):
    t = tenant
    ok(http.put("/api/v1/menu-permissions", json={"grants": {"customer_visits": [t.depts["root"]]}},
                headers=t.headers("admin")))  # the records page is granted per department
    cid = new_customer(http, t)
    v = ok(plan(http, t, cid), 201)
    mine = ok(http.get(f"{V}/records", headers=t.headers("employee")))
    assert v["id"] in [i["id"] for i in mine["items"]]
    assert v["id"] not in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("employee2")))["items"]]
    dept = ok(http.get(f"{V}/records", headers=t.headers("dept_admin")))  # employee is in dept_a
    assert v["id"] in [i["id"] for i in dept["items"]]
    ok(http.post(f"/api/v1/customers/{cid}/transfer", json={"new_owner_id": t.ids["employee2"], "reason": "调岗"},
                 headers=t.headers("admin")))
    wait_for(lambda: v["id"] in [i["id"] for i in
                                 ok(http.get(f"{V}/records", headers=t.headers("employee2")))["items"]],
             what="the new owner sees the visit")
    assert v["id"] not in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("employee")))["items"]]
    assert v["id"] in [i["id"] for i in ok(http.get(V, headers=t.headers("employee")))["items"]]  # app list
    assert v["id"] not in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("dept_admin")))["items"]]
    assert v["id"] in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("admin")))["items"]]


def test_expiry_at_midnight_in_non_utc_zone(http, rpc, tenant):
    t = tenant
    ok(http.patch(f"{V}/settings", json={"time_zone": "Asia/Tokyo"}, headers=t.headers("admin")))
    op = CallContext(tenant_id="-", user_id="operator", roles=("operator",))
    try:
        rpc.call("visits", "_test_set_clock", ctx=op, now="2026-04-10T14:00:00Z")  # 23:00 in Tokyo
        cid = new_customer(http, t)
        v = ok(plan(http, t, cid, planned_at="2026-04-10T13:30:00Z"), 201)
        assert v["day"] == "2026-04-10"
        rpc.call("visits", "_test_set_clock", ctx=op, now="2026-04-10T14:59:00Z")
        rpc.call("visits", "_test_expire_now", ctx=op)
        assert ok(http.get(f"{V}/{v['id']}", headers=t.headers("employee")))["status"] == "pending_check_in"
        rpc.call("visits", "_test_set_clock", ctx=op, now="2026-04-10T15:00:01Z")  # 00:00:01 in Tokyo
        wait_for(lambda: ok(http.get(f"{V}/{v['id']}", headers=t.headers("employee")))["status"] == "expired",
                 timeout=60, what="the expiry timer")
        r = check_in(http, t, v["id"], photo=None)
        assert r.status_code == 409 and r.json()["error"]["details"]["status"] == "expired"
    finally:
        rpc.call("visits", "_test_set_clock", ctx=op, now=None)
        ok(http.patch(f"{V}/settings", json={"time_zone": "Asia/Shanghai"}, headers=t.headers("admin")))
