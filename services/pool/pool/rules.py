"""Pure pool rules: working days, protection windows, reclaim clocks, warnings, limits.

No I/O here. Every function takes the tenant's rules document (see :data:`DEFAULT_RULES`)
and explicit times, so tests pin exact dates. Days are Beijing calendar days
(Asia/Shanghai): a reclaim "on 2025-03-31" happens from 00:00 Beijing time that day.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.errors import BusinessRule, InvalidInput

TZ = ZoneInfo("Asia/Shanghai")

RECLAIM_RULES = ("no_contact", "no_visit", "no_deal")

DEFAULT_RULES: dict[str, Any] = {
    "capacity": 300,                      # private-pool size per salesperson
    "cooldown_days": 30,                  # previous owner may not re-claim for this long
    "daily_claim_limit": 20,              # self-claims per person per day
    "reclaim": {
        "no_contact": {"enabled": True, "days": 30},   # no contact note within N days of entry / last note
        "no_visit": {"enabled": True, "days": 60},     # no completed visit in any N-day window
        "no_deal": {"enabled": True, "days": 180},     # no signed deal within N days
    },
    "warning_lead_days": [7, 3, 1],
    "protection": {
        "service_months": 8,              # contract months 1-8: service period
        "renewal_months": 4,              # months 9-12: renewal period
        "after_expiry_months": 12,        # protection after the contract's expiry
    },
    "request_entry_working_days": 2,      # approval to self-enter lapses after this
    "name_fix_working_days": 2,           # a mismatching name must be fixed within this
    "targets": {
        "prepared_prospects": 50,
        "new_prospects": 5,
        "effective_calls": 32,
        "field_visits": 8,
        "field_new_prospects": 5,
    },
}


# ---------------------------------------------------------------------------- days

def local_day(at: datetime) -> date:
    """The Beijing calendar day of an instant (saturating at the calendar's ends: an
    instant a few hours before year 10000 is still a day, not an OverflowError)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        return at.astimezone(TZ).date()
    except OverflowError:
        return date.max if at.year > 1 else date.min


def plus_days(day: date, days: int) -> date:
    """``day + days``, saturating at ``date.min``/``date.max``. Days the pool reads from
    events (a contract end in year 9999, say) must never stop a handler or the sweep."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``, as an aware UTC datetime (saturating at the calendar's ends)."""
    try:
        return datetime.combine(day, time(0), TZ).astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if day.year == 1 else datetime.max.replace(tzinfo=UTC)


def is_workday(day: date) -> bool:
    """Chinese working day (statutory holidays and make-up working days included),
    from the maintained ``chinese-calendar`` registry; plain Mon-Fri outside its years."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def nth_working_day_after(day: date, n: int, workday: Callable[[date], bool] = is_workday) -> date:
    """The ``n``-th working day counted from the day after ``day`` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    d, found = day, 0
    while found < n:
        d += timedelta(days=1)
        if workday(d):
            found += 1
    return d


def working_deadline(replied_at: datetime, n: int, workday: Callable[[date], bool] = is_workday) -> datetime:
    """End (exclusive, 24:00 Beijing) of the ``n``-th working day counted from the day
    after the reply: the instant from which an approval has lapsed."""
    last = nth_working_day_after(local_day(replied_at), n, workday)
    return day_start(plus_days(last, 1))


# ---------------------------------------------------------------------- protection

def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month), saturating
    at ``date.min``/``date.max``."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


@dataclass(frozen=True)
class Protection:
    protected: bool
    phase: str | None          # service | renewal | after_expiry | None
    until: date | None         # last protected day (inclusive)


