"""Error mapping, request ids, body limits, routing helpers and metrics through the Starlette app."""
from __future__ import annotations

import json
import logging
import re

import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from crmkit.context import CallBinding, verify
from crmkit.errors import ERROR_TYPES, STATUS_BY_TYPE, Conflict, from_remote
from gateway.app import create_app
from gateway.routing import rpc_route

from conftest import AUTH_HEADERS, FakeBridge, make_settings


def raiser(request: Request):
    name = request.path_params["name"]
    raise ERROR_TYPES[name]("some.code", f"{name} happened", {"field": "x"})


async def remote(request: Request):
    raise from_remote("Conflict", "crmkit.errors.Conflict", ["customer.duplicate", "dup", {"id": "c1"}], "")


async def crash(request: Request):
    raise RuntimeError("/etc/secret-path line 42")


async def read_body(request: Request):
    from starlette.responses import JSONResponse
    return JSONResponse({"size": len(await request.body())})


EXTRA = [
    Route("/test/raise/{name}", raiser, methods=["GET"]),
    Route("/test/remote", remote, methods=["GET"]),
    Route("/test/crash", crash, methods=["GET"]),
    Route("/test/body", read_body, methods=["POST"]),
    Route("/api/v1/things/{id}", rpc_route("things", "get_thing", path={"id": "thing_id"}, query=("expand",)),
          methods=["GET"]),
    Route("/api/v1/things", rpc_route("things", "create_thing", body="data", idempotent=True, status_code=201),
          methods=["POST"]),
]


@pytest.fixture
def fake():
    return FakeBridge()


@pytest.fixture
def client(fake):
    app = create_app(make_settings(max_body_bytes=1024 * 1024, upload_max_bytes=4 * 1024 * 1024), bridge=fake,
                     extra_routes=EXTRA)
    with TestClient(app, raise_server_exceptions=False, headers=AUTH_HEADERS) as c:
        yield c


@pytest.mark.parametrize("name", sorted(ERROR_TYPES))
def test_every_crm_error_type_maps_to_its_status(client, name):
    r = client.get(f"/test/raise/{name}")
    assert r.status_code == STATUS_BY_TYPE[name]
    assert r.json() == {"error": {"code": "some.code", "message": f"{name} happened", "details": {"field": "x"}}}


def test_status_table_is_the_spec(client):
    expected = {"InvalidInput": 400, "Unauthenticated": 401, "Forbidden": 403, "NotFound": 404, "Conflict": 409,
                "TooLarge": 413, "UnsupportedMedia": 415, "BusinessRule": 422, "RateLimited": 429,
                "Unavailable": 503, "UpstreamTimeout": 504, "CrmError": 500}
    assert expected == STATUS_BY_TYPE


def test_remote_error_maps(client):
    r = client.get("/test/remote")
    assert r.status_code == 409
    assert r.json()["error"] == {"code": "customer.duplicate", "message": "dup", "details": {"id": "c1"}}


def test_bridge_errors_map_through_routes(fake, client):
    fake.answer = lambda *a: Conflict("thing.exists", "exists", {})
    assert client.get("/api/v1/things/1").status_code == 409
    from crmkit.errors import Unavailable, UpstreamTimeout
    fake.answer = lambda *a: UpstreamTimeout("upstream_timeout", "slow", {"service": "things"})
    r = client.get("/api/v1/things/1")
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"
    fake.answer = lambda *a: Unavailable("service_unavailable", "down", {"service": "things"})
    assert client.get("/api/v1/things/1").status_code == 503


def test_unknown_route_is_404(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405(client):
    r = client.delete("/healthz")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]


