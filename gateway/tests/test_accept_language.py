"""The caller's Accept-Language travels in the signed call context (notification language)."""
from __future__ import annotations

import pytest
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from crmkit.context import CallBinding, verify
from gateway.app import create_app
from gateway.auth import preferred_language
from gateway.routing import call_service

from conftest import AUTH_HEADERS, FakeBridge, make_settings


@pytest.mark.parametrize("header, want", [
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en-US"),
    ("zh-CN;q=0.5, en;q=0.9", "en"),
    ("fr, *;q=0.5", "fr"),
    ("*", ""),
    ("", ""),
    (None, ""),
    ("en;q=abc, zh-CN", "zh-CN"),
    ("<script>, en-GB;q=0.2", "en-GB"),
    ("x" * 1000, ""),
])
def test_the_first_choice_is_picked(header, want):
    assert preferred_language(header) == want


async def _probe(request):
    return JSONResponse(await call_service(request, "things", "probe", {}))


def test_it_reaches_the_service_in_the_signed_context():
    fake = FakeBridge()
    app = create_app(make_settings(), bridge=fake, extra_routes=[Route("/api/v1/probe", _probe)])
    with TestClient(app) as client:
        r = client.get("/api/v1/probe", headers={**AUTH_HEADERS, "Accept-Language": "en-US,en;q=0.8"})
        assert r.status_code == 200, r.text
    call = CallBinding("things", "probe", "gateway.probe.1", "d" * 64)
    ctx = verify(fake.calls[-1]["context"].for_call(call), make_settings().context_key, call=call)
    assert ctx.language == "en-US"
