"""Unit tests of the pure pool rules (no fixtures)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crmkit.errors import BusinessRule, InvalidInput
from pool import rules as R

RULES = R.validate_rules({})


def bj(y, m, d, h=10, mi=0):
    """An instant given in Beijing time."""
    return datetime(y, m, d, h, mi, tzinfo=R.TZ).astimezone(UTC)


# ------------------------------------------------------------------ working days

def test_calendar_knows_national_day_2025_and_its_make_up_days():
    assert not R.is_workday(date(2025, 10, 1))
    assert not R.is_workday(date(2025, 10, 8))
    assert R.is_workday(date(2025, 9, 28))   # Sunday, make-up working day
    assert R.is_workday(date(2025, 10, 11))  # Saturday, make-up working day
    assert not R.is_workday(date(2025, 10, 12))


@pytest.mark.parametrize("reply_day, deadline_day", [
    # ordinary week: reply Monday -> Tue, Wed
    (date(2025, 9, 15), date(2025, 9, 17)),
    # across a plain weekend: reply Thursday -> Fri, (Sat, Sun off) Mon
    (date(2025, 9, 18), date(2025, 9, 22)),
    # reply Friday before National Day: Sat 27 off, Sun 28 make-up (1), Mon 29 (2)
    (date(2025, 9, 26), date(2025, 9, 29)),
    # reply Sat 27: Sun 28 make-up (1), Mon 29 (2)
    (date(2025, 9, 27), date(2025, 9, 29)),
    # reply Mon 29: Tue 30 (1), Oct 1-8 holiday, Thu Oct 9 (2)
    (date(2025, 9, 29), date(2025, 10, 9)),
    # reply Tue 30: holiday to Oct 8, Oct 9 (1), Oct 10 (2)
    (date(2025, 9, 30), date(2025, 10, 10)),
    # reply during the holiday: Oct 9 (1), Oct 10 (2)
    (date(2025, 10, 3), date(2025, 10, 10)),
    # reply Thu Oct 9: Fri 10 (1), Sat 11 make-up working day (2)
    (date(2025, 10, 9), date(2025, 10, 11)),
    # reply Fri Oct 10: Sat 11 make-up (1), Sun 12 off, Mon 13 (2)
    (date(2025, 10, 10), date(2025, 10, 13)),
])
def test_two_working_days_counted_from_the_day_after_the_reply(reply_day, deadline_day):
    assert R.nth_working_day_after(reply_day, 2) == deadline_day
    replied = bj(reply_day.year, reply_day.month, reply_day.day, 23, 30)
    deadline = R.working_deadline(replied, 2)
    # valid through the whole last working day (Beijing), lapsed from the next midnight
    assert deadline == bj(deadline_day.year, deadline_day.month, deadline_day.day, 0) + timedelta(days=1)
    assert R.local_day(deadline - timedelta(seconds=1)) == deadline_day


def test_reply_day_is_taken_in_beijing_time():
    # 2025-09-29 17:00 UTC is already Tue 30 in Beijing
    replied = datetime(2025, 9, 29, 17, 0, tzinfo=UTC)
    assert R.local_day(replied) == date(2025, 9, 30)
    assert R.working_deadline(replied, 2) == bj(2025, 10, 11, 0)


# ------------------------------------------------------------------- protection

def test_protection_windows_follow_the_tenant_rules():
    start, end = date(2024, 1, 1), date(2025, 1, 1)
    assert R.protection_at(start, end, date(2023, 12, 31), RULES).protected is False
    p = R.protection_at(start, end, date(2024, 3, 1), RULES)
    assert (p.protected, p.phase, p.until) == (True, "service", date(2025, 12, 31))
    assert R.protection_at(start, end, date(2024, 8, 31), RULES).phase == "service"
    assert R.protection_at(start, end, date(2024, 9, 1), RULES).phase == "renewal"
    assert R.protection_at(start, end, date(2025, 1, 1), RULES).phase == "after_expiry"
    assert R.protection_at(start, end, date(2025, 12, 31), RULES).protected is True
    assert R.protection_at(start, end, date(2026, 1, 1), RULES).protected is False
    shorter = R.validate_rules({"protection": {"after_expiry_months": 3}})
    assert R.protection_at(start, end, date(2025, 4, 1), shorter).protected is False
    assert R.protection_at(start, end, date(2025, 3, 31), shorter).until == date(2025, 3, 31)
    assert R.protection_at(None, None, date(2025, 1, 1), RULES).protected is False


def test_protection_without_end_date_runs_service_plus_renewal():
    p = R.protection_at(date(2024, 1, 1), None, date(2025, 6, 1), RULES)
    assert (p.phase, p.until) == ("after_expiry", date(2025, 12, 31))


# ------------------------------------------------------------------- reclaim

ENTERED = bj(2025, 3, 1, 10)


def test_no_contact_rule_fires_on_day_30_not_day_29():
    rules = R.validate_rules({"reclaim": {"no_visit": {"enabled": False}, "no_deal": {"enabled": False}}})
    on, rule = R.next_reclaim(R.Clocks(ENTERED), rules)
    assert (on, rule) == (date(2025, 3, 31), "no_contact")
    assert not R.is_due(on, date(2025, 3, 30))
    assert R.is_due(on, date(2025, 3, 31))


def test_no_visit_rule_rolls_with_each_completed_visit():
    rules = R.validate_rules({"reclaim": {"no_contact": {"enabled": False}, "no_deal": {"enabled": False}}})
    assert R.next_reclaim(R.Clocks(ENTERED), rules) == (date(2025, 4, 30), "no_visit")
    clocks = R.Clocks(ENTERED, last_visit_at=bj(2025, 4, 20, 15))
    assert R.next_reclaim(clocks, rules) == (date(2025, 6, 19), "no_visit")


def test_no_deal_rule_and_the_earliest_rule_wins():
    rules = R.validate_rules({"reclaim": {"no_contact": {"enabled": False}, "no_visit": {"enabled": False}}})
    assert R.next_reclaim(R.Clocks(ENTERED), rules) == (date(2025, 8, 28), "no_deal")
    # all three: no_contact first; after a contact note the visit rule is next
    assert R.next_reclaim(R.Clocks(ENTERED), RULES) == (date(2025, 3, 31), "no_contact")
    clocks = R.Clocks(ENTERED, last_contact_at=bj(2025, 3, 20))
    assert R.next_reclaim(clocks, RULES) == (date(2025, 4, 19), "no_contact")
    clocks = R.Clocks(ENTERED, last_contact_at=bj(2025, 4, 25))
    assert R.next_reclaim(clocks, RULES) == (date(2025, 4, 30), "no_visit")


def test_activity_before_entry_does_not_count():
    clocks = R.Clocks(ENTERED, last_contact_at=bj(2025, 1, 1))
    assert R.next_reclaim(clocks, RULES) == (date(2025, 3, 31), "no_contact")


def test_all_rules_disabled_means_no_reclaim():
    off = {name: {"enabled": False} for name in R.RECLAIM_RULES}
    assert R.next_reclaim(R.Clocks(ENTERED), R.validate_rules({"reclaim": off})) is None


def test_warning_schedule_is_sent_once_per_lead():
    on = date(2025, 3, 31)
    leads = [7, 3, 1]
    assert R.warning_due(on, date(2025, 3, 23), leads, []) is None
    assert R.warning_due(on, date(2025, 3, 24), leads, []) == 7
    assert R.warning_due(on, date(2025, 3, 25), leads, [7]) is None
    assert R.warning_due(on, date(2025, 3, 28), leads, [7]) == 3
    assert R.warning_due(on, date(2025, 3, 29), leads, [7, 3]) is None
    assert R.warning_due(on, date(2025, 3, 30), leads, [7, 3]) == 1
    assert R.warning_due(on, date(2025, 3, 30), leads, [7, 3, 1]) is None
    assert R.warning_due(on, date(2025, 3, 31), leads, []) is None  # reclaim day: reclaim, no warning
    # a sweep that missed days sends only the most urgent lead
    assert R.warning_due(on, date(2025, 3, 30), leads, []) == 1


# ------------------------------------------------------------------- limits

def test_capacity_check_names_the_numbers():
    R.check_capacity(299, 300)
    with pytest.raises(BusinessRule) as e:
        R.check_capacity(300, 300)
    assert e.value.code == "pool.capacity_full"
    assert e.value.details == {"held": 300, "capacity": 300, "adding": 1}


def test_cooldown_applies_to_the_previous_owner_only():
    released = bj(2025, 3, 1)
    R.check_cooldown("u2", "u1", released, bj(2025, 3, 2), 30)
    R.check_cooldown("u1", "u1", released, bj(2025, 3, 31, 10, 1), 30)
    with pytest.raises(BusinessRule) as e:
        R.check_cooldown("u1", "u1", released, bj(2025, 3, 30), 30)
    assert e.value.code == "pool.cooldown"
    assert e.value.details["until"] == "2025-03-31T02:00:00Z"


def test_daily_limit():
    R.check_daily_limit(19, 20)
    with pytest.raises(BusinessRule) as e:
        R.check_daily_limit(20, 20)
    assert e.value.details == {"claimed_today": 20, "limit": 20}


def test_phone_masking():
    assert R.mask_phone("051266881234") == "051*******34"
    assert R.mask_phone("1234") == "****"


# --------------------------------------------------------------- rules document

def test_defaults_are_the_spec_defaults():
    assert RULES["capacity"] == 300
    assert RULES["reclaim"]["no_contact"]["days"] == 30
    assert RULES["reclaim"]["no_visit"]["days"] == 60
    assert RULES["reclaim"]["no_deal"]["days"] == 180
    assert RULES["warning_lead_days"] == [7, 3, 1]
    assert RULES["targets"]["prepared_prospects"] == 50
    assert RULES["targets"]["effective_calls"] == 32


def test_bad_rules_name_every_bad_field():
    with pytest.raises(InvalidInput) as e:
        R.validate_rules({"capacity": 0, "reclaim": {"no_visit": {"days": "x"}}, "bogus": 1,
                          "warning_lead_days": [3, 3], "protection": 5})
    fields = e.value.details["fields"]
    assert set(fields) == {"capacity", "reclaim.no_visit.days", "bogus", "warning_lead_days", "protection"}
    with pytest.raises(InvalidInput):
        R.validate_rules([1])


def test_patch_merges_over_current():
    cur = R.validate_rules({"capacity": 10})
    new = R.validate_rules({"cooldown_days": 3}, cur)
    assert (new["capacity"], new["cooldown_days"]) == (10, 3)


def test_uncorrected_name_is_overdue_the_day_after_the_second_working_day():
    # replied Tue 2025-09-30 (Beijing): Oct 1-8 are off, Oct 9 and 10 the two working days
    by = R.working_deadline(bj(2025, 9, 30, 11), 2)
    assert R.name_fix_overdue_on(by) == date(2025, 10, 11)
    # replied Fri 2025-09-26: Sat 27 is off, Sun 28 a make-up working day, Mon 29 the second
    assert R.name_fix_overdue_on(R.working_deadline(bj(2025, 9, 26, 17), 2)) == date(2025, 9, 30)
    entered = bj(2025, 10, 1)
    assert R.next_reclaim(R.Clocks(entered), RULES, date(2025, 10, 11)) == (date(2025, 10, 11), "name_not_corrected")
    # a later overdue day does not hide an earlier activity rule; with every rule off it still applies
    assert R.next_reclaim(R.Clocks(entered), RULES, date(2025, 12, 1)) == (date(2025, 10, 31), "no_contact")
    off = R.validate_rules({"reclaim": {name: {"enabled": False} for name in R.RECLAIM_RULES}})
    assert R.next_reclaim(R.Clocks(entered), off, date(2025, 12, 1)) == (date(2025, 12, 1), "name_not_corrected")


# -- the calendar's ends: arithmetic saturates, arguments are refused ---------------------------

def test_date_arithmetic_saturates_at_the_ends_of_the_calendar():
    assert R.add_months(date(9999, 12, 31), 12) == date.max
    assert R.add_months(date(1, 1, 31), -12) == date.min
    assert R.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert R.plus_days(date(9999, 12, 30), 180) == date.max and R.plus_days(date(1, 1, 2), -5) == date.min
    assert R.local_day(datetime(9999, 12, 31, 20, tzinfo=UTC)) == date.max
    assert R.day_start(date.min).year == 1 and R.day_start(date.max).year == 9999
    assert R.cooldown_until(datetime(9999, 12, 1, tzinfo=UTC), 365).year == 9999


def test_a_perpetual_contract_protects_for_good():
    p = R.protection_at(date(2025, 1, 1), date(9999, 12, 31), date(2026, 12, 1), R.DEFAULT_RULES)
    assert p.protected and p.phase in ("service", "renewal")
    assert p.until == date.max
    far = R.protection_at(date(9999, 6, 1), date(9999, 12, 31), date(2026, 12, 1), R.DEFAULT_RULES)
    assert not far.protected
    old = R.protection_at(date(1, 1, 1), date(1, 2, 1), date(2026, 12, 1), R.DEFAULT_RULES)
    assert not old.protected


def test_reclaim_clocks_near_the_end_of_the_calendar_do_not_overflow():
    clocks = R.Clocks(entered_at=datetime(2026, 1, 1, tzinfo=UTC), last_deal_at=datetime(9999, 12, 31, tzinfo=UTC),
                      last_contact_at=datetime(9999, 12, 31, 23, tzinfo=UTC))
    assert R.next_reclaim(clocks, R.DEFAULT_RULES) == (date(2026, 3, 2), "no_visit")


def test_pool_arguments_are_refused_with_their_field():
    from pool import inputs

    for value in ("abc", "1.5", 1.5, True, [], float("nan"), "9" * 25):
        with pytest.raises(InvalidInput) as e:
            inputs.integer(value, "limit", default=1, lo=1, hi=1000)
        assert e.value.details == {"field": "limit", "fields": {"limit": "must be an integer"}}
    assert inputs.integer(" 7 ", "limit", default=1, lo=1, hi=1000) == 7
    for bad in ("9999-12-31", "0001-01-01", "2100-01-01", 20260101, "2026-02-30"):
        with pytest.raises(InvalidInput):
            inputs.day(bad, "day")
    for bad in ("9999-12-31T23:59:59.999999", "0001-01-01T00:00:00+14:00", "soon", None):
        with pytest.raises(InvalidInput):
            inputs.instant(bad, "released_from")
    assert inputs.instant("2026-03-01", "x") == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        inputs.obj(["reason"])
    assert inputs.obj(None) == {} and inputs.ident(None, "x", required=False) is None