def test_unhandled_error_is_500_without_internals(client):
    r = client.get("/test/crash")
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "internal", "message": "internal error", "details": {}}}
    assert "secret" not in r.text and "Traceback" not in r.text


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\"text\"", b""])
def test_malformed_or_non_object_json_is_400(client, fake, body):
    r = client.post("/api/v1/things", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"
    assert fake.calls == []


def test_rpc_route_builds_kwargs_and_forwards_idempotency_key(client, fake):
    r = client.post("/api/v1/things", json={"name": "A"}, headers={"Idempotency-Key": "key-1"})
    assert r.status_code == 201
    assert fake.calls[-1]["service"] == "things" and fake.calls[-1]["method"] == "create_thing"
    assert fake.calls[-1]["kwargs"] == {"data": {"name": "A"}, "idempotency_key": "key-1"}
    client.get("/api/v1/things/t9?expand=1&ignored=2")
    assert fake.calls[-1]["kwargs"] == {"thing_id": "t9", "expand": "1"}


def test_authenticated_context_is_signed_and_forwarded(client, fake):
    r = client.post("/api/v1/things", json={"name": "A"}, headers={"Idempotency-Key": "key-2", "X-Request-Id": "rq-7"})
    assert r.status_code == 201
    call = CallBinding("things", "create_thing", "gateway.create_thing.1", "d" * 64)
    ctx = verify(fake.calls[-1]["context"].for_call(call), make_settings().context_key, call=call)
    assert (ctx.tenant_id, ctx.user_id, ctx.roles) == ("t1", "u1", ("employee",))
    assert ctx.idempotency_key == "key-2" and ctx.request_id == "rq-7"


def test_api_call_without_a_valid_token_is_401_and_reaches_no_service(client, fake):
    r = client.get("/api/v1/things/1", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_token"
    r = client.get("/api/v1/things/1", headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.missing_token"
    assert fake.calls == []


# ---------------------------------------------------------------- request ids
def test_request_id_generated(client):
    r = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_request_id_accepted_when_sane(client):
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123.DEF_9:x"})
    assert r.headers["x-request-id"] == "abc-123.DEF_9:x"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "<script>", "ümlaut", ""])
def test_request_id_replaced_when_not_sane(client, bad):
    r = client.get("/healthz", headers={"X-Request-Id": bad.encode("utf-8")})
    assert r.headers["x-request-id"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_request_id_on_error_responses(client):
    r = client.get("/nope", headers={"X-Request-Id": "req-1"})
    assert r.status_code == 404 and r.headers["x-request-id"] == "req-1"


def test_access_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        client.get("/api/v1/things/abc", headers={"X-Request-Id": "log-me"})
    rec = [r for r in caplog.records if r.name == "gateway.access"][-1]
    assert rec.request_id == "log-me" and rec.method == "GET" and rec.route == "/api/v1/things/{id}"
    assert rec.status == 200 and rec.duration_ms >= 0


# ---------------------------------------------------------------- body limit
def test_10mb_body_is_413(client):
    r = client.post("/test/body", content=b"x" * (10 * 1024 * 1024), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert r.json()["error"]["details"] == {"limit": 1024 * 1024}


def test_chunked_body_is_cut_at_the_limit(client):
    sent = []

    def chunks():
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, no Content-Length
            sent.append(1)
            yield b"y" * 65536

    r = client.post("/test/body", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_raw_file_bodies_have_the_upload_limit(client):
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for ctype in ("application/octet-stream", xlsx):
        r = client.post("/test/body", content=b"f" * (2 * 1024 * 1024), headers={"content-type": ctype})
        assert r.status_code == 200 and r.json() == {"size": 2 * 1024 * 1024}
        r = client.post("/test/body", content=b"f" * (5 * 1024 * 1024), headers={"content-type": ctype})
        assert r.status_code == 413 and r.json()["error"]["details"] == {"limit": 4 * 1024 * 1024}


def test_body_under_limit_passes(client):
    r = client.post("/test/body", content=b"z" * 1000)
    assert r.status_code == 200 and r.json() == {"size": 1000}


def test_multipart_has_the_upload_limit(client):
    files = {"file": ("photo.jpg", b"p" * (2 * 1024 * 1024), "image/jpeg")}
    r = client.post("/test/body", files=files)
    assert r.status_code == 200 and r.json()["size"] > 2 * 1024 * 1024
    files = {"file": ("photo.jpg", b"p" * (5 * 1024 * 1024), "image/jpeg")}
    assert client.post("/test/body", files=files).status_code == 413


# ---------------------------------------------------------------- metrics
def test_metrics_use_route_templates(client):
    client.get("/api/v1/things/one")
    client.get("/api/v1/things/two")
    client.get("/not/a/route/123")
    text = client.get("/metrics").text
    assert 'crm_http_requests_total{method="GET",route="/api/v1/things/{id}",status="200"}' in text
    assert 'route="<unmatched>"' in text
    assert "/api/v1/things/one" not in text and "/not/a/route/123" not in text
    assert "crm_http_request_duration_seconds_bucket" in text
    assert "crm_upstream_timeouts_total" in text and "crm_upstream_unavailable_total" in text


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_json_error_body_is_json(client):
    assert json.loads(client.get("/nope").text)["error"]["details"] == {}
