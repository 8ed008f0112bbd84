"""The reports' rollup of visits: what every report reads instead of the visits collection.

Why: on FerretDB 1.24 (SQLite) only an equality on a string ``_id`` reaches storage;
any other filter or ``$match`` reads every visit of every tenant (≈ 40 s for 200 000
visits on the dev machines), and one report needs 30 days, a 12-month trend and the
details. So the reports read documents keyed by ``_id``:

* ``report_days_YYYY_MM`` (one collection per month, like the calendars) —
  ``{_id: "<tenant>|<day>", tenant_id, day, v: "[entry, ...]"}``: one
  entry per visit planned for that local day (tenant time zone, the visit's ``day``):
  ``{id, e (employee), c (customer), s (status), i (checked in: 1/0), r (detail row,
  only once checked in)}``.
* ``report_months`` — ``{_id: "<tenant>|<month>", tenant_id, month,
  d: {day: "[{e, s, i, n}, ...]"}}``: the counts of each day of the
  month (the series and the trends read these, 12 documents for a year).

Lists are stored as JSON *text*: FerretDB 1.24 (SQLite) converts every nested value of a
result to BSON and SQLite parses the JSON of every row it reads; one string per list makes
both a fraction of the cost of hundreds of small sub-documents (measured: a 20 000-visit
summary 10.5 s with sub-documents, 0.3 s with text). On MongoDB the same
documents are read by their ``_id`` index.
* ``report_locks`` — ``{_id: "day|<tenant>|<day>"}`` / ``"month|…"``: a writer holds
  the key while it rewrites a document (FerretDB updates are read-modify-write, so two
  concurrent ``$set``/``$inc`` on one document can lose one; an insert under the
  unique ``_id`` cannot).
* ``report_rollup_state`` — ``{_id: tenant_id}``: the tenant's rollup was built from
  its visits (once, at the first report; visits made before the rollup existed).

Maintenance: after every write of a visit (plan, check-in/out, notes, review, expiry,
cancel, hand-over, repair) :func:`touch` re-reads the visit by ``_id`` *under the day's
lock* and rewrites its entry, then the day's counts in the month document under the
month's lock (locks always taken day → month). The entry is rebuilt from the visit
itself, so a replay, a retry or a late writer leaves the same entry; the last writer
under the lock always reads the latest visit. :func:`build` fills entries that are
missing (it never overwrites one written by ``touch``, which is fresher).
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from crmkit import docstore
from visits.store import ROLLUP_DAYS, ROLLUP_LOCKS, ROLLUP_MONTHS, ROLLUP_STATE, Coll, Store, fix_dates

log = logging.getLogger(__name__)

DAYS = ROLLUP_DAYS  # report_days_YYYY_MM (collections of the Store)
MONTHS = ROLLUP_MONTHS
LOCKS = ROLLUP_LOCKS
STATE = ROLLUP_STATE

LOCK_STALE = timedelta(seconds=30)   # a holder that died (process killed) is taken over after this
LOCK_WAIT_S = 60.0

#: the visit fields an entry is made of
FIELDS = {"tenant_id": 1, "employee_id": 1, "customer_id": 1, "customer_name": 1, "status": 1, "day": 1,
          "location.address": 1, "check_in.at": 1, "check_in.deviation_m": 1, "check_in.point.source": 1,
          "check_out.at": 1, "check_out.deviation_m": 1, "check_out.stay_minutes": 1, "check_out.point.source": 1}


def day_id(tenant_id: str, day: str) -> str:
    return f"{tenant_id}|{day}"


def month_id(tenant_id: str, month: str) -> str:
    return f"{tenant_id}|{month}"


def days_coll(store: Store, day: str) -> Coll:
    """The month collection of ``day``'s rollup documents."""
    return store.report_days(day)


