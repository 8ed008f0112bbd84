"""Every report figure against hand-computed expectations on the fixed data set of
``reports_data`` (real database: FerretDB here, MongoDB where it runs)."""
from __future__ import annotations

import uuid

import pymongo
import pytest
from reports_data import NOW, RANGE, load

from crmkit.errors import BusinessRule, Forbidden, NotFound
from visits import reports
from visits.store import Store


@pytest.fixture(scope="module")
def db(infra):
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    name = f"reports_{uuid.uuid4().hex[:8]}"
    Store(client[name]).ensure_indexes()
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="module")
def ds(db):
    return load(db)


def by_person(out, ds):
    return {p["employee_id"][len(ds.tenant) + 1:]: (p["planned"], p["actual"]) for p in out["people"]}


def series(out, key):
    return [s[key] for s in out["series"]]


# -- employee summary -----------------------------------------------------------------------------

def test_admin_sees_everyone_with_hand_computed_series(ds):
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE)
    assert out["days"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    # v11 (16:30Z on 02-28) is on local 03-01; v10 (16:30Z on 03-03) is on 03-04, out of range
    assert by_person(out, ds) == {"A": (3, 3), "B": (2, 1), "C": (2, 1), "M": (2, 2)}
    assert series(out, "actual") == [4, 2, 1]
    assert series(out, "planned") == [5, 3, 1]
    assert series(out, "actual_per_person") == [1.0, 0.5, 0.25]
    assert series(out, "planned_per_person") == [1.25, 0.75, 0.25]
    # company: 4 field staff (A, B, C, M)
    assert series(out, "company_average") == [1.0, 0.5, 0.25]
    assert out["totals"] == {"actual": 7, "planned": 9, "people": 4, "person_days": 12, "company_actual": 7,
                             "company_field_staff": 4}
    ranks = [(r["rank"], r["name"]) for r in out["ranking"]]
    assert ranks == [(1, "Alice 艾丽"), (2, "Mike"), (3, "Bob"), (3, "Carol")]
    a = next(p for p in out["people"] if p["name"] == "Alice 艾丽")
    assert a["completion_rate"] == 1.0 and a["actual_per_day"] == 1.0
    assert [(d["planned"], d["actual"]) for d in a["daily"]] == [(2, 2), (1, 1), (0, 0)]


def test_validated_only_counts_only_valid_visits(ds):
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {**RANGE, "validated_only": "true"})
    assert by_person(out, ds) == {"A": (3, 1), "B": (2, 0), "C": (2, 0), "M": (2, 1)}
    assert series(out, "actual") == [2, 0, 0]
    assert series(out, "company_average") == [0.5, 0.0, 0.0]
    assert out["details"]["total"] == 2


def test_department_subtree_follows_membership_on_each_day(ds):
    """D1 ⊃ D1a: A, B, and M only from 03-02 (M moved from D2 that local day)."""
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {**RANGE, "dept_id": ds.d("D1")})
    people = by_person(out, ds)
    assert people == {"A": (3, 3), "B": (2, 1), "M": (1, 1), "X": (0, 0)}
    assert series(out, "actual") == [2, 2, 1]
    assert series(out, "planned") == [3, 2, 1]
    assert series(out, "actual_per_person") == [0.5, 0.5, 0.25]
    assert series(out, "company_average") == [1.0, 0.5, 0.25]  # the company line does not move
    d2 = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                  {**RANGE, "dept_id": ds.d("D2")})
    assert by_person(d2, ds) == {"C": (2, 1), "M": (1, 1)}
    d1a = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {**RANGE, "dept_id": ds.d("D1a")})
    assert by_person(d1a, ds) == {"B": (2, 1)}


def test_person_filter_and_details(ds):
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {**RANGE, "employee_id": ds.e("A")})
    assert by_person(out, ds) == {"A": (3, 3)}
    items = out["details"]["items"]
    assert [i["visit_id"][-2:] for i in items] == ["v1", "v2", "v7"]
    v1 = items[0]
    assert v1["check_in_at"] == "2026-03-01T02:00:00Z" and v1["check_out_at"] == "2026-03-01T02:42:00Z"
    assert v1["stay_minutes"] == 42.0 and v1["check_in_deviation_m"] == 12.3 and v1["check_out_deviation_m"] == 45.7
    assert v1["location_source"] == "gps" and v1["address"] == "c1 Road 1号"
    assert items[2]["check_out_at"] is None and items[2]["status"] == "expired"


