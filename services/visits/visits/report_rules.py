"""Pure rules of the visit reports (no I/O): ranges, definitions, series, ranking,
frequency buckets, grade averages, the person × grade table, cadence and trends.

Definitions (also in the service README):

* **Visit day** — the visit's ``day`` field: the local day (tenant time zone) the visit
  was planned for, cut by the visits service when the plan is made. A plan for
  2026-03-01T17:30Z in Asia/Shanghai belongs to 2026-03-02. A check-in made on another
  day is flagged by the visits service (``outside_planned_day``) but still counts on
  the planned day.
* **Planned visit** — every visit planned for a day, whatever became of it, except a
  ``cancelled`` one (plans cancelled when their employee left).
* **Actual visit** — a planned visit that was checked in (it has a check-in, whatever
  its later status: pending check-out, pending notes, completed, valid, invalid, or
  expired after the check-in). With the *validated only* switch, an actual visit is
  one whose status is ``valid`` (approved by sales support).
* **Person-day** — one employee on one local day. Per-person series divide the day's
  total by the number of people in the report's scope.
* **Company average** — for each day, the tenant's actual visits that day divided by
  the number of *field staff*: employees with at least one planned visit anywhere in
  the tenant in the range.
* **Department membership** — a visit counts for the department (subtree) the
  employee belonged to on the visit's day (kept from identity events); an employee
  with no known history counts with their current departments.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmkit.errors import BusinessRule, InvalidInput
from visits.rules import parse_day

CHECKED_IN_STATUSES = ("pending_check_out", "pending_notes", "completed", "valid", "invalid")
VALID = "valid"
CANCELLED = "cancelled"
EXPIRED = "expired"

MAX_RANGE_DAYS = 366       # a JSON report covers at most a year
EXPORT_MAX_DAYS = 31       # an export covers at most 31 days
DEFAULT_CADENCE: dict[str, float] = {"A": 4, "B": 2, "C": 1, "D": 0.5}  # visits per customer per 30 days
NO_GRADE = "-"


# -- definitions -------------------------------------------------------------------------

def is_planned(status: str) -> bool:
    return status != CANCELLED


def is_actual(status: str, checked_in: bool, validated_only: bool = False) -> bool:
    if validated_only:
        return status == VALID
    return status in CHECKED_IN_STATUSES or (status == EXPIRED and checked_in)


def truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


# -- days and ranges ---------------------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("settings.bad_time_zone", f"unknown time zone {name}", {"time_zone": name}) from None


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(zone(tz)).date()


def local_day_of(at: datetime, tz: str) -> str:
    return at.astimezone(zone(tz)).date().isoformat()


def filter_day(v: Any, field: str) -> date:
    """A filter's day, within the visits service's calendar (``rules.FIRST_YEAR``..``LAST_YEAR``:
    the 12-month trend and the month walks never reach year 1 or 9999)."""
    return date.fromisoformat(parse_day(v, field, "report.bad_day"))


def date_range(filters: Mapping[str, Any], now: datetime, tz: str, max_days: int = MAX_RANGE_DAYS) -> list[str]:
    """The local days ``from``..``to`` (inclusive) in the tenant's time zone; default:
    the current month up to today. Refuses reversed ranges and ranges over ``max_days``."""
    today = local_today(now, tz)
    start = filter_day(filters["from"], "from") if filters.get("from") else today.replace(day=1)
    end = filter_day(filters["to"], "to") if filters.get("to") else today
    if end < start:
        raise InvalidInput("report.bad_range", "'to' is before 'from'", {"from": start.isoformat(),
                                                                         "to": end.isoformat()})
    n = (end - start).days + 1
    if n > max_days:
        raise BusinessRule("report.range_too_long",
                           f"the range covers {n} days; at most {max_days} days are allowed "
                           f"(所选范围 {n} 天，最多 {max_days} 天)",
                           {"days": n, "max_days": max_days, "from": start.isoformat(), "to": end.isoformat()})
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def check_export_range(days: list[str]) -> None:
    if len(days) > EXPORT_MAX_DAYS:
        raise BusinessRule("report.export_range_too_long",
                           f"an export covers at most {EXPORT_MAX_DAYS} days; the range has {len(days)} days "
                           f"(导出范围最多 {EXPORT_MAX_DAYS} 天，当前 {len(days)} 天)",
                           {"days": len(days), "max_days": EXPORT_MAX_DAYS, "from": days[0], "to": days[-1]})


def trend_periods(kind: str, end_day: str) -> list[dict[str, Any]]:
    """The last 12 months (``YYYY-MM``) or 12 ISO weeks (Monday..Sunday) ending with the
    period that holds ``end_day``; each ``{"key", "days"?}``."""
    end = date.fromisoformat(end_day)
    if kind in ("months", "month", None, ""):
        y, m = end.year, end.month
        out: list[dict[str, Any]] = []
        for _ in range(12):
            out.append({"key": f"{y:04d}-{m:02d}"})
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return out[::-1]
    if kind in ("weeks", "week"):
        monday = end - timedelta(days=end.weekday())
        weeks: list[dict[str, Any]] = []
        for i in range(11, -1, -1):
            start = monday - timedelta(weeks=i)
            iso = start.isocalendar()
            weeks.append({"key": f"{iso[0]}-W{iso[1]:02d}",
                          "days": [(start + timedelta(days=d)).isoformat() for d in range(7)]})
        return weeks
    raise InvalidInput("report.bad_trend", "trend must be months or weeks", {"trend": kind})


def days_of_month(month: str) -> list[str]:
    """Every day ``YYYY-MM-DD`` of ``month`` (``YYYY-MM``)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [(first + timedelta(days=i)).isoformat() for i in range((nxt - first).days)]


