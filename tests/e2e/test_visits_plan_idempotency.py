"""A plan retried with the same Idempotency-Key (the mobile app's retry after a dropped
connection) makes one visit; another key or another person makes another."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from crmkit.clock import iso
from tests.conftest import TEST_OPERATOR_SECRET
from tests.e2e.test_visits_flow import PLAN, new_customer, ok, plan
from tests.support.tenants import make_tenant


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def my_visit_ids(http, t, role="employee") -> list[str]:
    return [v["id"] for v in ok(http.get("/api/v1/visits", params={"limit": 200}, headers=t.headers(role)))["items"]]


def test_a_retried_plan_with_the_same_key_makes_one_visit(http, tenant):
    cid = new_customer(http, tenant)
    before = set(my_visit_ids(http, tenant))
    key = uuid.uuid4().hex
    body = plan_body(cid)  # a retry sends the same request again
    first = ok(http.post("/api/v1/visits", json=body,
                         headers=tenant.headers("employee", **{"Idempotency-Key": key})), 201)
    with ThreadPoolExecutor(4) as pool:  # the retries may overlap (a slow answer, a second tap)
        repeats = list(pool.map(lambda _: http.post("/api/v1/visits", json=body, headers=tenant.headers(
            "employee", **{"Idempotency-Key": key})), range(4)))
    assert {ok(r, 201)["id"] for r in repeats} == {first["id"]}
    other = ok(http.post("/api/v1/visits", json=plan_body(cid),
                         headers=tenant.headers("employee", **{"Idempotency-Key": uuid.uuid4().hex})), 201)
    assert other["id"] != first["id"]
    assert set(my_visit_ids(http, tenant)) - before == {first["id"], other["id"]}


def test_the_key_is_scoped_to_the_caller(http, tenant):
    key = uuid.uuid4().hex
    a = ok(http.post("/api/v1/visits", json=plan_body(new_customer(http, tenant)),
                     headers=tenant.headers("employee", **{"Idempotency-Key": key})), 201)
    b = ok(http.post("/api/v1/visits", json=plan_body(new_customer(http, tenant, "employee2")),
                     headers=tenant.headers("employee2", **{"Idempotency-Key": key})), 201)
    assert a["id"] != b["id"]


def test_without_a_key_every_plan_is_a_new_visit(http, tenant):
    cid = new_customer(http, tenant)
    ids = {ok(plan(http, tenant, cid), 201)["id"] for _ in range(2)}
    assert len(ids) == 2


def plan_body(cid: str) -> dict:
    return {"customer_id": cid, "planned_at": iso(datetime.now(UTC) + timedelta(days=1)), "location": PLAN,
            "topic": "季度回访", "policy_accepted": True}
