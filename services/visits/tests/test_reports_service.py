"""The report entrypoints running in a real nameko process (the mixin on a stand-in
service next to the visits service of ``visits_env``): RPC answers, the export job
with its progress, the zip download and the ``report.export_ready`` event in the outbox,
the chart PNGs, and the 31-day refusal crossing RPC as itself."""
from __future__ import annotations

import base64
import io
import sys
import time
import zipfile
from pathlib import Path

import pytest
from reports_data import RANGE, load

from crmkit.errors import BusinessRule, InvalidInput, NotFound
from crmkit.outbox import find_events
from devstack.stack import Proc, base_env

SERVICE = "visitsreports"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def svc(visits_env):
    env = base_env(visits_env.amqp_uri, visits_env.mongo_uri, MONGO_DB_PREFIX=visits_env.prefix,
                   CRM_CONTEXT_KEY=visits_env.rpc.key, CRM_TEST_HOOKS="1")
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    cfg = str(HERE.parent / "config.yaml")
    log = visits_env.stack.log_dir / "visitsreports.log"
    proc = Proc(SERVICE, [sys.executable, "-W", "ignore", "-m", "nameko", "run", "--config", cfg,
                          "reports_service:ReportsTestService"], env, log)
    proc.start()
    deadline = time.time() + 60
    while True:
        try:
            visits_env.rpc.call(SERVICE, "health", timeout=2)
            break
        except TimeoutError:
            if not proc.running:
                raise RuntimeError(log.read_text()[-3000:]) from None
            if time.time() > deadline:
                raise
    yield visits_env
    proc.stop()


def _call(env, method, ctx, **kw):
    return env.rpc.call(SERVICE, method, ctx=ctx, timeout=60, **kw)


def test_reports_over_rpc_export_and_charts(svc):
    db = svc.db()
    ds = load(db)
    admin = ds.ctx("X", "tenant_admin")
    # the service's clock is real: ask for the fixed range explicitly
    out = _call(svc, "employee_visit_summary", admin, filters=dict(RANGE))
    assert [s["actual"] for s in out["series"]] == [4, 2, 1]
    assert out["totals"]["planned"] == 9
    cs = _call(svc, "customer_visit_summary", admin, filters=dict(RANGE))
    assert cs["frequency"] == [{"visits": 0, "customers": 1}, {"visits": 1, "customers": 3},
                               {"visits": 2, "customers": 2}]
    with pytest.raises(BusinessRule) as exc:
        _call(svc, "start_summary_export", admin, filters={"from": "2026-03-01", "to": "2026-04-01"})
    assert exc.value.code == "report.export_range_too_long"

    job = _call(svc, "start_summary_export", admin, filters=dict(RANGE))
    deadline = time.time() + 60
    while True:
        st = _call(svc, "export_status", admin, export_id=job["export_id"])
        if st["status"] in ("done", "failed") or time.time() > deadline:
            break
        time.sleep(0.3)
    assert st["status"] == "done" and st["progress"] == 100, st
    with pytest.raises(NotFound):
        _call(svc, "export_status", ds.ctx("B"), export_id=job["export_id"])
    got = _call(svc, "download_export", admin, export_id=job["export_id"])
    assert got["chunks"] >= 1 and got["content_type"] == "application/zip"
    data = b"".join(base64.b64decode(_call(svc, "download_export_chunk", admin, export_id=job["export_id"],
                                           chunk=n)["data_b64"]) for n in range(got["chunks"]))
    assert len(data) == got["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "summary.xlsx" in zf.namelist()
    with pytest.raises(NotFound):  # chunks, like the export itself, only for those who may see it
        _call(svc, "download_export_chunk", ds.ctx("B"), export_id=job["export_id"], chunk=0)
    rows = [r for r in find_events(db, {"status": {"$in": ["pending", "sent"]}})
            if (r.get("envelope") or {}).get("type") == "report.export_ready"
            and r["envelope"]["data"]["export_id"] == job["export_id"]]
    assert len(rows) == 1
    assert rows[0]["envelope"]["data"] == {
        "export_id": job["export_id"], "requested_by": ds.e("X"), "tenant_id": ds.tenant,
        "download_url": f"/api/v1/reports/exports/{job['export_id']}", "filename": "visits_2026-03-01_2026-03-03.zip"}

    for kind in ("employee-visits", "customer-visits", "customer-grades"):
        png = base64.b64decode(_call(svc, "report_chart", admin, kind=kind, filters=dict(RANGE))["data_b64"])
        assert png[:4] == b"\x89PNG"
    with pytest.raises(InvalidInput):
        _call(svc, "report_chart", admin, kind="nope", filters={})
