"""Service-level hardening of the pool (issue 12): every RPC checks its own arguments,
dates at the calendar's ends never break a handler, a claim or the sweep, pool figures are
visible only to the person, their supervisors and admins/support, and referenced ids must
exist in the caller's tenant."""
from __future__ import annotations

import uuid

import pytest

from crmkit.errors import BusinessRule, InvalidInput, NotFound
from tests.support.waiting import wait_for

from .conftest import ctx_of


def tid() -> str:
    return "t-" + uuid.uuid4().hex[:10]


def admin(t):
    return ctx_of(t, "admin-" + t, "tenant_admin")


def create(pool, t, items):
    return pool.call("customers", "_fake_create", ctx=ctx_of(t, "admin", "tenant_admin"), items=items, timeout=120)


def seen(pool, t, cid):
    return wait_for(lambda: pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid), timeout=60,
                    what=f"pool sees {cid}")


def test_every_rpc_checks_its_own_arguments(pool):
    t = tid()
    [cid] = create(pool, t, [{"name": "参数公司"}])
    seen(pool, t, cid)
    emp, sup = ctx_of(t, "emp"), ctx_of(t, "sup", "support")
    cases = [
        ("reclaim_log", emp, {"limit": "abc"}, "limit"),
        ("reclaim_log", emp, {"limit": [1]}, "limit"),
        ("reclaim_log", emp, {"limit": 10**40}, "limit"),
        ("reclaim_log", emp, {"customer_id": {"$ne": None}}, "customer_id"),
        ("reclaim_warnings", emp, {"customer_id": ["x"]}, "customer_id"),
        ("search_pool", emp, {"page": "abc"}, "page"),
        ("search_pool", emp, {"page_size": 1.5}, "page_size"),
        ("search_pool", emp, {"released_to": "9999-12-31"}, "released_to"),
        ("search_pool", emp, {"released_to": "9999-12-31T23:59:59.999999"}, "released_to"),
        ("search_pool", emp, {"released_from": "0001-01-01T00:00:00+14:00"}, "released_from"),
        ("search_pool", emp, {"keyword": {"$regex": "."}}, "keyword"),
        ("daily_targets", emp, {"day": "9999-12-31"}, "day"),
        ("daily_targets", emp, {"user_id": 42}, "user_id"),
        ("claim_customer", emp, {"customer_id": cid, "data": "please"}, "data"),
        ("claim_customer", emp, {"customer_id": {"id": cid}}, "customer_id"),
        ("release_customer", emp, {"customer_id": cid, "data": ["reason"]}, "data"),
        ("assign_customer", sup, {"customer_id": cid, "data": [1]}, "data"),
        ("check_capacity", emp, {"owner_id": "emp", "adding": "many"}, "adding"),
        ("capacity", emp, {"owner_id": ["emp"]}, "owner_id"),
        ("approve_claim_request", sup, {"request_id": {"$gt": ""}}, "request_id"),
        ("preview_rules", admin(t), {"days": "abc"}, "days"),
    ]
    for method, ctx, kwargs, field in cases:
        with pytest.raises(InvalidInput) as e:
            pool.call("pool", method, ctx=ctx, **kwargs)
        assert field in e.value.details.get("fields", {}), (method, kwargs, e.value.details)
    assert pool.call("pool", "health")["status"] == "ok"


def test_contract_dates_at_the_end_of_the_calendar_protect_and_never_break(pool):
    """customers accepts a contract to 9999-12-31; the pool's arithmetic on it (protection
    windows, reclaim clocks, Beijing days) saturates instead of overflowing in the claim and
    the sweep: the customer is protected for good."""
    t = tid()
    [cid] = create(pool, t, [{"name": "永续合同公司", "owner_id": "emp"}])
    seen(pool, t, cid)
    pool.call("customers", "_fake_deal", ctx=admin(t), customer_id=cid, contract_start="2025-01-01",
              contract_end="9999-12-31")
    pool.call("customers", "change_owner", ctx=admin(t), customer_id=cid, expected_owner_id="emp",
              new_owner_id=None, path="release", reason="test")
    wait_for(lambda: pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)["owner_id"] is None,
             timeout=30, what="released")

    tries = iter(range(1000))

    def refusal():
        # a new claimer each try: one whose claim came before the deal and was released is in
        # cool-down, which would answer before the protection does
        other = f"other{next(tries)}"
        try:
            pool.call("pool", "claim_customer", ctx=ctx_of(t, other), customer_id=cid)
        except BusinessRule as e:
            return e  # anything else (a 500) fails the test at once
        pool.call("customers", "change_owner", ctx=admin(t), customer_id=cid, expected_owner_id=other,
                  new_owner_id=None, path="release", reason="the deal was not applied yet")
        wait_for(lambda: pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)["owner_id"] is None,
                 timeout=30, what="released again")
        return None
    e = wait_for(refusal, timeout=30, what="the contract protects")
    assert e.code == "pool.protected" and e.details["until"] == "9999-12-31"
    sweep = pool.call("pool", "run_reclaim_sweep", ctx=admin(t))
    assert sweep["evaluated"] >= 0
    assert pool.call("pool", "health")["status"] == "ok"


