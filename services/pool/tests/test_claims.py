"""Service-level tests: claims, capacity, release, assignment, limits, protection,
requests — real processes, real broker, real database, real concurrency."""
from __future__ import annotations

import time
import uuid

import pytest

from crmkit.errors import BusinessRule, Conflict, CrmError, Forbidden, InvalidInput, NotFound
from tests.support.concurrency import parallel
from tests.support.waiting import wait_for

from .conftest import ctx_of


def tid() -> str:
    return "t-" + uuid.uuid4().hex[:10]


def admin(t):
    return ctx_of(t, "admin-" + t, "tenant_admin")


def create(pool, t, items, path="entry", actor="admin"):
    return pool.call("customers", "_fake_create", ctx=ctx_of(t, actor, "tenant_admin"), items=items, path=path,
                     timeout=120)


def seen(pool, t, cid, owner="__any__"):
    def look():
        row = pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)
        return row if owner == "__any__" or row["owner_id"] == owner else None
    return wait_for(look, timeout=60, what=f"pool sees {cid}")


def test_fifty_salespeople_claim_one_customer_exactly_one_wins(pool):
    t = tid()
    [cid] = create(pool, t, [{"name": "苏州日东精密电子有限公司", "landlines": ["0512-66881234"]}])
    seen(pool, t, cid)
    clients = [pool.client() for _ in range(50)]
    try:
        res = parallel(50, lambda i: clients[i].call("pool", "claim_customer", ctx=ctx_of(t, f"u{i}"),
                                                     customer_id=cid, timeout=60))
    finally:
        for c in clients:
            c.close()
    wins = [r for r in res if isinstance(r, dict)]
    losses = [r for r in res if isinstance(r, Conflict)]
    assert len(wins) == 1, res
    assert len(losses) == 49, [r for r in res if not isinstance(r, (dict, Conflict))]
    winner = wins[0]["owner_id"]
    assert all(e.details["winner_id"] == winner for e in losses)
    log = pool.call("customers", "_fake_ownership_log", ctx=admin(t), customer_id=cid)
    assert [r["to_owner_id"] for r in log] == [winner]
    # no loser kept a capacity slot
    held = {i: pool.call("pool", "capacity", ctx=ctx_of(t, f"u{i}"))["held"] for i in range(50)}
    assert sum(held.values()) == 1


def test_one_salesperson_at_295_fires_20_claims_ends_at_300(pool):
    t = tid()
    user = "busy"
    # 295 held customers, seeded straight into the pool's slots (295 real entries cost
    # ~6000 database round trips on FerretDB; the slots are what the race is about)
    assert pool.call("pool", "_test_seed_holdings", ctx=ctx_of(t, user), owner_id=user, count=295)["held"] == 295
    public = create(pool, t, [{"name": f"public {i}"} for i in range(20)])
    for cid in public:
        seen(pool, t, cid)
    clients = [pool.client() for _ in range(20)]
    try:
        res = parallel(20, lambda i: clients[i].call("pool", "claim_customer", ctx=ctx_of(t, user),
                                                     customer_id=public[i], timeout=60))
    finally:
        for c in clients:
            c.close()
    wins = [r for r in res if isinstance(r, dict)]
    full = [r for r in res if isinstance(r, BusinessRule) and r.code == "pool.capacity_full"]
    assert len(wins) == 5 and len(full) == 15, res
    assert int(full[0].details["capacity"]) == 300  # int(): older nameko serialisation stringified values
    assert pool.call("pool", "capacity", ctx=ctx_of(t, user))["held"] == 300
    # the refused claims changed nothing in customers
    owned = sum(1 for cid in public
                if pool.call("customers", "_fake_ownership_log", ctx=admin(t), customer_id=cid))
    assert owned == 5


