"""What the notify RPC methods do, given the caller's verified context."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.errors import Forbidden, NotFound
from notify import rules, ssrf, templates
from notify.store import Store, delivery_key


def require_admin(ctx: CallContext) -> None:
    if not ctx.has_role("tenant_admin", "operator"):
        raise Forbidden("notify.admin_only", "only the tenant admin may manage notification channels")


def me(ctx: CallContext) -> tuple[str, str]:
    return ctx.tenant_id, ctx.user_id


# -- inbox ---------------------------------------------------------------------------------------------
def list_notifications(store: Store, ctx: CallContext, cursor: str | None, limit: Any, unread: Any) -> dict[str, Any]:
    unread_only = str(unread).lower() in ("1", "true", "yes") if unread is not None else False
    return store.list_notifications(*me(ctx), cursor, rules.page_limit(limit), unread_only)


def unread_count(store: Store, ctx: CallContext) -> dict[str, Any]:
    return {"unread": store.unread_count(ctx.tenant_id, ctx.user_id)}


def mark_all_read(store: Store, ctx: CallContext, now: datetime) -> dict[str, Any]:
    return {"marked": store.mark_all_read(ctx.tenant_id, ctx.user_id, now)}


def purge_claims(store: Store, now: datetime) -> None:
    """Attempt claims older than a week have done their job (a lost attempt is found in minutes)."""
    store.purge_claims(now - timedelta(days=7))


def mark_read(store: Store, ctx: CallContext, notification_id: str, now: datetime) -> dict[str, Any]:
    row = store.mark_read(*me(ctx), str(notification_id), now)
    if row is None:  # someone else's, or none at all: the same answer
        raise NotFound("notification.not_found", "no such notification")
    return store.public_notification(row)


# -- preferences -------------------------------------------------------------------------------------
def get_preferences(store: Store, ctx: CallContext) -> dict[str, Any]:
    return {"channels": rules.effective_preferences(store.get_preferences(*me(ctx))),
            "fixed": {k: list(v) for k, v in rules.FIXED_CHANNELS.items()}}


def set_preferences(store: Store, ctx: CallContext, data: Any, now: datetime) -> dict[str, Any]:
    store.put_preferences(*me(ctx), rules.validate_preferences(data), now)
    return get_preferences(store, ctx)


# -- settings --------------------------------------------------------------------------------------------
def get_settings(store: Store, ctx: CallContext) -> dict[str, Any]:
    require_admin(ctx)
    return rules.public_settings(store.get_settings(ctx.tenant_id), ssrf.operator_allows_private())


def update_settings(store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    require_admin(ctx)
    merged = rules.validate_settings(data, store.get_settings(ctx.tenant_id))
    if isinstance(data, dict) and data.get("smtp") and merged.get("smtp"):  # SSRF: a clear 422 at save time
        ssrf.vetted_address(merged["smtp"]["host"], merged["smtp"]["port"],
                            allow_private=ssrf.operator_allows_private_smtp())
    store.put_settings(ctx.tenant_id, merged)
    return get_settings(store, ctx)


# -- webhooks ----------------------------------------------------------------------------------------------
def _guard(store: Store, tenant_id: str, url: str) -> str:
    allow = rules.allow_private(store.get_settings(tenant_id), ssrf.operator_allows_private())
    return ssrf.check_url(url, allow_private=allow)


def create_webhook(store: Store, ctx: CallContext, data: Any, now: datetime,
                   idempotency_key: str | None) -> dict[str, Any]:
    require_admin(ctx)
    clean = rules.validate_webhook(data)
    clean["url"] = _guard(store, ctx.tenant_id, clean["url"])
    key = idempotency_key or ctx.idempotency_key or None
    return store.public_webhook(store.create_webhook(ctx.tenant_id, clean, now, key), with_secret=True)


def list_webhooks(store: Store, ctx: CallContext) -> list[dict[str, Any]]:
    require_admin(ctx)
    return [store.public_webhook(w) for w in store.list_webhooks(ctx.tenant_id)]


def get_webhook(store: Store, ctx: CallContext, webhook_id: str) -> dict[str, Any]:
    require_admin(ctx)
    w = store.get_webhook(ctx.tenant_id, str(webhook_id))
    if w is None:
        raise NotFound("webhook.not_found", "no such webhook")
    return store.public_webhook(w)


def update_webhook(store: Store, ctx: CallContext, webhook_id: str, data: Any, now: datetime) -> dict[str, Any]:
    require_admin(ctx)
    clean = rules.validate_webhook(data, partial=True)
    if "url" in clean:
        clean["url"] = _guard(store, ctx.tenant_id, clean["url"])
    w = store.update_webhook(ctx.tenant_id, str(webhook_id), clean, now)
    if w is None:
        raise NotFound("webhook.not_found", "no such webhook")
    return store.public_webhook(w, with_secret="secret" in clean)


def test_webhook(store: Store, ctx: CallContext, webhook_id: str, now: datetime) -> dict[str, Any]:
    """Queue one signed test message to the endpoint (kind ``webhook_test``, even when the hook
    is inactive): it goes through the delivery loop like any other — attempts logged, retried,
    dead-lettered — so the delivery log shows whether the receiver answers."""
    require_admin(ctx)
    w = store.get_webhook(ctx.tenant_id, str(webhook_id))
    if w is None:
        raise NotFound("webhook.not_found", "no such webhook")
    event_id = f"webhook-test:{uuid.uuid4().hex}"
    lang = store.get_settings(ctx.tenant_id).get("language") or templates.DEFAULT_LANGUAGE
    rendered = templates.render("webhook_test", lang, {"name": w.get("name") or w["url"], "sent_at": iso(now)})
    recipient = f"hook:{w['_id']}"
    store.add_delivery(tenant_id=ctx.tenant_id, event_id=event_id, kind="webhook_test", recipient=recipient,
                       channel="webhook", target={"webhook_id": w["_id"]},
                       message={**rendered, "data": {"test": True, "webhook_id": w["_id"]}, "recipients": [],
                                "occurred_at": iso(now)}, now=now)
    row = store.get_delivery(ctx.tenant_id, delivery_key(event_id, recipient, "webhook"))
    if row is None:  # removed in the same instant: nothing to show
        raise NotFound("delivery.not_found", "no such delivery")
    return store.public_delivery(row)


def delete_webhook(store: Store, ctx: CallContext, webhook_id: str) -> dict[str, Any]:
    require_admin(ctx)
    if not store.delete_webhook(ctx.tenant_id, str(webhook_id)):
        raise NotFound("webhook.not_found", "no such webhook")
    return {"deleted": webhook_id}


# -- deliveries and dead letters ----------------------------------------------------------------------------
def list_deliveries(store: Store, ctx: CallContext, status: str | None, event_id: str | None, limit: Any) -> list[Any]:
    require_admin(ctx)
    rows = store.list_deliveries(ctx.tenant_id, status, event_id, rules.page_limit(limit, 100, 500))
    return [store.public_delivery(r) for r in rows]


def get_delivery(store: Store, ctx: CallContext, delivery_id: str) -> dict[str, Any]:
    require_admin(ctx)
    row = store.get_delivery(ctx.tenant_id, str(delivery_id))
    if row is None:
        raise NotFound("delivery.not_found", "no such delivery")
    return store.public_delivery(row, store.attempts_of(row["_id"]))


def dead_letters(store: Store, ctx: CallContext, limit: Any) -> list[Any]:
    require_admin(ctx)
    rows = store.list_deliveries(ctx.tenant_id, "dead", None, rules.page_limit(limit, 100, 500))
    return [store.public_delivery(r, store.attempts_of(r["_id"])) for r in rows]


def resend(store: Store, ctx: CallContext, delivery_id: str, now: datetime) -> dict[str, Any]:
    require_admin(ctx)
    row = store.resend(ctx.tenant_id, str(delivery_id), now)
    if row is None:
        raise NotFound("dead_letter.not_found", "no such dead letter")
    return store.public_delivery(row)
