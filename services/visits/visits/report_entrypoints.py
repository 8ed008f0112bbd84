"""Nameko entrypoints of the visit reports — a mixin for ``VisitsService``::

    class VisitsService(ReportEntrypoints, BaseService): ...

Entrypoints only: each method hands its filters to ONE function of :mod:`visits.reports` /
:mod:`visits.report_exports`. Filters (all optional): ``from``/``to`` (YYYY-MM-DD, tenant's
local days; default this month to today), ``dept_id`` (subtree), ``employee_id``,
``validated_only``, ``trend`` (months|weeks), ``since`` (coverage), ``group_by``
(person|dept), ``limit``/``offset`` (details).
"""
from __future__ import annotations

from typing import Any

from eventlet import tpool

from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import WorkerKit
from crmkit.nameko.rpc import TimedRpc, api
from visits import report_exports, reports
from visits.store import VisitsStore


class ReportEntrypoints:
    store = VisitsStore()  # the service's one storage provider (the reports' read models, export zips)
    report_identity = TimedRpc("identity", timeout=5)
    report_pool = TimedRpc("pool", timeout=5)
    kit: WorkerKit

    # -- reports --------------------------------------------------------------------------
    @api
    def employee_visit_summary(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.employee_summary(self.store, self.kit.ctx, self.report_identity, self.kit.now(), filters)

    @api
    def customer_visit_summary(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.customer_summary(self.store, self.kit.ctx, self.report_identity, self.kit.now(), filters)

    @api
    def coverage(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.coverage(self.store, self.kit.ctx, self.report_identity, self.kit.now(), filters)

    @api
    def targets_vs_actual(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.targets_vs_actual(self.store, self.kit.ctx, self.report_identity, self.report_pool,
                                         self.kit.now(), filters)

    @api
    def get_report_settings(self) -> dict[str, Any]:
        return reports.report_settings(self.store, self.kit.ctx)

    @api
    def update_report_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        return reports.update_report_settings(self.store, self.kit.ctx, changes)

    @api
    def report_chart(self, kind: str, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return reports.chart(self.store, self.kit.ctx, self.report_identity, self.kit.now(), tpool.execute, kind,
                             filters)

    # -- export -------------------------------------------------------------------------------
    @api
    def start_summary_export(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return report_exports.start_export(self.kit, self.store, self.report_identity, filters)

    @api
    def export_status(self, export_id: str) -> dict[str, Any]:
        return report_exports.status(self.store, self.kit.ctx, export_id, self.kit.now())

    @api
    def download_export(self, export_id: str) -> dict[str, Any]:
        """``{filename, content_type, size, chunks}``; the bytes come with ``download_export_chunk``."""
        return report_exports.download(self.store, self.kit.ctx, export_id)

    @api
    def download_export_chunk(self, export_id: str, chunk: int) -> dict[str, Any]:
        return report_exports.download_chunk_b64(self.store, self.kit.ctx, export_id, chunk)

    # -- read models ------------------------------------------------------------------------------
    @subscribe("identity", "employee.created")
    def on_report_employee_created(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.store, event)

    @subscribe("identity", "employee.updated")
    def on_report_employee_updated(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.store, event)

    @subscribe("identity", "employee.joined")
    def on_report_employee_joined(self, event: dict[str, Any]) -> None:
        reports.on_employee_event(self.store, event)

    @subscribe("identity", "department.created")
    def on_report_department_created(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.store, event)

    @subscribe("identity", "department.updated")
    def on_report_department_updated(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.store, event)

    @subscribe("identity", "department.deleted")
    def on_report_department_deleted(self, event: dict[str, Any]) -> None:
        reports.on_department_event(self.store, event)

    @subscribe("customers", "customer.created")
    def on_report_customer_created(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.store, event)

    @subscribe("customers", "customer.updated")
    def on_report_customer_updated(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.store, event)

    @subscribe("customers", "customer.deleted")
    def on_report_customer_deleted(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.store, event)

    @subscribe("customers", "customer.restored")
    def on_report_customer_restored(self, event: dict[str, Any]) -> None:
        reports.on_customer_event(self.store, event)

    @subscribe("customers", "customer.owner_changed")
    def on_report_owner_changed(self, event: dict[str, Any]) -> None:
        reports.on_activity_event(self.store, event)

    @subscribe("customers", "customer.contact_noted")
    def on_report_contact_noted(self, event: dict[str, Any]) -> None:
        reports.on_activity_event(self.store, event)