def test_release_cooldown_daily_limit_and_masking(pool):
    t = tid()
    pool.call("pool", "update_rules", ctx=admin(t), data={"cooldown_days": 7, "daily_claim_limit": 2})
    ids = create(pool, t, [{"name": f"公司{i}", "industry": "电子", "grade": "A",
                            "landlines": ["0512-6688123" + str(i)]} for i in range(4)])
    for cid in ids:
        seen(pool, t, cid)
    a, b = ctx_of(t, "alice", "employee"), ctx_of(t, "bob", "employee")
    got = pool.call("pool", "claim_customer", ctx=a, customer_id=ids[0])
    assert got["owner_id"] == "alice" and got["phones"]["landlines"] == ["0512-66881230"]
    assert got["reclaim_on"] and got["reclaim_rule"] == "no_contact"
    with pytest.raises(InvalidInput):
        pool.call("pool", "release_customer", ctx=a, customer_id=ids[0], data={})
    with pytest.raises(NotFound):
        pool.call("pool", "release_customer", ctx=b, customer_id=ids[0], data={"reason": "not mine"})
    pool.call("pool", "release_customer", ctx=a, customer_id=ids[0], data={"reason": "no budget"})
    seen(pool, t, ids[0], owner=None)
    found = pool.call("pool", "search_pool", ctx=b, keyword="公司0")
    assert found["total"] == 1
    item = found["items"][0]
    assert item["previous_owner_id"] == "alice" and item["released_at"]
    assert item["phones"]["landlines"] == ["051********30"]
    with pytest.raises(BusinessRule) as e:
        pool.call("pool", "claim_customer", ctx=a, customer_id=ids[0])
    assert e.value.code == "pool.cooldown" and e.value.details["until"]
    # bob: daily limit 2
    pool.call("pool", "claim_customer", ctx=b, customer_id=ids[0])
    pool.call("pool", "claim_customer", ctx=b, customer_id=ids[1])
    with pytest.raises(BusinessRule) as e:
        pool.call("pool", "claim_customer", ctx=b, customer_id=ids[2])
    assert e.value.code == "pool.daily_limit"
    assert {k: int(v) for k, v in e.value.details.items()} == {"claimed_today": 2, "limit": 2}
    # search filters
    assert pool.call("pool", "search_pool", ctx=b, grade="B")["total"] == 0
    assert pool.call("pool", "search_pool", ctx=b, keyword="电子", page_size=1)["total"] == 2
    with pytest.raises(InvalidInput):
        pool.call("pool", "search_pool", ctx=b, page_size=1000)
    # other tenants see nothing
    assert pool.call("pool", "search_pool", ctx=ctx_of(tid(), "x"), keyword="公司")["total"] == 0
    with pytest.raises(NotFound):
        pool.call("pool", "claim_customer", ctx=ctx_of(tid(), "x"), customer_id=ids[2])
    targets = pool.call("pool", "daily_targets", ctx=b)
    assert targets["actuals"]["claims"] == 2 and targets["targets"]["effective_calls"] == 32


def test_assignment_by_support_only(pool):
    t = tid()
    [cid] = create(pool, t, [{"name": "assign me"}])
    seen(pool, t, cid)
    with pytest.raises(Forbidden):
        pool.call("pool", "assign_customer", ctx=ctx_of(t, "emp"), customer_id=cid, data={"owner_id": "emp"})
    with pytest.raises(InvalidInput):
        pool.call("pool", "assign_customer", ctx=ctx_of(t, "sup", "support"), customer_id=cid, data={})
    pool.seed_employee(t, "carol")
    out = pool.call("pool", "assign_customer", ctx=ctx_of(t, "sup", "support"), customer_id=cid,
                    data={"owner_id": "carol", "reason": "special request"})
    assert out["owner_id"] == "carol" and out["reclaim_on"]
    assert pool.call("pool", "capacity", ctx=ctx_of(t, "carol"))["held"] == 1


