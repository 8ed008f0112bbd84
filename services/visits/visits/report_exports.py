"""Export of the employee visit summary: a .zip of xlsx files, built as a job.

* ``start`` checks the range (at most 31 days, refused with a clear message), stores a
  job row in ``report_exports`` (status ``queued``, progress 0) and returns it; the
  service runs :func:`run` in the background (a green thread).
* :func:`run` computes the summary, writes ``summary.xlsx`` (people + ranking + totals),
  ``daily.xlsx`` (the three series and every person's days), ``details.xlsx`` and
  ``trend.xlsx``, zips them, stores the zip in the blob store (``crmkit.blobs``), marks
  the job ``done`` (progress 100) and emits ``report.export_ready``
  ``{export_id, requested_by, download_url, tenant_id}`` through the outbox.
* Every text cell is neutralised against formula injection (``report_rules.safe_cell``).

A job whose process died stays ``running``; ``status`` reports it ``failed`` once it has
not moved for ``STALE_AFTER``.
"""
from __future__ import annotations

import base64
import io
import logging
import uuid
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import eventlet
from openpyxl import Workbook
from openpyxl.comments import Comment

from crmkit import docstore
from crmkit.context import CallContext
from crmkit.errors import Conflict, InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from visits import report_rules as R
from visits.peers import Identity
from visits.store import Store
from visits.views import plain

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
DOWNLOAD_URL = "/api/v1/reports/exports/{id}"
ZIP_TYPE = "application/zip"


