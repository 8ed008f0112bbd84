"""HTTP routes of the notify service: the caller's inbox and preferences, and the tenant
admin's channels (webhooks, SMTP settings, deliveries, dead letters)."""
from __future__ import annotations

from gateway.api import Api
from gateway.schemas import notify as s

_inbox = Api(tags=["notifications"])
_admin = Api(tags=["notify admin"])
N = "/api/v1/notifications"
A = "/api/v1/notify"
_404 = {404: "not found (or not yours)"}
_ADMIN = {403: "tenant admin only"}
WEBHOOK_RULES = ("The URL must be http(s) and must not resolve to a loopback, private, link-local, multicast or "
                 "reserved address unless the operator allows it (400 webhook.url_not_allowed). Each POST carries "
                 "X-CRM-Timestamp and X-CRM-Signature: sha256=HMAC(secret, ts + '.' + body).")

ROUTES = [
    _inbox.rpc("GET", N, "notify.list_notifications", "My notifications, newest first", query=s.InboxQuery,
               response=s.NotificationPage, errors={400: "bad cursor or limit"}),
    _inbox.rpc("GET", f"{N}/unread-count", "notify.unread_count", "How many of my notifications are unread",
               response=s.UnreadCount),
    _inbox.rpc("POST", f"{N}/read-all", "notify.mark_all_read", "Mark all my notifications read",
               response=s.Marked),
    _inbox.rpc("GET", f"{N}/preferences", "notify.get_preferences", "Which kinds reach me on which channel",
               response=s.Preferences),
    _inbox.rpc("PUT", f"{N}/preferences", "notify.set_preferences", "Choose channels per kind",
               body=s.PreferencesIn, response=s.Preferences, errors={400: "invalid"}),
    _inbox.rpc("PATCH", f"{N}/preferences", "notify.set_preferences", "Choose channels per kind (same as PUT)",
               body=s.PreferencesIn, response=s.Preferences, errors={400: "invalid"}),
    _inbox.rpc("POST", f"{N}/{{id}}/read", "notify.mark_read", "Mark one of my notifications read",
               path_names={"id": "notification_id"}, response=s.Notification, errors=_404),
    _admin.rpc("GET", f"{A}/settings", "notify.get_settings", "Tenant notification settings (SMTP, retries, digest)",
               response=s.Settings, errors=_ADMIN),
    _admin.rpc("PUT", f"{A}/settings", "notify.update_settings", "Change tenant notification settings (partial)",
               body=s.SettingsIn, response=s.Settings, errors={400: "invalid", **_ADMIN}),
    _admin.rpc("PATCH", f"{A}/settings", "notify.update_settings", "Change tenant notification settings (same as PUT)",
               body=s.SettingsIn, response=s.Settings, errors={400: "invalid", **_ADMIN}),
    _admin.rpc("GET", f"{A}/webhooks", "notify.list_webhooks", "Webhook endpoints of the tenant",
               response=s.Webhooks, errors=_ADMIN),
    _admin.rpc("POST", f"{A}/webhooks", "notify.create_webhook", "Add a signed webhook endpoint",
               description=WEBHOOK_RULES, body=s.WebhookIn, response=s.Webhook, status=201, pass_key=True,
               errors={201: "created (with its secret)", 400: "invalid or forbidden URL", **_ADMIN}),
    _admin.rpc("GET", f"{A}/webhooks/{{id}}", "notify.get_webhook", "One webhook endpoint",
               path_names={"id": "webhook_id"}, response=s.Webhook, errors={**_404, **_ADMIN}),
    _admin.rpc("PATCH", f"{A}/webhooks/{{id}}", "notify.update_webhook", "Change a webhook endpoint",
               path_names={"id": "webhook_id"}, body=s.WebhookPatch, response=s.Webhook,
               errors={400: "invalid", **_404, **_ADMIN}),
    _admin.rpc("POST", f"{A}/webhooks/{{id}}/test", "notify.test_webhook",
               "Send a signed test message to a webhook endpoint",
               description="Queues one delivery of kind webhook_test; the delivery log shows its attempts.",
               path_names={"id": "webhook_id"}, response=s.Delivery, errors={**_404, **_ADMIN}),
    _admin.rpc("DELETE", f"{A}/webhooks/{{id}}", "notify.delete_webhook", "Remove a webhook endpoint",
               path_names={"id": "webhook_id"}, response=s.WebhookDeleted, errors={**_404, **_ADMIN}),
    _admin.rpc("GET", f"{A}/deliveries", "notify.list_deliveries", "Outbound deliveries (e-mail and webhook)",
               query=s.DeliveryQuery, response=s.Deliveries, errors=_ADMIN),
    _admin.rpc("GET", f"{A}/deliveries/{{id}}", "notify.get_delivery",
               "One delivery with every attempt (time, outcome, latency)", path_names={"id": "delivery_id"},
               response=s.Delivery, errors={**_404, **_ADMIN}),
    _admin.rpc("GET", f"{A}/dead-letters", "notify.delivery_dead_letters", "Deliveries that failed their last try",
               query=s.DeadLetterQuery, response=s.Deliveries, errors=_ADMIN),
    _admin.rpc("POST", f"{A}/dead-letters/{{id}}/resend", "notify.resend_delivery",
               "Send a dead letter again (fresh attempts)", path_names={"id": "delivery_id"},
               response=s.Delivery, errors={**_404, **_ADMIN}),
]
routes = ROUTES