# -- department membership over time ----------------------------------------------------

def subtree(departments: Mapping[str, str | None], root: str) -> set[str]:
    """``root`` and every department below it (``departments``: id -> parent id)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for d, parent in departments.items():
        children[parent].append(d)
    out, todo = set(), [root]
    while todo:
        d = todo.pop()
        if d in out:
            continue
        out.add(d)
        todo.extend(children.get(d, []))
    return out


def depts_on_day(history: list[dict[str, Any]], day: str) -> list[str] | None:
    """The employee's departments on ``day`` from their history rows
    ``{"since": day, "dept_ids": [...]}``; ``None`` when nothing is known that early."""
    best = None
    for h in sorted(history, key=lambda r: r["since"]):
        if h["since"] <= day:
            best = h
    if best is None:
        return None
    return list(best.get("dept_ids") or [])


def in_dept_on_day(history: list[dict[str, Any]] | None, day: str, dept_set: set[str],
                   current_member: bool) -> bool:
    if history:
        depts = depts_on_day(history, day)
        if depts is None:  # before the first known row: the earliest known departments
            depts = list(sorted(history, key=lambda r: r["since"])[0].get("dept_ids") or [])
        return bool(dept_set & set(depts))
    return current_member


# -- employee summary --------------------------------------------------------------------

def employee_summary(rows: Iterable[Mapping[str, Any]], days: list[str], people: list[str] | None,
                     member: Any = None, validated_only: bool = False,
                     names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Three series, per-person figures and the ranking.

    ``rows``: ``{day, employee_id, status, checked_in, n}`` buckets of the WHOLE tenant
    (the company average needs them); ``people``: the scope (``None`` = everyone seen);
    ``member(employee_id, day) -> bool`` filters a person's days (department history).
    """
    names = names or {}
    actual: dict[str, Counter[str]] = defaultdict(Counter)
    planned: dict[str, Counter[str]] = defaultdict(Counter)
    company_actual: Counter[str] = Counter()
    field_staff: set[str] = set()
    scope = set(people) if people is not None else None
    seen: set[str] = set()
    for r in rows:
        e, d, n = r["employee_id"], r["day"], int(r["n"])
        a = is_actual(r["status"], bool(r.get("checked_in")), validated_only)
        if is_planned(r["status"]):
            field_staff.add(e)
        if a:
            company_actual[d] += n
        if scope is not None and e not in scope:
            continue
        if member is not None and not member(e, d):
            continue
        seen.add(e)
        if is_planned(r["status"]):
            planned[e][d] += n
        if a:
            actual[e][d] += n
    persons = sorted(scope if scope is not None else seen)
    headcount = len(persons)
    company_n = len(field_staff)
    per_person: list[dict[str, Any]] = []
    for e in persons:
        pa = sum(actual[e].values())
        pp = sum(planned[e].values())
        per_person.append({
            "employee_id": e, "name": names.get(e) or e, "actual": pa, "planned": pp,
            "completion_rate": round(pa / pp, 4) if pp else None,
            "actual_per_day": round(pa / len(days), 4) if days else 0.0,
            "daily": [{"day": d, "actual": actual[e][d], "planned": planned[e][d]} for d in days],
        })
    series = []
    for d in days:
        ta = sum(actual[e][d] for e in persons)
        tp = sum(planned[e][d] for e in persons)
        series.append({
            "day": d, "actual": ta, "planned": tp,
            "actual_per_person": round(ta / headcount, 4) if headcount else 0.0,
            "planned_per_person": round(tp / headcount, 4) if headcount else 0.0,
            "company_average": round(company_actual[d] / company_n, 4) if company_n else 0.0,
        })
    totals: dict[str, int] = {
              "actual": sum(sum(actual[e].values()) for e in persons),
              "planned": sum(sum(planned[e].values()) for e in persons),
              "people": headcount, "person_days": headcount * len(days),
              "company_actual": sum(company_actual[d] for d in days), "company_field_staff": company_n}
    return {"days": days, "validated_only": validated_only, "series": series, "people": per_person,
            "ranking": ranking(per_person), "totals": totals}


