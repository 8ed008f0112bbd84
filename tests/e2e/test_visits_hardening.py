"""Visits hardening through the gateway (issue 12): calendar-edge inputs are 400s, the records
page needs its department grant, evidence photos have a minimum size inside the operator's
bounds, a vendor customer's visit names only that customer's projects."""
from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.errors import InvalidInput
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile

V = "/api/v1/visits"
PLAN = {"address": "上海市黄浦区人民大道 200 号", "lat": 31.2304, "lng": 121.4737}


def ok(r: httpx.Response, *codes: int):
    assert r.status_code in (codes or (200,)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


def refused(r: httpx.Response, status: int, field: str) -> dict:
    """A clear refusal: the status, an error code, and the field named in the details."""
    assert r.status_code == status, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    err = r.json()["error"]
    assert err["code"] and field in json.dumps(err["details"]), err
    return err


def jpeg(size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def customer(http, t, role="employee", kind="own") -> str:
    return ok(http.post("/api/v1/customers", headers=t.headers(role), json={
        "name": f"上海{uuid.uuid4().hex[:10]}精密电子有限公司", "address": PLAN["address"],
        "mobiles": [random_mobile()], "location": {"lat": PLAN["lat"], "lng": PLAN["lng"]}, "kind": kind}), 201)["id"]


def plan(http, t, cid, role="employee", **over):
    body = {"customer_id": cid, "planned_at": iso(datetime.now(UTC) + timedelta(days=1)), "location": PLAN,
            "topic": "季度回访", "scenario": "上门", "policy_accepted": True}
    body.update(over)
    return http.post(V, json=body, headers=t.headers(role))


def check_in(http, t, vid, photo: bytes, role="employee"):
    fields = {"time": iso(datetime.now(UTC)), "lat": str(PLAN["lat"]), "lng": str(PLAN["lng"]), "accuracy": "15",
              "source": "gps"}
    return http.post(f"{V}/{vid}/check-in", data=fields, files={"photo": ("sign.jpg", photo, "image/jpeg")},
                     headers=t.headers(role))


# -- 500s at the edges of the calendar and of the arguments (§2) -------------------------------

def test_calendar_months_at_the_edges_are_refused(http, t):
    for month in ("9999-12", "0000-01", "1999-12", "2100-01"):
        refused(http.get(f"{V}/calendar", params={"month": month}, headers=t.headers("employee")), 400, "month")
    cal = ok(http.get(f"{V}/calendar", params={"month": "2099-12"}, headers=t.headers("employee")))
    assert cal["next_month"] == "2100-01" and len(cal["days"]) == 31


def test_plans_at_extreme_dates_and_non_object_locations_are_refused(http, t):
    cid = customer(http, t)
    for planned_at in ("9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                       "2100-01-01T00:00:00Z"):
        refused(plan(http, t, cid, planned_at=planned_at), 400, "planned_at")
    for location in ("here", 42, ["31.2", "121.4"]):
        refused(plan(http, t, cid, location=location), 400, "location")
    assert ok(http.get(V, headers=t.headers("employee")))["total"] == 0  # nothing was planned meanwhile
    v = ok(plan(http, t, cid, location=None), 201)  # no location: the customer's own
    assert v["location"]["lat"] == PLAN["lat"]


def test_paging_and_report_days_are_checked(http, t):
    for name in ("offset", "limit"):
        refused(http.get(f"{V}/review-queue", params={name: "abc"}, headers=t.headers("support")), 400, name)
        refused(http.get(V, params={name: "1e400"}, headers=t.headers("employee")), 400, name)
    refused(http.get("/api/v1/reports/employee-visits", params={"from": "9999-12-01", "to": "9999-12-31"},
                     headers=t.headers("admin")), 400, "from")
    refused(http.get("/api/v1/reports/coverage", params={"since": "0001-01-01"}, headers=t.headers("admin")), 400,
            "since")


def test_the_service_checks_arguments_that_skip_the_gateway(http, t, rpc):
    support = CallContext(tenant_id=t.tenant_id, user_id=t.ids["support"], roles=("support",))
    for kwargs, field in (({"offset": "abc"}, "offset"), ({"limit": "abc"}, "limit"), ({"limit": [1]}, "limit")):
        with pytest.raises(InvalidInput) as e:
            rpc.call("visits", "review_queue", ctx=support, **kwargs)
        assert e.value.details["field"] == field
    emp = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    with pytest.raises(InvalidInput) as e:
        rpc.call("visits", "calendar", ctx=emp, month="9999-12")
    assert e.value.details["field"] == "month"


# -- the records page's department grant (§4) --------------------------------------------------

def test_records_answer_403_without_the_department_grant(http):
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    v = ok(plan(http, t, customer(http, t)), 201)
    for role in ("employee", "employee2", "dept_admin", "support", "all_customers"):
        err = refused(http.get(f"{V}/records", headers=t.headers(role)), 403, "customer_visits")
        assert err["code"] == "visit.records_forbidden"
        assert http.get(f"{V}/calendar", params={"scope": "records"}, headers=t.headers(role)).status_code == 403
    assert v["id"] in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("admin")))["items"]]
    assert ok(http.get(f"{V}/calendar", headers=t.headers("employee")))["total"] == 1  # the app's own calendar
    ok(http.put("/api/v1/menu-permissions", json={"grants": {"customer_visits": [t.depts["dept_a"]]}},
                headers=t.headers("admin")))
    me = ok(http.get("/api/v1/me", headers=t.headers("employee")))
    assert me["menus"]["customer_visits"] is True
    assert [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("employee")))["items"]] == [v["id"]]
    assert v["id"] in [i["id"] for i in ok(http.get(f"{V}/records", headers=t.headers("dept_admin")))["items"]]
    assert http.get(f"{V}/records", headers=t.headers("employee2")).status_code == 403  # dept_b: no grant


