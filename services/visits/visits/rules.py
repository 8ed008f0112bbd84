"""Pure visit rules: status machine, distances, stay, validity criteria, location trust,
tenant settings, local days and route ordering. No I/O here."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmkit import parts
from crmkit.errors import Conflict, InvalidInput

# -- status machine -----------------------------------------------------------------------

PENDING_CHECK_IN = "pending_check_in"
PENDING_CHECK_OUT = "pending_check_out"
PENDING_NOTES = "pending_notes"
COMPLETED = "completed"
VALID = "valid"
INVALID = "invalid"
EXPIRED = "expired"
CANCELLED = "cancelled"

STATUSES = (PENDING_CHECK_IN, PENDING_CHECK_OUT, PENDING_NOTES, COMPLETED, VALID, INVALID, EXPIRED, CANCELLED)
OPEN_FOR_EXPIRY = (PENDING_CHECK_IN, PENDING_CHECK_OUT)

#: action -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "check_in": {PENDING_CHECK_IN: PENDING_CHECK_OUT},
    "check_out": {PENDING_CHECK_OUT: PENDING_NOTES},
    "notes": {PENDING_NOTES: COMPLETED},
    "approve": {COMPLETED: VALID},
    "reject": {COMPLETED: INVALID},
    "expire": {PENDING_CHECK_IN: EXPIRED, PENDING_CHECK_OUT: EXPIRED},
    "cancel": {PENDING_CHECK_IN: CANCELLED},
}

#: each non-terminal status is one step; the one transition out of a step is linearised
#: by inserting ``(visit_id, step)`` under a unique index (see store.py)
STEP_OF: dict[str, int] = {PENDING_CHECK_IN: 1, PENDING_CHECK_OUT: 2, PENDING_NOTES: 3, COMPLETED: 4}


def next_status(current: str, action: str) -> str:
    """The status after ``action``; ``Conflict`` (409) with the current status when illegal."""
    table = TRANSITIONS.get(action)
    if table is None:
        raise InvalidInput("visit.unknown_action", f"unknown action {action}", {"action": action})
    target = table.get(current)
    if target is None:
        raise Conflict("visit.illegal_transition", f"cannot {action} a visit that is {current}",
                       {"status": current, "action": action, "allowed_from": sorted(table)})
    return target


def step_of(status: str) -> int:
    step = STEP_OF.get(status)
    if step is None:
        raise Conflict("visit.illegal_transition", f"a visit that is {status} cannot change",
                       {"status": status})
    return step


# -- tenant settings ----------------------------------------------------------------------

DEFAULT_SETTINGS: dict[str, Any] = {
    "time_zone": "Asia/Shanghai",
    "min_stay_minutes": 30,            # stay must be LONGER than this
    "max_plan_to_checkout_m": 500,
    "max_checkin_to_checkout_m": 500,
    "gps_tolerance_m": 500,
    "network_tolerance_m": 1000,
    "cell_tolerance_m": 1000,
    "impossible_travel_kmh": 200,
    "impossible_travel_min_m": 2000,   # below this, speed is GPS noise, never flagged
    "exif_time_tolerance_s": 900,
    "exif_gps_tolerance_m": 1000,
    "max_photo_bytes": parts.PHOTO_MAX_BYTES_DEFAULT,
    "max_photo_pixels": 60_000_000,
    "min_photo_pixels": 640 * 480,     # evidence photos: at least VGA (a 1x1 image proves nothing)
    "reject_invalid_exif": True,
    "visit_policy_version": "1",
}

_INT_SETTINGS = {k for k, v in DEFAULT_SETTINGS.items() if isinstance(v, int) and not isinstance(v, bool)}

#: the largest value a tenant may give each numeric setting (a day, 1000 km, 100 km/h x 20, ...);
#: the photo limits' ceilings are the operator's (:class:`PhotoBounds`), not these
SETTING_MAX: dict[str, int] = {
    "min_stay_minutes": 24 * 60, "max_plan_to_checkout_m": 1_000_000, "max_checkin_to_checkout_m": 1_000_000,
    "gps_tolerance_m": 1_000_000, "network_tolerance_m": 1_000_000, "cell_tolerance_m": 1_000_000,
    "impossible_travel_kmh": 2000, "impossible_travel_min_m": 1_000_000, "exif_time_tolerance_s": 7 * 86400,
    "exif_gps_tolerance_m": 1_000_000,
}
PHOTO_SETTINGS = ("max_photo_bytes", "max_photo_pixels", "min_photo_pixels")


@dataclass(frozen=True)
class PhotoBounds:
    """The operator's bounds on the tenants' photo settings (environment, see
    :func:`photo_bounds`): a tenant may lower the limits, never raise them past these,
    and its minimum pixel count lies between ``min_pixels_floor`` and its maximum."""

    max_bytes: int = parts.PHOTO_MAX_BYTES_DEFAULT
    max_pixels: int = 60_000_000
    min_pixels_floor: int = 1

    def ceiling(self, key: str) -> int:
        return {"max_photo_bytes": self.max_bytes, "max_photo_pixels": self.max_pixels,
                "min_photo_pixels": self.max_pixels}[key]


PHOTO_ENV = {"max_bytes": parts.PHOTO_MAX_BYTES_ENV, "max_pixels": "VISITS_PHOTO_MAX_PIXELS",
             "min_pixels_floor": "VISITS_PHOTO_MIN_PIXELS_FLOOR"}


def photo_bounds(env: Mapping[str, str]) -> PhotoBounds:
    """:class:`PhotoBounds` from the environment (``VISITS_PHOTO_MAX_BYTES`` default 20 MiB —
    the one photo size setting, :func:`crmkit.parts.photo_max_bytes`, that the gateway reads
    too; ``VISITS_PHOTO_MAX_PIXELS`` default 60 Mpx, ``VISITS_PHOTO_MIN_PIXELS_FLOOR`` default 1);
    a malformed or non-positive value fails the start with a clear message."""
    values: dict[str, int] = {"max_bytes": parts.photo_max_bytes(env)}
    for attr, name in PHOTO_ENV.items():
        if attr == "max_bytes":
            continue
        raw = env.get(name)
        if raw in (None, ""):
            continue
        try:
            values[attr] = int(str(raw))
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
        if values[attr] < 1:
            raise ValueError(f"{name} must be at least 1")
    bounds = PhotoBounds(**values)
    if bounds.min_pixels_floor > bounds.max_pixels:
        raise ValueError("VISITS_PHOTO_MIN_PIXELS_FLOOR is above VISITS_PHOTO_MAX_PIXELS")
    return bounds


def clamp_photo_limits(values: dict[str, Any], bounds: PhotoBounds) -> dict[str, Any]:
    """The photo limits in force: each tenant value clamped to the operator's bounds (also
    values stored before the bounds existed or were lowered), the minimum below the maximum."""
    out = dict(values)
    out["max_photo_bytes"] = max(1, min(int(out["max_photo_bytes"]), bounds.max_bytes))
    out["max_photo_pixels"] = max(1, min(int(out["max_photo_pixels"]), bounds.max_pixels))
    out["min_photo_pixels"] = max(bounds.min_pixels_floor, min(int(out["min_photo_pixels"]), out["max_photo_pixels"]))
    return out


def merge_settings(stored: dict[str, Any] | None, bounds: PhotoBounds | None = None) -> dict[str, Any]:
    out = dict(DEFAULT_SETTINGS)
    for k, v in (stored or {}).items():
        if k in DEFAULT_SETTINGS:
            out[k] = v
    return clamp_photo_limits(out, bounds or PhotoBounds())


def validate_settings(changes: dict[str, Any], bounds: PhotoBounds | None = None,
                      current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a settings change; ``current`` (the settings in force) is what the photo
    minimum is compared with when the change does not set the maximum too."""
    bounds = bounds or PhotoBounds()
    clean: dict[str, Any] = {}
    for k, v in (changes or {}).items():
        if k not in DEFAULT_SETTINGS:
            raise InvalidInput("settings.unknown", f"unknown setting {k}", {"field": k})
        if k == "time_zone":
            zone(v)
        elif k in _INT_SETTINGS:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise InvalidInput("settings.invalid", f"{k} must be a positive number", {"field": k})
            if k in PHOTO_SETTINGS:
                if v != int(v):
                    raise InvalidInput("settings.invalid", f"{k} must be a whole number", {"field": k})
                v = int(v)
                if v > bounds.ceiling(k):
                    raise InvalidInput("settings.above_operator_limit",
                                       f"{k} may be at most {bounds.ceiling(k)} on this installation",
                                       {"field": k, "max": bounds.ceiling(k)})
            elif v > SETTING_MAX[k]:
                raise InvalidInput("settings.invalid", f"{k} may be at most {SETTING_MAX[k]}",
                                   {"field": k, "max": SETTING_MAX[k]})
        elif k == "reject_invalid_exif":
            if not isinstance(v, bool):
                raise InvalidInput("settings.invalid", f"{k} must be true or false", {"field": k})
        elif k == "visit_policy_version" and (not isinstance(v, str) or not v.strip() or len(v) > 50):
            raise InvalidInput("settings.invalid", "visit_policy_version must be a non-empty string", {"field": k})
        clean[k] = v
    if "min_photo_pixels" in clean:
        top = clean.get("max_photo_pixels", (current or {}).get("max_photo_pixels", bounds.max_pixels))
        if clean["min_photo_pixels"] > top:
            raise InvalidInput("settings.invalid", f"min_photo_pixels may be at most max_photo_pixels ({top})",
                               {"field": "min_photo_pixels", "max": top})
        if clean["min_photo_pixels"] < bounds.min_pixels_floor:
            raise InvalidInput("settings.below_operator_limit",
                               f"min_photo_pixels must be at least {bounds.min_pixels_floor} on this installation",
                               {"field": "min_photo_pixels", "min": bounds.min_pixels_floor})
    return clean