def test_trend_months_and_weeks(ds):
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE)
    t = {p["period"]: (p["planned"], p["actual"]) for p in out["trend"]["periods"]}
    assert list(t)[0] == "2025-04" and list(t)[-1] == "2026-03" and len(t) == 12
    assert t["2026-03"] == (10, 8) and t["2026-02"] == (1, 1) and t["2026-01"] == (0, 0)
    w = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, {**RANGE, "trend": "weeks"})
    tw = {p["period"]: (p["planned"], p["actual"]) for p in w["trend"]["periods"]}
    assert len(tw) == 12 and list(tw)[-1] == "2026-W10"
    assert tw["2026-W10"] == (5, 4) and tw["2026-W09"] == (5, 4) and tw["2026-W07"] == (1, 1)


def test_range_with_no_visits(ds):
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {"from": "2026-04-01", "to": "2026-04-03"})
    assert out["people"] == [] and out["ranking"] == []
    assert series(out, "actual") == [0, 0, 0] and series(out, "company_average") == [0.0, 0.0, 0.0]
    assert out["details"] == {"total": 0, "items": []}
    cs = reports.customer_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                  {"from": "2026-04-01", "to": "2026-04-03"})
    assert cs["frequency"] == [{"visits": 0, "customers": 6}]
    assert cs["table"]["rows"] == [] and cs["table"]["totals"]["total"] == 0


def test_ranges_are_limited(ds):
    with pytest.raises(BusinessRule) as exc:
        reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                 {"from": "2025-01-01", "to": "2026-03-03"})
    assert exc.value.code == "report.range_too_long"
    with pytest.raises(BusinessRule) as exc:
        reports.targets_vs_actual(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, None, NOW,
                                  {"from": "2026-02-01", "to": "2026-03-04"})
    assert exc.value.details["max_days"] == 31


# -- visibility ----------------------------------------------------------------------------------

def test_department_admin_sees_only_their_subtree(ds):
    ctx = ds.ctx("X", "dept_admin", dept_ids=(ds.d("D1"),))
    out = reports.employee_summary(ds.store, ctx, ds.identity, NOW, RANGE)
    assert by_person(out, ds) == {"A": (3, 3), "B": (2, 1), "M": (2, 2), "X": (0, 0)}
    assert out["totals"]["actual"] == 6
    assert all(not r["employee_id"].endswith("-C") for r in out["details"]["items"])
    with pytest.raises(NotFound):
        reports.employee_summary(ds.store, ds.ctx("X", "dept_admin", dept_ids=(ds.d("D1"),)), ds.identity, NOW,
                                 {**RANGE, "employee_id": ds.e("C")})
    d2 = reports.employee_summary(ds.store, ds.ctx("X", "dept_admin", dept_ids=(ds.d("D1"),)), ds.identity, NOW,
                                  {**RANGE, "dept_id": ds.d("D2")})
    assert by_person(d2, ds) == {"M": (1, 1)}  # C is outside the admin's subtree
    cs = reports.customer_summary(ds.store, ds.ctx("X", "dept_admin", dept_ids=(ds.d("D1"),)), ds.identity, NOW,
                                  RANGE)
    assert cs["customers"] == 5  # c4 (Carol's) is not in the population


def test_employee_sees_only_themselves(ds):
    out = reports.employee_summary(ds.store, ds.ctx("B"), ds.identity, NOW, RANGE)
    assert by_person(out, ds) == {"B": (2, 1)}
    with pytest.raises(NotFound):
        reports.employee_summary(ds.store, ds.ctx("B"), ds.identity, NOW, {**RANGE, "employee_id": ds.e("A")})


# -- customer summary, coverage, targets ----------------------------------------------------------

def test_customer_summary_frequency_grades_and_table(ds):
    out = reports.customer_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, RANGE)
    assert out["customers"] == 6 and out["visits"] == 7
    assert out["frequency"] == [{"visits": 0, "customers": 1}, {"visits": 1, "customers": 3},
                                {"visits": 2, "customers": 2}]
    assert [(g["grade"], g["customers"], g["visits"], g["average"]) for g in out["grades"]] == [
        ("A", 2, 3, 1.5), ("B", 2, 3, 1.5), ("C", 1, 1, 1.0), ("-", 1, 0, 0.0)]
    t = out["table"]
    assert t["grades"] == ["A", "B", "C"]
    rows = {r["label"]: (r["by_grade"], r["total"]) for r in t["rows"]}
    assert rows == {"Alice 艾丽": ({"A": 2, "B": 1, "C": 0}, 3), "Bob": ({"A": 1, "B": 0, "C": 0}, 1),
                    "Carol": ({"A": 0, "B": 0, "C": 1}, 1), "Mike": ({"A": 0, "B": 2, "C": 0}, 2)}
    assert t["totals"]["by_grade"] == {"A": 3, "B": 3, "C": 1} and t["totals"]["total"] == 7


