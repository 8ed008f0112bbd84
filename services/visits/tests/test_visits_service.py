"""Service-level tests: the real visits process over the real broker and database."""
from __future__ import annotations

import base64
import math
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import visit_images as imgs

from crmkit.clock import iso
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound, TooLarge, UnsupportedMedia
from crmkit.outbox import find_events
from tests.support.rpc import RpcClient

PLAN = {"address": "人民广场 1号", "lat": 31.2304, "lng": 121.4737}
M_PER_DEG = math.pi * 6_371_008.8 / 180.0


def north(metres: float) -> tuple[float, float]:
    return PLAN["lat"] + metres / M_PER_DEG, PLAN["lng"]


def uid() -> str:
    return uuid.uuid4().hex[:12]


class World:
    """One tenant with an owner-employee and a customer."""

    def __init__(self, env, kind: str = "own"):
        self.env = env
        self.tenant = "t" + uid()
        self.emp = "e" + uid()
        self.cust = "c" + uid()
        self.ctx = env.ctx(self.tenant, self.emp, "employee", name="张三")
        self.admin = env.ctx(self.tenant, "adm" + uid(), "tenant_admin")
        self.support = env.ctx(self.tenant, "sup" + uid(), "support")
        env.seed_customer(self.tenant, {"id": self.cust, "name": "苏州日东精密电子有限公司", "owner_id": self.emp,
                                        "kind": kind, "cbm_id": "cbm-1", "projects": [{"id": "p1"}],
                                        "location": {"lat": PLAN["lat"], "lng": PLAN["lng"]}})

    def plan(self, ctx=None, **over):
        data = {"customer_id": self.cust, "planned_at": iso(datetime.now(UTC) + timedelta(days=1)),
                "location": PLAN, "topic": "续约", "scenario": "拜访", "policy_accepted": True}
        data.update(over)
        return self.env.call("plan_visit", ctx or self.ctx, data=data)

    def check_in(self, vid, at=None, metres=0.0, photo=b"default", key=None, ctx=None):
        lat, lng = north(metres)
        p = imgs.jpeg() if photo == b"default" else photo
        kw = {"visit_id": vid, "data": {"time": iso(at or datetime.now(UTC)), "lat": lat, "lng": lng,
                                        "accuracy": 12, "source": "gps", "mock_location": False, "fix_age_s": 3}}
        if p is not None:
            kw["photo"] = {"filename": "sign.jpg", "data_b64": base64.b64encode(p).decode()}
        if key:
            kw["idempotency_key"] = key
        return self.env.call("check_in", ctx or self.ctx, **kw)

    def check_out(self, vid, at, metres=0.0):
        lat, lng = north(metres)
        return self.env.call("check_out", self.ctx, visit_id=vid,
                             data={"time": iso(at), "lat": lat, "lng": lng, "accuracy": 20, "source": "gps"})

    def notes(self, vid, text="客户同意续约"):
        return self.env.call("write_notes", self.ctx, visit_id=vid, data={"text": text})

    def full(self, stay=45, co_metres=100.0, ci_metres=50.0, photo=b"default", notes=True):
        v = self.plan()
        t0 = datetime.now(UTC)
        self.check_in(v["id"], at=t0, metres=ci_metres, photo=photo)
        self.check_out(v["id"], at=t0 + timedelta(minutes=stay), metres=co_metres)
        if notes:
            self.notes(v["id"])
        return self.env.call("get_visit", self.support, visit_id=v["id"])


def failing(v):
    return [c["name"] for c in v["criteria"] if not c["passed"]]


