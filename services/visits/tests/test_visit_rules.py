"""Unit tests of the pure visit rules (no I/O)."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from crmkit.errors import Conflict, InvalidInput
from visits import rules

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
PLAN = {"lat": 31.2304, "lng": 121.4737, "address": "People's Square"}
S = rules.merge_settings(None)


def north(point: dict, metres: float) -> dict:
    """A point ``metres`` due north (1 deg latitude = pi*R/180 m on the sphere)."""
    import math
    return {"lat": point["lat"] + metres / (math.pi * rules.EARTH_RADIUS_M / 180.0), "lng": point["lng"],
            "source": "gps"}


def visit(stay_min: float = 45, plan_co_m: float = 100, ci_co_m: float = 50, photo: bool = True,
          notes: str = "talked about renewal", status: str = rules.COMPLETED) -> dict:
    ci_point = north(PLAN, plan_co_m - ci_co_m)
    co_point = north(PLAN, plan_co_m)
    return {
        "status": status, "location": PLAN,
        "check_in": {"at": T0, "point": ci_point, "photo": {"sha256": "ab" * 32} if photo else None},
        "check_out": {"at": T0 + timedelta(minutes=stay_min), "point": co_point},
        "notes": {"text": notes} if notes else None,
    }


# -- status machine ------------------------------------------------------------------------

def test_happy_path_statuses():
    s = rules.PENDING_CHECK_IN
    for action, expected in (("check_in", "pending_check_out"), ("check_out", "pending_notes"),
                             ("notes", "completed"), ("approve", "valid")):
        s = rules.next_status(s, action)
        assert s == expected
    assert rules.next_status("completed", "reject") == "invalid"


@pytest.mark.parametrize("status,action", [
    ("pending_check_in", "check_out"), ("pending_check_in", "notes"), ("pending_check_out", "check_in"),
    ("pending_notes", "check_out"), ("completed", "notes"), ("valid", "reject"), ("invalid", "approve"),
    ("expired", "check_in"), ("pending_notes", "expire"), ("completed", "expire"), ("pending_check_out", "approve"),
    ("cancelled", "check_in"),
])
def test_illegal_transitions_are_conflicts_with_current_status(status, action):
    with pytest.raises(Conflict) as e:
        rules.next_status(status, action)
    assert e.value.details["status"] == status
    assert e.value.code == "visit.illegal_transition"


def test_expiry_applies_only_before_check_out():
    assert rules.next_status("pending_check_in", "expire") == "expired"
    assert rules.next_status("pending_check_out", "expire") == "expired"


def test_expiry_at_local_midnight_in_tenant_zone():
    # 2026-03-02 in Shanghai (UTC+8) ends at 2026-03-02T16:00Z
    assert not rules.is_expired("pending_check_in", "2026-03-02", datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC),
                                "Asia/Shanghai")
    assert rules.is_expired("pending_check_in", "2026-03-02", datetime(2026, 3, 2, 16, 0, tzinfo=UTC),
                            "Asia/Shanghai")
    # same instant is still the planned day in New York
    assert not rules.is_expired("pending_check_out", "2026-03-02", datetime(2026, 3, 2, 16, 0, tzinfo=UTC),
                                "America/New_York")
    assert not rules.is_expired("pending_notes", "2026-03-02", datetime(2026, 3, 9, tzinfo=UTC), "Asia/Shanghai")


def test_local_day_and_month():
    at = datetime(2026, 2, 28, 17, 30, tzinfo=UTC)  # 01:30 on 1 March in Shanghai
    assert rules.local_day(at, "Asia/Shanghai") == "2026-03-01"
    assert rules.local_day(at, "UTC") == "2026-02-28"
    assert rules.days_of_month("2026-02")[-1] == "2026-02-28"
    with pytest.raises(InvalidInput):
        rules.parse_month("2026-13")


# -- distances, stay -------------------------------------------------------------------------

def test_haversine_known_distance():
    # Shanghai People's Square -> Beijing Tiananmen is about 1067 km
    d = rules.haversine_m(31.2304, 121.4737, 39.9087, 116.3975)
    assert 1_060_000 < d < 1_075_000
    assert rules.haversine_m(10, 20, 10, 20) == 0
    assert abs(rules.haversine_m(0, 0, 0, 1) - 111_195) < 5


def test_bad_coordinates_refused():
    for lat, lng in ((91, 0), (0, 181), ("x", 1), (None, 1), (float("nan"), 0)):
        with pytest.raises(InvalidInput):
            rules.check_lat_lng(lat, lng)


def test_stay_minutes():
    assert rules.stay_minutes(T0, T0 + timedelta(minutes=31, seconds=30)) == 31.5
    assert rules.stay_minutes(None, T0) is None


# -- validity criteria --------------------------------------------------------------------------

def test_all_criteria_pass():
    crits = rules.criteria(visit(), S)
    assert rules.failing(crits) == []
    by = {c["name"]: c for c in crits}
    assert by["stay"]["measured"] == 45 and by["stay"]["threshold"] == 30
    assert abs(by["plan_to_check_out"]["measured"] - 100) < 1
    assert abs(by["check_in_to_check_out"]["measured"] - 50) < 1


@pytest.mark.parametrize("kwargs,failing", [
    ({"stay_min": 29}, ["stay"]),
    ({"stay_min": 30}, ["stay"]),          # must be LONGER than 30 minutes
    ({"plan_co_m": 501, "ci_co_m": 10}, ["plan_to_check_out"]),
    ({"plan_co_m": 400, "ci_co_m": 501}, ["check_in_to_check_out"]),
    ({"photo": False}, ["photo"]),
    ({"notes": ""}, ["notes"]),
    ({"status": rules.PENDING_NOTES, "notes": ""}, ["notes"]),
])
def test_each_criterion_failing_alone(kwargs, failing):
    crits = rules.criteria(visit(**kwargs), S)
    assert rules.failing(crits) == failing
    for c in crits:
        assert "measured" in c and "threshold" in c


def test_thresholds_are_tenant_settings():
    s = rules.merge_settings({"min_stay_minutes": 20, "max_plan_to_checkout_m": 1000})
    assert rules.failing(rules.criteria(visit(stay_min=25, plan_co_m=900, ci_co_m=10), s)) == []


def test_settings_validation():
    assert rules.validate_settings({"time_zone": "Europe/Berlin"}) == {"time_zone": "Europe/Berlin"}
    for bad in ({"time_zone": "Mars/Base"}, {"min_stay_minutes": -1}, {"nope": 1}, {"reject_invalid_exif": "y"}):
        with pytest.raises(InvalidInput):
            rules.validate_settings(bad)


def test_location_trust_tolerance_by_source():
    v = visit(plan_co_m=800, ci_co_m=100)
    v["check_out"]["point"]["source"] = "network"
    v["check_in"]["point"]["accuracy"] = 30
    t = rules.location_trust(v, S)
    assert t["check_in"]["tolerance_m"] == 500 and t["check_in"]["within_tolerance"] is False  # 700 m > 500
    assert t["check_out"]["tolerance_m"] == 1000 and t["check_out"]["within_tolerance"] is True  # 800 <= 1000
    assert abs(t["check_out"]["deviation_m"] - 800) < 1


def test_impossible_travel():
    prev = {"visit_id": "v1", "at": T0, "point": {"lat": 31.2304, "lng": 121.4737}}
    beijing = {"lat": 39.9087, "lng": 116.3975}
    fast = rules.travel_check(prev, beijing, T0 + timedelta(hours=1), S)
    assert fast["flagged"] and fast["speed_kmh"] > 1000
    slow = rules.travel_check(prev, beijing, T0 + timedelta(hours=12), S)
    assert not slow["flagged"]
    near = rules.travel_check(prev, north(prev["point"], 300), T0 + timedelta(seconds=10), S)
    assert not near["flagged"]  # GPS noise, not travel
    assert rules.travel_check(None, beijing, T0, S) is None


# -- route ordering -----------------------------------------------------------------------------

def test_shorter_order_never_longer_and_keeps_start():
    rnd = random.Random(7)
    for _ in range(20):
        pts = [(31 + rnd.random() * 0.2, 121 + rnd.random() * 0.2) for _ in range(rnd.randint(3, 9))]
        order = rules.shorter_order(pts)
        assert order[0] == 0 and sorted(order) == list(range(len(pts)))
        assert rules.route_length(pts, order) <= rules.route_length(pts, list(range(len(pts)))) + 1e-6


def test_shorter_order_fixes_a_zigzag():
    pts = [(0.0, 0.0), (0.0, 0.3), (0.0, 0.1), (0.0, 0.2)]
    assert rules.shorter_order(pts) == [0, 2, 3, 1]


# -- photo limits: tenant settings inside the operator's bounds ---------------------------------

def test_photo_limits_are_clamped_to_the_operator_bounds():
    b = rules.PhotoBounds(max_bytes=5_000_000, max_pixels=12_000_000, min_pixels_floor=100_000)
    s = rules.merge_settings({"max_photo_bytes": 10**15, "max_photo_pixels": 10**12, "min_photo_pixels": 10**13}, b)
    assert (s["max_photo_bytes"], s["max_photo_pixels"], s["min_photo_pixels"]) == (5_000_000, 12_000_000,
                                                                                   12_000_000)
    low = rules.merge_settings({"min_photo_pixels": 1}, b)
    assert low["min_photo_pixels"] == 100_000
    d = rules.merge_settings(None)
    assert (d["max_photo_bytes"], d["max_photo_pixels"], d["min_photo_pixels"]) == (20 * 1024 * 1024, 60_000_000,
                                                                                   640 * 480)


def test_photo_settings_above_the_operator_bounds_are_refused():
    b = rules.PhotoBounds(max_bytes=5_000_000, max_pixels=12_000_000, min_pixels_floor=100_000)
    for key, value, code in (("max_photo_bytes", 5_000_001, "settings.above_operator_limit"),
                             ("max_photo_pixels", 10**12, "settings.above_operator_limit"),
                             ("min_photo_pixels", 99_999, "settings.below_operator_limit"),
                             ("min_photo_pixels", 1.5, "settings.invalid"),
                             ("max_photo_bytes", float("inf"), "settings.invalid"),
                             ("max_photo_bytes", float("nan"), "settings.invalid")):
        with pytest.raises(InvalidInput) as e:
            rules.validate_settings({key: value}, b)
        assert e.value.code == code and e.value.details["field"] == key
    with pytest.raises(InvalidInput) as e:  # the minimum above the maximum in force
        rules.validate_settings({"min_photo_pixels": 3_000_000}, b, {"max_photo_pixels": 2_000_000})
    assert e.value.details == {"field": "min_photo_pixels", "max": 2_000_000}
    assert rules.validate_settings({"max_photo_pixels": 12_000_000, "min_photo_pixels": 12_000_000}, b) == \
        {"max_photo_pixels": 12_000_000, "min_photo_pixels": 12_000_000}


def test_every_numeric_setting_is_bounded():
    for key in rules.SETTING_MAX:
        with pytest.raises(InvalidInput):
            rules.validate_settings({key: rules.SETTING_MAX[key] + 1})
        assert rules.validate_settings({key: rules.SETTING_MAX[key]}) == {key: rules.SETTING_MAX[key]}


def test_operator_bounds_come_from_the_environment():
    assert rules.photo_bounds({}) == rules.PhotoBounds()
    b = rules.photo_bounds({"VISITS_PHOTO_MAX_BYTES": "1000000", "VISITS_PHOTO_MAX_PIXELS": "2000000",
                            "VISITS_PHOTO_MIN_PIXELS_FLOOR": "5000"})
    assert b == rules.PhotoBounds(1_000_000, 2_000_000, 5000)
    for bad in ({"VISITS_PHOTO_MAX_BYTES": "lots"}, {"VISITS_PHOTO_MAX_PIXELS": "0"},
                {"VISITS_PHOTO_MAX_PIXELS": "10", "VISITS_PHOTO_MIN_PIXELS_FLOOR": "20"}):
        with pytest.raises(ValueError):
            rules.photo_bounds(bad)


def test_a_photo_below_the_minimum_fails_the_photo_criterion():
    small = visit(stay_min=40, plan_co_m=10, ci_co_m=10)
    small["check_in"]["photo"] = {"sha256": "ab" * 32, "width": 1, "height": 1}
    crit = {c["name"]: c for c in rules.criteria(small, S)}
    assert not crit["photo"]["passed"] and crit["photo"]["pixels"] == 1 and crit["photo"]["min_pixels"] == 307_200
    small["check_in"]["photo"].update(width=640, height=480)
    assert {c["name"]: c for c in rules.criteria(small, S)}["photo"]["passed"]
