"""Attempt limits on login, refresh and invitation acceptance (429 with Retry-After)."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.ratelimit import AttemptLimits, SlidingWindow, client_address
from gateway.settings import ConfigError, Settings

from conftest import SECRETS_ENV, FakeBridge, make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_allows_limit_then_refuses_until_the_oldest_hit_leaves():
    clock = Clock()
    w = SlidingWindow(3, 60, clock=clock)
    assert [w.hit("k") for _ in range(3)] == [None, None, None]
    clock.now += 10
    assert w.hit("k") == pytest.approx(50)
    assert w.hit("other") is None  # keys are independent
    clock.now += 50
    assert [w.hit("k") for _ in range(3)] == [None, None, None]  # the old hits left the window
    assert w.hit("k") == pytest.approx(60)


def test_refused_attempts_do_not_extend_the_wait():
    clock = Clock()
    w = SlidingWindow(1, 60, clock=clock)
    assert w.hit("k") is None
    for _ in range(100):
        clock.now += 0.5
        assert w.hit("k") is not None
    clock.now = 1060.0
    assert w.hit("k") is None


def test_zero_means_no_limit_and_memory_is_bounded():
    assert all(SlidingWindow(0).hit("k") is None for _ in range(1000))
    w = SlidingWindow(1, 60, max_keys=10)
    for i in range(1000):
        w.hit(f"k{i}")
    assert len(w._hits) == 10


def test_settings_read_limits_and_refuse_nonsense():
    s = Settings.from_env({**SECRETS_ENV, "LOGIN_ATTEMPTS_PER_CLIENT": "0",
                           "LOGIN_ATTEMPTS_PER_ACCOUNT": "5", "TRUSTED_PROXY_HOPS": "1"})
    assert (s.login_per_client, s.login_per_account, s.trusted_proxy_hops) == (0, 5, 1)
    with pytest.raises(ConfigError, match="LOGIN_ATTEMPTS_PER_CLIENT"):
        Settings.from_env({**SECRETS_ENV, "LOGIN_ATTEMPTS_PER_CLIENT": "-1"})


class _Req:
    def __init__(self, peer: str, xff: str | None = None):
        self.client = type("C", (), {"host": peer})()
        self.headers = {"x-forwarded-for": xff} if xff is not None else {}


def test_client_address_trusts_only_the_configured_proxy_hops():
    assert client_address(_Req("10.0.0.9", "1.1.1.1"), 0) == "10.0.0.9"  # no proxy: the header is ignored
    # behind one ingress: the entry it appended, not what the client claimed before it
    assert client_address(_Req("10.0.0.9", "6.6.6.6, 203.0.113.7"), 1) == "203.0.113.7"
    assert client_address(_Req("10.0.0.9", "203.0.113.7"), 1) == "203.0.113.7"
    assert client_address(_Req("10.0.0.9"), 1) == "10.0.0.9"


def _client(fake: FakeBridge, **limits: int) -> tuple[TestClient, Clock]:
    app = create_app(make_settings(**limits), bridge=fake)
    clock = Clock()
    app.state.attempt_limits = AttemptLimits(app.state.settings.login_per_client,
                                             app.state.settings.login_per_account, clock=clock)
    return TestClient(app, raise_server_exceptions=False), clock


def _login(c: TestClient, mobile: str, **headers: str):
    return c.post("/api/v1/auth/login", json={"tenant_code": "acme", "mobile": mobile, "password": "x"},
                  headers=headers)


def test_login_is_limited_per_account_with_retry_after_and_identity_is_not_asked():
    fake = FakeBridge(lambda s, m, k: {"access_token": "t", "expires_in": 900})
    c, clock = _client(fake, login_per_client=100, login_per_account=3)
    with c:
        assert [_login(c, "13900000001").status_code for _ in range(3)] == [200, 200, 200]
        r = _login(c, "13900000001")
        assert r.status_code == 429
        body = r.json()["error"]
        assert body["code"] == "auth.rate_limited" and body["details"]["scope"] == "account"
        assert r.headers["Retry-After"] == "60"
        assert len([x for x in fake.calls if x["method"] == "login"]) == 3
        assert _login(c, "13900000002").status_code == 200  # another account is not affected
        clock.now += 61
        assert _login(c, "13900000001").status_code == 200


def test_one_client_trying_many_accounts_is_limited_per_client():
    fake = FakeBridge(lambda s, m, k: {"access_token": "t", "expires_in": 900})
    c, _clock = _client(fake, login_per_client=5, login_per_account=100)
    with c:
        codes = [_login(c, f"139000000{i:02d}").status_code for i in range(8)]
        assert codes == [200] * 5 + [429] * 3
        r = _login(c, "13900000099")
        assert r.json()["error"]["details"]["scope"] == "client"


def test_behind_a_proxy_clients_are_told_apart_by_forwarded_for():
    fake = FakeBridge(lambda s, m, k: {"access_token": "t", "expires_in": 900})
    c, _clock = _client(fake, login_per_client=2, login_per_account=100, trusted_proxy_hops=1)
    with c:
        a = [_login(c, f"1390000001{i}", **{"X-Forwarded-For": "198.51.100.1"}).status_code for i in range(3)]
        b = [_login(c, f"1390000002{i}", **{"X-Forwarded-For": "198.51.100.2"}).status_code for i in range(2)]
        assert a == [200, 200, 429] and b == [200, 200]


def test_refresh_and_invitation_acceptance_are_limited_too():
    fake = FakeBridge(lambda s, m, k: {"ok": True})
    c, _clock = _client(fake, login_per_client=2, login_per_account=100)
    with c:
        codes = [c.post("/api/v1/auth/refresh", json={"device_token": "d"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    c, _clock = _client(fake, login_per_client=100, login_per_account=2)
    with c:
        codes = [c.post("/api/v1/invitations/i1/accept", json={"token": "t", "password": "p"}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
