"""The export job (zip of xlsx in the blob store, progress, export_ready event) and
the PNG charts with a real CJK font."""
from __future__ import annotations

import io
import uuid
import warnings
import zipfile

import pymongo
import pytest
from openpyxl import load_workbook
from reports_data import NOW, RANGE, load

from crmkit.errors import BusinessRule, Conflict, NotFound
from visits import charts, report_exports, reports
from visits import report_rules as R
from visits.store import Store


@pytest.fixture(scope="module")
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"reportx_{uuid.uuid4().hex[:8]}"
    Store(client[name]).ensure_indexes()
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="module")
def ds(db):
    return load(db)


def _sheet(book: bytes, title: str) -> list[tuple]:
    ws = load_workbook(io.BytesIO(book), read_only=True)[title]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_export_refuses_more_than_31_days(ds):
    days = R.date_range({"from": "2026-03-01", "to": "2026-04-01"}, NOW, "Asia/Shanghai")
    with pytest.raises(BusinessRule) as exc:
        report_exports.start(ds.store, ds.ctx("X", "tenant_admin"), {}, days, NOW)
    assert exc.value.code == "report.export_range_too_long"
    assert "31" in exc.value.message and exc.value.details == {"days": 32, "max_days": 31, "from": "2026-03-01",
                                                                "to": "2026-04-01"}
    ok = R.date_range({"from": "2026-03-01", "to": "2026-03-31"}, NOW, "Asia/Shanghai")
    R.check_export_range(ok)


def test_export_zip_holds_the_json_numbers(ds):
    admin = ds.ctx("X", "tenant_admin")
    days = R.date_range(RANGE, NOW, "Asia/Shanghai")
    job = report_exports.start(ds.store, admin, dict(RANGE), days, NOW)
    assert job["status"] == "queued" and job["progress"] == 0
    with pytest.raises(Conflict):
        report_exports.download(ds.store, admin, job["export_id"])
    events: list[dict] = []

    def summarize(f):
        return reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, f,
                                        max_days=31, all_details=True)

    def publish_with(ev, write):
        events.append(ev)
        write()

    report_exports.run(ds.store, job["export_id"], summarize, lambda: NOW, lambda data: {"data": data},
                       publish_with)
    st = report_exports.status(ds.store, admin, job["export_id"], NOW)
    assert st["status"] == "done" and st["progress"] == 100
    assert st["download_url"] == f"/api/v1/reports/exports/{job['export_id']}"
    assert events == [{"data": {"export_id": job["export_id"], "requested_by": ds.e("X"),
                                "download_url": st["download_url"], "tenant_id": ds.tenant,
                                "filename": "visits_2026-03-01_2026-03-03.zip"}}]
    # only the requester (or the tenant admin) may fetch it
    with pytest.raises(NotFound):
        report_exports.status(ds.store, ds.ctx("B"), job["export_id"], NOW)

    who = ds.ctx("X", "tenant_admin")
    meta = report_exports.download(ds.store, who, job["export_id"])
    assert meta["content_type"] == "application/zip" and meta["filename"].endswith(".zip")
    data = b"".join(report_exports.download_chunk(ds.store, who, job["export_id"], n)
                    for n in range(meta["chunks"]))
    assert len(data) == meta["size"]
    js = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["daily.xlsx", "details.xlsx", "summary.xlsx", "trend.xlsx"]
        summary = _sheet(zf.read("summary.xlsx"), "summary")
        ranking = _sheet(zf.read("summary.xlsx"), "ranking")
        series = _sheet(zf.read("daily.xlsx"), "series")
        by_person = _sheet(zf.read("daily.xlsx"), "by_person")
        details = _sheet(zf.read("details.xlsx"), "details")
        trend = _sheet(zf.read("trend.xlsx"), "trend_months")
    assert summary[1:-1] == [(p["employee_id"], p["name"], p["planned"], p["actual"], p["completion_rate"],
                              p["actual_per_day"]) for p in js["people"]]
    assert summary[-1][2:4] == (9, 7)
    assert [r[0] for r in ranking[1:]] == [r["rank"] for r in js["ranking"]] == [1, 2, 3, 3]
    assert series[1:] == [(s["day"], s["actual"], s["planned"], s["actual_per_person"], s["planned_per_person"],
                           s["company_average"]) for s in js["series"]]
    assert len(by_person) - 1 == 4 * 3
    assert len(details) - 1 == js["details"]["total"] == 7
    # the formula-looking customer name is neutralised
    names = {r[4] for r in details[1:]}
    assert "'=HYPERLINK(\"http://x\")" in names
    assert not any(isinstance(v, str) and v.startswith("=") for r in details for v in r)
    assert trend[1:] == [(p["period"], p["planned"], p["actual"]) for p in js["trend"]["periods"]]
    # people read Chinese headers; the English key of every column is in its header's comment
    assert summary[0] == ("员工ID", "姓名", "计划拜访数", "实际拜访数", "完成率", "日均实际拜访")
    assert details[0][7:9] == ("签到时间（Asia/Shanghai）", "签退时间（Asia/Shanghai）")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            for ws in load_workbook(io.BytesIO(zf.read(name))).worksheets:
                keys = [c.comment.text if c.comment else None for c in ws[1]]
                assert all(k and k.isascii() and " " not in k for k in keys), (name, ws.title, keys)
                assert all(not str(c.value).isascii() for c in ws[1]), (name, ws.title)
    # times in the tenant's zone, statuses with their Chinese label, the same rows as the JSON
    from datetime import datetime
    from zoneinfo import ZoneInfo
    want = [(d["customer_id"], R.STATUS_LABELS[d["status"]],
             datetime.fromisoformat(d["check_in_at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
             .strftime("%Y-%m-%d %H:%M:%S") if d["check_in_at"] else None, d["stay_minutes"])
            for d in reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE,
                                              max_days=31, all_details=True)["details"]["items"]]
    assert [(r[3], r[6], r[7], r[9]) for r in details[1:]] == want
    assert any(r[7] for r in details[1:])


def test_safe_cell():
    assert R.safe_cell("=1+1") == "'=1+1" and R.safe_cell("+86 138") == "'+86 138"
    assert R.safe_cell("@SUM(A1)") == "'@SUM(A1)" and R.safe_cell("ok") == "ok" and R.safe_cell(-3) == -3


def test_cjk_font_really_resolves():
    from matplotlib import font_manager
    fam = charts.cjk_family()
    path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
    assert "dejavu" not in path.lower() and ("wqy" in path.lower() or "cjk" in path.lower())


def test_charts_render_png_without_missing_glyphs(ds):
    admin = ds.ctx("X", "tenant_admin")
    emp = reports.employee_summary(ds.store, admin, ds.identity, NOW, RANGE)
    cus = reports.customer_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pngs = [charts.render("employee-visits", emp), charts.render("customer-visits", cus),
                charts.render("customer-grades", cus)]
    assert not [w for w in caught if "missing from" in str(w.message).lower() or "glyph" in str(w.message).lower()]
    for png in pngs:
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