def _dump(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _load(raw: Any) -> list[dict[str, Any]]:
    return list(json.loads(raw)) if isinstance(raw, str) and raw else []


# -- entries -------------------------------------------------------------------------------

def _iso(v: Any) -> Any:
    if isinstance(v, datetime):
        return docstore.aware(v).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return v


def _round(v: Any) -> float | None:
    return None if v is None else round(float(v), 1)


def entry_of(v: dict[str, Any]) -> dict[str, Any]:
    """A visit's entry; ``r`` (the details row of the reports) once it is checked in."""
    ci, co = v.get("check_in") or {}, v.get("check_out") or {}
    out: dict[str, Any] = {"id": v["_id"], "e": v.get("employee_id"), "c": v.get("customer_id"),
                           "s": v.get("status") or "", "i": 1 if ci else 0}
    if ci:
        out["r"] = {
            "visit_id": v["_id"], "day": v.get("day"), "employee_id": v.get("employee_id"),
            "customer_id": v.get("customer_id"), "customer_name": v.get("customer_name") or "",
            "address": (v.get("location") or {}).get("address") or "", "status": v.get("status"),
            "check_in_at": _iso(ci.get("at")), "check_out_at": _iso(co.get("at")),
            "stay_minutes": co.get("stay_minutes"),
            "check_in_deviation_m": _round(ci.get("deviation_m")),
            "check_out_deviation_m": _round(co.get("deviation_m")),
            "location_source": (ci.get("point") or {}).get("source"),
            "check_out_location_source": (co.get("point") or {}).get("source"),
        }
    return out


def counts_of(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{e: employee, s: status, i: checked_in, n}, ...]`` of a day's entries (FerretDB
    stores no nested arrays)."""
    n: Counter[tuple[Any, str, int]] = Counter((x["e"], x["s"], int(x["i"])) for x in entries)
    return [{"e": e, "s": s, "i": i, "n": k}
            for (e, s, i), k in sorted(n.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2]))]


# -- locks ---------------------------------------------------------------------------------

def _locked(store: Store, key: str) -> AbstractContextManager[None]:
    return docstore.lease_lock(store.report_locks, key, lease=LOCK_STALE, wait=LOCK_WAIT_S,
                               busy=lambda: TimeoutError(f"report rollup lock {key} is held"))


# -- writing -------------------------------------------------------------------------------

def _write_day(store: Store, tenant_id: str, day: str, changes: Callable[[], dict[str, dict[str, Any]]],
               only_missing: bool, with_month: bool = True) -> None:
    """Under the day's lock: merge ``changes()`` (visit id -> entry, read under the lock)
    into the day document, then (``with_month``) the day's counts into its month document."""
    did = day_id(tenant_id, day)
    with _locked(store, f"day|{did}"):
        doc = days_coll(store, day).find_one({"_id": did}) or {}
        entries = {x["id"]: x for x in _load(doc.get("v"))}
        before = dict(entries)
        for vid, entry in changes().items():
            if only_missing and vid in entries:
                continue
            entries[vid] = entry
        if entries == before and doc:
            return
        store.replace(days_coll(store, day), {"_id": did, "tenant_id": tenant_id, "day": day,
                                           "v": _dump(sorted(entries.values(), key=lambda x: x["id"]))})
        if not with_month:
            return
        mid = month_id(tenant_id, day[:7])
        with _locked(store, f"month|{mid}"):
            mdoc = store.report_months.find_one({"_id": mid}) or {}
            per_day = dict(mdoc.get("d") or {})
            per_day[day] = _dump(counts_of(entries.values()))
            store.replace(store.report_months, {"_id": mid, "tenant_id": tenant_id, "month": day[:7], "d": per_day})


def _refresh_month(store: Store, tenant_id: str, month: str, days: list[str]) -> None:
    """Under the month's lock: the counts of ``days`` from their day documents as they
    are now (a ``touch`` of one of them after this read rewrites its counts after us)."""
    mid = month_id(tenant_id, month)
    with _locked(store, f"month|{mid}"):
        mdoc = store.report_months.find_one({"_id": mid}) or {}
        per_day = dict(mdoc.get("d") or {})
        for day in days:
            doc = days_coll(store, day).find_one({"_id": day_id(tenant_id, day)}) or {}
            per_day[day] = _dump(counts_of(_load(doc.get("v"))))
        store.replace(store.report_months, {"_id": mid, "tenant_id": tenant_id, "month": month, "d": per_day})


