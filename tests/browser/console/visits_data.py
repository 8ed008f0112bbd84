"""Known visits for the console's browser tests, made through the gateway's HTTP API as the
phone app would: a customer with a place, a plan, a check-in (with or without a photo), a
check-out after a stay and the notes."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crmkit.clock import iso
from tests.browser.conftest import jpeg_photo
from tests.support.tenants import Tenant, random_mobile

V = "/api/v1/visits"
PLACE = {"address": "上海市黄浦区人民大道 200 号", "lat": 31.2304, "lng": 121.4737}


def ok(r: httpx.Response, *codes: int) -> Any:
    assert r.status_code in (codes or (200, 201)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


def grant_records(http: httpx.Client, t: Tenant) -> None:
    """The PC records page is a department grant (SPEC §5): both sales departments get it."""
    ok(http.put("/api/v1/menu-permissions", headers=t.headers(), json={"grants": {"customer_visits": [
        t.depts["dept_a"], t.depts["dept_b"]]}}))


def customer(http: httpx.Client, t: Tenant, role: str, name: str, *, lat: float = PLACE["lat"],
             lng: float = PLACE["lng"], grade: str = "A") -> dict[str, Any]:
    return ok(http.post("/api/v1/customers", headers=t.headers(role), json={
        "name": f"{name}{uuid.uuid4().hex[:6]}有限公司", "address": PLACE["address"], "mobiles": [random_mobile()],
        "location": {"lat": lat, "lng": lng}, "kind": "own", "grade": grade}), 201)


def completed_visit(http: httpx.Client, t: Tenant, role: str, customer_id: str, *, photo: bool = True,
                    stay_minutes: int = 45) -> dict[str, Any]:
    """A visit planned for today, checked in now (photo or none), out after ``stay_minutes``, noted."""
    h = t.headers(role)
    v = ok(http.post(V, headers=h, json={"customer_id": customer_id, "planned_at": iso(datetime.now(UTC)),
                                         "location": PLACE, "topic": "季度回访", "scenario": "上门",
                                         "policy_accepted": True}), 201)
    t0 = datetime.now(UTC)
    fields = {"time": iso(t0), "lat": str(PLACE["lat"]), "lng": str(PLACE["lng"]), "accuracy": "15",
              "source": "gps", "mock_location": "false", "fix_age_s": "2"}
    if photo:
        ok(http.post(f"{V}/{v['id']}/check-in", headers=h, data=fields,
                     files={"photo": ("sign.jpg", jpeg_photo(), "image/jpeg")}))
    else:
        ok(http.post(f"{V}/{v['id']}/check-in", headers=h, json={**fields, "lat": PLACE["lat"],
                                                                 "lng": PLACE["lng"], "accuracy": 15,
                                                                 "mock_location": False, "fix_age_s": 2}))
    ok(http.post(f"{V}/{v['id']}/check-out", headers=h, json={
        "time": iso(t0 + timedelta(minutes=stay_minutes)), "lat": PLACE["lat"], "lng": PLACE["lng"],
        "accuracy": 10, "source": "gps"}))
    return ok(http.post(f"{V}/{v['id']}/notes", headers=h, json={"text": "客户计划下季度扩容，约定下月再访"}))