def test_happy_path_to_valid(visits_env):
    w = World(visits_env)
    v = w.plan()
    assert v["status"] == "pending_check_in" and v["policy_version"] == "1" and v["owner_id"] == w.emp
    t0 = datetime.now(UTC)
    ci = w.check_in(v["id"], at=t0, metres=20, photo=imgs.jpeg(exif={"orientation": 6}))
    assert ci["status"] == "pending_check_out"
    assert len(ci["check_in"]["photo"]["sha256"]) == 64
    co = w.check_out(v["id"], at=t0 + timedelta(minutes=40), metres=60)
    assert co["status"] == "pending_notes"
    assert co["check_out"]["stay_minutes"] == 40.0
    assert abs(co["check_out"]["plan_to_check_out_m"] - 60) < 1
    assert abs(co["check_out"]["check_in_to_check_out_m"] - 40) < 1
    assert w.notes(v["id"])["status"] == "completed"
    queue = visits_env.call("review_queue", w.support)
    item = next(i for i in queue["items"] if i["id"] == v["id"])
    assert item["approvable"] and {c["name"] for c in item["criteria"]} == {
        "notes", "stay", "plan_to_check_out", "check_in_to_check_out", "photo"}
    assert item["location_trust"]["check_in"]["tolerance_m"] == 500
    done = visits_env.call("review_visit", w.support, visit_id=v["id"], decision="approve", reason="ok")
    assert done["status"] == "valid"
    with pytest.raises(Conflict) as e:
        visits_env.call("review_visit", w.support, visit_id=v["id"], decision="reject", reason="again")
    assert e.value.details["status"] == "valid"
    photo = visits_env.call("get_photo", w.ctx, visit_id=v["id"], kind="thumbnail")
    assert photo["content_type"] == "image/jpeg" and base64.b64decode(photo["data_b64"])[:3] == b"\xff\xd8\xff"
    # the event trail is in the outbox
    types = {r["envelope"]["type"] for r in find_events(visits_env.db(), {"envelope.data.visit_id": v["id"]})}
    assert types >= {"visit.planned", "visit.checked_in", "visit.checked_out", "visit.completed", "visit.reviewed"}


@pytest.mark.parametrize("kw,expected", [
    ({"stay": 29}, ["stay"]),
    ({"co_metres": 501, "ci_metres": 480}, ["plan_to_check_out"]),
    ({"co_metres": 400, "ci_metres": -101}, ["check_in_to_check_out"]),
    ({"photo": None}, ["photo"]),
    ({"notes": False}, ["notes"]),
])
def test_each_criterion_failing_alone(visits_env, kw, expected):
    w = World(visits_env)
    v = w.full(**kw)
    assert failing(v) == expected
    if expected == ["notes"]:
        with pytest.raises(Conflict) as e:  # not completed: cannot be reviewed yet
            visits_env.call("review_visit", w.support, visit_id=v["id"], decision="approve", reason="")
        assert e.value.details["status"] == "pending_notes"
        return
    with pytest.raises(BusinessRule) as e:
        visits_env.call("review_visit", w.support, visit_id=v["id"], decision="approve", reason="")
    assert e.value.details["failing"] == expected
    bad = visits_env.call("review_visit", w.support, visit_id=v["id"], decision="reject", reason="too short")
    assert bad["status"] == "invalid"


def test_customer_not_visible_is_404(visits_env):
    w = World(visits_env)
    stranger = visits_env.ctx(w.tenant, "e" + uid())
    with pytest.raises(NotFound):
        w.plan(ctx=stranger)
    other_tenant = visits_env.ctx("t" + uid(), w.emp)
    with pytest.raises(NotFound):
        w.plan(ctx=other_tenant)
    v = w.plan()
    with pytest.raises(NotFound):
        visits_env.call("get_visit", stranger, visit_id=v["id"])
    with pytest.raises(NotFound):
        visits_env.call("check_in", other_tenant, visit_id=v["id"], data={})


def test_plan_rules(visits_env):
    w = World(visits_env, kind="vendor")
    with pytest.raises(BusinessRule) as e:
        w.plan(policy_accepted=False)
    assert e.value.code == "visit.policy_not_accepted"
    with pytest.raises(BusinessRule) as e:
        w.plan()
    assert e.value.code == "visit.projects_required"
    with pytest.raises(BusinessRule) as e:
        w.plan(project_ids=["p1", "nope", "p-of-another"])
    assert e.value.code == "visit.unknown_projects" and e.value.details["project_ids"] == ["nope", "p-of-another"]
    with pytest.raises(InvalidInput):
        w.plan(project_ids=["p1"], location={"lat": 95, "lng": 10})
    with pytest.raises(BusinessRule):
        w.plan(project_ids=["p1"], planned_at=iso(datetime.now(UTC) - timedelta(days=3)))
    v = w.plan(project_ids=["p1"])
    assert v["cbm_id"] == "cbm-1" and v["project_ids"] == ["p1"]
    ev = next(iter(find_events(visits_env.db(), {"envelope.data.visit_id": v["id"],
                                                 "envelope.type": "visit.planned"})), None)
    assert ev["envelope"]["data"]["cbm_id"] == "cbm-1"


