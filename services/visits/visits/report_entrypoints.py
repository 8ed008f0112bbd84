"""Nameko entrypoints of the visit reports — a mixin for ``VisitsService``::

    class VisitsService(ReportEntrypoints, BaseService): ...

Thin: each method hands its filters to :mod:`visits.reports` / :mod:`visits.report_exports`.
Filters (all optional): ``from``/``to`` (YYYY-MM-DD, tenant's local days; default this
month to today), ``dept_id`` (subtree), ``employee_id``, ``validated_only``, ``trend``
(months|weeks), ``since`` (coverage), ``group_by`` (person|dept), ``limit``/``offset``
(details).
"""
from __future__ import annotations

import base64
from typing import Any

import eventlet
from eventlet import tpool

from crmkit.errors import InvalidInput
from crmkit.nameko.events import subscribe
from crmkit.nameko.rpc import TimedRpc, api
from crmkit.outbox import Check
from visits import charts, inputs, report_exports, reports
from visits import report_rules as R
from visits.dependencies import BlobStore


def _filters(filters: Any) -> dict[str, Any]:
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise InvalidInput("report.bad_filters", "filters must be an object")
    return dict(filters)


class ReportEntrypoints:
    report_blobs = BlobStore("report_blobs", reports.ensure_indexes)  # export zips
    report_identity = TimedRpc("identity", timeout=5)
    report_pool = TimedRpc("pool", timeout=5)
    kit: Any

    # -- reports --------------------------------------------------------------------------
    @api
    def employee_visit_summary(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.employee_summary(self.kit.db, self.kit.ctx, self.report_identity, self.kit.now(),
                                        _filters(filters))

    @api
    def customer_visit_summary(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.customer_summary(self.kit.db, self.kit.ctx, self.report_identity, self.kit.now(),
                                        _filters(filters))

    @api
    def coverage(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.coverage(self.kit.db, self.kit.ctx, self.report_identity, self.kit.now(), _filters(filters))

    @api
    def targets_vs_actual(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.targets_vs_actual(self.kit.db, self.kit.ctx, self.report_identity, self.report_pool,
                                         self.kit.now(), _filters(filters))

    @api
    def get_report_settings(self) -> dict[str, Any]:
        return {"cadence": reports.cadence(self.kit.db, self.kit.ctx.tenant_id)}

    @api
    def update_report_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        changes = inputs.obj(changes, "changes", code="report.bad_cadence", required=False)
        return {"cadence": reports.save_cadence(self.kit.db, self.kit.ctx, changes.get("cadence"))}

    @api
    def report_chart(self, kind: str, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        if kind not in charts.KINDS:
            raise InvalidInput("report.bad_chart", f"chart kinds are {', '.join(charts.KINDS)}", {"kind": kind})
        f = _filters(filters)
        if kind == "employee-visits":
            data = reports.employee_summary(self.kit.db, self.kit.ctx, self.report_identity, self.kit.now(), f)
        else:
            data = reports.customer_summary(self.kit.db, self.kit.ctx, self.report_identity, self.kit.now(), f)
        png = tpool.execute(charts.render, kind, data)
        return {"content_type": "image/png", "data_b64": base64.b64encode(png).decode()}

    # -- export -------------------------------------------------------------------------------
    @api
    def start_summary_export(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        kit, ctx = self.kit, self.kit.ctx
        f = _filters(filters)
        tz = reports.time_zone(kit.db, ctx.tenant_id)
        days = R.date_range(f, kit.now(), tz)
        R.check_export_range(days)
        frozen = reports.freeze_identity(ctx, self.report_identity, f)
        reports.resolve_scope(kit.db, ctx, reports.FrozenIdentity(frozen), f)  # 404 now, not in the job
        job = report_exports.start(kit.db, ctx, f, days, kit.now())
        export_id = job["export_id"]
        db, blobs, now = kit.db, self.report_blobs, kit.now

        def summarize(jf: dict[str, Any]) -> dict[str, Any]:
            return reports.employee_summary(db, ctx, reports.FrozenIdentity(frozen), now(), jf,
                                            max_days=R.EXPORT_MAX_DAYS, all_details=True)

        def make_event(data: dict[str, Any]) -> dict[str, Any]:
            return kit.event("report.export_ready", data)

        def publish_with(ev: dict[str, Any], write: Any) -> None:
            with kit.change([ev], Check("report_exports", {"_id": export_id, "status": "done"})):
                write()

        eventlet.spawn_n(_run_quietly, db, blobs, export_id, summarize, now, make_event, publish_with)
        return job

    @api
    def export_status(self, export_id: str) -> dict[str, Any]:
        return report_exports.status(self.kit.db, self.kit.ctx, export_id, self.kit.now())

    @api
    def download_export(self, export_id: str) -> dict[str, Any]:
        """``{filename, content_type, size, chunks}``; the bytes come with ``download_export_chunk``."""
        return report_exports.download(self.kit.db, self.report_blobs, self.kit.ctx, export_id)

    @api
    def download_export_chunk(self, export_id: str, chunk: int) -> dict[str, Any]:
        data = report_exports.download_chunk(self.kit.db, self.report_blobs, self.kit.ctx, export_id, chunk)
        return {"chunk": chunk, "data_b64": base64.b64encode(data).decode()}

    # -- read models ------------------------------------------------------------------------------
    @subscribe("identity", "employee.created")
    def on_report_employee_created(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.kit.db, event)

    @subscribe("identity", "employee.updated")
    def on_report_employee_updated(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.kit.db, event)

    @subscribe("identity", "employee.joined")
    def on_report_employee_joined(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.kit.db, event)

    @subscribe("identity", "department.created")
    def on_report_department_created(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.kit.db, event)

    @subscribe("identity", "department.updated")
    def on_report_department_updated(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.kit.db, event)

    @subscribe("identity", "department.deleted")
    def on_report_department_deleted(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.kit.db, event)

    @subscribe("customers", "customer.created")
    def on_report_customer_created(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.kit.db, event)

    @subscribe("customers", "customer.updated")
    def on_report_customer_updated(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.kit.db, event)

    @subscribe("customers", "customer.deleted")
    def on_report_customer_deleted(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.kit.db, event)

    @subscribe("customers", "customer.restored")
    def on_report_customer_restored(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.kit.db, event)

    @subscribe("customers", "customer.owner_changed")
    def on_report_owner_changed(self, event: dict[str, Any]) -> None:
        reports.on_activity_event(self.kit.db, event)

    @subscribe("customers", "customer.contact_noted")
    def on_report_contact_noted(self, event: dict[str, Any]) -> None:
        reports.on_activity_event(self.kit.db, event)


def _run_quietly(*args: Any) -> None:
    try:
        report_exports.run(*args)
    except Exception:  # recorded on the job (status failed, error)
        import logging
        logging.getLogger(__name__).exception("report export failed")