def protection_at(contract_start: date | None, contract_end: date | None, today: date,
                  rules: dict[str, Any]) -> Protection:
    """Which protection window ``today`` falls in for a contract.

    Service period = the first ``service_months`` months from the start, renewal
    period = the next ``renewal_months`` (up to the expiry), then protection for
    ``after_expiry_months`` after the expiry. Without an end date the contract is
    taken to run service + renewal months.
    """
    if contract_start is None and contract_end is None:
        return Protection(False, None, None)
    p = rules["protection"]
    start = contract_start or add_months(contract_end, -(p["service_months"] + p["renewal_months"]))  # type: ignore[arg-type]
    end = contract_end or add_months(start, p["service_months"] + p["renewal_months"])
    service_end = min(add_months(start, p["service_months"]), end)
    protected_until = add_months(end, p["after_expiry_months"])  # exclusive
    if today < start or today >= protected_until:
        return Protection(False, None, None)
    last = protected_until if protected_until == date.max else plus_days(protected_until, -1)  # forever
    if today < service_end:
        return Protection(True, "service", last)
    if today < end:
        return Protection(True, "renewal", last)
    return Protection(True, "after_expiry", last)


# ------------------------------------------------------------------------ reclaim

@dataclass(frozen=True)
class Clocks:
    """What the pool knows about a private-pool customer's activity."""

    entered_at: datetime                  # entered the current owner's private pool
    last_contact_at: datetime | None = None
    last_visit_at: datetime | None = None
    last_deal_at: datetime | None = None


def _anchor(entered: datetime, last: datetime | None) -> date:
    start = local_day(entered)
    if last is None:
        return start
    return max(start, local_day(last))


def reclaim_candidates(clocks: Clocks, rules: dict[str, Any]) -> list[tuple[date, str]]:
    """Each enabled rule's reclaim day: the clock starts at entry into the private pool
    and restarts at the latest contact note / completed visit / signed deal."""
    r = rules["reclaim"]
    out: list[tuple[date, str]] = []
    lasts = {"no_contact": clocks.last_contact_at, "no_visit": clocks.last_visit_at,
             "no_deal": clocks.last_deal_at}
    for name in RECLAIM_RULES:
        cfg = r.get(name) or {}
        if cfg.get("enabled"):
            out.append((plus_days(_anchor(clocks.entered_at, lasts[name]), int(cfg["days"])), name))
    return out


NAME_FIX_RULE = "name_not_corrected"


def next_reclaim(clocks: Clocks, rules: dict[str, Any], name_fix_on: date | None = None) -> tuple[date, str] | None:
    """The day the customer goes back to the public pool and the rule behind it
    (earliest rule; ties in the order name_not_corrected, no_contact, no_visit, no_deal).
    ``name_fix_on``: the day a pending company-name correction of a claim request
    became overdue (:func:`name_fix_overdue_on`), when the name was not corrected."""
    cands = reclaim_candidates(clocks, rules)
    if name_fix_on is not None:
        cands.append((name_fix_on, NAME_FIX_RULE))
    if not cands:
        return None
    order = (NAME_FIX_RULE, *RECLAIM_RULES)
    return min(cands, key=lambda c: (c[0], order.index(c[1])))


def name_fix_overdue_on(name_fix_by: datetime) -> date:
    """The Beijing day from which an uncorrected name is overdue: ``name_fix_by`` is the
    exclusive end of the last working day (:func:`working_deadline`)."""
    return local_day(name_fix_by)


def is_due(reclaim_on: date | None, today: date) -> bool:
    return reclaim_on is not None and today >= reclaim_on


def warning_due(reclaim_on: date | None, today: date, leads: Iterable[int], sent: Iterable[int]) -> int | None:
    """The warning to send today, if any: the most urgent lead whose day has come and
    which was not sent yet. Earlier leads that were skipped (no sweep that day) are
    not sent late once a more urgent one is due."""
    if reclaim_on is None or today >= reclaim_on:
        return None
    left = (reclaim_on - today).days
    due = sorted(lead for lead in set(leads) if lead >= left)
    if not due:
        return None
    lead = due[0]
    return None if lead in set(sent) else lead


# --------------------------------------------------------------- limits and checks

def check_capacity(held: int, capacity: int, adding: int = 1) -> None:
    if held + adding > capacity:
        raise BusinessRule("pool.capacity_full", f"private pool full: {held} of {capacity}",
                           {"held": held, "capacity": capacity, "adding": adding})