def test_illegal_transitions_answer_409_with_status(visits_env):
    w = World(visits_env)
    v = w.plan()
    with pytest.raises(Conflict) as e:
        w.check_out(v["id"], at=datetime.now(UTC))
    assert e.value.details["status"] == "pending_check_in"
    with pytest.raises(Conflict):
        w.notes(v["id"])
    w.check_in(v["id"], photo=None)
    with pytest.raises(Conflict) as e:
        w.check_in(v["id"], photo=None)
    assert e.value.details["status"] == "pending_check_out"


def test_ten_concurrent_check_ins_with_one_key_make_one(visits_env):
    w = World(visits_env)
    v = w.plan()
    key = uuid.uuid4().hex
    photo = base64.b64encode(imgs.jpeg(size=(1600, 1200))).decode()
    results, errors = [], []

    def go():
        c = RpcClient(visits_env.amqp_uri, visits_env.rpc.key)
        try:
            results.append(c.call("visits", "check_in", ctx=w.ctx, timeout=90, visit_id=v["id"], idempotency_key=key,
                                  data={"lat": PLAN["lat"], "lng": PLAN["lng"], "source": "gps"},
                                  photo={"filename": "a.jpg", "data_b64": photo}))
        except Exception as e:
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=go) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 10
    assert len({r["check_in"]["at"] for r in results}) == 1
    db = visits_env.db()
    assert db["visit_steps"].count_documents({"visit_id": v["id"]}) == 1
    assert db["blobs"].count_documents({"meta.visit_id": v["id"]}) == 3
    assert len(find_events(db, {"envelope.data.visit_id": v["id"], "envelope.type": "visit.checked_in"})) == 1
    # a different key on a checked-in visit is a conflict, not a second check-in
    with pytest.raises(Conflict):
        w.check_in(v["id"], key=uuid.uuid4().hex)


