"""Visit reports: database work (pymongo aggregation) and the report read models.

Aggregations use only ``$match $project $group`` with EQUALITY on indexed fields
(``tenant_id`` + ``day`` or ``month``), one pipeline per day/month bucket, and the
buckets are combined in Python (FerretDB 1.x pushes only equality down and has no
``$lookup/$facet/$bucket``; ``$cond``/``$ifNull`` are not implemented there, so
"has a check-in" is ``$type`` in a ``$project``). The figures themselves are computed
by :mod:`visits.report_rules`.

Read models kept from events (collections of this service's database):

* ``report_emp_history`` — ``{tenant_id, employee_id, since (local day), at, dept_ids, name}``
  one row per employee and day a department change was seen (identity employee.*);
* ``report_departments`` — ``{tenant_id, dept_id, parent_id, name, deleted}``;
* ``report_customers`` — ``{tenant_id, customer_id, grade, name, deleted}`` (customers);
* ``report_activity`` — ``{tenant_id, user_id, day, kind: entry|claim|contact_note}``
  one row per event (``_id`` = event id) for targets vs actual;
* ``report_settings`` — ``{_id: tenant_id, cadence: {grade: visits per 30 days}}``.
"""
from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crmkit import docstore
from crmkit.clock import parse_iso
from crmkit.context import CallContext
from crmkit.errors import InvalidInput, NotFound
from visits import charts, inputs, rollup
from visits import report_rules as R
from visits.access import visible_owners
from visits.peers import Identity, Pool, ReportIdentity
from visits.store import Store

MAX_DETAILS = 500
MAX_CUSTOMER_LIST = 500  # customers listed for one slice of the frequency pie


def time_zone(store: Store, tenant_id: str) -> str:
    return str(store.settings(tenant_id)["time_zone"])


# -- rows of the rollup -----------------------------------------------------------------------
# The reports never query ``visits``: they read the rollup (:mod:`visits.rollup`), whose
# documents are keyed by ``_id`` (the only filter FerretDB 1.x pushes down to storage).

def day_rows(store: Store, tenant_id: str, days: list[str], with_customer: bool = False) -> list[dict[str, Any]]:
    """``{day, employee_id, status, checked_in, n[, customer_id]}`` for every day."""
    if with_customer:
        n: Counter[tuple[str, Any, Any, str, bool]] = Counter(
            (d, x["e"], x["c"], x["s"], bool(x["i"])) for d, x in rollup.day_entries(store, tenant_id, days))
        return [{"day": d, "employee_id": e, "customer_id": c, "status": st, "checked_in": ci, "n": k}
                for (d, e, c, st, ci), k in n.items()]
    return [{"day": d, "employee_id": c["e"], "status": c["s"], "checked_in": bool(c["i"]), "n": int(c["n"])}
            for d, c in rollup.day_counts(store, tenant_id, days)]


