"""Nameko entrypoints of the notify service: thin, they turn messages into calls."""
from __future__ import annotations

from typing import Any

from nameko.timer import timer

from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from notify import delivery, events, operations
from notify.store import NotifyStore


class NotifyService(BaseService):
    name = "notify"
    kit = Kit("notify")
    store = NotifyStore()
    identity = TimedRpc("identity", timeout=5)

    # -- inbox (the caller's own) ------------------------------------------------------------------
    @api
    def list_notifications(self, cursor: str | None = None, limit: Any = None, unread: Any = None) -> dict[str, Any]:
        return operations.list_notifications(self.store, self.kit.ctx, cursor, limit, unread)

    @api
    def unread_count(self) -> dict[str, Any]:
        return operations.unread_count(self.store, self.kit.ctx)

    @api
    def mark_read(self, notification_id: str) -> dict[str, Any]:
        return operations.mark_read(self.store, self.kit.ctx, notification_id, self.kit.now())

    @api
    def mark_all_read(self) -> dict[str, Any]:
        return operations.mark_all_read(self.store, self.kit.ctx, self.kit.now())

    @api
    def get_preferences(self) -> dict[str, Any]:
        return operations.get_preferences(self.store, self.kit.ctx)

    @api
    def set_preferences(self, data: dict[str, Any]) -> dict[str, Any]:
        return operations.set_preferences(self.store, self.kit.ctx, data, self.kit.now())

    # -- tenant admin: channels ----------------------------------------------------------------------
    @api
    def get_settings(self) -> dict[str, Any]:
        return operations.get_settings(self.store, self.kit.ctx)

    @api
    def update_settings(self, data: dict[str, Any]) -> dict[str, Any]:
        return operations.update_settings(self.store, self.kit.ctx, data)

    @api
    def list_webhooks(self) -> list[Any]:
        return operations.list_webhooks(self.store, self.kit.ctx)

    @api
    def create_webhook(self, data: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        return operations.create_webhook(self.store, self.kit.ctx, data, self.kit.now(), idempotency_key)

    @api
    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        return operations.get_webhook(self.store, self.kit.ctx, webhook_id)

    @api
    def update_webhook(self, webhook_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return operations.update_webhook(self.store, self.kit.ctx, webhook_id, data, self.kit.now())

    @api
    def test_webhook(self, webhook_id: str) -> dict[str, Any]:
        return operations.test_webhook(self.store, self.kit.ctx, webhook_id, self.kit.now())

    @api
    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return operations.delete_webhook(self.store, self.kit.ctx, webhook_id)

    @api
    def list_deliveries(self, status: str | None = None, event_id: str | None = None, limit: Any = None) -> list[Any]:
        return operations.list_deliveries(self.store, self.kit.ctx, status, event_id, limit)

    @api
    def get_delivery(self, delivery_id: str) -> dict[str, Any]:
        return operations.get_delivery(self.store, self.kit.ctx, delivery_id)

    @api
    def delivery_dead_letters(self, limit: Any = None) -> list[Any]:
        return operations.dead_letters(self.store, self.kit.ctx, limit)

    @api
    def resend_delivery(self, delivery_id: str) -> dict[str, Any]:
        return operations.resend(self.store, self.kit.ctx, delivery_id, self.kit.now())

    # -- events: each handler hands the event to notify.events ------------------------------------------
    def _notify(self, env: dict[str, Any]) -> None:
        events.notify(self.kit, self.store, self.identity, env)

    @subscribe("identity", "employee.invited")
    def on_employee_invited(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("identity", "employee.left")
    def on_employee_left(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("visits", "visit.planned")
    def on_visit_planned(self, env: dict[str, Any]) -> None:
        events.track_visit(self.store, env)
        self._notify(env)

    @subscribe("visits", "visit.checked_in")
    def on_visit_checked_in(self, env: dict[str, Any]) -> None:
        events.track_visit(self.store, env)

    @subscribe("visits", "visit.expired")
    def on_visit_expired(self, env: dict[str, Any]) -> None:
        events.track_visit(self.store, env)

    @subscribe("visits", "visit.reviewed")
    def on_visit_reviewed(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("visits", "report.export_ready")
    def on_export_ready(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("pool", "pool.claim_request_submitted")
    def on_claim_request_submitted(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("pool", "pool.claim_request_approved")
    def on_claim_request_approved(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("pool", "pool.claim_request_rejected")
    def on_claim_request_rejected(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("pool", "pool.reclaim_warning")
    def on_reclaim_warning(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("pool", "pool.reclaimed")
    def on_reclaimed(self, env: dict[str, Any]) -> None:
        self._notify(env)

    @subscribe("customers", "customer.owner_changed")
    def on_owner_changed(self, env: dict[str, Any]) -> None:
        self._notify(env)

    # -- outbound delivery loop and the morning digest --------------------------------------------------
    @timer(interval=0.5)
    def _deliver_due(self) -> None:
        delivery.deliver_due(self.store, self.kit.now)

    @timer(interval=60)
    def _digest(self) -> None:
        events.run_digest(self.store, self.identity, self.kit.act_as_system, self.kit.now())

    @timer(interval=3600)
    def _purge_claims(self) -> None:
        operations.purge_claims(self.store, self.kit.now())

    @api
    def _test_run_digest(self) -> dict[str, Any]:
        self.kit.require_test_hooks()
        return {"sent": events.run_digest(self.store, self.identity, self.kit.act_as_system, self.kit.now())}
