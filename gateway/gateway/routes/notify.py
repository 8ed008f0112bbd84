"""HTTP routes of the notify service: the caller's inbox and preferences, and the tenant
admin's channels (webhooks, SMTP settings, deliveries, dead letters)."""
from __future__ import annotations

from starlette.routing import Route

from gateway.openapi import operation, schema
from gateway.routing import rpc_route

TAG = ["notifications"]
ADMIN_TAG = ["notify admin"]
_KINDS = ["claim_request_submitted", "claim_request_approved", "claim_request_rejected", "visit_reviewed",
          "reclaim_warning", "reclaimed", "handover", "departure_handover", "daily_digest", "export_ready"]
_CHANNELS = {"type": "array", "items": {"type": "string", "enum": ["inbox", "email", "webhook"]}}

NOTIFICATION = schema("Notification", {
    "type": "object",
    "properties": {"id": {"type": "string"}, "kind": {"type": "string"}, "title": {"type": "string"},
                   "body": {"type": "string"}, "language": {"type": "string", "enum": ["zh-CN", "en"]},
                   "data": {"type": "object"}, "read": {"type": "boolean"},
                   "read_at": {"type": ["string", "null"], "format": "date-time"},
                   "created_at": {"type": "string", "format": "date-time"}},
})
PAGE = schema("NotificationPage", {
    "type": "object", "properties": {"items": {"type": "array", "items": NOTIFICATION},
                                     "next_cursor": {"type": ["string", "null"]}},
})
PREFERENCES = schema("NotificationPreferences", {
    "type": "object", "required": ["channels"],
    "properties": {"channels": {"type": "object", "description": "kind -> channels",
                                "propertyNames": {"enum": _KINDS}, "additionalProperties": _CHANNELS},
                   "fixed": {"type": "object", "readOnly": True}},
})
SETTINGS = schema("NotifySettings", {
    "type": "object",
    "properties": {
        "smtp": {"type": ["object", "null"], "properties": {
            "host": {"type": "string"}, "port": {"type": "integer"}, "username": {"type": "string"},
            "password": {"type": "string", "writeOnly": True}, "from_addr": {"type": "string"},
            "tls": {"type": "string", "enum": ["none", "starttls", "ssl"]}}},
        "retry_base_seconds": {"type": "number"}, "retry_cap_seconds": {"type": "number"},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
        "timezone": {"type": "string"}, "digest_hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "language": {"type": "string", "enum": ["zh-CN", "en"]},
        "allow_private_webhooks": {"type": "boolean", "description": "switch the operator's allowance off"},
    },
})
WEBHOOK_IN = schema("WebhookInput", {
    "type": "object", "required": ["url"],
    "properties": {"url": {"type": "string", "format": "uri"}, "name": {"type": "string"},
                   "kinds": {"type": "array", "items": {"type": "string", "enum": _KINDS}},
                   "active": {"type": "boolean"}, "secret": {"type": "string", "minLength": 16}},
})
WEBHOOK = schema("Webhook", {
    "type": "object",
    "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "name": {"type": "string"},
                   "kinds": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"},
                   "secret": {"type": "string", "description": "only when created or rotated"},
                   "created_at": {"type": "string", "format": "date-time"}},
})
DELIVERY = schema("Delivery", {
    "type": "object",
    "properties": {"id": {"type": "string"}, "event_id": {"type": "string"}, "kind": {"type": "string"},
                   "channel": {"type": "string", "enum": ["email", "webhook"]}, "recipient": {"type": "string"},
                   "status": {"type": "string", "enum": ["pending", "sent", "dead"]},
                   "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
                   "dead_reason": {"type": ["string", "null"]}, "attempt_log": {"type": "array"}},
})
_404 = {404: "not found (or not yours)"}
_ADMIN = {403: "tenant admin only"}

operation("GET", "/api/v1/notifications", "My notifications, newest first", tags=TAG,
          query={"cursor": {"type": "string"}, "limit": {"type": "integer", "maximum": 100},
                 "unread": {"type": "boolean"}},
          responses={200: {"description": "a page", "schema": PAGE}, 400: "bad cursor or limit"})
operation("GET", "/api/v1/notifications/unread-count", "How many of my notifications are unread", tags=TAG,
          responses={200: {"description": "count", "schema": {"type": "object",
                                                              "properties": {"unread": {"type": "integer"}}}}})
operation("POST", "/api/v1/notifications/{id}/read", "Mark one of my notifications read", tags=TAG,
          responses={200: {"description": "the notification", "schema": NOTIFICATION}, **_404})
operation("POST", "/api/v1/notifications/read-all", "Mark all my notifications read", tags=TAG,
          responses={200: {"description": "how many changed", "schema": {"type": "object"}}})
operation("GET", "/api/v1/notifications/preferences", "Which kinds reach me on which channel", tags=TAG,
          responses={200: {"description": "preferences", "schema": PREFERENCES}})
operation("PUT", "/api/v1/notifications/preferences", "Choose channels per kind", request_schema=PREFERENCES,
          tags=TAG, responses={200: {"description": "preferences", "schema": PREFERENCES}, 400: "invalid"})
operation("GET", "/api/v1/notify/settings", "Tenant notification settings (SMTP, retries, digest)",
          tags=ADMIN_TAG, responses={200: {"description": "settings", "schema": SETTINGS}, **_ADMIN})
operation("PUT", "/api/v1/notify/settings", "Change tenant notification settings (partial)", tags=ADMIN_TAG,
          request_schema=SETTINGS, responses={200: {"description": "settings", "schema": SETTINGS},
                                               400: "invalid", **_ADMIN})