def test_protected_customer_cannot_be_claimed_by_others(pool):
    t = tid()
    pool.set_clock("2025-06-01T02:00:00Z")
    try:
        [cid] = create(pool, t, [{"name": "签约客户", "owner_id": "alice"}])
        seen(pool, t, cid, owner="alice")
        pool.call("customers", "_fake_deal", ctx=admin(t), customer_id=cid, contract_start="2025-05-01",
                  contract_end="2026-05-01")

        def protected():
            try:
                pool.call("pool", "check_protection", ctx=ctx_of(t, "bob"), customer_id=cid)
                return False
            except BusinessRule:
                return True
        wait_for(protected, timeout=30, what="protection known")
        pool.call("pool", "release_customer", ctx=ctx_of(t, "alice"), customer_id=cid, data={"reason": "r"})
        seen(pool, t, cid, owner=None)
        with pytest.raises(BusinessRule) as e:
            pool.call("pool", "claim_customer", ctx=ctx_of(t, "bob"), customer_id=cid)
        assert e.value.code == "pool.protected"
        assert e.value.details == {"until": "2027-04-30", "phase": "service"}
    finally:
        pool.set_clock(None)


def test_rules_api_validates_and_is_admin_only(pool):
    t = tid()
    assert pool.call("pool", "get_rules", ctx=ctx_of(t, "e"))["capacity"] == 300
    with pytest.raises(Forbidden):
        pool.call("pool", "update_rules", ctx=ctx_of(t, "e"), data={"capacity": 10})
    with pytest.raises(InvalidInput) as e:
        pool.call("pool", "update_rules", ctx=admin(t), data={"capacity": -1, "reclaim": {"no_deal": {"days": 0}}})
    assert set(e.value.details["fields"]) == {"capacity", "reclaim.no_deal.days"}
    assert pool.call("pool", "update_rules", ctx=admin(t), data={"capacity": 10})["capacity"] == 10
    assert pool.call("pool", "get_rules", ctx=ctx_of(t, "e"))["capacity"] == 10


def test_claim_requests_flow(pool):
    t = tid()
    pool.set_clock("2025-09-30T03:00:00Z")  # Tue before National Day (Beijing 11:00)
    try:
        create(pool, t, [{"name": "已存在公司"}])
        emp, sup = ctx_of(t, "emp"), ctx_of(t, "sup", "support")
        with pytest.raises(InvalidInput) as e:
            pool.call("pool", "submit_claim_request", ctx=emp, data={"name": "新公司"})
        assert {"address"} <= set(e.value.details["fields"])
        with pytest.raises(Conflict):
            pool.call("pool", "submit_claim_request", ctx=emp, data={
                "name": "已存在公司", "landline": "0512-1", "fax": "", "address": "苏州"})
        req = pool.call("pool", "submit_claim_request", ctx=emp, data={
            "name": "新公司", "landline": "0512-66880000", "fax": "0512-66880001", "address": "苏州工业园区",
            "remarks": "客户主动联系"})
        assert req["status"] == "pending"
        assert [r["id"] for r in pool.call("pool", "list_claim_requests", ctx=sup, status="pending")["items"]] \
            == [req["id"]]
        with pytest.raises(Forbidden):
            pool.call("pool", "approve_claim_request", ctx=emp, request_id=req["id"])
        with pytest.raises(InvalidInput):
            pool.call("pool", "reject_claim_request", ctx=sup, request_id=req["id"], data={})
        ok = pool.call("pool", "approve_claim_request", ctx=sup, request_id=req["id"],
                       data={"approved_name": "新公司（苏州）"})
        # replied Tue Sep 30: Oct 1-8 off, Oct 9 and 10 are the two working days
        assert ok["status"] == "approved" and ok["enter_by"] == "2025-10-10T16:00:00Z"
        assert ok["name_fix_by"] == "2025-10-10T16:00:00Z"
        with pytest.raises(Conflict):
            pool.call("pool", "reject_claim_request", ctx=sup, request_id=req["id"], data={"reason": "x"})
        pool.set_clock("2025-10-10T16:00:01Z")
        mine = pool.call("pool", "list_claim_requests", ctx=emp)["items"]
        assert mine[0]["status"] == "lapsed"
    finally:
        pool.set_clock(None)