def tolerance_for(source: str | None, settings: dict[str, Any]) -> int:
    return int(settings.get(f"{source}_tolerance_m", settings["network_tolerance_m"]))


# -- time zones and local days -----------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("settings.bad_time_zone", f"unknown time zone {name}", {"time_zone": name}) from None


def local_day(at: datetime, tz: str) -> str:
    """``YYYY-MM-DD`` of ``at`` in the tenant's time zone."""
    return at.astimezone(zone(tz)).date().isoformat()


def month_of(day: str) -> str:
    return day[:7]


#: Every day, month and instant the service takes lies in these years: date arithmetic
#: (the next day, the previous month, a tenant's time zone, a 12-month trend) then stays far
#: from Python's year 1 / year 9999 edges, where it overflows.
FIRST_YEAR = 2000
LAST_YEAR = 2099
CALENDAR = f"{FIRST_YEAR}-01-01..{LAST_YEAR}-12-31"


def _in_calendar(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def parse_month(month: Any, field: str = "month") -> tuple[int, int]:
    """``YYYY-MM`` within the supported years -> (year, month); ``InvalidInput`` otherwise."""
    try:
        y, m = str(month).split("-")
        yi, mi = int(y), int(m)
        if not isinstance(month, str) or len(y) != 4 or len(m) != 2 or not 1 <= mi <= 12:
            raise ValueError
    except (ValueError, AttributeError):
        raise InvalidInput("visit.bad_month", f"{field} must be YYYY-MM", {"field": field, "month": month}) from None
    if not _in_calendar(yi):
        raise InvalidInput("visit.bad_month", f"{field} must lie in {FIRST_YEAR}..{LAST_YEAR}",
                           {"field": field, "month": month, "calendar": CALENDAR})
    return yi, mi


def parse_day(day: Any, field: str = "day", code: str = "visit.bad_day") -> str:
    """``YYYY-MM-DD`` within the supported years; ``InvalidInput(code)`` otherwise."""
    try:
        if not isinstance(day, str):
            raise ValueError
        d = date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(code, f"{field} must be YYYY-MM-DD", {"field": field, "day": day}) from None
    if not _in_calendar(d.year):
        raise InvalidInput(code, f"{field} must lie in {CALENDAR}", {"field": field, "day": day,
                                                                     "calendar": CALENDAR})
    return d.isoformat()


def parse_instant(value: Any, field: str, code: str = "visit.bad_field") -> datetime:
    """An ISO-8601 instant (no offset = UTC) within the supported years, as aware UTC."""
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        # a wall time next to year 1 or 9999 can overflow on its way to UTC
        at = at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(code, f"{field} must be an ISO-8601 time", {"field": field}) from None
    if not _in_calendar(at.year):
        raise InvalidInput(code, f"{field} must lie in {CALENDAR}", {"field": field, "calendar": CALENDAR})
    return at


def days_of_month(month: str) -> list[str]:
    y, m = parse_month(month)
    d = date(y, m, 1)
    out = []
    while d.month == m:
        out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def neighbour_months(month: str) -> tuple[str, str]:
    """The months before and after ``month`` (the calendar's switch buttons)."""
    y, m = parse_month(month)
    prev = f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    nxt = f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"
    return prev, nxt


def end_of_day_utc(day: str, tz: str) -> datetime:
    """The instant the planned day ends (local midnight of the next day)."""
    d = date.fromisoformat(day) + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=zone(tz))


