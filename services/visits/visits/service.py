"""Nameko entrypoints of the visits service: each checks nothing itself beyond handing its
arguments to ONE use-case function and returning the answer (see the README's Layout)."""
from __future__ import annotations

import os
from typing import Any

import eventlet
from eventlet import tpool
from nameko.timer import timer

from crmkit import dbtrace
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from visits import events, fieldwork, planning, queries, review, settings, uploads
from visits.report_entrypoints import ReportEntrypoints
from visits.store import VisitsStore

EXPIRY_INTERVAL = float(os.environ.get("VISITS_EXPIRY_INTERVAL", "30"))


class VisitsService(ReportEntrypoints, BaseService):
    name = "visits"
    kit = Kit("visits")
    store = VisitsStore()  # visits, reports, photo and export blobs; every index of the service
    customers = TimedRpc(os.environ.get("VISITS_CUSTOMERS_SERVICE", "customers"), timeout=5)
    identity = TimedRpc(os.environ.get("VISITS_IDENTITY_SERVICE", "identity"), timeout=5)

    # -- settings ---------------------------------------------------------------------
    @api
    def get_settings(self) -> dict[str, Any]:
        return settings.get(self.store, self.kit.ctx)

    @api
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        return settings.update(self.store, self.kit.ctx, changes)

    # -- plans, tasks, routes -------------------------------------------------------------
    @api
    def plan_visit(self, data: dict[str, Any]) -> dict[str, Any]:
        return planning.plan_once(self.kit, self.store, self.customers, self.identity, eventlet.sleep, data)

    @api
    def create_route(self, data: dict[str, Any]) -> dict[str, Any]:
        return planning.create_route(self.kit, self.store, self.customers, self.identity, data)

    @api
    def update_route(self, route_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return planning.update_route(self.kit, self.store, self.customers, route_id, data)

    @api
    def get_route(self, route_id: str) -> dict[str, Any]:
        return planning.get_route(self.kit, self.store, route_id)

    @api
    def list_routes(self, employee_id: str | None = None) -> list[dict[str, Any]]:
        return planning.list_routes(self.kit, self.store, employee_id)

    @api
    def delete_route(self, route_id: str) -> dict[str, Any]:
        return planning.delete_route(self.kit, self.store, route_id)

    @api
    def suggest_route_order(self, route_id: str, apply: bool = False) -> dict[str, Any]:
        return planning.suggest_order(self.kit, self.store, route_id, bool(apply))

    @api
    def schedule_route(self, route_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return planning.schedule_route(self.kit, self.store, self.customers, self.identity, route_id, data)

    # -- doing the visit ---------------------------------------------------------------------
    @api
    def check_in(self, visit_id: str, data: dict[str, Any] | None = None, photo: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        with dbtrace.span("check_in"):
            return fieldwork.check_in(self.kit, self.store, dbtrace.rpcs(self.identity, "identity"), tpool.execute,
                                      eventlet.sleep, visit_id, data or {}, photo, idempotency_key)

    @api
    def upload_part(self, upload_id: str, index: int, data_b64: str) -> dict[str, Any]:
        """One part (≤ 1 MiB) of a check-in photo being uploaded, written once into the blob
        store; ``check_in`` then names it (``photo={"upload_id", "parts", "filename"}``). A
        part ending beyond the one photo size limit (``VISITS_PHOTO_MAX_BYTES``) is refused;
        the tenant's own ``max_photo_bytes`` (at most that) is checked by ``check_in``."""
        with dbtrace.span("upload_part"):
            return uploads.receive_part(self.store, self.kit.ctx, upload_id, index, data_b64, self.kit.now())

    @api
    def check_out(self, visit_id: str, data: dict[str, Any] | None = None,
                  idempotency_key: str | None = None) -> dict[str, Any]:
        return fieldwork.check_out(self.kit, self.store, self.identity, eventlet.sleep, visit_id, data or {},
                                   idempotency_key)

    @api
    def write_notes(self, visit_id: str, data: dict[str, Any] | None = None,
                    idempotency_key: str | None = None) -> dict[str, Any]:
        return fieldwork.write_notes(self.kit, self.store, self.identity, eventlet.sleep, visit_id, data or {},
                                     idempotency_key)

    # -- reads ------------------------------------------------------------------------------
    @api
    def get_visit(self, visit_id: str) -> dict[str, Any]:
        return queries.get_visit(self.kit, self.store, self.identity, visit_id)

    @api
    def list_my_visits(self, day: str | None = None, month: str | None = None, status: str | None = None,
                       limit: Any = 100, offset: Any = 0, employee_id: str | None = None) -> dict[str, Any]:
        return queries.my_visits(self.kit, self.store, self.identity, day, month, status, limit, offset,
                                 employee_id)

    @api
    def list_records(self, day: str | None = None, month: str | None = None, status: str | None = None,
                     employee_id: str | None = None, customer_id: str | None = None, limit: Any = 100,
                     offset: Any = 0, dept_id: str | None = None, from_day: str | None = None,
                     to_day: str | None = None) -> dict[str, Any]:
        return queries.records(self.kit, self.store, self.identity, day, month, status, employee_id, customer_id,
                               limit, offset, dept_id, from_day, to_day)

    @api
    def calendar(self, month: str | None = None, scope: str | None = None,
                 employee_id: str | None = None) -> dict[str, Any]:
        return queries.calendar(self.kit, self.store, self.identity, month, scope, employee_id)

    @api
    def get_photo(self, visit_id: str, kind: str = "watermarked") -> dict[str, Any]:
        return queries.photo(self.kit, self.store, self.identity, visit_id, kind)

    # -- review and expiry --------------------------------------------------------------------
    @api
    def review_queue(self, limit: Any = 100, offset: Any = 0) -> dict[str, Any]:
        return review.queue(self.kit, self.store, self.identity, limit, offset)

    @api
    def review_visit(self, visit_id: str, decision: str, reason: str | None = None) -> dict[str, Any]:
        return review.review(self.kit, self.store, self.identity, visit_id, decision, reason)

    @timer(interval=EXPIRY_INTERVAL)
    def _expire_due(self) -> None:
        review.sweep(self.kit, self.store)

    @timer(interval=600)
    def _purge_uploads(self) -> None:
        """Parts of check-in photos that were never used."""
        uploads.purge(self.store, self.kit.now())

    @api
    def _test_expire_now(self) -> dict[str, Any]:
        self.kit.require_test_hooks()
        return review.expire_now(self.kit, self.store)

    @api
    def handover_preview(self, employee_id: str) -> dict[str, Any]:
        return planning.handover_preview(self.kit, self.store, self.kit.ctx, self.identity, employee_id)

    # -- events ---------------------------------------------------------------------------------
    @subscribe("customers", "customer.created")
    def on_customer_created(self, event: dict[str, Any]) -> None:
        events.customer_facts(self.store, event)

    @subscribe("customers", "customer.updated")
    def on_customer_updated(self, event: dict[str, Any]) -> None:
        events.customer_facts(self.store, event)

    @subscribe("customers", "customer.deleted")
    def on_customer_deleted(self, event: dict[str, Any]) -> None:
        events.customer_deleted(self.store, event)

    @subscribe("customers", "customer.restored")
    def on_customer_restored(self, event: dict[str, Any]) -> None:
        events.customer_facts(self.store, event, restored=True)

    @subscribe("customers", "customer.owner_changed")
    def on_customer_owner_changed(self, event: dict[str, Any]) -> None:
        events.owner_changed(self.store, event)

    @subscribe("identity", "employee.left")
    def on_employee_left(self, event: dict[str, Any]) -> None:
        events.employee_left(self.kit, self.store, event)
