"""Service-level tests of automatic reclaim: each rule on its day and not the day
before, warnings once, a crashed sweep re-run, every ownership path dated, preview =
sweep. Time is moved with the services' test clock, never slept."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from crmkit.errors import CrmError
from tests.support.waiting import wait_for

from .conftest import ctx_of


def tid() -> str:
    return "t-" + uuid.uuid4().hex[:10]


def admin(t):
    return ctx_of(t, "admin-" + t, "tenant_admin")


def at(day: date, hour_utc: int = 2) -> str:
    """An instant on ``day`` (02:00 UTC = 10:00 Beijing)."""
    return f"{day.isoformat()}T{hour_utc:02d}:00:00Z"


def create(pool, t, items, path="entry"):
    return pool.call("customers", "_fake_create", ctx=ctx_of(t, "admin", "tenant_admin"), items=items, path=path,
                     timeout=60)


def row(pool, t, cid):
    return pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=cid)


def wait_row(pool, t, cid, **expect):
    def look():
        r = row(pool, t, cid)
        return r if all(r.get(k) == v for k, v in expect.items()) else None
    return wait_for(look, timeout=60, what=f"{cid} {expect}")


def sweep(pool, t, **kw):
    return pool.call("pool", "run_reclaim_sweep", ctx=admin(t), timeout=60, **kw)


def only(rule):
    return {"reclaim": {name: {"enabled": name == rule} for name in ("no_contact", "no_visit", "no_deal")}}


@pytest.fixture
def clock(pool):
    yield lambda day, hour=2: pool.set_clock(at(day, hour))
    pool.set_clock(None)


D0 = date(2025, 3, 1)


@pytest.mark.parametrize("rule, days", [("no_contact", 30), ("no_visit", 60), ("no_deal", 180)])
def test_each_rule_fires_on_its_day_not_the_day_before(pool, clock, rule, days):
    t = tid()
    pool.call("pool", "update_rules", ctx=admin(t), data=only(rule))
    clock(D0)
    [cid] = create(pool, t, [{"name": "客户", "owner_id": "alice"}])
    due = D0 + timedelta(days=days)
    wait_row(pool, t, cid, owner_id="alice", reclaim_on=due.isoformat(), reclaim_rule=rule)
    clock(due - timedelta(days=1), 15)  # 23:00 Beijing, the evening before
    assert sweep(pool, t)["reclaimed"] == 0
    assert row(pool, t, cid)["owner_id"] == "alice"
    clock(due, 0)  # 08:00 Beijing on the day
    out = sweep(pool, t)
    assert out["reclaimed"] == 1 and out["reclaimed_ids"] == [cid]
    assert row(pool, t, cid)["owner_id"] is None
    log = pool.call("customers", "_fake_ownership_log", ctx=admin(t), customer_id=cid)
    assert [(r["path"], r["to_owner_id"]) for r in log] == [("entry", "alice"), ("reclaim", None)]
    assert [r["reason"] for r in pool.call("pool", "reclaim_log", ctx=admin(t), customer_id=cid)] == \
        [f"reclaim:{rule}"]
    assert sweep(pool, t)["reclaimed"] == 0


def test_clocks_reset_by_contact_note_visit_and_deal(pool, clock):
    t = tid()
    clock(D0)
    [cid] = create(pool, t, [{"name": "客户", "owner_id": "alice"}])
    wait_row(pool, t, cid, reclaim_on="2025-03-31", reclaim_rule="no_contact")
    clock(D0 + timedelta(days=20))
    pool.call("customers", "_fake_contact_note", ctx=ctx_of(t, "alice"), customer_id=cid)
    # contact clock now 2025-04-20; the visit clock (2025-04-30) is later
    wait_row(pool, t, cid, reclaim_on="2025-04-20", reclaim_rule="no_contact")
    pool.call("customers", "_fake_visit_completed", ctx=ctx_of(t, "alice"), customer_id=cid)
    pool.call("customers", "_fake_contact_note", ctx=ctx_of(t, "alice"), customer_id=cid)
    wait_row(pool, t, cid, reclaim_on="2025-04-20", reclaim_rule="no_contact")
    clock(D0 + timedelta(days=25))
    pool.call("customers", "_fake_contact_note", ctx=ctx_of(t, "alice"), customer_id=cid)
    # contact 04-25, visit 03-21 + 60 = 05-20 -> contact wins
    wait_row(pool, t, cid, reclaim_on="2025-04-25", reclaim_rule="no_contact")


def test_warnings_are_sent_once_each(pool, clock):
    t = tid()
    pool.call("pool", "update_rules", ctx=admin(t), data=only("no_contact"))
    clock(D0)
    [cid] = create(pool, t, [{"name": "客户", "owner_id": "alice"}])
    wait_row(pool, t, cid, reclaim_on="2025-03-31")
    for day, expected in [(23, 0), (24, 1), (24, 0), (25, 0), (28, 1), (28, 0), (29, 0), (30, 1), (30, 0)]:
        clock(date(2025, 3, day))
        assert sweep(pool, t)["warned"] == expected, day
    warns = pool.call("pool", "reclaim_warnings", ctx=admin(t), customer_id=cid)
    assert [(w["lead_days"], w["day"]) for w in warns] == [(7, "2025-03-24"), (3, "2025-03-28"),
                                                           (1, "2025-03-30")]


def test_sweep_that_crashes_half_way_reclaims_each_customer_once_on_rerun(pool, clock):
    t = tid()
    pool.call("pool", "update_rules", ctx=admin(t), data=only("no_contact"))
    clock(D0)
    ids = create(pool, t, [{"name": f"客户{i}", "owner_id": f"s{i % 2}"} for i in range(6)])
    for cid in ids:
        wait_row(pool, t, cid, reclaim_on="2025-03-31")
    clock(date(2025, 4, 1))
    with pytest.raises(CrmError):
        sweep(pool, t, crash_after=3)  # dies right after the 3rd change, before its bookkeeping
    again = sweep(pool, t)
    assert again["reclaimed"] == 3, again  # the crashed one is a Conflict (or already known from its event)
    assert sweep(pool, t)["reclaimed"] == 0
    for cid in ids:
        log = pool.call("customers", "_fake_ownership_log", ctx=admin(t), customer_id=cid)
        assert [r["path"] for r in log] == ["entry", "reclaim"], (cid, log)
    wait_for(lambda: len(pool.call("pool", "reclaim_log", ctx=admin(t))) == 6, timeout=30, what="6 logged")
    logged = [r["customer_id"] for r in pool.call("pool", "reclaim_log", ctx=admin(t))]
    assert sorted(logged) == sorted(ids)
    for cid in ids:
        wait_row(pool, t, cid, owner_id=None)


def test_bulk_transfer_and_import_get_reclaim_dates(pool, clock):
    t = tid()
    clock(D0)
    imported = create(pool, t, [{"name": f"导入{i}", "owner_id": "alice"} for i in range(3)], path="import")
    for cid in imported:
        wait_row(pool, t, cid, owner_id="alice", reclaim_on="2025-03-31", reclaim_rule="no_contact")
    clock(D0 + timedelta(days=10))
    for cid in imported:  # bulk transfer, as the customers service does it: one change_owner each
        pool.call("customers", "change_owner", ctx=admin(t), customer_id=cid, expected_owner_id="alice",
                  new_owner_id="bob", path="transfer", reason="bulk transfer")
    for cid in imported:
        wait_row(pool, t, cid, owner_id="bob", reclaim_on="2025-04-10", reclaim_rule="no_contact")
    wait_for(lambda: pool.call("pool", "capacity", ctx=ctx_of(t, "alice"))["held"] == 0, what="alice 0")
    wait_for(lambda: pool.call("pool", "capacity", ctx=ctx_of(t, "bob"))["held"] == 3, what="bob 3")
    targets = pool.call("pool", "daily_targets", ctx=ctx_of(t, "alice"), day=D0.isoformat())
    assert targets["actuals"]["new_prospects"] == 3


def test_preview_matches_what_the_sweep_then_does(pool, clock):
    t = tid()
    ids = []
    for offset in (0, 2, 5, 5):
        clock(D0 + timedelta(days=offset))
        ids += create(pool, t, [{"name": f"客户{offset}", "owner_id": "alice"}])
    for cid in ids:
        wait_row(pool, t, cid, owner_id="alice")
    clock(D0 + timedelta(days=6))
    patch = {"reclaim": {"no_contact": {"days": 10}, "no_visit": {"enabled": False}}}
    with pytest.raises(CrmError):
        pool.call("pool", "preview_rules", ctx=ctx_of(t, "emp"), data=patch)
    preview = pool.call("pool", "preview_rules", ctx=admin(t), data=patch, days=30)
    assert preview["total"] == 4
    assert [(d["day"], d["count"]) for d in preview["by_day"]] == [("2025-03-11", 1), ("2025-03-13", 1),
                                                                   ("2025-03-16", 2)]
    # saving nothing yet: the current rules reclaim nobody in that window
    assert pool.call("pool", "preview_rules", ctx=admin(t), data={}, days=10)["total"] == 0
    pool.call("pool", "update_rules", ctx=admin(t), data=patch)
    done: dict[str, list[str]] = {}
    for offset in range(6, 17):
        day = D0 + timedelta(days=offset)
        clock(day)
        out = sweep(pool, t)
        if out["reclaimed_ids"]:
            done[day.isoformat()] = sorted(out["reclaimed_ids"])
    assert done == {d["day"]: d["customer_ids"] for d in preview["by_day"]}


def test_uncorrected_company_name_loses_protection_after_two_working_days(pool, clock):
    """申请挑入 approved on Tue 2025-09-30 with the record's company name differing from the
    requested one: the name must be corrected within 2 working days from the next day —
    National Day (Oct 1-8) does not count, so they are Thu Oct 9 and Fri Oct 10.
    Uncorrected, the sweep releases it on Oct 11 (rule name_not_corrected), not on the
    evening of Oct 10; corrected in time, nothing happens."""
    t = tid()
    emp, sup = ctx_of(t, "emp"), ctx_of(t, "sup", "support")
    clock(date(2025, 9, 30), 3)  # 11:00 Beijing
    wrong = create(pool, t, [{"name": f"挑错公司{x}", "name_key": f"挑错公司{x}"} for x in "AB"])
    for cid in wrong:
        wait_row(pool, t, cid, owner_id=None)
    fix_by = {}
    for x, cid in zip("AB", wrong, strict=True):
        req = pool.call("pool", "submit_claim_request", ctx=emp, data={
            "name": f"正确公司{x}", "landline": f"0512-6688000{x}", "address": "苏州", "customer_id": cid})
        ok = pool.call("pool", "approve_claim_request", ctx=sup, request_id=req["id"])
        fix_by[cid] = ok["name_fix_by"]
        assert pool.call("pool", "claim_customer", ctx=emp, customer_id=cid)["owner_id"] == "emp"
    assert set(fix_by.values()) == {"2025-10-10T16:00:00Z"}  # end of Fri Oct 10, Beijing
    a, b = wrong
    for cid in wrong:  # the overdue day, not the 30-day contact clock, is the next reclaim
        wait_row(pool, t, cid, owner_id="emp", reclaim_on="2025-10-11", reclaim_rule="name_not_corrected")
    clock(date(2025, 10, 9))
    pool.call("customers", "_fake_update", ctx=emp, customer_id=b,
              fields={"name": "正确公司B", "name_key": "正确公司B"})
    wait_row(pool, t, b, reclaim_on="2025-10-30", reclaim_rule="no_contact")  # corrected in time
    clock(date(2025, 10, 10), 15)  # 23:00 Beijing on the last working day
    assert sweep(pool, t)["reclaimed"] == 0
    clock(date(2025, 10, 11), 0)  # 08:00 Beijing the day after
    out = sweep(pool, t)
    assert out["reclaimed_ids"] == [a], out
    assert row(pool, t, a)["owner_id"] is None and row(pool, t, b)["owner_id"] == "emp"
    assert [r["reason"] for r in pool.call("pool", "reclaim_log", ctx=admin(t), customer_id=a)] == \
        ["reclaim:name_not_corrected"]
    assert [r["reason"] for r in pool.call("pool", "reclaim_log", ctx=ctx_of(t, "emp"))] == \
        ["reclaim:name_not_corrected"]  # the owner sees it among their reclaims
