"""The queries a piece of service code really sends, and whether an index serves each one.

:class:`Capture` is a pymongo ``CommandListener``: while it records, every read and every
write's filter (``find``, ``aggregate``'s leading ``$match``, ``count``, ``distinct``,
``findAndModify``, ``update``/``delete`` statements) is kept as a :class:`Query`.
:func:`pad` gives each collection those queries touch enough rows of other values
(other tenants' rows, in effect) that a planner prefers an index wherever one applies, and
:func:`unserved` explains every query's filter (FerretDB pushes down the same filter for
``find``, ``aggregate``'s first ``$match``, ``count`` and the writes: one code path) and
names those that read a whole table or collection.
"""
from __future__ import annotations

import copy
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring
from pymongo.database import Database

from tests.database import plans

READS = {"find": "filter", "count": "query", "distinct": "query", "findAndModify": "query", "findandmodify": "query"}
PAD_ROWS = 2000


@dataclass(frozen=True)
class Query:
    database: str
    collection: str
    command: str
    filter: dict[str, Any]
    path: str = ""  # the outermost function of the database's own service that sent it (module.function)

    def describe(self) -> str:
        return f"{self.collection}.{self.command} {self.filter}"


def _filters(name: str, cmd: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    coll = cmd.get(name)
    if name in READS:
        yield coll, cmd.get(READS[name]) or {}
    elif name == "aggregate":
        pipeline = cmd.get("pipeline") or []
        first = pipeline[0] if pipeline else {}
        yield coll, first.get("$match") if "$match" in first else None  # None: nothing pushed down
    elif name == "update":
        for u in cmd.get("updates") or []:
            yield coll, u.get("q") or {}
    elif name == "delete":
        for d in cmd.get("deletes") or []:
            yield coll, d.get("q") or {}


def _service_path(service: str) -> str:
    """The outermost caller in the package ``service`` on this thread's stack (``org.me``)."""
    found = ""
    frame = sys._getframe(2)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(f"{service}."):
            found = f"{module.split('.', 1)[1]}.{frame.f_code.co_name}"
        frame = frame.f_back
    return found


class Capture(monitoring.CommandListener):
    """``service_of(database name)``: the service package whose functions are named as the
    request path of a query (default: the database name's last ``_`` part, as
    ``MONGO_DB_PREFIX`` + service)."""

    def __init__(self, service_of: Any = None) -> None:
        self.queries: list[Query] = []
        self._on = threading.local()
        self._service_of = service_of or (lambda name: name.rsplit("_", 1)[-1])

    @contextmanager
    def recording(self) -> Iterator[list[Query]]:
        """Record this thread's commands; yields the list they are added to."""
        start = len(self.queries)
        self._on.value = True
        out: list[Query] = []
        try:
            yield out
        finally:
            self._on.value = False
            out.extend(self.queries[start:])

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not getattr(self._on, "value", False):
            return
        path = _service_path(self._service_of(event.database_name))
        for coll, flt in _filters(event.command_name, event.command):
            if isinstance(coll, str):
                self.queries.append(Query(event.database_name, coll, event.command_name,
                                          copy.deepcopy(flt) if flt is not None else {"$no_match_stage": True},
                                          path))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _top_fields(flt: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for k, v in flt.items():
        if k in ("$and", "$or", "$nor") and isinstance(v, list):
            for part in v:
                if isinstance(part, dict):
                    out |= _top_fields(part)
        elif not k.startswith("$") and "." not in k and k != "_id":
            out.add(k)
    return out


def _equalities(flt: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of ``flt`` with a value a document can hold to match it."""
    out: dict[str, Any] = {}
    for k, v in flt.items():
        if k.startswith("$") or "." in k or k == "_id":
            continue
        if isinstance(v, dict) and v and all(str(op).startswith("$") for op in v):
            if "$eq" in v:
                out[k] = v["$eq"]
            elif isinstance(v.get("$in"), list) and v["$in"]:
                out[k] = v["$in"][0]
        else:
            out[k] = v
    return out


_ID = re.compile(r"^[0-9a-f]{32}$")


def _is_id(value: Any) -> bool:
    """An identifier (the services' ids are uuid4 hex): one tenant's, never shared by two."""
    return isinstance(value, str) and bool(_ID.match(value))


def narrowing(flt: dict[str, Any]) -> set[str]:
    """The equality fields that keep a read to one tenant's rows: ``tenant_id`` and ids."""
    return {k for k, v in _equalities(flt).items() if k == "tenant_id" or _is_id(v)}


def pad(db_of: Any, queries: list[Query], rows: int = PAD_ROWS) -> None:
    """Rows beside the real ones, so that a plan shows what narrows a query, then fresh planner
    statistics: ``rows`` documents per query, of other tenants (``tenant_id``, every id and
    every field a unique index holds: values of their own) that hold the query's other values
    (statuses, flags, months: what other tenants hold too), so that only an index that
    narrows by ``tenant_id`` or an id keeps the read to the tenant's rows. ``db_of(name)``: the
    database of that name."""
    docs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    done: set[tuple[str, str, str]] = set()
    for q in queries:
        if "$no_match_stage" in q.filter or _id_equality(q.filter):
            continue
        key = (q.database, q.collection, shape(q.filter))
        if key in done:
            continue
        done.add(key)
        tag = uuid.uuid4().hex[:8]  # pads of an earlier call stay: these are new rows beside them
        eq = _equalities(q.filter)
        unique = {f for info in db_of(q.database)[q.collection].index_information().values() if info.get("unique")
                  for f, _ in info["key"]}
        own = narrowing(q.filter) | (_top_fields(q.filter) - set(eq)) | (unique & set(eq))
        docs.setdefault((q.database, q.collection), []).extend(
            {"_id": f"pad-{tag}-{i}", **eq, **{f: f"pad-{tag}-{f}-{i}" for f in sorted(own)}} for i in range(rows))
    for (dbname, coll), rows_ in docs.items():
        db: Database = db_of(dbname)
        for i in range(0, len(rows_), 1000):
            db[coll].insert_many(rows_[i:i + 1000], ordered=False)
        try:
            db.command("compact", coll)  # FerretDB: VACUUM ANALYZE; MongoDB: harmless
        except Exception:  # noqa: BLE001 - MongoDB may refuse compact on a standalone; plans need no stats there
            pass


def _id_equality(flt: dict[str, Any]) -> bool:
    """A scalar ``_id`` equality: served by the ``_id`` key on every server (FerretDB on
    PostgreSQL with patch 0002, checked in test_postgresql_patches.py)."""
    v = flt.get("_id")
    return "_id" in flt and (isinstance(v, (str, int)) or (isinstance(v, dict) and set(v) == {"$eq"}))


def unserved(db_of: Any, queries: list[Query]) -> list[str]:
    """The distinct queries no index and no ``_id`` key serves, each with its plan."""
    out: list[str] = []
    seen: set[str] = set()
    for q in queries:
        key = q.describe()
        if key in seen:
            continue
        seen.add(key)
        if "$no_match_stage" in q.filter:
            out.append(f"{key}: an aggregation without a leading $match reads the whole collection")
            continue
        if _id_equality(q.filter):
            continue
        e = db_of(q.database).command("explain", {"find": q.collection, "filter": q.filter})
        if not plans.served_by_index(e):
            out.append(f"{key} -> {plans.describe(e)}")
        elif narrowing(q.filter) and not any(plans.index_reads(e, f) for f in narrowing(q.filter)):
            out.append(f"{key}: the index read narrows by none of {sorted(narrowing(q.filter))} "
                       f"(it reads every tenant's matching rows) -> {plans.describe(e)}")
    return out


def shape(flt: dict[str, Any]) -> str:
    """A filter without its values: ``tenant_id, owner_id`` equalities, other operators named
    (``sort_key $lt``), in the order the fields appear."""
    parts = []
    for k, v in flt.items():
        if k in ("$and", "$or", "$nor") and isinstance(v, list):
            parts.append(f"{k}({'; '.join(shape(x) for x in v if isinstance(x, dict))})")
        elif isinstance(v, dict) and v and all(str(op).startswith("$") for op in v):
            parts.append(" ".join(f"{k} {op}" for op in v))
        else:
            parts.append(k)
    return ", ".join(parts) or "(all rows)"


def served_by(db_of: Any, q: Query) -> str:
    """What serves ``q``: the ``_id`` key, the indexes its plan reads, or ``FULL SCAN``."""
    if "$no_match_stage" in q.filter:
        return "FULL SCAN (no leading $match)"
    if _id_equality(q.filter):
        return "_id"
    e = db_of(q.database).command("explain", {"find": q.collection, "filter": q.filter})
    if not plans.served_by_index(e):
        return "FULL SCAN"
    if narrowing(q.filter) and not any(plans.index_reads(e, f) for f in narrowing(q.filter)):
        return "NOT TENANT-KEYED: " + ", ".join(dict.fromkeys(plans.index_names(e)))
    return ", ".join(dict.fromkeys(plans.index_names(e)))