@pytest.mark.parametrize("data,error,code", [
    (b"this is plain text, not an image" * 4, UnsupportedMedia, "photo.unsupported_type"),
    (imgs.jpeg(size=(800, 600))[:3000], InvalidInput, "photo.corrupt"),
    (imgs.bomb(), TooLarge, "photo.too_many_pixels"),
    (imgs.jpeg(exif=imgs.GARBAGE_EXIF), BusinessRule, "photo.exif_invalid"),
    (imgs.jpeg(size=(1, 1)), BusinessRule, "photo.too_few_pixels"),
    (imgs.png(size=(639, 480)), BusinessRule, "photo.too_few_pixels"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(visits_env, data, error, code):
    w = World(visits_env)
    v = w.plan()
    with pytest.raises(error) as e:
        w.check_in(v["id"], photo=data)
    assert e.value.code == code
    db = visits_env.db()
    assert db["blobs"].count_documents({"meta.visit_id": v["id"]}) == 0
    assert visits_env.call("get_visit", w.ctx, visit_id=v["id"])["status"] == "pending_check_in"


def test_png_named_jpg_is_stored_as_png(visits_env):
    w = World(visits_env)
    v = w.plan()
    out = w.check_in(v["id"], photo=imgs.png())
    assert out["check_in"]["photo"]["content_type"] == "image/png"
    assert out["check_in"]["photo"]["filename"] == "sign.jpg"
    orig = visits_env.call("get_photo", w.ctx, visit_id=v["id"], kind="original")
    assert orig["content_type"] == "image/png" and base64.b64decode(orig["data_b64"]) == imgs.png()


def test_photo_too_large_by_setting(visits_env):
    w = World(visits_env)
    visits_env.call("update_settings", w.admin, changes={"max_photo_bytes": 10_000})
    v = w.plan()
    with pytest.raises(TooLarge):
        w.check_in(v["id"], photo=imgs.jpeg(size=(1200, 900), quality=95) + b"\0" * 20_000)


def test_transfer_rule_on_records(visits_env):
    w = World(visits_env)
    v = w.full()
    new_owner = "e" + uid()
    new_ctx = visits_env.ctx(w.tenant, new_owner)
    visits_env.grant_records(w.tenant, w.emp, new_owner)
    assert [i["id"] for i in visits_env.call("list_records", w.ctx)["items"]] == [v["id"]]
    assert visits_env.call("list_records", new_ctx)["total"] == 0
    visits_env.publish("customers", "customer.owner_changed", w.tenant, {
        "customer_id": w.cust, "from_owner_id": w.emp, "to_owner_id": new_owner, "path": "transfer",
        "reason": "test", "seq": 1})
    deadline = time.time() + 20
    while visits_env.call("list_records", new_ctx)["total"] == 0 and time.time() < deadline:
        time.sleep(0.3)
    assert [i["id"] for i in visits_env.call("list_records", new_ctx)["items"]] == [v["id"]]
    assert visits_env.call("list_records", w.ctx)["total"] == 0
    month = v["day"][:7]
    assert visits_env.call("calendar", new_ctx, month=month, scope="records")["total"] == 1
    assert visits_env.call("calendar", w.ctx, month=month, scope="records")["total"] == 0
    assert visits_env.call("calendar", w.ctx, month=month)["total"] == 1  # the app calendar: visits I make
    # the app list still shows the visits the old owner made
    assert [i["id"] for i in visits_env.call("list_my_visits", w.ctx)["items"]] == [v["id"]]
    # a late, older owner change does not undo the newer one
    visits_env.publish("customers", "customer.owner_changed", w.tenant, {
        "customer_id": w.cust, "from_owner_id": None, "to_owner_id": w.emp, "path": "claim", "seq": 0})
    time.sleep(1.5)
    assert visits_env.call("list_records", new_ctx)["total"] == 1
    assert visits_env.call("list_records", w.admin)["total"] == 1


def test_expiry_at_midnight_in_tenant_zone(visits_env):
    shanghai, utc = World(visits_env), World(visits_env)
    visits_env.call("update_settings", shanghai.admin, changes={"time_zone": "Asia/Shanghai"})
    visits_env.call("update_settings", utc.admin, changes={"time_zone": "UTC"})
    sys_ctx = visits_env.ctx("-", "operator", "operator")
    try:
        visits_env.call("_test_set_clock", sys_ctx, now="2026-03-02T15:00:00Z")  # 23:00 in Shanghai
        a = shanghai.plan(planned_at="2026-03-02T14:30:00Z")           # 22:30 local, day 2026-03-02
        b = shanghai.plan(planned_at="2026-03-02T14:00:00Z")
        shanghai.check_in(b["id"], at=datetime(2026, 3, 2, 14, 55, tzinfo=UTC), photo=None)
        c = shanghai.plan(planned_at="2026-03-02T15:10:00Z")
        shanghai.check_in(c["id"], at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC), photo=None)
        shanghai.check_out(c["id"], at=datetime(2026, 3, 2, 15, 1, tzinfo=UTC))
        u = utc.plan(planned_at="2026-03-02T15:30:00Z")                 # day 2026-03-02 in UTC
        assert a["day"] == u["day"] == "2026-03-02"
        visits_env.call("_test_set_clock", sys_ctx, now="2026-03-02T15:59:59Z")
        visits_env.call("_test_expire_now", sys_ctx)
        assert visits_env.call("get_visit", shanghai.ctx, visit_id=a["id"])["status"] == "pending_check_in"
        visits_env.call("_test_set_clock", sys_ctx, now="2026-03-02T16:00:01Z")  # 00:00:01 in Shanghai
        visits_env.call("_test_expire_now", sys_ctx)
        get = lambda w, v: visits_env.call("get_visit", w.ctx, visit_id=v["id"])["status"]  # noqa: E731
        assert get(shanghai, a) == "expired"
        assert get(shanghai, b) == "expired"            # checked in, never checked out
        assert get(shanghai, c) == "pending_notes"      # checked out: only notes missing
        assert get(utc, u) == "pending_check_in"        # still 16:00 on the day in UTC
        with pytest.raises(Conflict) as e:
            shanghai.check_in(a["id"], photo=None)
        assert e.value.details["status"] == "expired"
        ev = next(iter(find_events(visits_env.db(), {"envelope.type": "visit.expired",
                                                 "envelope.data.visit_id": a["id"]})), None)
        assert ev["envelope"]["data"]["day"] == "2026-03-02" and ev["envelope"]["tenant_id"] == shanghai.tenant
        visits_env.call("_test_set_clock", sys_ctx, now="2026-03-03T00:00:01Z")
        visits_env.call("_test_expire_now", sys_ctx)
        assert get(utc, u) == "expired"
    finally:
        visits_env.call("_test_set_clock", sys_ctx, now=None)


def test_expiry_sweep_reads_open_markers_not_the_visits(visits_env):
    """Each planned visit leaves a marker the sweep reads; a settled visit's marker goes at
    the first sweep after its day, an expired one's with its expiry, and open visits written
    before markers existed get theirs from a one-off build."""
    w = World(visits_env)
    visits_env.call("update_settings", w.admin, changes={"time_zone": "UTC"})
    sys_ctx = visits_env.ctx("-", "operator", "operator")
    db = visits_env.db()
    try:
        visits_env.call("_test_set_clock", sys_ctx, now="2026-04-01T08:00:00Z")
        open_ = w.plan(planned_at="2026-04-01T09:00:00Z")
        done = w.plan(planned_at="2026-04-01T10:00:00Z")
        w.check_in(done["id"], at=datetime(2026, 4, 1, 10, 0, tzinfo=UTC), photo=None)
        w.check_out(done["id"], at=datetime(2026, 4, 1, 10, 30, tzinfo=UTC))
        marks = {m["_id"]: m for m in db["open_visits"].find({"_id": {"$in": [open_["id"], done["id"]]}})}
        assert set(marks) == {open_["id"], done["id"]} and marks[open_["id"]]["day"] == "2026-04-01"
        # a visit written before markers existed (no marker), found by the one-off build
        legacy = dict(db["visits"].find_one({"_id": open_["id"]}), _id="legacy-" + open_["id"])
        db["visits"].insert_one(legacy)
        db["open_visits_state"].delete_one({"_id": "built"})
        visits_env.call("_test_set_clock", sys_ctx, now="2026-04-02T00:00:01Z")
        visits_env.call("_test_expire_now", sys_ctx)
        get = lambda v: db["visits"].find_one({"_id": v})["status"]  # noqa: E731
        assert get(open_["id"]) == "expired" and get(legacy["_id"]) == "expired"
        assert get(done["id"]) == "pending_notes"  # settled before its day ended: untouched
        left = {m["_id"] for m in db["open_visits"].find({})}
        assert not left & {open_["id"], done["id"], legacy["_id"]}
    finally:
        visits_env.call("_test_set_clock", sys_ctx, now=None)


def test_calendar_and_day_list(visits_env):
    w = World(visits_env)
    base = datetime.now(UTC) + timedelta(days=2)
    for h in (0, 1):
        w.plan(planned_at=iso(base + timedelta(hours=h)))
    other = visits_env.ctx(w.tenant, "e" + uid())
    day = visits_env.call("list_my_visits", w.ctx)["items"][0]["day"]
    cal = visits_env.call("calendar", w.ctx, month=day[:7])
    counts = {d["day"]: d["count"] for d in cal["days"]}
    assert sum(counts.values()) == 2 and cal["time_zone"] == "Asia/Shanghai"
    assert visits_env.call("calendar", other, month=day[:7])["total"] == 0
    assert visits_env.call("list_my_visits", w.ctx, day=day)["total"] == counts[day]
    with pytest.raises(InvalidInput):
        visits_env.call("calendar", w.ctx, month="2026-13")


def test_tasks_and_departure(visits_env):
    w = World(visits_env)
    boss, sub, peer, heir = ("b" + uid(), "s" + uid(), "p" + uid(), "h" + uid())
    visits_env.seed_employee(w.tenant, {"id": sub, "supervisor_id": boss, "status": "joined"})
    visits_env.seed_customer(w.tenant, {"id": w.cust, "name": "客户", "owner_id": boss, "kind": "own",
                                        "shared_with": [peer]})
    boss_ctx = visits_env.ctx(w.tenant, boss, "employee")
    task = w.plan(ctx=boss_ctx, employee_id=sub)
    assert task["task"] and task["employee_id"] == sub and task["created_by"] == boss
    with pytest.raises(Forbidden):
        w.plan(ctx=visits_env.ctx(w.tenant, peer), employee_id=sub)
    sub_ctx = visits_env.ctx(w.tenant, sub)
    assert [i["id"] for i in visits_env.call("list_my_visits", sub_ctx)["items"]] == [task["id"]]
    task2 = w.plan(ctx=boss_ctx, employee_id=sub)
    visits_env.publish("identity", "employee.left", w.tenant,
                       {"employee_id": sub, "reason": "left", "handover_to": heir})
    heir_ctx = visits_env.ctx(w.tenant, heir)
    deadline = time.time() + 20
    while visits_env.call("list_my_visits", heir_ctx)["total"] < 2 and time.time() < deadline:
        time.sleep(0.3)
    assert {i["id"] for i in visits_env.call("list_my_visits", heir_ctx)["items"]} == {task["id"], task2["id"]}
    t3 = w.plan(ctx=boss_ctx, employee_id=boss)
    visits_env.publish("identity", "employee.left", w.tenant, {"employee_id": boss, "reason": "deleted",
                                                              "handover_to": None})
    deadline = time.time() + 20
    while visits_env.call("get_visit", w.admin, visit_id=t3["id"])["status"] != "cancelled" \
            and time.time() < deadline:
        time.sleep(0.3)
    assert visits_env.call("get_visit", w.admin, visit_id=t3["id"])["status"] == "cancelled"


def test_routes(visits_env):
    w = World(visits_env)
    ids = []
    for i, lng_off in enumerate((0.0, 0.03, 0.01, 0.02)):
        cid = f"{w.cust}-{i}"
        visits_env.seed_customer(w.tenant, {"id": cid, "name": f"客户{i}", "owner_id": w.emp, "kind": "own",
                                            "location": {"lat": PLAN["lat"], "lng": PLAN["lng"] + lng_off}})
        ids.append(cid)
    r = visits_env.call("create_route", w.ctx, data={"name": "周一路线", "stops": ids})
    assert [s["customer_id"] for s in r["stops"]] == ids
    s = visits_env.call("suggest_route_order", w.ctx, route_id=r["id"])
    assert s["order"] == [ids[0], ids[2], ids[3], ids[1]] and s["distance_after_m"] < s["distance_before_m"]
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    out = visits_env.call("schedule_route", w.ctx, route_id=r["id"],
                          data={"day": day, "start_time": "09:00", "interval_minutes": 45, "optimise": True,
                                "policy_accepted": True})
    assert [v["customer_id"] for v in out["visits"]] == s["order"]
    assert all(v["day"] == day and v["route_id"] == r["id"] for v in out["visits"])
    with pytest.raises(NotFound):
        visits_env.call("create_route", w.ctx, data={"name": "x", "stops": ["c-unknown"]})
    with pytest.raises(NotFound):
        visits_env.call("get_route", visits_env.ctx(w.tenant, "e" + uid()), route_id=r["id"])


def test_concurrent_check_ins_with_different_keys_one_wins(visits_env):
    w = World(visits_env)
    v = w.plan()
    outcomes: list[str] = []

    def go(i):
        c = RpcClient(visits_env.amqp_uri, visits_env.rpc.key)
        try:
            c.call("visits", "check_in", ctx=w.ctx, timeout=60, visit_id=v["id"], idempotency_key=f"k{i}",
                   data={"lat": PLAN["lat"], "lng": PLAN["lng"], "source": "network"})
            outcomes.append("ok")
        except Conflict as e:
            outcomes.append(e.details["status"])
        finally:
            c.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["pending_check_out"] * 5
    assert visits_env.db()["visit_steps"].count_documents({"visit_id": v["id"]}) == 1


def test_location_trust_flags_impossible_travel_and_mock_location(visits_env):
    w = World(visits_env)
    a, b = w.plan(), w.plan()
    t0 = datetime.now(UTC)
    w.check_in(a["id"], at=t0, photo=None)
    beijing = {"time": iso(t0 + timedelta(hours=1)), "lat": 39.9087, "lng": 116.3975, "accuracy": 1500,
               "source": "gps", "mock_location": "true", "fix_age_s": 600}
    out = visits_env.call("check_in", w.ctx, visit_id=b["id"], data=beijing)
    flags = out["check_in"]["flags"]
    assert {"impossible_travel", "mock_location", "accuracy_above_tolerance", "no_photo"} <= set(flags)
    got = visits_env.call("get_visit", w.support, visit_id=b["id"])
    trust = got["location_trust"]
    assert trust["impossible_travel"]["flagged"] and trust["impossible_travel"]["speed_kmh"] > 1000
    assert trust["impossible_travel"]["previous_visit_id"] == a["id"]
    assert trust["check_in"]["mock_location"] is True and trust["check_in"]["fix_age_s"] == 600
    assert trust["check_in"]["deviation_m"] > 1_000_000 and trust["check_in"]["within_tolerance"] is False


# -- hardening: arguments, the records grant, photo bounds, projects -----------------------------

def test_every_rpc_checks_its_own_arguments(visits_env):
    """A caller that skips the gateway gets a 400 naming the field, never a 500."""
    w = World(visits_env)
    visits_env.grant_records(w.tenant, w.emp)
    v = w.plan()
    cases = [
        ("review_queue", w.support, {"offset": "abc"}, "offset"),
        ("review_queue", w.support, {"limit": "abc"}, "limit"),
        ("review_queue", w.support, {"limit": [5]}, "limit"),
        ("review_queue", w.support, {"limit": 10**30}, "limit"),
        ("list_records", w.ctx, {"limit": {"$gt": 1}}, "limit"),
        ("list_records", w.ctx, {"employee_id": {"$ne": None}}, "employee_id"),
        ("list_my_visits", w.ctx, {"offset": -1}, "offset"),
        ("list_my_visits", w.ctx, {"status": {"a": 1}}, "status"),
        ("list_my_visits", w.ctx, {"day": "9999-12-31"}, "day"),
        ("calendar", w.ctx, {"month": "9999-12"}, "month"),
        ("calendar", w.ctx, {"month": "0000-01"}, "month"),
        ("calendar", w.ctx, {"month": 202601}, "month"),
        ("calendar", w.ctx, {"scope": ["records"]}, "scope"),
        ("plan_visit", w.ctx, {"data": "a plan"}, "data"),
        ("update_settings", w.admin, {"changes": ["max_photo_bytes"]}, "changes"),
        ("update_settings", w.admin, {"changes": {"min_stay_minutes": float("inf")}}, "min_stay_minutes"),
        ("update_report_settings", w.admin, {"changes": "A=4"}, "changes"),
        ("employee_visit_summary", w.admin, {"filters": {"from": "9999-12-01", "to": "9999-12-31"}}, "from"),
        ("employee_visit_summary", w.admin, {"filters": {"limit": "abc"}}, "limit"),
        ("coverage", w.admin, {"filters": {"since": "0001-01-01"}}, "since"),
        ("check_in", w.ctx, {"visit_id": v["id"], "data": {"lat": 31.2, "lng": 121.4, "time": "9999-12-31T23:59:59Z"}},
         "time"),
    ]
    for method, ctx, kwargs, field in cases:
        with pytest.raises(InvalidInput) as e:
            visits_env.call(method, ctx, **kwargs)
        assert e.value.details.get("field") == field, (method, kwargs, e.value.details)
    for planned_at in ("9999-12-31", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "2100-01-01T00:00:00Z"):
        with pytest.raises(InvalidInput) as e:
            w.plan(planned_at=planned_at)
        assert e.value.details["field"] == "planned_at"
    for loc in ("here", 5, ["31.2", "121.4"]):
        with pytest.raises(InvalidInput) as e:
            w.plan(location=loc)
        assert e.value.code == "visit.bad_location" and e.value.details["field"] == "location"
    assert visits_env.call("health", w.ctx)  # still answering


def test_a_plan_for_the_end_of_the_calendar_never_stops_the_expiry_sweep(visits_env):
    """A marker whose day cannot end (written before plans were bounded) is skipped, the
    visits after it still expire."""
    w = World(visits_env)
    db = visits_env.db()
    db["open_visits"].insert_one({"_id": "broken-" + uid(), "tenant_id": w.tenant, "day": "9999-12-31"})
    v = w.plan()
    db["visits"].update_one({"_id": v["id"]}, {"$set": {"day": "2026-01-01"}})
    db["open_visits"].update_one({"_id": v["id"]}, {"$set": {"day": "2026-01-01"}})
    deadline = time.time() + 30
    while visits_env.call("get_visit", w.ctx, visit_id=v["id"])["status"] != "expired" and time.time() < deadline:
        time.sleep(0.5)
    assert visits_env.call("get_visit", w.ctx, visit_id=v["id"])["status"] == "expired"


def test_records_need_the_department_grant(visits_env):
    w = World(visits_env)
    v = w.plan()
    dept_admin = visits_env.ctx(w.tenant, "da" + uid(), "dept_admin")
    for ctx in (w.ctx, w.support, dept_admin):
        with pytest.raises(Forbidden) as e:
            visits_env.call("list_records", ctx)
        assert e.value.code == "visit.records_forbidden"
        with pytest.raises(Forbidden):
            visits_env.call("calendar", ctx, scope="records")
    assert visits_env.call("calendar", w.ctx)["total"] >= 1  # the app's own calendar needs no grant
    assert [i["id"] for i in visits_env.call("list_records", w.admin)["items"]] == [v["id"]]  # admins always
    visits_env.grant_records(w.tenant, w.emp)
    assert [i["id"] for i in visits_env.call("list_records", w.ctx)["items"]] == [v["id"]]


def test_photo_limits_stay_inside_the_operator_bounds(visits_env):
    from conftest import OPERATOR_MAX_PIXELS

    w = World(visits_env)
    s = visits_env.call("get_settings", w.admin)
    assert s["max_photo_pixels"] == OPERATOR_MAX_PIXELS and s["min_photo_pixels"] == 640 * 480
    with pytest.raises(InvalidInput) as e:
        visits_env.call("update_settings", w.admin, changes={"max_photo_pixels": OPERATOR_MAX_PIXELS + 1})
    assert e.value.code == "settings.above_operator_limit" and e.value.details["max"] == OPERATOR_MAX_PIXELS
    with pytest.raises(InvalidInput):
        visits_env.call("update_settings", w.admin, changes={"max_photo_bytes": 10**12})
    # a value stored before the bound existed is clamped where it is read
    visits_env.db()["settings"].update_one({"_id": w.tenant}, {"$set": {"values.max_photo_pixels": 10**12}},
                                           upsert=True)
    assert visits_env.call("get_settings", w.admin)["max_photo_pixels"] == OPERATOR_MAX_PIXELS
    got = visits_env.call("update_settings", w.admin, changes={"min_photo_pixels": 100 * 100})
    assert got["min_photo_pixels"] == 10_000
    v = w.plan()
    out = w.check_in(v["id"], photo=imgs.jpeg(size=(100, 100)))
    assert out["check_in"]["photo"]["width"] == 100


def test_a_route_schedule_with_a_foreign_project_plans_nothing(visits_env):
    w = World(visits_env, kind="vendor")
    ids = []
    for i in range(3):
        cid = f"{w.cust}-{i}"
        visits_env.seed_customer(w.tenant, {"id": cid, "name": f"客户{i}", "owner_id": w.emp, "kind": "vendor",
                                            "projects": [{"id": f"p{i}"}],
                                            "location": {"lat": PLAN["lat"], "lng": PLAN["lng"] + i / 100}})
        ids.append(cid)
    r = visits_env.call("create_route", w.ctx, data={"name": "项目路线", "stops": ids})
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    body = {"day": day, "policy_accepted": True, "project_ids": {ids[0]: ["p0"], ids[1]: ["p1"], ids[2]: ["p1"]}}
    with pytest.raises(BusinessRule) as e:
        visits_env.call("schedule_route", w.ctx, route_id=r["id"], data=body)
    assert e.value.code == "visit.unknown_projects" and e.value.details == {"customer_id": ids[2],
                                                                             "project_ids": ["p1"]}
    assert visits_env.call("list_my_visits", w.ctx)["total"] == 0  # no stop was planned
    body["project_ids"][ids[2]] = ["p2"]
    out = visits_env.call("schedule_route", w.ctx, route_id=r["id"], data=body)
    assert [v["project_ids"] for v in out["visits"]] == [["p0"], ["p1"], ["p2"]]
    with pytest.raises(InvalidInput) as e:
        visits_env.call("schedule_route", w.ctx, route_id=r["id"], data={**body, "interval_minutes": 10**9})
    assert e.value.details["field"] == "interval_minutes"
