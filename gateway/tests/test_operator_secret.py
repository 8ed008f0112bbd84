"""Operator routes open only with the configured OPERATOR_SECRET — never with just any value."""
from __future__ import annotations

from starlette.testclient import TestClient

from gateway.app import create_app

from conftest import FakeBridge, make_settings

BODY = {"code": "t1", "name": "T", "admin_mobile": "13900000001", "admin_name": "A", "admin_password": "pass-word-1"}


def test_without_a_configured_secret_no_value_opens_the_operator_routes():
    fake = FakeBridge()
    with TestClient(create_app(make_settings(operator_secret=""), bridge=fake)) as client:
        for given in ("anything", "x" * 64, ""):
            r = client.post("/api/v1/operator/tenants", json=BODY, headers={"X-Operator-Secret": given})
            assert r.status_code == 401 and r.json()["error"]["code"] == "operator.unauthenticated"
    assert fake.calls == []


def test_only_the_configured_secret_opens_them():
    fake = FakeBridge()
    secret = "s" * 40
    with TestClient(create_app(make_settings(operator_secret=secret), bridge=fake)) as client:
        r = client.post("/api/v1/operator/tenants", json=BODY, headers={"X-Operator-Secret": secret[:-1] + "t"})
        assert r.status_code == 401 and fake.calls == []
        r = client.post("/api/v1/operator/tenants", json=BODY, headers={"X-Operator-Secret": secret})
        assert r.status_code < 400, r.text
        assert fake.calls[-1]["method"] == "create_tenant"