# -- photos: a minimum pixel count, limits inside the operator's bounds (§5, §6) ---------------

def test_a_tiny_check_in_photo_is_refused_and_nothing_is_stored(http, t):
    v = ok(plan(http, t, customer(http, t)), 201)
    for size in ((1, 1), (320, 240)):
        err = refused(check_in(http, t, v["id"], jpeg(size)), 422, "min_pixels")
        assert err["code"] == "photo.too_few_pixels" and err["details"]["min_pixels"] == 640 * 480
    got = ok(http.get(f"{V}/{v['id']}", headers=t.headers("employee")))
    assert got["status"] == "pending_check_in" and not got.get("check_in")
    assert http.get(f"{V}/{v['id']}/photos/original", headers=t.headers("employee")).status_code == 404
    done = ok(check_in(http, t, v["id"], jpeg((640, 480))))
    assert done["check_in"]["photo"]["width"] == 640


def test_photo_limits_are_bounded_by_the_operator(http):
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    s = ok(http.get(f"{V}/settings", headers=t.headers("admin")))
    assert s["min_photo_pixels"] == 640 * 480 and s["max_photo_bytes"] == 20 * 1024 * 1024
    for key, value in (("max_photo_bytes", 10**12), ("max_photo_pixels", 10**12)):
        err = refused(http.patch(f"{V}/settings", json={key: value}, headers=t.headers("admin")), 400, key)
        assert err["code"] == "settings.above_operator_limit"
    refused(http.patch(f"{V}/settings", json={"min_photo_pixels": 70_000_000}, headers=t.headers("admin")), 400,
            "min_photo_pixels")
    s = ok(http.patch(f"{V}/settings", json={"min_photo_pixels": 200 * 200}, headers=t.headers("admin")))
    assert s["min_photo_pixels"] == 40_000
    v = ok(plan(http, t, customer(http, t)), 201)
    assert ok(check_in(http, t, v["id"], jpeg((200, 200))))["check_in"]["photo"]["height"] == 200


# -- a vendor customer's visit names its own projects (§6) ---------------------------------------

