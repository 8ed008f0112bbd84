"""The notify routes call the right RPC with the right arguments and map errors to HTTP
(gateway app pieces with a recording bridge; the real chain is covered end to end)."""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from crmkit.errors import InvalidInput, NotFound
from gateway.errors import exception_handlers
from gateway.openapi import build_document
from gateway.routes.notify import ROUTES


class Bridge:
    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer

    async def call(self, service, method, kwargs=None, *, context=None, timeout=None):
        self.calls.append((service, method, kwargs, context))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer if self.answer is not None else {"ok": True}


def client(answer=None):
    app = Starlette(routes=ROUTES, exception_handlers=exception_handlers())
    app.state.bridge = Bridge(answer)

    class Ctx:
        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            scope.setdefault("state", {})["context_header"] = "signed-ctx"
            await self.inner(scope, receive, send)

    return TestClient(Ctx(app)), app.state.bridge


def test_inbox_routes_map_to_rpcs():
    c, b = client()
    assert c.get("/api/v1/notifications?limit=5&cursor=abc&unread=true").status_code == 200
    assert b.calls[-1][:3] == ("notify", "list_notifications", {"limit": "5", "cursor": "abc", "unread": "true"})
    assert b.calls[-1][3] == "signed-ctx"
    c.get("/api/v1/notifications/unread-count")
    assert b.calls[-1][1] == "unread_count"
    c.post("/api/v1/notifications/n1/read")
    assert b.calls[-1][1:3] == ("mark_read", {"notification_id": "n1"})
    c.post("/api/v1/notifications/read-all")
    assert b.calls[-1][1] == "mark_all_read"
    c.get("/api/v1/notifications/preferences")
    assert b.calls[-1][1] == "get_preferences"
    c.put("/api/v1/notifications/preferences", json={"channels": {"reclaimed": ["inbox"]}})
    assert b.calls[-1][1:3] == ("set_preferences", {"data": {"channels": {"reclaimed": ["inbox"]}}})


def test_admin_routes_map_to_rpcs():
    c, b = client()
    r = c.post("/api/v1/notify/webhooks", json={"url": "https://x.example.com"}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 201
    assert b.calls[-1][1:3] == ("create_webhook", {"data": {"url": "https://x.example.com"}, "idempotency_key": "k"})
    c.patch("/api/v1/notify/webhooks/w1", json={"active": False})
    assert b.calls[-1][1:3] == ("update_webhook", {"webhook_id": "w1", "data": {"active": False}})
    c.delete("/api/v1/notify/webhooks/w1")
    assert b.calls[-1][1:3] == ("delete_webhook", {"webhook_id": "w1"})
    c.put("/api/v1/notify/settings", json={"max_attempts": 3})
    assert b.calls[-1][1:3] == ("update_settings", {"data": {"max_attempts": 3}})
    c.get("/api/v1/notify/dead-letters")
    assert b.calls[-1][1] == "delivery_dead_letters"
    c.post("/api/v1/notify/dead-letters/d1/resend")
    assert b.calls[-1][1:3] == ("resend_delivery", {"delivery_id": "d1"})
    c.get("/api/v1/notify/deliveries/d1")
    assert b.calls[-1][1:3] == ("get_delivery", {"delivery_id": "d1"})


def test_errors_are_mapped():
    c, _ = client(InvalidInput("webhook.url_not_allowed", "private address"))
    r = c.post("/api/v1/notify/webhooks", json={"url": "http://127.0.0.1/"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "webhook.url_not_allowed"
    c, _ = client(NotFound("notification.not_found", "no"))
    assert c.post("/api/v1/notifications/x/read").status_code == 404


def test_openapi_documents_every_route():
    doc = build_document(ROUTES)
    for path in ("/api/v1/notifications", "/api/v1/notifications/{id}/read", "/api/v1/notify/webhooks",
                 "/api/v1/notify/dead-letters/{id}/resend"):
        assert path in doc["paths"]
    assert doc["paths"]["/api/v1/notify/webhooks"]["post"]["summary"] == "Add a signed webhook endpoint"