def touch(store: Store, visit_id: str, known: dict[str, Any] | None = None) -> None:
    """Rewrite ``visit_id``'s entry from the visit as it is now (call after writing it).
    ``known``: the visit as the caller holds it — its tenant and day (which never change)
    spare a read; the entry itself is always read fresh under the day's lock. Never fails
    the visit change it follows: a failure is logged (the entry is fixed by the visit's
    next change or by :func:`rebuild`)."""
    try:
        v: Any = known if known and known.get("tenant_id") and known.get("day") else \
            store.visits.find_one({"_id": visit_id}, {"tenant_id": 1, "day": 1})
        if not v or not v.get("day") or not v.get("tenant_id"):
            return

        def fresh() -> dict[str, dict[str, Any]]:  # re-read under the day's lock: the latest state wins
            doc = store.visits.find_one({"_id": visit_id}, FIELDS)
            return {} if doc is None else {visit_id: entry_of(fix_dates(doc))}

        _write_day(store, str(v["tenant_id"]), str(v["day"]), fresh, only_missing=False)
    except Exception:
        log.exception("report rollup of visit %s not updated", visit_id)


def build(store: Store, tenant_id: str, force: bool = False) -> int:
    """Fill the tenant's rollup from its visits (one read of them), then mark it built.
    Entries already there are kept (``touch`` wrote them from a fresher read)."""
    if not force and store.report_rollup_state.find_one({"_id": tenant_id}) is not None:
        return 0
    by_day: dict[str, dict[str, dict[str, Any]]] = {}
    n = 0
    for v in store.visits.find({"tenant_id": tenant_id}, FIELDS):
        if not v.get("day"):
            continue
        by_day.setdefault(str(v["day"]), {})[v["_id"]] = entry_of(fix_dates(v))
        n += 1
    months: dict[str, list[str]] = {}
    for day in sorted(by_day):
        entries = by_day[day]
        _write_day(store, tenant_id, day, lambda entries=entries: entries,  # type: ignore[misc]
                   only_missing=True, with_month=False)
        months.setdefault(day[:7], []).append(day)
    for month, mdays in months.items():
        _refresh_month(store, tenant_id, month, mdays)
    store.replace(store.report_rollup_state, {"_id": tenant_id, "built_at": datetime.now(UTC), "visits": n})
    return n


def rebuild(store: Store, tenant_id: str) -> int:
    """Rewrite every entry of the tenant from its visits (repair)."""
    n = 0
    for v in list(store.visits.find({"tenant_id": tenant_id}, {"_id": 1})):
        touch(store, v["_id"])
        n += 1
    store.replace(store.report_rollup_state, {"_id": tenant_id, "built_at": datetime.now(UTC), "visits": n})
    return n


# -- reading ------------------------------------------------------------------------------

def day_entries(store: Store, tenant_id: str, days: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(day, entry)`` of every visit planned for ``days`` (one ``_id`` read per day)."""
    build(store, tenant_id)
    for d in days:
        doc = days_coll(store, d).find_one({"_id": day_id(tenant_id, d)})
        for x in _load((doc or {}).get("v")):
            yield d, x


def day_counts(store: Store, tenant_id: str, days: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(day, {e, s, i, n})`` for ``days`` (one ``_id`` read per month)."""
    build(store, tenant_id)
    wanted = list(days)
    months: dict[str, list[str]] = {}
    for d in wanted:
        months.setdefault(d[:7], []).append(d)
    for m, mdays in months.items():
        doc = store.report_months.find_one({"_id": month_id(tenant_id, m)}) or {}
        per_day = doc.get("d") or {}
        for d in mdays:
            for c in _load(per_day.get(d)):
                yield d, c
