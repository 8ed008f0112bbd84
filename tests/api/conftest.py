"""A tenant and fixture data for the stack-level API tests (schemathesis, idempotency)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, t, role: str = "employee") -> dict[str, Any]:
    n = str(uuid.uuid4().int)
    r = http.post("/api/v1/customers", headers=t.headers(role), json={
        "name": f"接口测试{uuid.uuid4().hex[:8]}有限公司", "address": "苏州工业园区", "landlines": [f"0512-{n[:8]}"],
        "location": {"lat": 31.3, "lng": 120.6}})
    assert r.status_code == 201, r.text
    return r.json()


def plan_body(customer_id: str) -> dict[str, Any]:
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    return {"customer_id": customer_id, "planned_at": when, "topic": "拜访", "policy_accepted": True}
