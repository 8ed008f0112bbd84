"""Nameko entrypoints of the visits service: thin, they turn messages into calls."""
from __future__ import annotations

import os
from typing import Any

import eventlet
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.timer import timer

from crmkit import dbtrace
from crmkit.clock import iso
from crmkit.errors import Forbidden
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from visits import fieldwork, inputs, planning, queries, review, store, uploads
from visits.dependencies import BlobStore
from visits.report_entrypoints import ReportEntrypoints

EXPIRY_INTERVAL = float(os.environ.get("VISITS_EXPIRY_INTERVAL", "30"))


_SWEEP = Semaphore(1)


def _sleep(seconds: float) -> None:
    eventlet.sleep(seconds)


class VisitsService(ReportEntrypoints, BaseService):
    name = "visits"
    kit = Kit("visits")
    blobs = BlobStore("blobs", store.ensure_indexes)  # photos; also ensures the service's indexes
    customers = TimedRpc(os.environ.get("VISITS_CUSTOMERS_SERVICE", "customers"), timeout=5)
    identity = TimedRpc(os.environ.get("VISITS_IDENTITY_SERVICE", "identity"), timeout=5)

    # -- settings ---------------------------------------------------------------------
    @api
    def get_settings(self) -> dict[str, Any]:
        return store.settings(self.kit.db, self.kit.ctx.tenant_id)

    @api
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        ctx = self.kit.ctx
        if not ctx.has_role("tenant_admin", "system", "operator"):
            raise Forbidden("settings.forbidden", "only the tenant admin changes visit settings")
        return store.save_settings(self.kit.db, ctx.tenant_id, inputs.obj(changes, "changes", code="settings.invalid"))

    # -- plans, tasks, routes -------------------------------------------------------------
    @api
    def plan_visit(self, data: dict[str, Any]) -> dict[str, Any]:
        # the Idempotency-Key travels in the signed context: a retried plan makes one visit
        return fieldwork.idempotent(self.kit, f"plan:{self.kit.ctx.user_id}", "plan", self.kit.ctx.idempotency_key,
                                    _sleep, lambda: planning.plan(self.kit, self.customers, self.identity, data))

    @api
    def create_route(self, data: dict[str, Any]) -> dict[str, Any]:
        return planning.create_route(self.kit, self.customers, self.identity, data)

    @api
    def update_route(self, route_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return planning.update_route(self.kit, self.customers, route_id, data)

    @api
    def get_route(self, route_id: str) -> dict[str, Any]:
        return planning.get_route(self.kit, route_id)

    @api
    def list_routes(self, employee_id: str | None = None) -> list[dict[str, Any]]:
        return planning.list_routes(self.kit, employee_id)

    @api
    def delete_route(self, route_id: str) -> dict[str, Any]:
        return planning.delete_route(self.kit, route_id)

    @api
    def suggest_route_order(self, route_id: str, apply: bool = False) -> dict[str, Any]:
        return planning.suggest_order(self.kit, route_id, bool(apply))

    @api
    def schedule_route(self, route_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return planning.schedule_route(self.kit, self.customers, self.identity, route_id, data)

    # -- doing the visit ---------------------------------------------------------------------
    @api
    def check_in(self, visit_id: str, data: dict[str, Any] | None = None, photo: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        with dbtrace.span("check_in"):
            return fieldwork.check_in(self.kit, dbtrace.rpcs(self.identity, "identity"), self.blobs, tpool.execute,
                                      _sleep, visit_id, data or {}, photo, idempotency_key)

    @api
    def upload_part(self, upload_id: str, index: int, data_b64: str) -> dict[str, Any]:
        """One part (≤ 1 MiB) of a check-in photo being uploaded, written once into the blob
        store; ``check_in`` then names it (``photo={"upload_id", "parts", "filename"}``). A
        part ending beyond the one photo size limit (``VISITS_PHOTO_MAX_BYTES``) is refused;
        the tenant's own ``max_photo_bytes`` (at most that) is checked by ``check_in``."""
        ctx = self.kit.ctx
        with dbtrace.span("upload_part"):
            return uploads.store_part(self.blobs, ctx.tenant_id, ctx.user_id, upload_id, index, data_b64,
                                      self.kit.now(), store.PHOTO_BOUNDS.max_bytes)

    @api
    def check_out(self, visit_id: str, data: dict[str, Any] | None = None,
                  idempotency_key: str | None = None) -> dict[str, Any]:
        return fieldwork.check_out(self.kit, self.identity, _sleep, visit_id, data or {}, idempotency_key)

    @api
    def write_notes(self, visit_id: str, data: dict[str, Any] | None = None,
                    idempotency_key: str | None = None) -> dict[str, Any]:
        return fieldwork.write_notes(self.kit, self.identity, _sleep, visit_id, data or {}, idempotency_key)

    # -- reads ------------------------------------------------------------------------------
    @api
    def get_visit(self, visit_id: str) -> dict[str, Any]:
        return queries.get_visit(self.kit, self.identity, visit_id)

    @api
    def list_my_visits(self, day: str | None = None, month: str | None = None, status: str | None = None,
                       limit: Any = 100, offset: Any = 0, employee_id: str | None = None) -> dict[str, Any]:
        return queries.my_visits(self.kit, self.identity, day, month, status, limit, offset, employee_id)

    @api
    def list_records(self, day: str | None = None, month: str | None = None, status: str | None = None,
                     employee_id: str | None = None, customer_id: str | None = None, limit: Any = 100,
                     offset: Any = 0, dept_id: str | None = None, from_day: str | None = None,
                     to_day: str | None = None) -> dict[str, Any]:
        return queries.records(self.kit, self.identity, day, month, status, employee_id, customer_id, limit, offset,
                               dept_id, from_day, to_day)

    @api
    def calendar(self, month: str | None = None, scope: str | None = None,
                 employee_id: str | None = None) -> dict[str, Any]:
        return queries.calendar(self.kit, self.identity, month, scope, employee_id)

    @api
    def get_photo(self, visit_id: str, kind: str = "watermarked") -> dict[str, Any]:
        return queries.photo(self.kit, self.identity, self.blobs, visit_id, kind)

    # -- review and expiry --------------------------------------------------------------------
    @api
    def review_queue(self, limit: Any = 100, offset: Any = 0) -> dict[str, Any]:
        return review.queue(self.kit, self.identity, limit, offset)

    @api
    def review_visit(self, visit_id: str, decision: str, reason: str | None = None) -> dict[str, Any]:
        return review.review(self.kit, self.identity, visit_id, decision, reason)

    @timer(interval=EXPIRY_INTERVAL)
    def _expire_due(self) -> None:
        if not _SWEEP.acquire(blocking=False):  # the previous sweep still runs
            return
        try:
            review.expire_due(self.kit)
        finally:
            _SWEEP.release()

    @timer(interval=600)
    def _purge_uploads(self) -> None:
        """Parts of check-in photos that were never used."""
        uploads.purge_stale(self.blobs, self.kit.db, self.kit.now(), store.PHOTO_BOUNDS.max_bytes)


    @api
    def _test_expire_now(self) -> dict[str, Any]:
        self.kit.require_test_hooks()
        return {"expired": review.expire_due(self.kit), "now": iso(self.kit.now())}

    # -- events ---------------------------------------------------------------------------------
    @subscribe("customers", "customer.created")
    def on_customer_created(self, event: dict[str, Any]) -> None:
        self._customer_facts(event)

    @subscribe("customers", "customer.updated")
    def on_customer_updated(self, event: dict[str, Any]) -> None:
        self._customer_facts(event)

    @subscribe("customers", "customer.deleted")
    def on_customer_deleted(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        if data.get("customer_id"):
            store.upsert_customer_rm(self.kit.db, event["tenant_id"], str(data["customer_id"]), {"deleted": True})

    @subscribe("customers", "customer.restored")
    def on_customer_restored(self, event: dict[str, Any]) -> None:
        self._customer_facts(event, restored=True)

    @subscribe("customers", "customer.owner_changed")
    def on_customer_owner_changed(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        tenant, cid = event["tenant_id"], str(data.get("customer_id") or "")
        if not cid:
            return
        seq = data.get("seq")
        row = store.get_customer_rm(self.kit.db, tenant, cid) or {}
        if seq is not None and row.get("owner_seq") is not None and int(row["owner_seq"]) >= int(seq):
            return  # an older change arriving late
        owner = data.get("to_owner_id")
        store.upsert_customer_rm(self.kit.db, tenant, cid, {"owner_id": owner,
                                                             "owner_seq": int(seq) if seq is not None else 0})
        store.set_owner_of_customer(self.kit.db, tenant, cid, owner)

    @api
    def handover_preview(self, employee_id: str) -> dict[str, Any]:
        return planning.handover_preview(self.kit, self.kit.ctx, self.identity, employee_id)

    @subscribe("identity", "employee.left")
    def on_employee_left(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        if data.get("employee_id"):
            planning.hand_over(self.kit, event["tenant_id"], str(data["employee_id"]), data.get("handover_to"))

    def _customer_facts(self, event: dict[str, Any], *, restored: bool = False) -> None:
        data = event.get("data") or {}
        cid = data.get("customer_id") or data.get("id") or (data.get("customer") or {}).get("id")
        if not cid:
            return
        facts = planning.customer_facts(data)
        tenant = event["tenant_id"]
        row = store.get_customer_rm(self.kit.db, tenant, str(cid)) or {}
        fields = {k: facts[k] for k in ("name", "cbm_id", "kind", "address") if facts.get(k)}
        if facts.get("owner_id") is not None and row.get("owner_seq") is None:
            fields["owner_id"] = facts["owner_id"]
        if restored:
            fields["deleted"] = False
        store.upsert_customer_rm(self.kit.db, tenant, str(cid), fields)
        if "owner_id" in fields:
            store.set_owner_of_customer(self.kit.db, tenant, str(cid), fields["owner_id"])