def test_customer_table_by_department_on_the_visit_day(ds):
    out = reports.customer_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {**RANGE, "group_by": "dept"})
    rows = {r["label"]: (r["by_grade"], r["total"]) for r in out["table"]["rows"]}
    # Mike's 03-01 visit counts for 华南 (D2), his 03-02 visit for 华东 (D1)
    assert rows == {"华东": ({"A": 2, "B": 2, "C": 0}, 4), "上海": ({"A": 1, "B": 0, "C": 0}, 1),
                    "华南": ({"A": 0, "B": 1, "C": 1}, 2)}
    assert out["table"]["totals"]["total"] == 7


def test_coverage_and_cadence(ds):
    admin = ds.ctx("X", "tenant_admin")
    reports.save_cadence(ds.store, admin, {"A": 30, "B": 10})
    with pytest.raises(Forbidden):
        reports.save_cadence(ds.store, ds.ctx("B"), {"A": 1})
    out = reports.coverage(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW, {**RANGE, "since": "2026-03-02"})
    assert out["today"] == "2026-03-03"
    assert sorted(c["customer_id"][-2:] for c in out["not_visited"]) == ["c2", "c4", "c6"]
    cad = {c["grade"]: c for c in out["cadence"]}
    assert (cad["A"]["expected_per_customer"], cad["A"]["actual_per_customer"], cad["A"]["customers_on_target"]) \
        == (3.0, 1.5, 0)
    assert (cad["B"]["expected_per_customer"], cad["B"]["actual_per_customer"], cad["B"]["customers_on_target"]) \
        == (1.0, 1.5, 2)
    assert cad["C"]["customers"] == 1 and cad["C"]["target_per_30_days"] == 0.0
    valid = reports.coverage(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                             {**RANGE, "since": "2026-03-02", "validated_only": True})
    assert valid["not_visited_count"] == 6


class FakePool:
    def daily_targets(self, day=None, user_id=None):
        return {"targets": {"prepared_prospects": 50, "new_prospects": 5, "effective_calls": 32, "field_visits": 8,
                            "field_new_prospects": 5}}


def test_targets_vs_actual(ds):
    from reports_data import activity
    activity(ds)
    out = reports.targets_vs_actual(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, FakePool(), NOW,
                                    {**RANGE, "employee_id": ds.e("A")})
    days = {i["day"]: {r["metric"]: (r["target"], r["actual"]) for r in i["rows"]} for i in out["items"]}
    assert days["2026-03-01"] == {"prepared_prospects": (50, 2), "new_prospects": (5, 1), "claims": (None, 1),
                                  "effective_calls": (32, 1), "field_visits": (8, 2)}
    assert days["2026-03-02"]["effective_calls"] == (32, 1) and days["2026-03-02"]["field_visits"] == (8, 1)
    assert days["2026-03-03"]["field_visits"] == (8, 0)


def test_whole_month_reads_give_the_same_days(ds):
    """Months with many days in the range are read with one query on ``month``."""
    out = reports.employee_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                   {"from": "2026-02-20", "to": "2026-03-31"})
    got = {s["day"]: (s["planned"], s["actual"]) for s in out["series"] if s["planned"] or s["actual"]}
    # v12 (02-15) is before the range; v10 is on 03-04 (Shanghai)
    assert got == {"2026-03-01": (5, 4), "2026-03-02": (3, 2), "2026-03-03": (1, 1), "2026-03-04": (1, 1)}
    assert out["details"]["total"] == 8
    cs = reports.customer_summary(ds.store, ds.ctx("X", "tenant_admin"), ds.identity, NOW,
                                  {"from": "2026-02-20", "to": "2026-03-31"})
    assert cs["visits"] == 8


def test_empty_department_inside_and_outside_the_admins_subtree(ds):
    reports.on_department_event(ds.store, {"event_id": "x", "type": "department.created", "tenant_id": ds.tenant,
                                        "occurred_at": "2026-03-01T00:00:00+00:00",
                                        "data": {"department_id": ds.d("D1b"), "parent_id": ds.d("D1"),
                                                 "name": "空部门"}})
    out = reports.employee_summary(ds.store, ds.ctx("X", "dept_admin", dept_ids=(ds.d("D1"),)), ds.identity, NOW,
                                   {**RANGE, "dept_id": ds.d("D1b")})
    assert out["people"] == [] and out["totals"]["actual"] == 0
    with pytest.raises(NotFound):
        reports.employee_summary(ds.store, ds.ctx("B"), ds.identity, NOW, {**RANGE, "dept_id": ds.d("D2")})