def cooldown_until(released_at: datetime, days: int) -> datetime:
    try:
        return released_at + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def check_cooldown(claimer_id: str, previous_owner_id: str | None, released_at: datetime | None,
                   now: datetime, days: int) -> None:
    if not previous_owner_id or previous_owner_id != claimer_id or released_at is None or days <= 0:
        return
    until = cooldown_until(released_at, days)
    if now < until:
        from crmkit.clock import iso
        raise BusinessRule("pool.cooldown", f"you released this customer; you may claim it again from {iso(until)}",
                           {"until": iso(until), "cooldown_days": days})


def check_daily_limit(claimed_today: int, limit: int) -> None:
    if claimed_today >= limit:
        raise BusinessRule("pool.daily_limit", f"daily claim limit reached: {claimed_today} of {limit}",
                           {"claimed_today": claimed_today, "limit": limit})


def mask_phone(number: str) -> str:
    """Keep the first 3 and last 2 digits: ``0512-6688****`` style masking."""
    s = str(number or "")
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


# ------------------------------------------------------------------- rules document

def _int_in(errors: dict[str, str], path: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[path] = "must be an integer"
    elif not lo <= value <= hi:
        errors[path] = f"must be between {lo} and {hi}"


def _merge(base: dict[str, Any], patch: dict[str, Any], errors: dict[str, str], prefix: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        path = f"{prefix}{key}"
        if key not in base:
            errors[path] = "unknown field"
        elif isinstance(base[key], dict):
            if not isinstance(value, dict):
                errors[path] = "must be an object"
            else:
                out[key] = _merge(base[key], value, errors, path + ".")
        else:
            out[key] = value
    return out


def validate_rules(patch: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``patch`` over ``current`` (or the defaults) and validate the result;
    ``InvalidInput("pool.rules_invalid", details={"fields": {path: problem}})``."""
    if not isinstance(patch, dict):
        raise InvalidInput("pool.rules_invalid", "rules must be an object", {"fields": {"": "must be an object"}})
    errors: dict[str, str] = {}
    rules = _merge(current or DEFAULT_RULES, patch, errors)
    _int_in(errors, "capacity", rules["capacity"], 1, 100_000)
    _int_in(errors, "cooldown_days", rules["cooldown_days"], 0, 3650)
    _int_in(errors, "daily_claim_limit", rules["daily_claim_limit"], 1, 10_000)
    for name in RECLAIM_RULES:
        cfg = rules["reclaim"][name]
        if not isinstance(cfg.get("enabled"), bool):
            errors[f"reclaim.{name}.enabled"] = "must be true or false"
        _int_in(errors, f"reclaim.{name}.days", cfg.get("days"), 1, 3650)
    leads = rules["warning_lead_days"]
    if not isinstance(leads, list) or len(leads) > 10:
        errors["warning_lead_days"] = "must be a list of at most 10 integers"
    else:
        for i, lead in enumerate(leads):
            _int_in(errors, f"warning_lead_days.{i}", lead, 1, 365)
        if len(set(map(str, leads))) != len(leads):
            errors["warning_lead_days"] = "must not repeat a day"
    for key in ("service_months", "renewal_months", "after_expiry_months"):
        _int_in(errors, f"protection.{key}", rules["protection"][key], 0, 120)
    _int_in(errors, "request_entry_working_days", rules["request_entry_working_days"], 1, 30)
    _int_in(errors, "name_fix_working_days", rules["name_fix_working_days"], 1, 30)
    for key in DEFAULT_RULES["targets"]:
        _int_in(errors, f"targets.{key}", rules["targets"][key], 0, 10_000)
    if errors:
        raise InvalidInput("pool.rules_invalid", "the pool rules are invalid", {"fields": errors})
    if isinstance(rules["warning_lead_days"], list):
        rules["warning_lead_days"] = sorted(rules["warning_lead_days"], reverse=True)
    return rules
