"""Steps several browser tests share: sign a person in on a phone, make data through the API."""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page

from crmkit.clock import iso
from tests.browser.conftest import HERE
from tests.browser.pages.calendar import CalendarScreen
from tests.browser.pages.login import LoginScreen
from tests.support.tenants import Tenant, random_mobile

ADDRESS = "上海市黄浦区人民大道 200 号"


def sign_in(page: Page, tenant: Tenant, role: str = "employee", *, bind: bool = False) -> CalendarScreen:
    page.goto("/m/login")
    LoginScreen(page).sign_in(tenant.code, tenant.mobiles[role], tenant.password, bind=bind)
    return CalendarScreen(page).expect_shown()


def ok(r: httpx.Response, *codes: int) -> Any:
    assert r.status_code in (codes or (200, 201)), f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return r.json()


def company(prefix: str = "上海") -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}精密电子有限公司"


def new_customer(http: httpx.Client, tenant: Tenant, role: str = "employee", name: str | None = None,
                 **over: Any) -> dict[str, Any]:
    body = {"name": name or company(), "address": ADDRESS, "mobiles": [random_mobile()],
            "location": {"lat": HERE["latitude"], "lng": HERE["longitude"]}, "kind": "own", **over}
    return ok(http.post("/api/v1/customers", json=body, headers=tenant.headers(role)), 201)


def plan_visit(http: httpx.Client, tenant: Tenant, customer_id: str, role: str = "employee") -> dict[str, Any]:
    return ok(http.post("/api/v1/visits", headers=tenant.headers(role), json={
        "customer_id": customer_id, "planned_at": iso(datetime.now(UTC) + timedelta(minutes=30)),
        "location": {"address": ADDRESS, "lat": HERE["latitude"], "lng": HERE["longitude"]},
        "topic": "季度回访", "policy_accepted": True}), 201)


def to_public_pool(http: httpx.Client, tenant: Tenant, customer_id: str, role: str = "employee") -> None:
    """Release a customer; the pool knows a new customer once its event arrived (bounded wait)."""
    deadline = time.time() + 30
    while True:
        r = http.post(f"/api/v1/customers/{customer_id}/release", json={"reason": "不再跟进"},
                      headers=tenant.headers(role))
        if r.status_code != 404 or time.time() > deadline:
            ok(r)
            return
        time.sleep(0.5)
