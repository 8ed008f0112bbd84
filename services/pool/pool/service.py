"""Nameko entrypoints of the pool service: thin, they turn messages into calls."""
from __future__ import annotations

import logging
import os
from typing import Any

from nameko.timer import timer

from crmkit import dbtrace
from crmkit.clock import iso
from crmkit.errors import Forbidden, InvalidInput, NotFound
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from pool import access, inputs, ownership, readmodel, reclaim, requests, search, store
from pool import rules as R

log = logging.getLogger(__name__)

SWEEP_INTERVAL = float(os.environ.get("POOL_SWEEP_INTERVAL", "3600"))


def _id(value: Any, field: str) -> str:
    return str(inputs.ident(value, field))


class PoolService(BaseService):
    name = "pool"
    # customer.owner_changed is the pool's (it owns ownership) and travels where customer facts do
    kit = Kit("pool", topics={"customer.owner_changed": "customers"})
    customers = TimedRpc("customers", timeout=10)
    identity = TimedRpc("identity", timeout=3)

    _indexed = False

    def _db(self) -> Any:
        if not PoolService._indexed:
            store.ensure_indexes(self.kit.db)
            PoolService._indexed = True
        return self.kit.db

    # ------------------------------------------------------------------ pool search
    @api
    def search_pool(self, keyword: str | None = None, released_from: str | None = None,
                    released_to: str | None = None, previous_owner_dept_id: str | None = None,
                    grade: str | None = None, page: Any = 1, page_size: Any = 20) -> dict[str, Any]:
        self._db()
        return search.search_pool(self.kit, keyword=keyword, released_from=released_from, released_to=released_to,
                                  previous_owner_dept_id=previous_owner_dept_id, grade=grade, page=page,
                                  page_size=page_size)

    @api
    def get_pool_customer(self, customer_id: str) -> dict[str, Any]:
        ctx = self.kit.ctx
        row = store.get_customer(self._db(), ctx.tenant_id, _id(customer_id, "customer_id"))
        if row is None:
            raise NotFound("pool.customer_not_found", "no such customer")
        mine = row.get("owner_id") == ctx.user_id
        if row.get("owner_id") and not mine and not ctx.has_role("tenant_admin", "all_customers", "support",
                                                                   "dept_admin", "system"):
            raise NotFound("pool.customer_not_found", "no such customer")
        return ownership.customer_view(row, masked=not row.get("owner_id"))

    # ------------------------------------------------------------- ownership commands
    @api
    def claim_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        self._db()
        cid, data = _id(customer_id, "customer_id"), inputs.obj(data)
        with dbtrace.span("claim_customer"):
            approval = requests.approved_for(self.kit, ctx.tenant_id, ctx.user_id, cid)
            out = ownership.claim(self.kit, cid, data, skip_limits=approval is not None)
            if approval is not None:
                self.kit.db.claim_requests.update_one({"_id": approval["_id"]}, {"$set": {"entered": True}})
            return out

    @api
    def release_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                         idempotency_key: str | None = None) -> dict[str, Any]:
        self._db()
        return ownership.release(self.kit, _id(customer_id, "customer_id"), inputs.obj(data))

    @api
    def assign_customer(self, customer_id: str, data: dict[str, Any] | None = None,
                        idempotency_key: str | None = None) -> dict[str, Any]:
        self._db()
        return ownership.assign(self.kit, self.identity, _id(customer_id, "customer_id"), inputs.obj(data))

    @api
    def capacity(self, owner_id: str | None = None) -> dict[str, Any]:
        """``owner_id``'s private-pool figures (default: the caller's); 404 for anyone the caller
        may not see (see :mod:`pool.access`)."""
        ctx = self.kit.ctx
        owner = inputs.ident(owner_id, "owner_id", required=False) or ctx.user_id
        access.require_may_see(ctx, self.identity, owner)
        self._db()
        return ownership.capacity_status(self.kit, owner)

    @api
    def check_capacity(self, owner_id: str, adding: int = 1) -> dict[str, Any]:
        """For the customers service before an entry or import: BusinessRule when full."""
        self._db()
        return ownership.reserve_check(self.kit, _id(owner_id, "owner_id"),
                                       inputs.integer(adding, "adding", default=1, lo=0, hi=100_000))

    # -------------------------------------------- ownership for the customers service
    # Not routed by the gateway: the customers service calls these after its own rights
    # checks (visibility, roles, active employees); here the tenant and the log decide.
    @api
    def enter(self, customer_ids: Any, owner_id: str, path: str = "entry", import_id: str | None = None
              ) -> dict[str, Any]:
        """Before customers writes new customers: the owner's slots (exact capacity) and the
        log rows (seq 1), all or nothing. BusinessRule ``pool.capacity_full``."""
        self._db()
        ids = inputs.id_list(customer_ids, "customer_ids", hi=ownership.MAX_ENTRY)
        if path not in ("entry", "import"):
            raise InvalidInput("owner_change.invalid_path", "path must be entry or import", {"field": "path"})
        return ownership.enter(self.kit, ids, _id(owner_id, "owner_id"), path,
                               inputs.ident(import_id, "import_id", required=False))

    @api
    def cancel_entry(self, customer_ids: Any, owner_id: str, import_id: str | None = None) -> dict[str, Any]:
        """The customer write after ``enter`` failed: its slots and log rows go."""
        self._db()
        return ownership.cancel_entry(self.kit, inputs.id_list(customer_ids, "customer_ids", hi=ownership.MAX_ENTRY),
                                      _id(owner_id, "owner_id"), inputs.ident(import_id, "import_id", required=False))

    @api
    def change_owner(self, customer_id: str, expected_owner_id: str | None, new_owner_id: str | None,
                     path: str, reason: str | None = None, unowned: bool = False,
                     capacity: str | None = "overflow") -> dict[str, Any]:
        """One move (transfer, bind, handover, restore, delete, an admin's change_owner):
        ``{customer_id, from_owner_id, to_owner_id, seq, path, at, unowned, reason, event_id}``."""
        self._db()
        path = ownership.validate_path(path)
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise InvalidInput("owner_change.invalid_reason", "reason: at most 500 characters")
        if capacity not in (None, "exact", "overflow"):
            raise InvalidInput("owner_change.invalid_capacity", "capacity: exact, overflow or null")
        cid = _id(customer_id, "customer_id")
        expected = inputs.ident(expected_owner_id, "expected_owner_id", required=False)
        new = inputs.ident(new_owner_id, "new_owner_id", required=False)
        dept = self._dept_of(expected) if expected and new is None and path != "delete" else None
        return ownership.change(self.kit, cid, expected=expected, new=new, path=path, reason=reason or "",
                                capacity=capacity, unowned=bool(unowned), dept=dept,
                                deleted_too=path == "restore")

    @api
    def ownership_history(self, customer_id: str) -> list[dict[str, Any]]:
        """The ownership log of a customer of the caller's tenant (customers checks who may read it)."""
        self._db()
        return ownership.history(self.kit, self.kit.ctx.tenant_id, _id(customer_id, "customer_id"))

    @api
    def check_protection(self, customer_id: str, user_id: str | None = None) -> dict[str, Any]:
        """Whether ``user_id`` (default: the caller) may take the customer; BusinessRule when protected."""
        ctx = self.kit.ctx
        row = store.get_customer(self._db(), ctx.tenant_id, _id(customer_id, "customer_id"))
        if row is None:
            raise NotFound("pool.customer_not_found", "no such customer")
        rules = store.load_rules(self.kit.db, ctx.tenant_id)
        who = inputs.ident(user_id, "user_id", required=False) or ctx.user_id
        ownership.check_protection(row, who, R.local_day(self.kit.now()), rules)
        return {"protected": False}

    # ------------------------------------------------------------------------ rules
    @api
    def get_rules(self) -> dict[str, Any]:
        ctx = self.kit.ctx
        return store.load_rules(self._db(), ctx.tenant_id)

    @api
    def update_rules(self, data: Any = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        if not ctx.has_role("tenant_admin"):
            raise Forbidden("pool.rules_forbidden", "only the tenant admin may change pool rules")
        db = self._db()
        rules = R.validate_rules(data, store.load_rules(db, ctx.tenant_id, fresh=True))
        store.save_rules(db, ctx.tenant_id, rules, ctx.user_id, self.kit.now())
        store.refresh_tenant(db, ctx.tenant_id, rules)
        return rules

    @api
    def preview_rules(self, data: Any = None, days: Any = 30) -> dict[str, Any]:
        self._db()
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("pool.rules_invalid", "rules must be an object", {"fields": {"": "object"}})
        return reclaim.preview(self.kit, data, days)

    # ---------------------------------------------------------------------- reclaim
    @api
    def run_reclaim_sweep(self, crash_after: int | None = None) -> dict[str, Any]:
        """Admin trigger: the sweep for the caller's tenant now. ``crash_after`` (test
        hooks only) simulates a crash right after the n-th reclaim's ownership change."""
        ctx = self.kit.ctx
        if not ctx.has_role("tenant_admin", "operator", "system"):
            raise Forbidden("pool.sweep_forbidden", "only the tenant admin may run the reclaim sweep")
        if crash_after is not None:
            self.kit.require_test_hooks()
            crash_after = inputs.integer(crash_after, "crash_after", default=0, lo=0, hi=100_000)
        self._db()
        return reclaim.sweep(self.kit, ctx.tenant_id, crash_after=crash_after)

    @timer(interval=SWEEP_INTERVAL)
    def _reclaim_timer(self) -> None:
        self._db()
        try:
            result = reclaim.sweep(self.kit)
            log.info("reclaim sweep: %s", {k: v for k, v in result.items() if k != "reclaimed_ids"})
        except Exception:
            log.exception("reclaim sweep failed; the next run picks up where it stopped")

    @timer(interval=3600)
    def _pool_housekeeping(self) -> None:
        """Old daily claim slots decide nothing; dropping them keeps the refusal path's read small."""
        from datetime import timedelta
        try:
            before = (R.local_day(self.kit.now()) - timedelta(days=2)).isoformat()
            store.purge_claim_slots(self._db(), before)
        except Exception:
            log.exception("pool housekeeping failed; the next run retries")

    @api
    def reclaim_log(self, customer_id: str | None = None, limit: Any = 200) -> list[dict[str, Any]]:
        ctx = self.kit.ctx
        q: dict[str, Any] = {"tenant_id": ctx.tenant_id, "path": "reclaim"}
        cid = inputs.ident(customer_id, "customer_id", required=False, code="pool.reclaims_invalid")
        limit = inputs.integer(limit, "limit", default=200, lo=1, hi=1000, code="pool.reclaims_invalid")
        if cid:
            q["customer_id"] = cid
        if not ctx.has_role("tenant_admin", "dept_admin", "system", "operator"):
            q["from_owner_id"] = ctx.user_id
        rows = sorted(self._db().moves.find(q), key=lambda r: r["at"], reverse=True)[:limit]
        return [{"customer_id": r["customer_id"], "from_owner_id": r["from_owner_id"], "reason": r["reason"],
                 "seq": r["seq"], "at": iso(r["at"])} for r in rows]

    @api
    def reclaim_warnings(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        ctx = self.kit.ctx
        q: dict[str, Any] = {"tenant_id": ctx.tenant_id}
        cid = inputs.ident(customer_id, "customer_id", required=False, code="pool.reclaims_invalid")
        if cid:
            q["customer_id"] = cid
        if not ctx.has_role("tenant_admin", "dept_admin", "system", "operator"):
            q["owner_id"] = ctx.user_id
        rows = sorted(self._db().warnings.find(q), key=lambda r: (r["day"], r["lead"]))
        return [{"customer_id": r["customer_id"], "owner_id": r["owner_id"], "reclaim_on": r["reclaim_on"],
                 "lead_days": r["lead"], "rule": r["rule"], "day": r["day"]} for r in rows]

    # --------------------------------------------------------------- claim requests
    @api
    def submit_claim_request(self, data: Any = None, idempotency_key: str | None = None) -> dict[str, Any]:
        self._db()
        return requests.submit(self.kit, self.customers, data)

    @api
    def list_claim_requests(self, status: str | None = None, page: Any = None, page_size: Any = None
                            ) -> dict[str, Any]:
        self._db()
        code = "pool.request_status"
        pg = inputs.integer(page, "page", default=1, lo=1, hi=100_000, code=code) if page not in (None, "") else None
        size = inputs.integer(page_size, "page_size", default=20, lo=1, hi=200, code=code) \
            if page_size not in (None, "") else None
        return requests.list_requests(self.kit, inputs.text(status, "status", limit=20, code=code), pg, size)

    @api
    def approve_claim_request(self, request_id: str, data: Any = None) -> dict[str, Any]:
        self._db()
        return requests.decide(self.kit, _id(request_id, "request_id"), data, approve=True)

    @api
    def reject_claim_request(self, request_id: str, data: Any = None) -> dict[str, Any]:
        self._db()
        return requests.decide(self.kit, _id(request_id, "request_id"), data, approve=False)

    @api
    def _test_seed_holdings(self, owner_id: str, count: int) -> dict[str, Any]:
        """Test hook: fill ``count`` capacity slots of ``owner_id`` in the caller's tenant
        directly (placeholders, not customers), to test the capacity race cheaply."""
        self.kit.require_test_hooks()
        ctx = self.kit.ctx
        count = inputs.integer(count, "count", default=0, lo=0, hi=100_000)
        return {"held": store.seed_holdings(self._db(), ctx.tenant_id, _id(owner_id, "owner_id"), count,
                                            self.kit.now())}

    @api
    def _test_pause(self, point: str, seconds: float = 0.0) -> dict[str, Any]:
        """Test hook: sleep ``seconds`` at a named point of a command (``claim.after_hold``:
        a claim that took the (owner, customer) hold, before it asks customers)."""
        self.kit.require_test_hooks()
        if seconds:
            ownership.TEST_PAUSES[str(point)] = float(seconds)
        else:
            ownership.TEST_PAUSES.pop(str(point), None)
        return dict(ownership.TEST_PAUSES)


    # ---------------------------------------------------------------------- targets
    @api
    def daily_targets(self, day: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        """``user_id``'s targets and actuals (default: the caller's); 404 for anyone the caller
        may not see (see :mod:`pool.access`)."""
        ctx = self.kit.ctx
        who = inputs.ident(user_id, "user_id", required=False, code="pool.targets_invalid") or ctx.user_id
        d = inputs.day(day, "day", code="pool.targets_invalid") if day else None
        access.require_may_see(ctx, self.identity, who)
        self._db()
        return search.daily_targets(self.kit, d, who)

    # ----------------------------------------------------------------------- events
    def _dept_of(self, owner_id: str) -> str | None:
        try:
            emp = self.identity.get_employee(employee_id=owner_id)
        except Exception:  # identity down or the employee gone: the department stays unknown
            return None
        return (emp or {}).get("primary_dept_id") or next(iter((emp or {}).get("dept_ids") or []), None)

    @subscribe("customers", "customer.created")
    def on_customer_created(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_customer_created(self.kit, event)

    @subscribe("customers", "customer.updated")
    def on_customer_updated(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_customer_upserted(self.kit, event)

    @subscribe("customers", "customer.deleted")
    def on_customer_deleted(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_customer_deleted(self.kit, event)

    @subscribe("customers", "customer.restored")
    def on_customer_restored(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_customer_upserted(self.kit, event, restored=True)

    @subscribe("customers", "customer.contact_noted")
    def on_contact_noted(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_clock_event(self.kit, event, "last_contact_at")

    @subscribe("customers", "customer.deal_signed")
    def on_deal_signed(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_clock_event(self.kit, event, "last_deal_at")

    @subscribe("visits", "visit.completed")
    def on_visit_completed(self, event: dict[str, Any]) -> None:
        self._db()
        readmodel.on_clock_event(self.kit, event, "last_visit_at")
