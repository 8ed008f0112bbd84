"""Reads the PC console needs, against the real service: the records page's department and
day-range filters, a subordinate's calendar and day list for their supervisor, and the routes
a supervisor made for their team."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_visits_service import PLAN, World, uid

from crmkit.clock import iso
from crmkit.errors import Forbidden, InvalidInput


def test_records_filter_by_department_and_by_a_range_of_days(visits_env):
    w = World(visits_env)
    dept, other = "d" + uid(), "d" + uid()
    colleague = "e" + uid()
    visits_env.seed_employee(w.tenant, {"id": w.emp, "dept_ids": [dept], "status": "joined"})
    visits_env.seed_employee(w.tenant, {"id": colleague, "dept_ids": [other], "status": "joined"})
    visits_env.seed_customer(w.tenant, {"id": w.cust, "name": "客户", "owner_id": w.emp, "kind": "own",
                                        "shared_with": [colleague]})
    now = datetime.now(UTC)
    near = w.plan(planned_at=iso(now + timedelta(days=1)))
    far = w.plan(planned_at=iso(now + timedelta(days=5)))
    theirs = w.plan(ctx=visits_env.ctx(w.tenant, colleague), planned_at=iso(now + timedelta(days=1)))

    def ids(**kw):
        return {i["id"] for i in visits_env.call("list_records", w.admin, **kw)["items"]}

    assert ids() == {near["id"], far["id"], theirs["id"]}
    assert ids(dept_id=dept) == {near["id"], far["id"]}
    assert ids(dept_id=other) == {theirs["id"]}
    assert ids(from_day=near["day"], to_day=near["day"]) == {near["id"], theirs["id"]}
    assert ids(from_day=far["day"]) == {far["id"]}
    assert ids(to_day=near["day"], dept_id=dept) == {near["id"]}
    for bad in ({"from_day": far["day"], "to_day": near["day"]}, {"from_day": "2025-01-01", "to_day": "2026-01-02"},
                {"from_day": "2026-02-30"}, {"dept_id": ["x"]}):
        with pytest.raises(InvalidInput):
            visits_env.call("list_records", w.admin, **bad)


def test_a_supervisor_sees_a_subordinates_calendar_and_day_but_a_peer_does_not(visits_env):
    w = World(visits_env)
    boss, sub, peer = "b" + uid(), "s" + uid(), "p" + uid()
    visits_env.seed_employee(w.tenant, {"id": sub, "supervisor_id": boss, "status": "joined"})
    visits_env.seed_customer(w.tenant, {"id": w.cust, "name": "客户", "owner_id": boss, "kind": "own"})
    boss_ctx = visits_env.ctx(w.tenant, boss, "employee")
    task = w.plan(ctx=boss_ctx, employee_id=sub)
    month, day = task["day"][:7], task["day"]
    cal = visits_env.call("calendar", boss_ctx, month=month, employee_id=sub)
    assert cal["employee_id"] == sub and {d["day"]: d["count"] for d in cal["days"]}[day] == 1
    assert visits_env.call("calendar", boss_ctx, month=month)["total"] == 0  # the boss's own: none
    listed = visits_env.call("list_my_visits", boss_ctx, day=day, employee_id=sub)
    assert [i["id"] for i in listed["items"]] == [task["id"]]
    for ctx in (visits_env.ctx(w.tenant, peer), visits_env.ctx(w.tenant, peer, "dept_admin")):
        with pytest.raises(Forbidden) as e:
            visits_env.call("calendar", ctx, month=month, employee_id=sub)
        assert e.value.code == "visit.not_supervisor"
        with pytest.raises(Forbidden):
            visits_env.call("list_my_visits", ctx, employee_id=sub)
    sub_ctx = visits_env.ctx(w.tenant, sub)
    assert visits_env.call("calendar", sub_ctx, month=month, employee_id=sub)["total"] == 1  # one's own


def test_a_supervisor_lists_the_routes_they_made_for_their_team(visits_env):
    w = World(visits_env)
    boss, sub = "b" + uid(), "s" + uid()
    visits_env.seed_employee(w.tenant, {"id": sub, "supervisor_id": boss, "status": "joined"})
    visits_env.seed_customer(w.tenant, {"id": w.cust, "name": "客户", "owner_id": boss, "kind": "own",
                                        "location": {"lat": PLAN["lat"], "lng": PLAN["lng"]}})
    boss_ctx = visits_env.ctx(w.tenant, boss)
    mine = visits_env.call("create_route", boss_ctx, data={"name": "A 我的路线", "stops": [w.cust]})
    team = visits_env.call("create_route", boss_ctx, data={"name": "B 下属路线", "stops": [w.cust], "employee_id": sub})
    assert team["created_by"] == boss and team["employee_id"] == sub
    assert [r["id"] for r in visits_env.call("list_routes", boss_ctx)] == [mine["id"], team["id"]]
    assert [r["id"] for r in visits_env.call("list_routes", boss_ctx, employee_id=sub)] == [team["id"]]
    assert [r["id"] for r in visits_env.call("list_routes", visits_env.ctx(w.tenant, sub))] == [team["id"]]
    assert visits_env.call("list_routes", visits_env.ctx(w.tenant, "x" + uid())) == []