def ranking(per_person: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By actual visits (desc), then completion rate (desc), then name; equal actual and
    rate share a rank (1, 1, 3)."""
    def rate(p: dict[str, Any]) -> float:
        return p["completion_rate"] if p["completion_rate"] is not None else -1.0
    ordered = sorted(per_person, key=lambda p: (-p["actual"], -rate(p), p["name"], p["employee_id"]))
    out: list[dict[str, Any]] = []
    prev: tuple[int, float] | None = None
    rank = 0
    for i, p in enumerate(ordered, start=1):
        key = (p["actual"], rate(p))
        if key != prev:
            rank, prev = i, key
        out.append({"rank": rank, "employee_id": p["employee_id"], "name": p["name"], "actual": p["actual"],
                    "planned": p["planned"], "completion_rate": p["completion_rate"]})
    return out


def trend(rows: Iterable[Mapping[str, Any]], periods: list[dict[str, Any]], people: set[str] | None,
          validated_only: bool = False) -> list[dict[str, Any]]:
    """``rows``: ``{period, employee_id, status, checked_in, n}``."""
    a: Counter[str] = Counter()
    p: Counter[str] = Counter()
    for r in rows:
        if people is not None and r["employee_id"] not in people:
            continue
        if is_planned(r["status"]):
            p[r["period"]] += int(r["n"])
        if is_actual(r["status"], bool(r.get("checked_in")), validated_only):
            a[r["period"]] += int(r["n"])
    return [{"period": x["key"], "actual": a[x["key"]], "planned": p[x["key"]]} for x in periods]


# -- customer summary ----------------------------------------------------------------------

def frequency(counts: Mapping[str, int], customers: Iterable[str]) -> list[dict[str, Any]]:
    """How many customers were visited 0, 1, 2, … times (every bucket up to the max)."""
    freq: Counter[int] = Counter(int(counts.get(c, 0)) for c in customers)
    if not freq:
        return []
    return [{"visits": k, "customers": freq.get(k, 0)} for k in range(max(freq) + 1)]


def customers_visited(population: Mapping[str, Mapping[str, Any]], counts: Mapping[str, int], visits: int,
                      limit: int) -> dict[str, Any]:
    """The customers of one frequency bucket (visited exactly ``visits`` times), by grade and
    name, at most ``limit`` of them (``total`` counts all)."""
    hits = sorted((p for c, p in population.items() if int(counts.get(c, 0)) == visits),
                  key=lambda p: (p.get("grade") == NO_GRADE, p.get("grade") or "", p.get("name") or "",
                                 p["customer_id"]))
    return {"visits": visits, "total": len(hits),
            "items": [{"customer_id": p["customer_id"], "name": p.get("name") or "", "owner_id": p.get("owner_id"),
                       "grade": p.get("grade") or NO_GRADE, "visits": visits} for p in hits[:limit]]}


def grade_order(grades: Iterable[str]) -> list[str]:
    return sorted(set(grades), key=lambda g: (g == NO_GRADE, g))


def grade_averages(counts: Mapping[str, int], grade_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """Average actual visits per customer of each grade (customers of the population)."""
    n: Counter[str] = Counter()
    v: Counter[str] = Counter()
    for c, g in grade_of.items():
        n[g] += 1
        v[g] += int(counts.get(c, 0))
    return [{"grade": g, "customers": n[g], "visits": v[g], "average": round(v[g] / n[g], 4) if n[g] else 0.0}
            for g in grade_order(n)]


def grade_table(visits: Iterable[tuple[str, str, int]], labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Rows (department or person) × grade of actual visits, a total column and a
    totals row. ``visits``: ``(row_key, grade, n)``."""
    labels = labels or {}
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    for key, g, n in visits:
        cells[key][g] += n
    grades = grade_order(g for c in cells.values() for g in c)
    rows: list[dict[str, Any]] = []
    for key in sorted(cells, key=lambda k: (labels.get(k) or k, k)):
        rows.append({"key": key, "label": labels.get(key) or key,
                     "by_grade": {g: cells[key][g] for g in grades}, "total": sum(cells[key].values())})
    totals = {"key": "total", "label": "合计 / Total",
              "by_grade": {g: sum(cells[k][g] for k in cells) for g in grades},
              "total": sum(sum(c.values()) for c in cells.values())}
    return {"grades": grades, "rows": rows, "totals": totals}


# -- coverage and cadence --------------------------------------------------------------------

def cadence_vs_actual(counts: Mapping[str, int], grade_of: Mapping[str, str], cadence: Mapping[str, float],
                      n_days: int) -> list[dict[str, Any]]:
    """Per grade: the target (visits per customer per 30 days, tenant setting) scaled to
    the range, the actual average per customer, and how many customers met the target."""
    per: dict[str, list[int]] = defaultdict(list)
    for c, g in grade_of.items():
        per[g].append(int(counts.get(c, 0)))
    out = []
    for g in grade_order(set(per) | set(cadence)):
        vals = per.get(g, [])
        target_30 = float(cadence.get(g, 0) or 0)
        expected = round(target_30 * n_days / 30.0, 4)
        out.append({"grade": g, "target_per_30_days": target_30, "expected_per_customer": expected,
                    "customers": len(vals), "visits": sum(vals),
                    "actual_per_customer": round(sum(vals) / len(vals), 4) if vals else 0.0,
                    "customers_on_target": sum(1 for v in vals if v >= expected)})
    return out


def validate_cadence(values: Any) -> dict[str, float]:
    if not isinstance(values, dict) or not values:
        raise InvalidInput("report.bad_cadence", "cadence must map grade -> visits per 30 days")
    out = {}
    for g, v in values.items():
        if not isinstance(g, str) or not g or "." in g or g.startswith("$") or isinstance(v, bool) \
                or not isinstance(v, int | float) or v < 0 or v > 1000:
            raise InvalidInput("report.bad_cadence", "cadence values are 0..1000 visits per 30 days",
                               {"grade": g})
        out[g] = float(v)
    return out


# -- export cells ------------------------------------------------------------------------------

#: the exports' column headers: Chinese for people, the English key kept in each header's comment
HEADERS: dict[str, str] = {
    "employee_id": "员工ID", "name": "姓名", "employee_name": "员工姓名", "planned": "计划拜访数",
    "actual": "实际拜访数", "completion_rate": "完成率", "actual_per_day": "日均实际拜访", "rank": "排名",
    "day": "日期", "actual_per_person": "人均实际拜访", "planned_per_person": "人均计划拜访",
    "company_average": "公司平均拜访", "customer_id": "客户ID", "customer_name": "客户名称", "address": "地址",
    "status": "状态", "check_in_at": "签到时间", "check_out_at": "签退时间", "stay_minutes": "停留时长（分钟）",
    "check_in_deviation_m": "签到偏差（米）", "check_out_deviation_m": "签退偏差（米）",
    "location_source": "定位来源", "period": "周期",
}
STATUS_LABELS: dict[str, str] = {
    "pending_check_in": "待签到", "pending_check_out": "待签退", "pending_notes": "待记录", "completed": "已完成",
    "valid": "有效拜访", "invalid": "无效拜访", "expired": "已过期", "cancelled": "已取消",
}
SOURCE_LABELS: dict[str, str] = {"gps": "GPS", "network": "网络定位", "cell": "基站定位"}


def header(key: str, tz: str | None = None) -> str:
    """The Chinese header of a column; a time column names the zone its times are in."""
    text = HEADERS.get(key, key)
    return f"{text}（{tz}）" if tz and key.endswith("_at") else text


def local_time_text(value: Any, tz: str) -> str | None:
    """A UTC ISO-8601 instant as wall-clock time in the tenant's zone (``YYYY-MM-DD HH:MM:SS``)."""
    if not value:
        return None
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return at.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def safe_cell(v: Any) -> Any:
    """Neutralise spreadsheet formula injection: text that a spreadsheet would read as
    a formula is prefixed with an apostrophe."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v
