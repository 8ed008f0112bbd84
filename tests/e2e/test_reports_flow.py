"""Visit reports end to end through the gateway (they need the lead to mix
``visits.report_entrypoints.ReportEntrypoints`` into ``VisitsService`` and to wire
``gateway/routes/reports.py``)."""
from __future__ import annotations

import io
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook

from crmkit.clock import iso
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile

V = "/api/v1/visits"
R = "/api/v1/reports"
PLAN = {"address": "上海市黄浦区人民大道 200 号", "lat": 31.2304, "lng": 121.4737}


def ok(r: httpx.Response, *codes: int):
    assert r.status_code in (codes or (200,)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


@pytest.fixture(scope="module")
def world(http):
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    c = ok(http.post("/api/v1/customers", headers=t.headers("employee"), json={
        "name": f"上海{uuid.uuid4().hex[:10]}精密电子有限公司", "address": PLAN["address"],
        "mobiles": [random_mobile()], "location": {"lat": PLAN["lat"], "lng": PLAN["lng"]}, "kind": "own",
        "grade": "A"}), 201)
    v = ok(http.post(V, headers=t.headers("employee"), json={
        "customer_id": c["id"], "planned_at": iso(datetime.now(UTC) + timedelta(days=1)), "location": PLAN,
        "topic": "季度回访", "scenario": "上门", "policy_accepted": True}), 201)
    now = datetime.now(UTC)
    ok(http.post(f"{V}/{v['id']}/check-in", headers=t.headers("employee"), json={
        "time": iso(now), "lat": PLAN["lat"], "lng": PLAN["lng"], "accuracy": 10, "source": "gps"}))
    ok(http.post(f"{V}/{v['id']}/check-out", headers=t.headers("employee"), json={
        "time": iso(now + timedelta(minutes=40)), "lat": PLAN["lat"], "lng": PLAN["lng"], "accuracy": 10,
        "source": "gps"}))
    return t, c["id"], v


def test_employee_summary_visibility_and_validated_switch(http, world):
    t, _, v = world
    day = v["day"]
    q = {"from": day, "to": day}
    out = ok(http.get(f"{R}/employee-visits", params=q, headers=t.headers("admin")))
    me = next(p for p in out["people"] if p["employee_id"] == t.ids["employee"])
    assert (me["planned"], me["actual"]) == (1, 1)
    assert out["series"][0]["company_average"] > 0
    assert out["details"]["items"][0]["visit_id"] == v["id"]
    valid = ok(http.get(f"{R}/employee-visits", params={**q, "validated_only": "true"}, headers=t.headers("admin")))
    assert valid["totals"]["actual"] == 0
    # the department admin of dept_a sees the employee (dept_a), not employee2 (dept_b)
    da = ok(http.get(f"{R}/employee-visits", params=q, headers=t.headers("dept_admin")))
    ids = {p["employee_id"] for p in da["people"]}
    assert t.ids["employee"] in ids and t.ids["employee2"] not in ids
    r = http.get(f"{R}/employee-visits", params={**q, "employee_id": t.ids["employee"]},
                 headers=t.headers("employee2"))
    assert r.status_code == 404
    sub = ok(http.get(f"{R}/employee-visits", params={**q, "dept_id": t.depts["dept_a"]}, headers=t.headers("admin")))
    assert sub["totals"]["actual"] == 1
    other = ok(http.get(f"{R}/employee-visits", params={**q, "dept_id": t.depts["dept_b"]},
                        headers=t.headers("admin")))
    assert other["totals"]["actual"] == 0
    r = http.get(f"{R}/employee-visits", params={"from": "2025-01-01", "to": "2026-12-31"}, headers=t.headers())
    assert r.status_code == 422 and "366" in r.text


def test_customer_summary_and_chart(http, world):
    t, cid, v = world
    q = {"from": v["day"], "to": v["day"]}
    deadline = time.time() + 20
    while True:  # the grade arrives with customer.created
        out = ok(http.get(f"{R}/customer-visits", params=q, headers=t.headers("admin")))
        if any(g["grade"] == "A" for g in out["grades"]) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert {"visits": 1, "customers": 1} in out["frequency"]
    assert next(g for g in out["grades"] if g["grade"] == "A")["visits"] == 1
    assert out["table"]["totals"]["total"] == 1
    for kind in ("employee-visits", "customer-visits", "customer-grades"):
        r = http.get(f"{R}/{kind}/chart.png", params=q, headers=t.headers("admin"))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"


def test_export_zip_matches_json(http, world):
    t, _, v = world
    day = v["day"]
    r = http.post(f"{R}/employee-visits/export", json={"from": "2026-01-01", "to": "2026-02-01"},
                  headers=t.headers("admin"))
    assert r.status_code == 422 and "31" in r.text
    job = ok(http.post(f"{R}/employee-visits/export", json={"from": day, "to": day}, headers=t.headers("admin")), 202)
    deadline = time.time() + 60
    while True:
        st = ok(http.get(f"{R}/employee-visits/export", params={"export_id": job["export_id"]},
                         headers=t.headers("admin")))
        if st["status"] in ("done", "failed") or time.time() > deadline:
            break
        time.sleep(0.5)
    assert st["status"] == "done", st
    assert http.get(st["download_url"], headers=t.headers("employee")).status_code == 404
    z = http.get(st["download_url"], headers=t.headers("admin"))
    assert z.status_code == 200 and z.headers["content-type"].startswith("application/zip")
    js = ok(http.get(f"{R}/employee-visits", params={"from": day, "to": day}, headers=t.headers("admin")))
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        ws = load_workbook(io.BytesIO(zf.read("summary.xlsx")), read_only=True)["summary"]
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)][1:-1]
        detail_ws = load_workbook(io.BytesIO(zf.read("details.xlsx")))["details"]
    assert {(r[0], r[2], r[3]) for r in rows} == {(p["employee_id"], p["planned"], p["actual"]) for p in js["people"]}
    # Chinese headers (the English key in each header's comment), times in the tenant's zone
    head = [c.value for c in detail_ws[1]]
    assert head[:3] == ["日期", "员工ID", "员工姓名"] and head[7] == "签到时间（Asia/Shanghai）"
    assert [c.comment.text for c in detail_ws[1]][7] == "check_in_at"
    [row] = [[c.value for c in r] for r in detail_ws.iter_rows(min_row=2)]
    [item] = js["details"]["items"]
    local = datetime.fromisoformat(item["check_in_at"].replace("Z", "+00:00")) + timedelta(hours=8)  # Shanghai
    assert row[7] == local.strftime("%Y-%m-%d %H:%M:%S") and row[6] == "待记录" and row[9] == item["stay_minutes"]