def trend_rows(store: Store, tenant_id: str, kind: str, periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if periods and "days" in periods[0]:
        period_of = {d: p["key"] for p in periods for d in p["days"]}
    else:
        period_of = {d: p["key"] for p in periods for d in R.days_of_month(p["key"])}
    n: Counter[tuple[str, Any, str, bool]] = Counter()
    for d, c in rollup.day_counts(store, tenant_id, list(period_of)):
        n[(period_of[d], c["e"], c["s"], bool(c["i"]))] += int(c["n"])
    return [{"period": p, "employee_id": e, "status": st, "checked_in": ci, "n": k} for (p, e, st, ci), k in n.items()]


# -- scope: who is in the report --------------------------------------------------------------

def _history(store: Store, tenant_id: str, employee_ids: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wanted = None if employee_ids is None else set(employee_ids)
    for r in store.report_emp_history.find({"tenant_id": tenant_id}):  # one read (a full scan on FerretDB)
        if wanted is not None and r["employee_id"] not in wanted:
            continue
        out[r["employee_id"]].append({"since": r["since"], "dept_ids": r.get("dept_ids") or [], "at": r.get("at")})
    return out


def departments(store: Store, tenant_id: str) -> dict[str, str | None]:
    return {r["dept_id"]: r.get("parent_id") for r in store.report_departments.find({"tenant_id": tenant_id})
            if not r.get("deleted")}


def names_of(store: Store, tenant_id: str, identity: ReportIdentity, ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    wanted = set(ids)
    rows = store.report_emp_history.find({"tenant_id": tenant_id}, {"name": 1, "employee_id": 1, "at": 1})
    for r in sorted(rows, key=lambda r: str(r.get("at") or "")):  # the latest name wins
        if r.get("name") and r["employee_id"] in wanted:
            names[r["employee_id"]] = r["name"]
    missing = [i for i in ids if i not in names]
    if missing and identity is not None:
        try:
            ans = identity.get_employees(ids=missing) or []
            for e in ans if isinstance(ans, list) else ans.get("items", []):
                if e and e.get("id"):
                    names[e["id"]] = e.get("name") or e["id"]
        except Exception:  # names are a nicety: ids stand in when identity does not answer
            pass
    return names


def resolve_scope(store: Store, ctx: CallContext, identity: ReportIdentity, filters: dict[str, Any]) -> dict[str, Any]:
    """``{"people": [ids] | None (everyone), "member": fn(employee, day) | None}`` within
    the caller's visibility: tenant admin / all_customers everything, a department admin
    their subtree(s), anyone else themselves. Out-of-visibility filters answer 404."""
    visible = visible_owners(ctx, identity)
    see_all = bool(visible["all"])
    allowed = set(visible["user_ids"])
    employee_id = filters.get("employee_id")
    dept_id = filters.get("dept_id")
    if employee_id:
        employee_id = str(employee_id)
        if not see_all and employee_id not in allowed:
            raise NotFound("report.employee_not_found", "no such employee", {"employee_id": employee_id})
        people: list[str] | None = [employee_id]
    elif not dept_id:
        people = None if see_all else sorted(allowed)
    else:
        people = None
    member: Callable[[str, str], bool] | None = None
    if dept_id:
        dept_id = str(dept_id)
        current = set(identity.subtree_employee_ids(dept_id=dept_id) or [])
        tree = departments(store, ctx.tenant_id)
        dset = R.subtree(tree, dept_id)
        hist = _history(store, ctx.tenant_id)
        candidates = set(current) | {e for e, h in hist.items() if any(set(r["dept_ids"]) & dset for r in h)}
        if not see_all:
            candidates &= allowed
            own = set().union(*(R.subtree(tree, d) for d in ctx.dept_ids)) if ctx.dept_ids else set()
            if not candidates and dept_id not in own:
                raise NotFound("report.department_not_found", "no such department", {"dept_id": dept_id})
        if employee_id:
            candidates &= {employee_id}
        people = sorted(candidates)

        def member(e: str, day: str) -> bool:
            return R.in_dept_on_day(hist.get(e), day, dset, e in current)
    return {"people": people, "member": member, "all": see_all and not employee_id and not dept_id}


# -- employee summary --------------------------------------------------------------------------

def check_filters(filters: Any) -> dict[str, Any]:
    """The report filters: an object or nothing (400 ``report.bad_filters``)."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise InvalidInput("report.bad_filters", "filters must be an object")
    return dict(filters)


def employee_summary(store: Store, ctx: CallContext, identity: ReportIdentity, now: datetime, filters: Any,
                     max_days: int = R.MAX_RANGE_DAYS, all_details: bool = False) -> dict[str, Any]:
    f = check_filters(filters)
    tz = time_zone(store, ctx.tenant_id)
    days = R.date_range(f, now, tz, max_days)
    validated = R.truthy(f.get("validated_only"))
    scope = resolve_scope(store, ctx, identity, f)
    rows = day_rows(store, ctx.tenant_id, days)
    people = scope["people"]
    ids = people if people is not None else sorted({r["employee_id"] for r in rows})
    names = names_of(store, ctx.tenant_id, identity, ids)
    out = R.employee_summary(rows, days, people, scope["member"], validated, names)
    trend_kind = f.get("trend") or "months"
    periods = R.trend_periods(trend_kind, days[-1])
    trows = trend_rows(store, ctx.tenant_id, trend_kind, periods)
    out["trend"] = {"kind": "weeks" if "days" in periods[0] else "months",
                    "periods": R.trend(trows, periods, set(out_people(out)), validated)}
    out["time_zone"] = tz
    if all_details:
        rows_all = detail_rows(store, ctx.tenant_id, days, set(out_people(out)), scope["member"], validated)
        out["details"] = {"total": len(rows_all), "items": rows_all}
    else:
        out["details"] = details(store, ctx.tenant_id, days, set(out_people(out)), scope["member"], validated,
                                 f.get("limit"), f.get("offset"))
    for row in out["details"]["items"]:
        row["employee_name"] = names.get(row["employee_id"]) or row["employee_id"]
    return out


def out_people(summary: dict[str, Any]) -> list[str]:
    return [p["employee_id"] for p in summary["people"]]


def details(store: Store, tenant_id: str, days: list[str], people: set[str], member: Any, validated: bool,
            limit: Any = None, offset: Any = None) -> dict[str, Any]:
    """Actual visits, one row each: time, customer, address, stay, deviations, source."""
    lim, off = inputs.paging(limit, offset, max_limit=MAX_DETAILS, code="report.bad_paging")
    rows = detail_rows(store, tenant_id, days, people, member, validated)
    return {"total": len(rows), "items": rows[off:off + lim]}


def detail_rows(store: Store, tenant_id: str, days: list[str], people: set[str], member: Any,
                validated: bool) -> list[dict[str, Any]]:
    out = []
    for d, x in rollup.day_entries(store, tenant_id, days):
        e = x["e"]
        if e not in people or (member is not None and not member(e, d)):
            continue
        if not R.is_actual(x["s"], bool(x["i"]), validated) or not x.get("r"):
            continue
        out.append(dict(x["r"]))
    out.sort(key=lambda r: (r["check_in_at"] or "", r["visit_id"]))
    return out


# -- customer summary and coverage ---------------------------------------------------------------

def _population(store: Store, tenant_id: str, people: list[str] | None) -> dict[str, dict[str, Any]]:
    """Customers whose CURRENT owner is in scope (visits' customers read model), with
    their grade (this module's read model); ``people=None`` = every owned customer."""
    rows: list[dict[str, Any]] = []
    if people is None:
        rows = list(store.customers_rm.find({"tenant_id": tenant_id}))
    else:
        for p in people:
            rows.extend(store.customers_rm.find({"tenant_id": tenant_id, "owner_id": p}))
    grades = {r["customer_id"]: r for r in store.report_customers.find({"tenant_id": tenant_id})}
    out = {}
    for r in rows:
        cid = r.get("customer_id")
        g = grades.get(cid) or {}
        if not cid or r.get("deleted") or g.get("deleted") or (people is None and not r.get("owner_id")):
            continue
        out[cid] = {"customer_id": cid, "name": r.get("name") or g.get("name") or "", "owner_id": r.get("owner_id"),
                    "grade": g.get("grade") or r.get("grade") or R.NO_GRADE}
    return out


def _visit_counts(rows: list[dict[str, Any]], validated: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    for r in rows:
        if R.is_actual(r["status"], r["checked_in"], validated):
            counts[r["customer_id"]] += r["n"]
    return counts


def customer_summary(store: Store, ctx: CallContext, identity: ReportIdentity, now: datetime,
                     filters: Any) -> dict[str, Any]:
    """Frequency (0, 1, 2, … visits), average visits per grade, and the (department or
    person) × grade table of actual visits with a totals row. The customer population is
    the customers whose current owner is in scope; the visits counted are every actual
    visit to them in the range (whoever made it)."""
    f = check_filters(filters)
    tz = time_zone(store, ctx.tenant_id)
    days = R.date_range(f, now, tz)
    validated = R.truthy(f.get("validated_only"))
    scope = resolve_scope(store, ctx, identity, f)
    pop = _population(store, ctx.tenant_id, scope["people"])
    rows = [r for r in day_rows(store, ctx.tenant_id, days, with_customer=True) if r["customer_id"] in pop]
    counts = _visit_counts(rows, validated)
    grade_of = {c: p["grade"] for c, p in pop.items()}
    by = f.get("group_by") or "person"
    if by not in ("person", "dept"):
        raise InvalidInput("report.bad_group_by", "group_by must be person or dept", {"group_by": by})
    cells: list[tuple[str, str, int]] = []
    hist = _history(store, ctx.tenant_id) if by == "dept" else {}
    for r in rows:
        if not R.is_actual(r["status"], r["checked_in"], validated):
            continue
        if by == "dept":
            depts = R.depts_on_day(hist.get(r["employee_id"], []), r["day"]) or []
            key = sorted(depts)[0] if depts else R.NO_GRADE
        else:
            key = r["employee_id"]
        cells.append((key, grade_of[r["customer_id"]], r["n"]))
    if by == "dept":
        labels = {r["dept_id"]: r.get("name") or r["dept_id"]
                  for r in store.report_departments.find({"tenant_id": ctx.tenant_id})}
    else:
        labels = names_of(store, ctx.tenant_id, identity, sorted({c[0] for c in cells}))
    out = {"days": days, "time_zone": tz, "validated_only": validated, "customers": len(pop),
           "visits": sum(counts.values()),
           "frequency": R.frequency(counts, pop), "grades": R.grade_averages(counts, grade_of),
           "table": {"group_by": by, **R.grade_table(cells, labels)}}
    if f.get("visit_count") not in (None, ""):  # a slice of the pie: which customers
        n = inputs.integer(f["visit_count"], "visit_count", default=0, lo=0, hi=100_000, code="report.bad_filter")
        out["customer_list"] = R.customers_visited(pop, counts, n, MAX_CUSTOMER_LIST)
    return out


def cadence(store: Store, tenant_id: str) -> dict[str, float]:
    row = store.report_settings.find_one({"_id": tenant_id}) or {}
    return dict(row.get("cadence") or R.DEFAULT_CADENCE)


def save_cadence(store: Store, ctx: CallContext, values: Any) -> dict[str, float]:
    from crmkit.errors import Forbidden
    if not ctx.has_role("tenant_admin", "system", "operator"):
        raise Forbidden("report.settings_forbidden", "only the tenant admin sets visit cadence targets")
    clean = R.validate_cadence(values)
    store.replace(store.report_settings, {"_id": ctx.tenant_id, "tenant_id": ctx.tenant_id, "cadence": clean})
    return clean


def coverage(store: Store, ctx: CallContext, identity: ReportIdentity, now: datetime, filters: Any) -> dict[str, Any]:
    """Customers (in scope) with no actual visit from ``since`` to today, and each
    grade's cadence target vs actual over the range ``from``..``to``."""
    f = check_filters(filters)
    tz = time_zone(store, ctx.tenant_id)
    validated = R.truthy(f.get("validated_only"))
    scope = resolve_scope(store, ctx, identity, f)
    pop = _population(store, ctx.tenant_id, scope["people"])
    today = R.local_today(now, tz).isoformat()
    since = R.filter_day(f["since"], "since").isoformat() if f.get("since") else R.date_range({}, now, tz)[0]
    since_days = R.date_range({"from": since, "to": today}, now, tz)
    since_rows = [r for r in day_rows(store, ctx.tenant_id, since_days, with_customer=True) if r["customer_id"] in pop]
    seen = _visit_counts(since_rows, validated)
    not_visited = sorted((p for c, p in pop.items() if not seen.get(c)), key=lambda p: (p["grade"], p["name"]))
    days = R.date_range(f, now, tz)
    rows = since_rows if days == since_days else \
        [r for r in day_rows(store, ctx.tenant_id, days, with_customer=True) if r["customer_id"] in pop]
    counts = _visit_counts(rows, validated)
    return {"since": since, "today": today, "time_zone": tz, "validated_only": validated, "days": days,
            "customers": len(pop), "not_visited_count": len(not_visited), "not_visited": not_visited[:1000],
            "cadence": R.cadence_vs_actual(counts, {c: p["grade"] for c, p in pop.items()},
                                           cadence(store, ctx.tenant_id), len(days))}


# -- targets vs actual ----------------------------------------------------------------------------

def targets_vs_actual(store: Store, ctx: CallContext, identity: ReportIdentity, pool: Pool | None, now: datetime,
                      filters: Any) -> dict[str, Any]:
    """Per salesperson per day: the pool's daily targets next to the actual entries,
    claims, contact notes and field visits (actual visits) of that day."""
    f = check_filters(filters)
    tz = time_zone(store, ctx.tenant_id)
    days = R.date_range(f, now, tz, R.EXPORT_MAX_DAYS)
    validated = R.truthy(f.get("validated_only"))
    scope = resolve_scope(store, ctx, identity, f)
    rows = day_rows(store, ctx.tenant_id, days)
    people = scope["people"] if scope["people"] is not None else sorted({r["employee_id"] for r in rows})
    targets: dict[str, Any] = {}
    if pool is not None:
        try:
            targets = dict((pool.daily_targets(day=days[-1]) or {}).get("targets") or {})
        except Exception:  # the report still shows the actual figures when pool does not answer
            targets = {}
    visits: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if R.is_actual(r["status"], r["checked_in"], validated) and \
                (scope["member"] is None or scope["member"](r["employee_id"], r["day"])):
            visits[(r["employee_id"], r["day"])] += r["n"]
    act: Counter[tuple[str, str, str]] = Counter()
    for d in days:
        for a in store.report_activity.find({"tenant_id": ctx.tenant_id, "day": d}):
            act[(a["user_id"], d, a["kind"])] += 1
    names = names_of(store, ctx.tenant_id, identity, people)
    out = []
    for e in people:
        for d in days:
            entries, claims, notes = act[(e, d, "entry")], act[(e, d, "claim")], act[(e, d, "contact_note")]
            out.append({"employee_id": e, "name": names.get(e) or e, "day": d, "rows": [
                {"metric": "prepared_prospects", "target": targets.get("prepared_prospects"),
                 "actual": entries + claims},
                {"metric": "new_prospects", "target": targets.get("new_prospects"), "actual": entries},
                {"metric": "claims", "target": None, "actual": claims},
                {"metric": "effective_calls", "target": targets.get("effective_calls"), "actual": notes},
                {"metric": "field_visits", "target": targets.get("field_visits"), "actual": visits[(e, d)]},
            ]})
    return {"days": days, "time_zone": tz, "targets": targets, "items": out}


# -- read models from events -------------------------------------------------------------------------

def _event_day(event: dict[str, Any], tz: str, at: Any = None) -> str:
    raw = at or event.get("occurred_at")
    try:
        when = parse_iso(str(raw))
    except (TypeError, ValueError):
        when = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    return R.local_day_of(when, tz)


def on_employee_event(store: Store, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    emp = data.get("employee_id") or data.get("id")
    if not emp or "dept_ids" not in data:
        return
    tenant = event["tenant_id"]
    since = _event_day(event, time_zone(store, tenant))
    _id = f"{tenant}:{emp}:{since}"
    row = {"_id": _id, "tenant_id": tenant, "employee_id": str(emp), "since": since,
           "at": str(event.get("occurred_at") or ""), "dept_ids": [str(d) for d in data.get("dept_ids") or []],
           "name": data.get("name") or ""}
    old = store.report_emp_history.find_one({"_id": _id})
    if old is not None and str(old.get("at") or "") > row["at"]:
        return  # a later change of the same day is already kept
    store.replace(store.report_emp_history, row)


def on_department_event(store: Store, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    dept = data.get("department_id") or data.get("id")
    if not dept:
        return
    tenant = event["tenant_id"]
    store.replace(store.report_departments, {
        "_id": f"{tenant}:{dept}", "tenant_id": tenant, "dept_id": str(dept), "parent_id": data.get("parent_id"),
        "name": data.get("name") or "", "deleted": event.get("type") == "department.deleted"})


def on_customer_event(store: Store, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    cid = data.get("customer_id")
    if not cid:
        return
    tenant = event["tenant_id"]
    fields: dict[str, Any] = {"tenant_id": tenant, "customer_id": str(cid)}
    if event.get("type") == "customer.deleted":
        fields["deleted"] = True
    else:
        if event.get("type") == "customer.restored":
            fields["deleted"] = False
        if "grade" in data:
            fields["grade"] = data.get("grade") or None
        if data.get("name"):
            fields["name"] = data["name"]
    docstore.upsert(store.report_customers, {"_id": f"{tenant}:{cid}"}, {"$set": fields})


def on_activity_event(store: Store, event: dict[str, Any]) -> None:
    """customer.owner_changed (path entry/claim) and customer.contact_noted."""
    data = event.get("data") or {}
    tenant = event["tenant_id"]
    tz = time_zone(store, tenant)
    if event.get("type") == "customer.owner_changed":
        kind = {"entry": "entry", "claim": "claim", "import": "entry"}.get(str(data.get("path")))
        user = data.get("to_owner_id")
        at = None
    elif event.get("type") == "customer.contact_noted":
        kind, user, at = "contact_note", event.get("actor_id") or data.get("owner_id"), data.get("at")
    else:
        return
    if not kind or not user:
        return
    docstore.insert_once(store.report_activity, {"_id": str(event.get("event_id")), "tenant_id": tenant,
                                                 "user_id": str(user), "day": _event_day(event, tz, at),
                                                 "kind": kind})


# -- answers of identity frozen for a background job ------------------------------------------------

def freeze_identity(ctx: CallContext, identity: Identity, filters: dict[str, Any]) -> dict[str, Any]:
    """What the report needs from identity, asked now (within the request) so that a
    background job needs no RPC."""
    frozen: dict[str, Any] = {"visible": visible_owners(ctx, identity), "subtree": {}, "names": {}}
    if filters.get("dept_id"):
        d = str(filters["dept_id"])
        frozen["subtree"][d] = list(identity.subtree_employee_ids(dept_id=d) or [])
    try:
        ans = identity.list_employees() or []
        for e in ans if isinstance(ans, list) else ans.get("items", []):
            if e and e.get("id"):
                frozen["names"][e["id"]] = e.get("name") or e["id"]
    except Exception:  # names are a nicety
        pass
    return frozen


class FrozenIdentity:
    """Answers identity's calls from :func:`freeze_identity`'s snapshot."""

    def __init__(self, frozen: dict[str, Any]):
        self.frozen = frozen

    def visible_owner_ids(self) -> dict[str, Any]:
        return dict(self.frozen.get("visible") or {"all": False, "user_ids": []})

    def subtree_employee_ids(self, dept_id: str) -> list[str]:
        return list((self.frozen.get("subtree") or {}).get(dept_id) or [])

    def get_employees(self, ids: list[str]) -> list[dict[str, Any]]:
        names = self.frozen.get("names") or {}
        return [{"id": i, "name": names[i]} for i in ids if i in names]


def report_settings(store: Store, ctx: CallContext) -> dict[str, Any]:
    """``get_report_settings``: the tenant's visit cadence per customer grade."""
    return {"cadence": cadence(store, ctx.tenant_id)}


def update_report_settings(store: Store, ctx: CallContext, changes: Any) -> dict[str, Any]:
    """``update_report_settings``: the tenant admin sets the cadence."""
    body = inputs.obj(changes, "changes", code="report.bad_cadence", required=False)
    return {"cadence": save_cadence(store, ctx, body.get("cadence"))}


def chart(store: Store, ctx: CallContext, identity: ReportIdentity, now: datetime, tpool: Callable[..., bytes],
          kind: Any,
          filters: Any) -> dict[str, Any]:
    """``report_chart``: a PNG of the employee or customer summary (rendered in a thread)."""
    if kind not in charts.KINDS:
        raise InvalidInput("report.bad_chart", f"chart kinds are {', '.join(charts.KINDS)}", {"kind": kind})
    f = check_filters(filters)
    if kind == "employee-visits":
        data = employee_summary(store, ctx, identity, now, f)
    else:
        data = customer_summary(store, ctx, identity, now, f)
    png = tpool(charts.render, kind, data)
    return {"content_type": "image/png", "data_b64": base64.b64encode(png).decode()}
