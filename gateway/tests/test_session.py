"""The device-token cookie and its CSRF checks (gateway/session.py) through the real app and
identity's routes; identity itself is a recording stand-in here (the real one: tests/browser)."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from crmkit.errors import Unauthenticated
from gateway.app import create_app

from conftest import AUTH_HEADERS, FakeBridge, make_settings

LOGIN = {"tenant_code": "t", "mobile": "13900000001", "password": "pw-123456"}
COOKIE = {"X-CRM-Session": "cookie"}
ORIGIN = "http://testserver"


def answer(service, method, kwargs):
    if method == "login":
        out = {"access_token": "acc", "token_type": "Bearer", "expires_in": 900, "user": {"id": "u1"}}
        if kwargs["bind_device"]:
            out.update(device_token="dev-secret", device_token_expires_in=7776000)
        return out
    if method == "refresh":
        if kwargs["device_token"] == "dev-secret":
            return {"access_token": "acc2", "token_type": "Bearer", "expires_in": 900}
        if kwargs["device_token"] == "dev-rotating":  # identity rotates: the old token is used up
            return {"access_token": "acc3", "token_type": "Bearer", "expires_in": 900,
                    "device_token": "dev-next", "device_token_expires_in": 7776000}
        return Unauthenticated("token.revoked", "revoked")
    if method == "logout":
        return {"logged_out": True}
    return {}


@pytest.fixture
def fake():
    return FakeBridge(answer)


@pytest.fixture
def client(fake):
    with TestClient(create_app(make_settings(), bridge=fake), raise_server_exceptions=False) as c:
        yield c


def set_cookie_header(r) -> str:
    return "; ".join(v for k, v in r.headers.multi_items() if k == "set-cookie")


def test_bound_login_in_cookie_mode_sets_a_strict_cookie_and_hides_the_token(client):
    r = client.post("/api/v1/auth/login", json={**LOGIN, "bind_device": True}, headers={**COOKIE, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "device_token" not in body and body["device_bound"] is True and body["access_token"] == "acc"
    cookie = set_cookie_header(r)
    assert "crm_device=dev-secret" in cookie
    for attr in ("HttpOnly", "Secure", "SameSite=strict", "Path=/api/v1/auth", "Max-Age=7776000"):
        assert attr.lower() in cookie.lower(), attr


def test_plain_login_in_cookie_mode_clears_an_older_cookie(client):
    r = client.post("/api/v1/auth/login", json={**LOGIN, "bind_device": False}, headers=COOKIE)
    assert r.json()["device_bound"] is False
    cookie = set_cookie_header(r)
    assert 'crm_device=""' in cookie and "max-age=0" in cookie.lower()


def test_scripts_without_the_header_keep_the_token_in_the_body(client):
    r = client.post("/api/v1/auth/login", json={**LOGIN, "bind_device": True})
    assert r.json()["device_token"] == "dev-secret" and "set-cookie" not in r.headers
    r = client.post("/api/v1/auth/refresh", json={"device_token": "dev-secret"})
    assert r.status_code == 200 and r.json()["access_token"] == "acc2"


def test_refresh_reads_the_cookie_with_the_header_and_own_origin(client, fake):
    client.cookies.set("crm_device", "dev-secret", path="/api/v1/auth")
    r = client.post("/api/v1/auth/refresh", headers={**COOKIE, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    assert r.json()["access_token"] == "acc2"
    assert fake.calls[-1]["kwargs"] == {"device_token": "dev-secret"}


def test_a_rotated_device_token_goes_into_the_cookie_never_into_the_answer(client, fake):
    client.cookies.set("crm_device", "dev-rotating", path="/api/v1/auth")
    r = client.post("/api/v1/auth/refresh", headers={**COOKIE, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    assert "device_token" not in r.json() and r.json()["access_token"] == "acc3" and r.json()["device_bound"]
    cookie = set_cookie_header(r)
    assert "crm_device=dev-next" in cookie and "httponly" in cookie.lower() and "max-age=7776000" in cookie.lower()
    # a script sending the token in the body gets the rotated one in the body, no cookie
    r = client.post("/api/v1/auth/refresh", json={"device_token": "dev-rotating"})
    assert r.json()["device_token"] == "dev-next" and "set-cookie" not in r.headers


def test_cookie_refresh_without_the_header_or_from_another_origin_is_refused(client, fake):
    client.cookies.set("crm_device", "dev-secret", path="/api/v1/auth")
    r = client.post("/api/v1/auth/refresh")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf.header_missing"
    r = client.post("/api/v1/auth/refresh", headers={**COOKIE, "Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf.origin_mismatch"
    assert not [c for c in fake.calls if c["method"] == "refresh"]  # identity was never asked


def test_login_csrf_a_cross_origin_cookie_login_is_refused_before_identity(client, fake):
    r = client.post("/api/v1/auth/login", json={**LOGIN, "bind_device": True},
                    headers={**COOKIE, "Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf.origin_mismatch"
    assert "set-cookie" not in r.headers and not fake.calls


def test_a_refused_cookie_is_cleared(client):
    client.cookies.set("crm_device", "stale", path="/api/v1/auth")
    r = client.post("/api/v1/auth/refresh", headers=COOKIE)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token.revoked"
    assert "max-age=0" in set_cookie_header(r).lower()


def test_refresh_without_any_token_is_a_400_with_the_field(client):
    r = client.post("/api/v1/auth/refresh", headers=COOKIE)
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "device_token"


def test_logout_clears_the_cookie(client, fake):
    r = client.post("/api/v1/auth/logout", headers=AUTH_HEADERS)
    assert r.status_code == 200 and r.json() == {"logged_out": True}
    assert 'crm_device=""' in set_cookie_header(r)


def test_behind_a_trusted_proxy_the_forwarded_origin_counts(fake):
    app = create_app(make_settings(trusted_proxy_hops=1), bridge=fake)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.cookies.set("crm_device", "dev-secret", path="/api/v1/auth")
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "crm.example.com"}
        r = c.post("/api/v1/auth/refresh", headers={**COOKIE, "Origin": "https://crm.example.com", **forwarded})
        assert r.status_code == 200, r.text