def is_expired(status: str, day: str, now: datetime, tz: str) -> bool:
    """Check-in or check-out did not happen by the end of the planned day (tenant zone)."""
    return status in OPEN_FOR_EXPIRY and now >= end_of_day_utc(day, tz)


# -- coordinates, distance, stay --------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_lat_lng(lat: Any, lng: Any, field: str = "location") -> tuple[float, float]:
    try:
        la, ln = float(lat), float(lng)
    except (TypeError, ValueError):
        raise InvalidInput("visit.bad_location", f"{field}: lat and lng must be numbers",
                           {"field": field}) from None
    if not (math.isfinite(la) and math.isfinite(ln)) or not -90 <= la <= 90 or not -180 <= ln <= 180:
        raise InvalidInput("visit.bad_location", f"{field}: lat must be within ±90 and lng within ±180",
                           {"field": field, "lat": lat, "lng": lng})
    return la, ln


def point_distance(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    if not a or not b or a.get("lat") is None or b.get("lat") is None:
        return None
    return round(haversine_m(a["lat"], a["lng"], b["lat"], b["lng"]), 1)


def stay_minutes(check_in_at: datetime | None, check_out_at: datetime | None) -> float | None:
    if check_in_at is None or check_out_at is None:
        return None
    return round((check_out_at - check_in_at).total_seconds() / 60.0, 2)


LOCATION_SOURCES = ("gps", "network", "cell")


# -- validity --------------------------------------------------------------------------

def criteria(visit: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Each validity criterion with its measured value, threshold and verdict."""
    ci = visit.get("check_in") or {}
    co = visit.get("check_out") or {}
    plan_loc = visit.get("location")
    stay = stay_minutes(ci.get("at"), co.get("at"))
    plan_co = point_distance(plan_loc, co.get("point"))
    ci_co = point_distance(ci.get("point"), co.get("point"))
    notes = (visit.get("notes") or {}).get("text") or ""
    photo = ci.get("photo") or {}
    pixels = int(photo.get("width") or 0) * int(photo.get("height") or 0)
    min_pixels = int(settings.get("min_photo_pixels") or 0)
    # a photo counts when it is stored and large enough to be evidence (one checked in
    # before the minimum existed, smaller than it, does not)
    has_photo = bool(photo.get("sha256")) and (pixels >= min_pixels or not photo.get("width"))
    min_stay = settings["min_stay_minutes"]
    max_plan = settings["max_plan_to_checkout_m"]
    max_cico = settings["max_checkin_to_checkout_m"]
    return [
        {"name": "notes", "measured": len(notes.strip()), "threshold": "> 0 characters", "unit": "chars",
         "passed": bool(notes.strip()) and visit.get("status") in (COMPLETED, VALID, INVALID)},
        {"name": "stay", "measured": stay, "threshold": min_stay, "comparison": ">", "unit": "min",
         "passed": stay is not None and stay > min_stay},
        {"name": "plan_to_check_out", "measured": plan_co, "threshold": max_plan, "comparison": "<=",
         "unit": "m", "passed": plan_co is not None and plan_co <= max_plan},
        {"name": "check_in_to_check_out", "measured": ci_co, "threshold": max_cico, "comparison": "<=",
         "unit": "m", "passed": ci_co is not None and ci_co <= max_cico},
        {"name": "photo", "measured": has_photo, "threshold": True, "unit": "", "passed": has_photo,
         "pixels": pixels if photo.get("sha256") else None, "min_pixels": min_pixels},
    ]


def failing(crits: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in crits if not c["passed"]]


def location_trust(visit: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Deviation of each fix from the plan in metres, against its source's tolerance,
    plus the client's own trust signals and the server's flags."""
    plan_loc = visit.get("location")
    out: dict[str, Any] = {}
    for key in ("check_in", "check_out"):
        part = visit.get(key) or {}
        point = part.get("point")
        if not point:
            out[key] = None
            continue
        tol = tolerance_for(point.get("source"), settings)
        deviation = point_distance(plan_loc, point)
        out[key] = {
            "source": point.get("source"), "accuracy_m": point.get("accuracy"), "tolerance_m": tol,
            "deviation_m": deviation, "within_tolerance": deviation is not None and deviation <= tol,
            "accuracy_within_tolerance": point.get("accuracy") is None or point["accuracy"] <= tol,
            "mock_location": bool(point.get("mock_location")), "fix_age_s": point.get("fix_age_s"),
        }
    ci = visit.get("check_in") or {}
    out["impossible_travel"] = ci.get("travel")
    out["exif"] = (ci.get("photo") or {}).get("exif_check")
    out["flags"] = list(ci.get("flags") or []) + list((visit.get("check_out") or {}).get("flags") or [])
    return out


def travel_check(prev: dict[str, Any] | None, cur_point: dict[str, Any], cur_at: datetime,
                 settings: dict[str, Any]) -> dict[str, Any] | None:
    """Speed between an employee's previous check-in and this one; flagged when impossible."""
    if not prev or not prev.get("point") or prev.get("at") is None:
        return None
    dist = haversine_m(prev["point"]["lat"], prev["point"]["lng"], cur_point["lat"], cur_point["lng"])
    seconds = abs((cur_at - prev["at"]).total_seconds())
    kmh = (dist / 1000.0) / (seconds / 3600.0) if seconds > 0 else (math.inf if dist > 0 else 0.0)
    flagged = dist >= settings["impossible_travel_min_m"] and kmh > settings["impossible_travel_kmh"]
    return {"previous_visit_id": prev.get("visit_id"), "distance_m": round(dist, 1),
            "seconds": round(seconds, 1), "speed_kmh": None if math.isinf(kmh) else round(kmh, 1),
            "threshold_kmh": settings["impossible_travel_kmh"], "flagged": flagged}


# -- route ordering ---------------------------------------------------------------------

def route_length(points: Sequence[tuple[float, float]], order: Sequence[int]) -> float:
    return sum(haversine_m(*points[order[i]], *points[order[i + 1]]) for i in range(len(order) - 1))


def shorter_order(points: Sequence[tuple[float, float]], keep_first: bool = True) -> list[int]:
    """A stop order that shortens the open path: nearest neighbour, then 2-opt.
    The first stop stays first when ``keep_first`` (where the employee starts)."""
    n = len(points)
    if n <= 2:
        return list(range(n))
    starts = [0] if keep_first else list(range(n))
    best: list[int] = list(range(n))
    best_len = route_length(points, best)
    for s in starts:
        order = [s]
        left = set(range(n)) - {s}
        while left:
            last = points[order[-1]]
            nxt = min(left, key=lambda j: haversine_m(*last, *points[j]))
            order.append(nxt)
            left.remove(nxt)
        order = _two_opt(points, order, 1 if keep_first else 0)
        length = route_length(points, order)
        if length < best_len - 1e-6:
            best, best_len = order, length
    return best


def _two_opt(points: Sequence[tuple[float, float]], order: list[int], fixed: int) -> list[int]:
    improved = True
    best = list(order)
    best_len = route_length(points, best)
    while improved:
        improved = False
        for i in range(fixed, len(best) - 1):
            for k in range(i + 1, len(best)):
                cand = best[:i] + best[i:k + 1][::-1] + best[k + 1:]
                cl = route_length(points, cand)
                if cl < best_len - 1e-6:
                    best, best_len, improved = cand, cl, True
    return best