operation("GET", "/api/v1/notify/webhooks", "Webhook endpoints of the tenant", tags=ADMIN_TAG,
          responses={200: {"description": "webhooks", "schema": {"type": "array", "items": WEBHOOK}}, **_ADMIN})
operation("POST", "/api/v1/notify/webhooks", "Add a signed webhook endpoint", tags=ADMIN_TAG,
          request_schema=WEBHOOK_IN, idempotent=True,
          description="The URL must be http(s) and must not resolve to a loopback, private, link-local, "
                      "multicast or reserved address unless the operator allows it (400 webhook.url_not_allowed). "
                      "Each POST carries X-CRM-Timestamp and X-CRM-Signature: sha256=HMAC(secret, ts + '.' + body).",
          responses={201: {"description": "created (with its secret)", "schema": WEBHOOK},
                     400: "invalid or forbidden URL", **_ADMIN})
operation("GET", "/api/v1/notify/webhooks/{id}", "One webhook endpoint", tags=ADMIN_TAG,
          responses={200: {"description": "webhook", "schema": WEBHOOK}, **_404, **_ADMIN})
operation("PATCH", "/api/v1/notify/webhooks/{id}", "Change a webhook endpoint", tags=ADMIN_TAG,
          request_schema=WEBHOOK_IN, responses={200: {"description": "webhook", "schema": WEBHOOK},
                                                400: "invalid", **_404, **_ADMIN})
operation("POST", "/api/v1/notify/webhooks/{id}/test", "Send a signed test message to a webhook endpoint",
          tags=ADMIN_TAG, description="Queues one delivery of kind webhook_test; the delivery log shows its attempts.",
          responses={200: {"description": "the queued delivery", "schema": DELIVERY}, **_404, **_ADMIN})
operation("DELETE", "/api/v1/notify/webhooks/{id}", "Remove a webhook endpoint", tags=ADMIN_TAG,
          responses={200: "deleted", **_404, **_ADMIN})
operation("GET", "/api/v1/notify/deliveries", "Outbound deliveries (e-mail and webhook)", tags=ADMIN_TAG,
          query={"status": {"type": "string", "enum": ["pending", "sent", "dead"]}, "event_id": {"type": "string"},
                 "limit": {"type": "integer"}},
          responses={200: {"description": "deliveries", "schema": {"type": "array", "items": DELIVERY}}, **_ADMIN})
operation("GET", "/api/v1/notify/deliveries/{id}", "One delivery with every attempt (time, outcome, latency)",
          tags=ADMIN_TAG, responses={200: {"description": "delivery", "schema": DELIVERY}, **_404, **_ADMIN})
operation("GET", "/api/v1/notify/dead-letters", "Deliveries that failed their last try", tags=ADMIN_TAG,
          query={"limit": {"type": "integer"}},
          responses={200: {"description": "dead letters", "schema": {"type": "array", "items": DELIVERY}},
                     **_ADMIN})
operation("POST", "/api/v1/notify/dead-letters/{id}/resend", "Send a dead letter again (fresh attempts)",
          tags=ADMIN_TAG, responses={200: {"description": "queued again", "schema": DELIVERY}, **_404, **_ADMIN})

ROUTES = [
    Route("/api/v1/notifications", rpc_route("notify", "list_notifications", query=("cursor", "limit", "unread")),
          methods=["GET"]),
    Route("/api/v1/notifications/unread-count", rpc_route("notify", "unread_count"), methods=["GET"]),
    Route("/api/v1/notifications/read-all", rpc_route("notify", "mark_all_read"), methods=["POST"]),
    Route("/api/v1/notifications/preferences", rpc_route("notify", "get_preferences"), methods=["GET"]),
    Route("/api/v1/notifications/preferences", rpc_route("notify", "set_preferences", body="data"),
          methods=["PUT", "PATCH"]),
    Route("/api/v1/notifications/{id}/read", rpc_route("notify", "mark_read", path={"id": "notification_id"}),
          methods=["POST"]),
    Route("/api/v1/notify/settings", rpc_route("notify", "get_settings"), methods=["GET"]),
    Route("/api/v1/notify/settings", rpc_route("notify", "update_settings", body="data"), methods=["PUT", "PATCH"]),
    Route("/api/v1/notify/webhooks", rpc_route("notify", "list_webhooks"), methods=["GET"]),
    Route("/api/v1/notify/webhooks", rpc_route("notify", "create_webhook", body="data", idempotent=True,
                                               status_code=201), methods=["POST"]),
    Route("/api/v1/notify/webhooks/{id}", rpc_route("notify", "get_webhook", path={"id": "webhook_id"}),
          methods=["GET"]),
    Route("/api/v1/notify/webhooks/{id}", rpc_route("notify", "update_webhook", path={"id": "webhook_id"},
                                                    body="data"), methods=["PATCH"]),
    Route("/api/v1/notify/webhooks/{id}", rpc_route("notify", "delete_webhook", path={"id": "webhook_id"}),
          methods=["DELETE"]),
    Route("/api/v1/notify/webhooks/{id}/test", rpc_route("notify", "test_webhook", path={"id": "webhook_id"}),
          methods=["POST"]),
    Route("/api/v1/notify/deliveries", rpc_route("notify", "list_deliveries", query=("status", "event_id", "limit")),
          methods=["GET"]),
    Route("/api/v1/notify/deliveries/{id}", rpc_route("notify", "get_delivery", path={"id": "delivery_id"}),
          methods=["GET"]),
    Route("/api/v1/notify/dead-letters", rpc_route("notify", "delivery_dead_letters", query=("limit",)),
          methods=["GET"]),
    Route("/api/v1/notify/dead-letters/{id}/resend", rpc_route("notify", "resend_delivery",
                                                               path={"id": "delivery_id"}), methods=["POST"]),
]
routes = ROUTES