def _public(job: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    status = job.get("status")
    if status in ("queued", "running") and now is not None and \
            now - docstore.aware(job.get("updated_at") or now) > STALE_AFTER:
        status = "failed"
    out = {"export_id": job["_id"], "status": status, "progress": job.get("progress", 0),
           "filters": job.get("filters") or {}, "requested_by": job.get("requested_by"),
           "created_at": job.get("created_at"), "updated_at": job.get("updated_at"),
           "error": job.get("error"), "filename": job.get("filename")}
    if status == "done":
        out["download_url"] = DOWNLOAD_URL.format(id=job["_id"])
    shown: dict[str, Any] = plain(out)
    return shown


def start(store: Store, ctx: CallContext, filters: dict[str, Any], days: list[str], now: datetime) -> dict[str, Any]:
    R.check_export_range(days)
    job = {"_id": uuid.uuid4().hex, "tenant_id": ctx.tenant_id, "requested_by": ctx.user_id,
           "filters": {**filters, "from": days[0], "to": days[-1]}, "status": "queued", "progress": 0,
           "created_at": now, "updated_at": now, "filename": f"visits_{days[0]}_{days[-1]}.zip"}
    store.report_exports.insert_one(job)
    return _public(job)


def _job(store: Store, ctx: CallContext, export_id: str) -> dict[str, Any]:
    job = store.report_exports.find_one({"_id": str(export_id)})
    if job is None or job.get("tenant_id") != ctx.tenant_id or \
            (job.get("requested_by") != ctx.user_id and not ctx.has_role("tenant_admin", "system", "operator")):
        raise NotFound("report.export_not_found", "no such export", {"export_id": export_id})
    return job


def status(store: Store, ctx: CallContext, export_id: str, now: datetime) -> dict[str, Any]:
    return _public(_job(store, ctx, export_id), now)


def _done(store: Store, ctx: CallContext, export_id: str) -> dict[str, Any]:
    job = _job(store, ctx, export_id)
    if job.get("status") != "done" or not job.get("blob_id"):
        raise Conflict("report.export_not_ready", "the export is not ready yet",
                       {"export_id": export_id, "status": job.get("status"), "progress": job.get("progress", 0)})
    return job


def download(store: Store, ctx: CallContext, export_id: str) -> dict[str, Any]:
    """What a reader needs to stream the finished zip chunk by chunk (``download_chunk``):
    ``{filename, content_type, size, chunks}`` — the file itself never crosses in one piece."""
    job = _done(store, ctx, export_id)
    info = store.report_blobs.info(job["blob_id"])
    return {"filename": str(job.get("filename") or "visits.zip"), "content_type": info["content_type"],
            "size": info["length"], "chunks": info["chunks"]}


def download_chunk(store: Store, ctx: CallContext, export_id: str, n: Any) -> bytes:
    job = _done(store, ctx, export_id)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInput("report.invalid_chunk", "chunk: a whole number from 0", {"field": "chunk"})
    return store.report_blobs.read_chunk(job["blob_id"], n)


def download_chunk_b64(store: Store, ctx: CallContext, export_id: str, n: Any) -> dict[str, Any]:
    """``download_export_chunk``: one chunk of the finished zip, base64."""
    return {"chunk": n, "data_b64": base64.b64encode(download_chunk(store, ctx, export_id, n)).decode()}


def _progress(store: Store, export_id: str, now: Callable[[], datetime], progress: int, **extra: Any) -> None:
    store.report_exports.update_one({"_id": export_id},
                                    {"$set": {"progress": progress, "updated_at": now(), **extra}})


# -- workbooks ----------------------------------------------------------------------------------

def _book(sheets: list[tuple[str, list[str], list[list[Any]]]], tz: str) -> bytes:
    """One workbook: per sheet a header row of Chinese titles (the English key of each column
    in the cell's comment, times named with the tenant's zone), then the rows."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, keys, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append([R.safe_cell(R.header(k, tz)) for k in keys])
        for cell, key in zip(ws[1], keys, strict=True):
            cell.comment = Comment(key, "crm")
        for row in rows:
            ws.append([R.safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def workbooks(summary: dict[str, Any]) -> dict[str, bytes]:
    """File name -> xlsx bytes; the figures are exactly those of the JSON summary, times in
    the tenant's zone (``summary["time_zone"]``), statuses and sources with Chinese labels."""
    people = summary["people"]
    t = summary["totals"]
    tz = str(summary.get("time_zone") or "Asia/Shanghai")
    books: dict[str, bytes] = {}
    books["summary.xlsx"] = _book([
        ("summary", ["employee_id", "name", "planned", "actual", "completion_rate", "actual_per_day"],
         [[p["employee_id"], p["name"], p["planned"], p["actual"], p["completion_rate"], p["actual_per_day"]]
          for p in people] + [["total", "合计", t["planned"], t["actual"], None, None]]),
        ("ranking", ["rank", "employee_id", "name", "actual", "planned", "completion_rate"],
         [[r["rank"], r["employee_id"], r["name"], r["actual"], r["planned"], r["completion_rate"]]
          for r in summary["ranking"]]),
    ], tz)
    books["daily.xlsx"] = _book([
        ("series", ["day", "actual", "planned", "actual_per_person", "planned_per_person", "company_average"],
         [[s["day"], s["actual"], s["planned"], s["actual_per_person"], s["planned_per_person"],
           s["company_average"]] for s in summary["series"]]),
        ("by_person", ["employee_id", "name", "day", "planned", "actual"],
         [[p["employee_id"], p["name"], d["day"], d["planned"], d["actual"]] for p in people for d in p["daily"]]),
    ], tz)
    books["details.xlsx"] = _book([
        ("details", ["day", "employee_id", "employee_name", "customer_id", "customer_name", "address", "status",
                     "check_in_at", "check_out_at", "stay_minutes", "check_in_deviation_m", "check_out_deviation_m",
                     "location_source"],
         [[d["day"], d["employee_id"], d.get("employee_name"), d["customer_id"], d["customer_name"], d["address"],
           R.STATUS_LABELS.get(d["status"], d["status"]), R.local_time_text(d["check_in_at"], tz),
           R.local_time_text(d["check_out_at"], tz), d["stay_minutes"], d["check_in_deviation_m"],
           d["check_out_deviation_m"], R.SOURCE_LABELS.get(d["location_source"], d["location_source"])]
          for d in summary["details"]["items"]]),
    ], tz)
    trend = summary.get("trend") or {"kind": "months", "periods": []}
    books["trend.xlsx"] = _book([
        (f"trend_{trend['kind']}", ["period", "planned", "actual"],
         [[p["period"], p["planned"], p["actual"]] for p in trend["periods"]]),
    ], tz)
    return books


def zip_books(books: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in books.items():
            zf.writestr(name, data)
    return buf.getvalue()


def run(store: Store, export_id: str, summarize: Callable[[dict[str, Any]], dict[str, Any]],
        now: Callable[[], datetime], make_event: Callable[[dict[str, Any]], dict[str, Any]],
        publish_with: Callable[[dict[str, Any], Callable[[], None]], None]) -> dict[str, Any]:
    """Build the export ``export_id``: ``summarize(filters)`` gives the summary (with every
    detail row), ``make_event(data)`` the signed envelope, ``publish_with(env, write)`` runs
    ``write`` (the job marked done) with the event in the outbox (``kit.change``)."""
    job = store.report_exports.find_one({"_id": export_id})
    if job is None or job.get("status") not in ("queued", "running"):
        return job or {}
    _progress(store, export_id, now, 5, status="running")
    try:
        summary = summarize(dict(job.get("filters") or {}))
        _progress(store, export_id, now, 50)
        books = workbooks(summary)
        _progress(store, export_id, now, 80)
        blob_id = store.report_blobs.put(zip_books(books), ZIP_TYPE, {
            "tenant_id": job["tenant_id"], "export_id": export_id, "kind": "report_export"})
        ev = make_event({"export_id": export_id, "requested_by": job["requested_by"],
                         "download_url": DOWNLOAD_URL.format(id=export_id), "tenant_id": job["tenant_id"],
                         "filename": job.get("filename")})
        publish_with(ev, lambda: _progress(store, export_id, now, 100, status="done", blob_id=blob_id))
    except Exception as exc:  # the job records the failure; the caller sees it in status
        msg = getattr(exc, "message", None) or str(exc)
        _progress(store, export_id, now, int((store.report_exports.find_one({"_id": export_id}) or {})
                                          .get("progress", 0)), status="failed", error=str(msg)[:500])
        raise
    return store.report_exports.find_one({"_id": export_id}) or {}


def start_export(kit: WorkerKit, store: Store, identity: Identity, filters: Any) -> dict[str, Any]:
    """``start_summary_export``: the range and the scope checked now (404 now, not in the job),
    the caller's identity answers frozen for the job, the job run in the background; its
    ``report.export_ready`` event leaves with the job marked done (outbox)."""
    from visits import reports  # reports builds on this module's callers, not the reverse

    ctx = kit.ctx
    f = reports.check_filters(filters)
    tz = reports.time_zone(store, ctx.tenant_id)
    days = R.date_range(f, kit.now(), tz)
    R.check_export_range(days)
    frozen = reports.freeze_identity(ctx, identity, f)
    reports.resolve_scope(store, ctx, reports.FrozenIdentity(frozen), f)
    job = start(store, ctx, f, days, kit.now())
    export_id = job["export_id"]
    now = kit.now

    def summarize(jf: dict[str, Any]) -> dict[str, Any]:
        return reports.employee_summary(store, ctx, reports.FrozenIdentity(frozen), now(), jf,
                                        max_days=R.EXPORT_MAX_DAYS, all_details=True)

    def make_event(data: dict[str, Any]) -> dict[str, Any]:
        return kit.event("report.export_ready", data)

    def publish_with(ev: dict[str, Any], write: Callable[[], None]) -> None:
        with kit.change([ev], Check("report_exports", {"_id": export_id, "status": "done"})):
            write()

    eventlet.spawn_n(_run_quietly, store, export_id, summarize, now, make_event, publish_with)
    return job


def _run_quietly(store: Store, export_id: str, summarize: Callable[[dict[str, Any]], dict[str, Any]],
                 now: Callable[[], datetime], make_event: Callable[[dict[str, Any]], dict[str, Any]],
                 publish_with: Callable[[dict[str, Any], Callable[[], None]], None]) -> None:
    try:
        run(store, export_id, summarize, now, make_event, publish_with)
    except Exception:  # recorded on the job (status failed, error)
        log.exception("report export failed")