def test_unknown_customer_and_bad_ids(pool):
    t = tid()
    with pytest.raises(NotFound):
        pool.call("pool", "claim_customer", ctx=ctx_of(t, "u"), customer_id="nope")
    with pytest.raises(CrmError):
        pool.call("pool", "run_reclaim_sweep", ctx=ctx_of(t, "u"))


def test_approved_request_lets_its_requester_claim_past_the_daily_limit(pool):
    t = tid()
    pool.call("pool", "update_rules", ctx=admin(t), data={"daily_claim_limit": 1})
    ids = create(pool, t, [{"name": f"批准公司{i}"} for i in range(3)])
    for cid in ids:
        seen(pool, t, cid)
    emp, other, sup = ctx_of(t, "emp"), ctx_of(t, "other"), ctx_of(t, "sup", "support")
    pool.call("pool", "claim_customer", ctx=emp, customer_id=ids[0])
    with pytest.raises(BusinessRule) as e:
        pool.call("pool", "claim_customer", ctx=emp, customer_id=ids[1])
    assert e.value.code == "pool.daily_limit"
    req = pool.call("pool", "submit_claim_request", ctx=emp, data={
        "name": "批准公司1", "landline": "0512-66880002", "address": "苏州", "customer_id": ids[1]})
    pool.call("pool", "approve_claim_request", ctx=sup, request_id=req["id"])
    assert pool.call("pool", "claim_customer", ctx=emp, customer_id=ids[1])["owner_id"] == "emp"
    # the approval is the requester's, for that customer only
    with pytest.raises(BusinessRule):
        pool.call("pool", "claim_customer", ctx=emp, customer_id=ids[2])
    assert pool.call("pool", "claim_customer", ctx=other, customer_id=ids[2])["owner_id"] == "other"


def test_one_salesperson_double_claiming_one_customer_holds_exactly_one_slot(pool):
    """The same salesperson fires parallel claims of the same customer: after the race
    they own it, hold exactly one capacity slot for it and used one daily claim."""
    t = tid()
    user = "twice"
    rounds, fire = 4, 6
    ids = create(pool, t, [{"name": f"重复挑入{i}"} for i in range(rounds + 2)])
    for cid in ids:
        seen(pool, t, cid)
    clients = [pool.client() for _ in range(fire)]
    answers: list = []
    try:
        for k, cid in enumerate(ids[:rounds]):
            # every other round the claim that took the hold is held back before it asks
            # customers, so that a parallel claim without the hold wins (the losing order)
            pool.call("pool", "_test_pause", point="claim.after_hold", seconds=0.5 if k % 2 == 0 else 0)
            answers += parallel(fire, lambda i, cid=cid: clients[i].call(
                "pool", "claim_customer", ctx=ctx_of(t, user), customer_id=cid, timeout=60))
    finally:
        pool.call("pool", "_test_pause", point="claim.after_hold", seconds=0)
        for c in clients:
            c.close()
    for cid in ids[:rounds]:
        seen(pool, t, cid, owner=user)
        log = pool.call("customers", "_fake_ownership_log", ctx=admin(t), customer_id=cid)
        assert [r["to_owner_id"] for r in log] == [user]
    # let the owner_changed handlers run, then the count must be exact (not one short)
    wait_for(lambda: pool.call("pool", "capacity", ctx=ctx_of(t, user))["held"] == rounds, timeout=30,
             what="one slot per owned customer")
    time.sleep(1.0)
    assert pool.call("pool", "capacity", ctx=ctx_of(t, user))["held"] == rounds
    # every claim of one's own customer answers with it (as a sequential re-claim does)
    odd = [r for r in answers if not isinstance(r, dict) or r["owner_id"] != user]
    assert not odd, odd
    # releasing each frees exactly its slot
    pool.call("pool", "release_customer", ctx=ctx_of(t, user), customer_id=ids[0], data={"reason": "r"})
    assert pool.call("pool", "capacity", ctx=ctx_of(t, user))["held"] == rounds - 1
    # one daily claim per customer: the losers' claim slots were freed (the real rows)
    import pymongo
    db = pymongo.MongoClient(pool.stack.env["MONGO_URI"])[pool.stack.env["MONGO_DB_PREFIX"] + "pool"]
    used = list(db.claim_slots.find({"tenant_id": t, "user_id": user}))
    assert sorted(r["customer_id"] for r in used) == sorted(ids[:rounds])