def test_pool_figures_are_the_persons_their_supervisors_and_the_admins(pool):
    t = tid()
    pool.seed_employee(t, "alice", supervisor_id="boss", dept_admins=["da"])
    pool.seed_employee(t, "bob")
    allowed = [ctx_of(t, "alice"), ctx_of(t, "boss"), ctx_of(t, "da", "dept_admin"), admin(t),
               ctx_of(t, "sup", "support")]
    for ctx in allowed:
        assert pool.call("pool", "capacity", ctx=ctx, owner_id="alice")["owner_id"] == "alice"
        assert pool.call("pool", "daily_targets", ctx=ctx, user_id="alice")["user_id"] == "alice"
    refused = [ctx_of(t, "bob"), ctx_of(t, "other-da", "dept_admin"), ctx_of(t, "all", "all_customers", "employee"),
               ctx_of(tid(), "boss")]
    for ctx in refused:
        for method, kw in (("capacity", {"owner_id": "alice"}), ("daily_targets", {"user_id": "alice"})):
            with pytest.raises(NotFound) as e:
                pool.call("pool", method, ctx=ctx, **kw)
            assert e.value.code == "pool.employee_not_found"
    with pytest.raises(NotFound):  # an id that is no employee at all looks the same, also to an admin
        pool.call("pool", "capacity", ctx=admin(t), owner_id="nobody")
    assert pool.call("pool", "capacity", ctx=ctx_of(t, "bob"))["owner_id"] == "bob"  # one's own needs no lookup


def test_assignment_and_claim_requests_reference_only_the_tenants_own(pool):
    t, other = tid(), tid()
    [cid] = create(pool, t, [{"name": "指派公司"}])
    [foreign] = create(pool, other, [{"name": "别家公司"}])
    seen(pool, t, cid)
    seen(pool, other, foreign)
    pool.seed_employee(t, "dora")
    pool.seed_employee(t, "gone", status="left")
    pool.seed_employee(other, "eve")
    sup = ctx_of(t, "sup", "support")
    for owner in ("no-such-employee", "eve"):
        with pytest.raises(NotFound) as e:
            pool.call("pool", "assign_customer", ctx=sup, customer_id=cid, data={"owner_id": owner})
        assert e.value.code == "pool.employee_not_found"
    with pytest.raises(BusinessRule) as e:
        pool.call("pool", "assign_customer", ctx=sup, customer_id=cid, data={"owner_id": "gone"})
    assert e.value.code == "pool.owner_inactive"
    with pytest.raises(NotFound):
        pool.call("pool", "assign_customer", ctx=sup, customer_id=foreign, data={"owner_id": "dora"})
    assert pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)["owner_id"] is None  # untouched
    assert pool.call("pool", "capacity", ctx=ctx_of(t, "dora"))["held"] == 0
    assert pool.call("pool", "assign_customer", ctx=sup, customer_id=cid, data={"owner_id": "dora"})["owner_id"] == \
        "dora"
    emp = ctx_of(t, "emp")
    body = {"name": "申请公司", "landline": "0512-66880000", "address": "苏州"}
    for bad in (foreign, "no-such-customer"):
        with pytest.raises(NotFound) as e:
            pool.call("pool", "submit_claim_request", ctx=emp, data={**body, "customer_id": bad})
        assert e.value.code == "pool.customer_not_found"
    assert pool.call("pool", "list_claim_requests", ctx=emp)["total"] == 0
    assert pool.call("pool", "submit_claim_request", ctx=emp, data={**body, "customer_id": cid})["customer_id"] == cid
