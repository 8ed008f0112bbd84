"""Unit tests of the argument checks (visits.inputs) and the supported calendar (visits.rules):
every bad argument is an InvalidInput naming its field, never a TypeError/OverflowError."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmkit.errors import InvalidInput
from visits import inputs, report_rules, rules


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", "2100-01", "2026-13", "2026-1", "abc", "",
                                   "2026-00", 202601, None, ["2026-01"], {"m": 1}])
def test_months_outside_the_calendar_or_malformed_are_refused(month):
    with pytest.raises(InvalidInput) as e:
        rules.days_of_month(month)
    assert e.value.code == "visit.bad_month" and e.value.details["field"] == "month"


def test_calendar_edges_have_neighbours_and_days():
    assert rules.neighbour_months("2000-01") == ("1999-12", "2000-02")
    assert rules.neighbour_months("2099-12") == ("2099-11", "2100-01")
    assert rules.days_of_month("2099-12")[-1] == "2099-12-31" and len(rules.days_of_month("2000-02")) == 29


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "2026-02-30", "x", 5,
                                 None, {"d": 1}])
def test_days_outside_the_calendar_or_malformed_are_refused(day):
    with pytest.raises(InvalidInput) as e:
        rules.parse_day(day, "from", "report.bad_day")
    assert e.value.code == "report.bad_day" and e.value.details["field"] == "from"


@pytest.mark.parametrize("raw", ["9999-12-31T00:00:00Z", "9999-12-31", "9999-12-31T23:59:59-14:00",
                                 "0001-01-01T00:00:00+14:00", "0001-01-01", "1999-12-31T23:59:59Z",
                                 "2100-01-01T00:00:00Z", "tomorrow", 20260101, None, "2026-01-01T00:00:00" + "0" * 50])
def test_instants_outside_the_calendar_or_malformed_are_refused(raw):
    with pytest.raises(InvalidInput) as e:
        rules.parse_instant(raw, "planned_at")
    assert e.value.details["field"] == "planned_at"


def test_instants_inside_the_calendar_are_aware_utc():
    assert rules.parse_instant("2026-03-01T08:00:00+08:00", "t") == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert rules.parse_instant("2026-03-01T00:00:00", "t") == datetime(2026, 3, 1, tzinfo=UTC)
    late = rules.parse_instant("2099-12-31T23:59:59Z", "t")
    assert rules.local_day(late, "Asia/Shanghai") == "2100-01-01"  # still arithmetic, no overflow
    assert rules.end_of_day_utc("2099-12-31", "Pacific/Kiritimati").year == 2100


def test_report_ranges_use_the_same_calendar():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    for bad in ({"from": "9999-12-01", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-02"}):
        with pytest.raises(InvalidInput) as e:
            report_rules.date_range(bad, now, "Asia/Shanghai")
        assert e.value.code == "report.bad_day"
    assert report_rules.date_range({"from": "2099-12-31", "to": "2099-12-31"}, now, "UTC") == ["2099-12-31"]


@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, True, float("nan"), float("inf"), [], {}, "9" * 30, "-1",
                                   "501", 501])
def test_paging_refuses_anything_but_small_whole_numbers(value):
    with pytest.raises(InvalidInput) as e:
        inputs.paging(value, 0, max_limit=500)
    assert e.value.code == "visit.bad_paging" and e.value.details["field"] == "limit"


def test_paging_takes_numeric_text_and_defaults():
    assert inputs.paging(None, None, max_limit=500) == (100, 0)
    assert inputs.paging("20", " 40 ", max_limit=500) == (20, 40)
    assert inputs.paging(3.0, "", max_limit=500) == (3, 0)
    with pytest.raises(InvalidInput) as e:
        inputs.paging(1, "abc", max_limit=500)
    assert e.value.details["field"] == "offset"


@pytest.mark.parametrize("loc", ["here", 5, ["31.2", "121.4"], True])
def test_a_location_that_is_not_an_object_is_refused(loc):
    with pytest.raises(InvalidInput) as e:
        inputs.optional_location(loc)
    assert e.value.code == "visit.bad_location" and e.value.details["field"] == "location"
    assert inputs.optional_location(None) == {}


def test_ids_choices_and_objects():
    assert inputs.ident("abc", "customer_id") == "abc"
    for bad in ({"$ne": 1}, 5, "x" * 200):
        with pytest.raises(InvalidInput):
            inputs.ident(bad, "customer_id")
    with pytest.raises(InvalidInput) as e:
        inputs.ident(None, "customer_id")
    assert e.value.code == "visit.missing_field"
    assert inputs.choice("records", "scope", ("records",)) == "records" and inputs.choice(None, "s", ("a",)) is None
    with pytest.raises(InvalidInput):
        inputs.choice({"x": 1}, "status", rules.STATUSES)
    with pytest.raises(InvalidInput):
        inputs.obj(["a"], "changes")