def test_vendor_visits_name_only_the_customers_projects(http, t):
    cid = customer(http, t, kind="vendor")
    mine = ok(http.post(f"/api/v1/customers/{cid}/projects", json={"name": "园区二期"}, headers=t.headers("employee")),
              201)["id"]
    other = customer(http, t, kind="vendor")
    foreign = ok(http.post(f"/api/v1/customers/{other}/projects", json={"name": "别家项目"},
                           headers=t.headers("employee")), 201)["id"]
    refused(plan(http, t, cid), 422, "customer_id")  # visit.projects_required
    for bad in ([foreign], [mine, "no-such-project"]):
        err = refused(plan(http, t, cid, project_ids=bad), 422, "project_ids")
        assert err["code"] == "visit.unknown_projects" and err["details"]["project_ids"] == [p for p in bad
                                                                                            if p != mine]
    own = customer(http, t)
    assert plan(http, t, own, project_ids=[foreign]).status_code == 422  # an own customer has no projects
    # a task for a subordinate and a route schedule go through the same check
    err = refused(plan(http, t, cid, role="dept_admin", employee_id=t.ids["employee"], project_ids=[foreign]), 422,
                  "project_ids")
    assert err["code"] == "visit.unknown_projects"
    route = ok(http.post("/api/v1/visit-routes", json={"name": "项目线", "stops": [cid]},
                         headers=t.headers("employee")), 201)
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    r = http.post(f"/api/v1/visit-routes/{route['id']}/schedule", headers=t.headers("employee"),
                  json={"day": day, "policy_accepted": True, "project_ids": {cid: [foreign]}})
    assert refused(r, 422, "project_ids")["code"] == "visit.unknown_projects"
    v = ok(plan(http, t, cid, project_ids=[mine]), 201)
    assert v["project_ids"] == [mine]
    out = ok(http.post(f"/api/v1/visit-routes/{route['id']}/schedule", headers=t.headers("employee"),
                       json={"day": day, "policy_accepted": True, "project_ids": {cid: [mine]}}), 201)
    assert [x["project_ids"] for x in out["visits"]] == [[mine]]


# -- one photo size limit (issue 16 item 5) ---------------------------------------------------

def test_one_photo_size_limit_at_the_gateway_and_in_the_service(http, t, rpc, stack_env):
    """``VISITS_PHOTO_MAX_BYTES`` is the one number: the gateway refuses a photo one byte
    above it with 413 ``photo.too_large`` before sending anything on, the service's
    ``upload_part`` refuses a part ending one byte past it with the same code and number,
    and it is the tenants' default (and ceiling) ``max_photo_bytes``."""
    import base64

    import pymongo

    from crmkit import parts
    from crmkit.errors import TooLarge

    limit = parts.photo_max_bytes(stack_env)
    assert limit == 20 * 1024 * 1024
    assert ok(http.get(f"{V}/settings", headers=t.headers("admin")))["max_photo_bytes"] == limit
    v = ok(plan(http, t, customer(http, t)), 201)
    staging = pymongo.MongoClient(stack_env["MONGO_URI"])[f"{stack_env['MONGO_DB_PREFIX']}visits"]["blobs_staging"]
    before = staging.count_documents({"tenant_id": t.tenant_id})
    r = check_in(http, t, v["id"], b"\xff\xd8\xff" + b"\0" * (limit - 2))  # one byte above
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    assert err["code"] == "photo.too_large" and err["details"]["max_bytes"] == limit
    assert staging.count_documents({"tenant_id": t.tenant_id}) == before  # no part was sent on
    me = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    with pytest.raises(TooLarge) as e:
        rpc.call("visits", "upload_part", ctx=me, upload_id=uuid.uuid4().hex, index=limit // parts.PART_BYTES,
                 data_b64=base64.b64encode(b"\0").decode())
    assert e.value.code == "photo.too_large" and e.value.details["max_bytes"] == limit
    got = ok(http.get(f"{V}/{v['id']}", headers=t.headers("employee")))
    assert got["status"] == "pending_check_in" and not got.get("check_in")
