"""Device tokens rotate on every refresh; a used-up one presented again revokes its whole
family (OAuth 2.0 Security BCP refresh-token rotation) — real services, real concurrent callers."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.concurrency import parallel
from tests.support.tenants import add_employee, login, make_tenant

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _refresh(http: httpx.Client, device: str) -> httpx.Response:
    return http.post(f"{API}/auth/refresh", json={"device_token": device})


def _me(http: httpx.Client, access: str) -> int:
    return http.get(f"{API}/me", headers={"Authorization": f"Bearer {access}"}).status_code


def test_refresh_rotates_and_the_old_token_is_used_up(http, tenant):
    e = add_employee(http, tenant, "轮换", ["employee"], [tenant.depts["dept_a"]])
    d0 = login(http, tenant.code, e["mobile"], tenant.password, bind_device=True)["device_token"]
    r1 = _refresh(http, d0)
    assert r1.status_code == 200, r1.text
    body = r1.json()
    assert body["device_token"] and body["device_token"] != d0 and body["device_token_expires_in"] > 0
    assert _me(http, body["access_token"]) == 200
    r2 = _refresh(http, body["device_token"])  # the chain goes on
    assert r2.status_code == 200, r2.text
    d2 = r2.json()["device_token"]
    # d0 again: a reuse — refused, and the whole family with it
    again = _refresh(http, d0)
    assert again.status_code == 401 and again.json()["error"]["code"] == "token.reused"
    after = _refresh(http, d2)
    assert after.status_code == 401 and after.json()["error"]["code"] == "token.revoked"


def test_a_reuse_revokes_only_its_own_family(http, tenant):
    e = add_employee(http, tenant, "两台设备", ["employee"], [tenant.depts["dept_a"]])
    phone = login(http, tenant.code, e["mobile"], tenant.password, bind_device=True)["device_token"]
    tablet = login(http, tenant.code, e["mobile"], tenant.password, bind_device=True)["device_token"]
    assert _refresh(http, phone).status_code == 200
    assert _refresh(http, phone).json()["error"]["code"] == "token.reused"  # the phone's family is gone
    r = _refresh(http, tablet)
    assert r.status_code == 200, r.text  # the other login (another family) is untouched


def test_parallel_refreshes_with_one_token_exactly_one_wins(http, tenant, stack):
    e = add_employee(http, tenant, "并发刷新", ["employee"], [tenant.depts["dept_b"]])
    d0 = login(http, tenant.code, e["mobile"], tenant.password, bind_device=True)["device_token"]

    def go(_i: int) -> tuple[int, str]:
        with httpx.Client(base_url=stack.url, timeout=30) as c:  # one connection per caller
            r = _refresh(c, d0)
            return r.status_code, (r.json().get("error") or {}).get("code", "")

    results = parallel(8, go)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(s for s, _ in results) == [200] + [401] * 7, results
    assert {code for s, code in results if s == 401} <= {"token.reused", "token.revoked"}
