"""Nameko entrypoints of the pool service: each checks its arguments (:mod:`pool.inputs`),
calls one function of a use-case module and returns its answer (see the README's Layout)."""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from nameko.timer import timer

from crmkit import dbtrace
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from pool import inputs, orphans, ownership, readmodel, reclaim, requests, search
from pool.store import PoolStore

log = logging.getLogger(__name__)

SWEEP_INTERVAL = float(os.environ.get("POOL_SWEEP_INTERVAL", "3600"))
ORPHAN_INTERVAL = float(os.environ.get("POOL_ORPHAN_INTERVAL", "900"))
_id = inputs.required_id


class PoolService(BaseService):
    name = "pool"
    # customer.owner_changed is the pool's (it owns ownership) and travels where customer facts do
    kit = Kit("pool", topics={"customer.owner_changed": "customers"})
    store = PoolStore()
    customers = TimedRpc("customers", timeout=10)
    identity = TimedRpc("identity", timeout=3)

    # ------------------------------------------------------------------ pool search
    @api
    def search_pool(self, keyword: str | None = None, released_from: str | None = None,
                    released_to: str | None = None, previous_owner_dept_id: str | None = None,
                    grade: str | None = None, page: Any = 1, page_size: Any = 20) -> dict[str, Any]:
        return search.search_pool(self.kit, self.store, keyword=keyword, released_from=released_from,
                                  released_to=released_to, previous_owner_dept_id=previous_owner_dept_id,
                                  grade=grade, page=page, page_size=page_size)

    @api
    def get_pool_customer(self, customer_id: str) -> dict[str, Any]:
        return ownership.pool_customer(self.kit, self.store, _id(customer_id, "customer_id"))

    # ------------------------------------------------------------- ownership commands
    @api
    def claim_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        cid, body = _id(customer_id, "customer_id"), inputs.obj(data)
        with dbtrace.span("claim_customer"):
            return ownership.claim_customer(self.kit, self.store, cid, body)

    @api
    def release_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                         idempotency_key: str | None = None) -> dict[str, Any]:
        return ownership.release(self.kit, self.store, _id(customer_id, "customer_id"), inputs.obj(data))

    @api
    def assign_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                        idempotency_key: str | None = None) -> dict[str, Any]:
        return ownership.assign(self.kit, self.store, self.identity, _id(customer_id, "customer_id"),
                                inputs.obj(data))

    @api
    def capacity(self, owner_id: str | None = None) -> dict[str, Any]:
        """``owner_id``'s private-pool figures (default: the caller's); 404 for anyone the caller
        may not see (see :mod:`pool.access`)."""
        owner = inputs.ident(owner_id, "owner_id", required=False) or self.kit.ctx.user_id
        return ownership.capacity_for(self.kit, self.store, self.identity, owner)

    @api
    def check_capacity(self, owner_id: str, adding: int = 1) -> dict[str, Any]:
        """For the customers service before an entry or import: BusinessRule when full."""
        return ownership.reserve_check(self.kit, self.store, _id(owner_id, "owner_id"),
                                       inputs.integer(adding, "adding", default=1, lo=0, hi=100_000))

    # -------------------------------------------- ownership for the customers service
    # Not routed by the gateway: the customers service calls these after its own rights
    # checks (visibility, roles, active employees); here the tenant and the log decide.
    @api
    def enter(self, customer_ids: Any, owner_id: str, path: str = "entry", import_id: str | None = None,
              facts: Any = None) -> dict[str, Any]:
        """Before customers writes new customers: the owner's slots (exact capacity) and the
        log rows (seq 1), all or nothing; each row starts with the customer's search ``facts``.
        BusinessRule ``pool.capacity_full``."""
        ids = inputs.id_list(customer_ids, "customer_ids", hi=ownership.MAX_ENTRY)
        return ownership.enter(self.kit, self.store, ids, _id(owner_id, "owner_id"), inputs.entry_path(path),
                               inputs.ident(import_id, "import_id", required=False), inputs.entry_facts(facts, ids))

    @api
    def cancel_entry(self, customer_ids: Any, owner_id: str, import_id: str | None = None) -> dict[str, Any]:
        """The customer write after ``enter`` failed: its slots and log rows go."""
        ids = inputs.id_list(customer_ids, "customer_ids", hi=ownership.MAX_ENTRY)
        return ownership.cancel_entry(self.kit, self.store, ids, _id(owner_id, "owner_id"),
                                      inputs.ident(import_id, "import_id", required=False))

    @api
    def change_owner(self, customer_id: str, expected_owner_id: str | None, new_owner_id: str | None,
                     path: str, reason: str | None = None, unowned: bool = False,
                     capacity: str | None = "overflow") -> dict[str, Any]:
        """One move (transfer, bind, handover, restore, delete, an admin's change_owner):
        ``{customer_id, from_owner_id, to_owner_id, seq, path, at, unowned, reason, event_id}``."""
        path = ownership.validate_path(path)
        why, mode = inputs.move_args(reason, capacity)
        return ownership.change_owner(
            self.kit, self.store, self.identity, _id(customer_id, "customer_id"),
            expected=inputs.ident(expected_owner_id, "expected_owner_id", required=False),
            new=inputs.ident(new_owner_id, "new_owner_id", required=False), path=path, reason=why,
            capacity=mode, unowned=bool(unowned))

    @api
    def ownership_history(self, customer_id: str) -> list[dict[str, Any]]:
        """The ownership log of a customer of the caller's tenant (customers checks who may read it)."""
        return ownership.history(self.kit, self.store, self.kit.ctx.tenant_id, _id(customer_id, "customer_id"))

    @api
    def check_protection(self, customer_id: str, user_id: str | None = None) -> dict[str, Any]:
        """Whether ``user_id`` (default: the caller) may take the customer; BusinessRule when protected."""
        return ownership.protection_of(self.kit, self.store, _id(customer_id, "customer_id"),
                                       inputs.ident(user_id, "user_id", required=False))

    # ------------------------------------------------------------------------ rules
    @api
    def get_rules(self) -> dict[str, Any]:
        return reclaim.get_rules(self.kit, self.store)

    @api
    def update_rules(self, data: Any = None) -> dict[str, Any]:
        return reclaim.update_rules(self.kit, self.store, data)

    @api
    def preview_rules(self, data: Any = None, days: Any = 30) -> dict[str, Any]:
        return reclaim.preview(self.kit, self.store, inputs.rules_patch(data), days)

    # ---------------------------------------------------------------------- reclaim
    @api
    def run_reclaim_sweep(self, crash_after: int | None = None) -> dict[str, Any]:
        """Admin trigger: the sweep for the caller's tenant now (``crash_after``: test hooks only)."""
        return reclaim.run_sweep(self.kit, self.store, crash_after)

    @timer(interval=SWEEP_INTERVAL)
    def _reclaim_timer(self) -> None:
        reclaim.timed_sweep(self.kit, self.store)

    @timer(interval=3600)
    def _pool_housekeeping(self) -> None:
        ownership.purge_old_claim_slots(self.kit, self.store)

    @timer(interval=ORPHAN_INTERVAL)
    def _orphan_timer(self) -> None:
        orphans.timed_sweep(self.kit, self.store, self.customers)

    @api
    def _test_sweep_orphaned_entries(self, older_than_seconds: Any = 900) -> dict[str, Any]:
        """Test hook: the sweep of entries whose customer was never written, now."""
        self.kit.require_test_hooks()
        age = inputs.integer(older_than_seconds, "older_than_seconds", default=900, lo=0, hi=86_400)
        return orphans.sweep(self.kit, self.store, self.customers, timedelta(seconds=age))

    @api
    def reclaim_log(self, customer_id: str | None = None, limit: Any = 200) -> list[dict[str, Any]]:
        code = "pool.reclaims_invalid"
        cid = inputs.ident(customer_id, "customer_id", required=False, code=code)
        return reclaim.reclaim_log(self.kit, self.store, cid,
                                   inputs.integer(limit, "limit", default=200, lo=1, hi=1000, code=code))

    @api
    def reclaim_warnings(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        cid = inputs.ident(customer_id, "customer_id", required=False, code="pool.reclaims_invalid")
        return reclaim.reclaim_warnings(self.kit, self.store, cid)

    # --------------------------------------------------------------- claim requests
    @api
    def submit_claim_request(self, data: Any = None, idempotency_key: str | None = None) -> dict[str, Any]:
        return requests.submit(self.kit, self.store, self.customers, data)

    @api
    def list_claim_requests(self, status: str | None = None, page: Any = None, page_size: Any = None
                            ) -> dict[str, Any]:
        code = "pool.request_status"
        pg, size = inputs.optional_page(page, page_size, code)
        return requests.list_requests(self.kit, self.store, inputs.text(status, "status", limit=20, code=code),
                                      pg, size)

    @api
    def approve_claim_request(self, request_id: str, data: Any = None) -> dict[str, Any]:
        return requests.decide(self.kit, self.store, _id(request_id, "request_id"), data, approve=True)

    @api
    def reject_claim_request(self, request_id: str, data: Any = None) -> dict[str, Any]:
        return requests.decide(self.kit, self.store, _id(request_id, "request_id"), data, approve=False)

    @api
    def _test_seed_holdings(self, owner_id: str, count: int) -> dict[str, Any]:
        """Test hook: fill ``count`` capacity slots of ``owner_id`` in the caller's tenant
        directly (placeholders, not customers), to test the capacity race cheaply."""
        self.kit.require_test_hooks()
        return ownership.seed_holdings(self.kit, self.store, _id(owner_id, "owner_id"),
                                       inputs.integer(count, "count", default=0, lo=0, hi=100_000))

    @api
    def _test_pause(self, point: str, seconds: float = 0.0) -> dict[str, Any]:
        """Test hook: sleep ``seconds`` at a named point of a command (``claim.after_hold``:
        a claim that took the (owner, customer) hold, before it asks customers)."""
        return ownership.set_test_pause(self.kit, point, seconds)

    # ---------------------------------------------------------------------- targets
    @api
    def daily_targets(self, day: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        """``user_id``'s targets and actuals (default: the caller's); 404 for anyone the caller
        may not see (see :mod:`pool.access`)."""
        who = inputs.ident(user_id, "user_id", required=False, code="pool.targets_invalid") or self.kit.ctx.user_id
        d = inputs.day(day, "day", code="pool.targets_invalid") if day else None
        return search.daily_targets(self.kit, self.store, self.identity, d, who)

    # ----------------------------------------------------------------------- events
    @subscribe("customers", "customer.created")
    def on_customer_created(self, event: dict[str, Any]) -> None:
        readmodel.on_customer_created(self.kit, self.store, event)

    @subscribe("customers", "customer.updated")
    def on_customer_updated(self, event: dict[str, Any]) -> None:
        readmodel.on_customer_upserted(self.kit, self.store, event)

    @subscribe("customers", "customer.deleted")
    def on_customer_deleted(self, event: dict[str, Any]) -> None:
        readmodel.on_customer_deleted(self.kit, self.store, event)

    @subscribe("customers", "customer.restored")
    def on_customer_restored(self, event: dict[str, Any]) -> None:
        readmodel.on_customer_upserted(self.kit, self.store, event, restored=True)

    @subscribe("customers", "customer.contact_noted")
    def on_contact_noted(self, event: dict[str, Any]) -> None:
        readmodel.on_clock_event(self.kit, self.store, event, "last_contact_at")

    @subscribe("customers", "customer.deal_signed")
    def on_deal_signed(self, event: dict[str, Any]) -> None:
        readmodel.on_clock_event(self.kit, self.store, event, "last_deal_at")

    @subscribe("visits", "visit.completed")
    def on_visit_completed(self, event: dict[str, Any]) -> None:
        readmodel.on_clock_event(self.kit, self.store, event, "last_visit_at")