def test_an_entered_customer_is_found_before_its_created_event(pool):
    """``pool.enter`` is given the customer's search facts: the row is complete at once, so a
    release right after the entry is found by the search before ``customer.created`` arrives
    (here it never does: no customer is written)."""
    t = tid()
    cid = uuid.uuid4().hex
    a, b = ctx_of(t, "alice", "employee"), ctx_of(t, "bob", "employee")
    facts = {cid: {"name": "昆山即搜精密电子有限公司", "name_key": "即搜精密", "industry": "电子", "grade": "A",
                   "landlines": ["0512-66887777"], "ignored": "x"}}
    pool.call("pool", "enter", ctx=a, customer_ids=[cid], owner_id="alice", facts=facts)
    row = pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)
    assert row["owner_id"] == "alice" and row["name"] == "昆山即搜精密电子有限公司" and row["grade"] == "A"
    pool.call("pool", "release_customer", ctx=a, customer_id=cid, data={"reason": "no budget"})
    found = pool.call("pool", "search_pool", ctx=b, keyword="即搜精密")
    assert found["total"] == 1, found
    item = found["items"][0]
    assert item["id"] == cid and item["name_key"] == "即搜精密"
    assert item["phones"]["landlines"] == ["051********77"]


@pytest.mark.parametrize("facts", [["x"], {"not-entered": {"name": "x"}}, {"ID": "x"}, {"ID": {"name": 5}},
                                   {"ID": {"name": "x" * 1001}}, {"ID": {"landlines": "0512"}},
                                   {"ID": {"mobiles": ["1" * 65]}}, {"ID": {"faxes": ["1"] * 51}}])
def test_entry_facts_are_checked(pool, facts):
    t = tid()
    cid = uuid.uuid4().hex
    if isinstance(facts, dict) and "ID" in facts:
        facts = {cid: facts["ID"]}
    with pytest.raises(InvalidInput) as e:
        pool.call("pool", "enter", ctx=ctx_of(t, "alice"), customer_ids=[cid], owner_id="alice", facts=facts)
    assert e.value.details["field"].startswith("facts")
    assert pool.call("pool", "capacity", ctx=ctx_of(t, "alice"))["held"] == 0  # nothing taken


def test_the_capacity_look_names_how_many_do_not_fit(pool):
    """``pool.check_capacity`` (the import's look before its entry) refuses like the entry does:
    the held, the capacity, the adding and how many of them do not fit."""
    t = tid()
    assert pool.call("pool", "_test_seed_holdings", ctx=ctx_of(t, "u"), owner_id="u", count=295)["held"] == 295
    assert pool.call("pool", "check_capacity", ctx=ctx_of(t, "u"), owner_id="u", adding=5)["held"] == 295
    with pytest.raises(BusinessRule) as e:
        pool.call("pool", "check_capacity", ctx=ctx_of(t, "u"), owner_id="u", adding=8)
    assert e.value.code == "pool.capacity_full"
    assert {k: int(v) for k, v in e.value.details.items()} == {"held": 295, "capacity": 300, "adding": 8,
                                                               "refused": 3}
