"""Pure report rules (no I/O)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmkit.errors import BusinessRule, InvalidInput
from visits import report_rules as R


def test_actual_and_planned_definitions():
    assert R.is_actual("pending_check_out", True) and R.is_actual("invalid", True)
    assert R.is_actual("expired", True) and not R.is_actual("expired", False)
    assert not R.is_actual("pending_check_in", False) and not R.is_actual("cancelled", False)
    assert R.is_actual("valid", True, validated_only=True) and not R.is_actual("completed", True, True)
    assert R.is_planned("expired") and not R.is_planned("cancelled")


def test_default_range_is_cut_in_the_tenant_time_zone():
    # 16:30Z on Feb 28 is already March 1st in Shanghai
    now = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)
    assert R.date_range({}, now, "Asia/Shanghai") == ["2026-03-01"]
    assert R.date_range({}, now, "UTC")[-1] == "2026-02-28" and len(R.date_range({}, now, "UTC")) == 28


def test_range_errors():
    now = datetime(2026, 3, 3, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        R.date_range({"from": "2026-03-03", "to": "2026-03-01"}, now, "UTC")
    with pytest.raises(InvalidInput):
        R.date_range({"from": "03/01/2026"}, now, "UTC")
    with pytest.raises(BusinessRule) as exc:
        R.check_export_range(R.date_range({"from": "2026-01-01", "to": "2026-02-01"}, now, "UTC"))
    assert exc.value.details["days"] == 32
    R.check_export_range(R.date_range({"from": "2026-01-01", "to": "2026-01-31"}, now, "UTC"))


def test_trend_periods():
    m = R.trend_periods("months", "2026-01-15")
    assert [p["key"] for p in m][:2] == ["2025-02", "2025-03"] and m[-1]["key"] == "2026-01"
    w = R.trend_periods("weeks", "2026-01-01")  # a Thursday in ISO week 2026-W01
    assert w[-1]["key"] == "2026-W01" and w[-1]["days"][0] == "2025-12-29" and w[-2]["key"] == "2025-W52"
    with pytest.raises(InvalidInput):
        R.trend_periods("days", "2026-01-01")


def test_ranking_shares_ranks():
    people = [{"employee_id": e, "name": e, "actual": a, "planned": p, "completion_rate": (a / p) if p else None}
              for e, a, p in (("a", 3, 3), ("b", 3, 3), ("c", 3, 6), ("d", 0, 0))]
    assert [(r["employee_id"], r["rank"]) for r in R.ranking(people)] == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]


def test_frequency_and_grade_table():
    assert R.frequency({"x": 2}, ["x", "y", "z"]) == [{"visits": 0, "customers": 2}, {"visits": 1, "customers": 0},
                                                     {"visits": 2, "customers": 1}]
    t = R.grade_table([("p", "B", 1), ("q", "A", 2), ("p", "A", 1), ("q", "-", 1)], {"p": "P", "q": "Q"})
    assert t["grades"] == ["A", "B", "-"]
    assert t["rows"][0] == {"key": "p", "label": "P", "by_grade": {"A": 1, "B": 1, "-": 0}, "total": 2}
    assert t["totals"]["by_grade"] == {"A": 3, "B": 1, "-": 1} and t["totals"]["total"] == 5


def test_department_history():
    hist = [{"since": "2026-01-01", "dept_ids": ["d2"]}, {"since": "2026-03-02", "dept_ids": ["d1"]}]
    assert R.in_dept_on_day(hist, "2026-03-01", {"d2"}, False)
    assert not R.in_dept_on_day(hist, "2026-03-02", {"d2"}, True)
    assert R.in_dept_on_day(hist, "2025-12-01", {"d2"}, False)  # before history: earliest known
    assert R.in_dept_on_day(None, "2026-03-01", {"d1"}, True)   # no history: current membership
    assert R.subtree({"r": None, "a": "r", "b": "a", "c": None}, "a") == {"a", "b"}


def test_cadence():
    out = R.cadence_vs_actual({"x": 1, "y": 3}, {"x": "A", "y": "A", "z": "B"}, {"A": 30, "B": 15, "C": 1}, 3)
    a, b, c = out
    assert (a["grade"], a["expected_per_customer"], a["actual_per_customer"], a["customers_on_target"]) == \
        ("A", 3.0, 2.0, 1)
    assert (b["customers"], b["visits"], b["customers_on_target"]) == (1, 0, 0)
    assert c["customers"] == 0
    with pytest.raises(InvalidInput):
        R.validate_cadence({"A": -1})


def test_the_customers_of_one_slice_of_the_frequency_pie():
    pop = {c: {"customer_id": c, "name": n, "owner_id": "e1", "grade": g}
           for c, n, g in (("c1", "乙", "B"), ("c2", "甲", "A"), ("c3", "丙", R.NO_GRADE), ("c4", "丁", "A"))}
    counts = {"c1": 2, "c2": 0, "c4": 2}
    twice = R.customers_visited(pop, counts, 2, 10)
    assert twice["total"] == 2 and [i["customer_id"] for i in twice["items"]] == ["c4", "c1"]
    never = R.customers_visited(pop, counts, 0, 1)
    assert never["total"] == 2 and [i["customer_id"] for i in never["items"]] == ["c2"]  # graded first, limited
    assert R.customers_visited(pop, counts, 7, 10) == {"visits": 7, "total": 0, "items": []}
    # the slices add up to the pie
    assert sum(R.customers_visited(pop, counts, f["visits"], 10)["total"] for f in R.frequency(counts, pop)) == 4
