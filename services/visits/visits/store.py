"""Persistence of the visits service (pymongo; works on MongoDB and FerretDB 1.x).

Collections
- ``visits``: one document per visit; ``tenant_id``, ``day`` (YYYY-MM-DD local) and
  ``month`` (YYYY-MM) for equality queries; ``owner_id`` = the customer's CURRENT owner
  (kept from customer events) so records visibility is an equality query.
- ``visit_steps``: ``_id = "<visit_id>:<step>"``. Every status change inserts its step
  first; the insert that wins is the change (FerretDB updates are not atomic).
- ``idempotency``: ``_id = "<tenant>:<visit>:<action>:<key>"`` inserted before the work.
- ``customers_rm``: the read model of customers (name, owner, CBM link, kind).
- ``settings``: tenant settings (time zone, thresholds).
- ``routes``: visit routes (named ordered stops per employee).
- ``blobs`` / ``blobs_chunks`` (or GridFS): photos.
"""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.errors import Conflict, NotFound
from crmkit.outbox import Check
from visits import rules


def ensure_indexes(db: Database) -> None:
    v = db["visits"]
    for keys in (
        [("tenant_id", ASCENDING), ("month", ASCENDING), ("employee_id", ASCENDING)],
        [("tenant_id", ASCENDING), ("day", ASCENDING)],
        [("tenant_id", ASCENDING), ("owner_id", ASCENDING)],
        [("tenant_id", ASCENDING), ("customer_id", ASCENDING)],
        [("tenant_id", ASCENDING), ("status", ASCENDING)],
        [("tenant_id", ASCENDING), ("employee_id", ASCENDING), ("status", ASCENDING)],
        [("status", ASCENDING)],
    ):
        v.create_index(keys)
    db["idempotency"].create_index(
        [("tenant_id", ASCENDING), ("visit_id", ASCENDING), ("action", ASCENDING), ("key", ASCENDING)], unique=True)
    db["customers_rm"].create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
    db["routes"].create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])
    db["checkin_log"].create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])


def aware(dt: Any) -> Any:
    if isinstance(dt, datetime) and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


def fix_dates(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: fix_dates(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [fix_dates(v) for v in doc]
    return aware(doc)


def replace(coll: Any, doc: dict[str, Any]) -> None:
    """replace_one(upsert) that survives FerretDB's non-atomic upsert (duplicate key)."""
    try:
        coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
    except DuplicateKeyError:
        coll.replace_one({"_id": doc["_id"]}, doc)


# -- settings --------------------------------------------------------------------------

#: the operator's bounds on the tenants' photo limits, from the environment once per process
#: (``VISITS_PHOTO_MAX_BYTES``, ``VISITS_PHOTO_MAX_PIXELS``, ``VISITS_PHOTO_MIN_PIXELS_FLOOR``)
PHOTO_BOUNDS = rules.photo_bounds(os.environ)


def settings(db: Database, tenant_id: str) -> dict[str, Any]:
    """The tenant's settings in force: defaults, the tenant's values, photo limits clamped
    to the operator's bounds."""
    row = db["settings"].find_one({"_id": tenant_id}) or {}
    return rules.merge_settings(row.get("values"), PHOTO_BOUNDS)


def save_settings(db: Database, tenant_id: str, changes: Any) -> dict[str, Any]:
    """Validate ``changes`` (against the operator's bounds and the settings in force) and keep them."""
    clean = rules.validate_settings(changes, PHOTO_BOUNDS, settings(db, tenant_id))
    current = (db["settings"].find_one({"_id": tenant_id}) or {}).get("values") or {}
    current.update(clean)
    replace(db["settings"], {"_id": tenant_id, "values": current})
    return rules.merge_settings(current, PHOTO_BOUNDS)


def tenants_with_settings(db: Database) -> list[dict[str, Any]]:
    return list(db["settings"].find({}))


# -- visits ------------------------------------------------------------------------------

def load_visit(db: Database, tenant_id: str, visit_id: str) -> dict[str, Any]:
    doc = db["visits"].find_one({"_id": str(visit_id)})
    if doc is None or doc.get("tenant_id") != tenant_id:
        raise NotFound("visit.not_found", "no such visit", {"visit_id": visit_id})
    doc = fix_dates(doc)
    return reconcile(db, doc)


def reconcile(db: Database, doc: dict[str, Any]) -> dict[str, Any]:
    """Apply a won step whose visit update was lost (a crash between the two writes)."""
    for _ in range(5):
        step = rules.STEP_OF.get(doc["status"])
        if step is None:
            return doc
        row = db["visit_steps"].find_one({"_id": f"{doc['_id']}:{step}"})
        if row is None:
            return doc
        changes = fix_dates(row["set"])
        db["visits"].update_one({"_id": doc["_id"]}, {"$set": changes})
        touch(db, doc["_id"])
        doc.update(changes)
    return doc


def claim_step(db: Database, visit: dict[str, Any], action: str, changes: dict[str, Any],
               at: datetime) -> dict[str, Any]:
    """Linearise ``action`` on ``visit``: insert its step; losing answers 409 with the
    status the winner set. Returns the full ``$set`` (status included)."""
    new_status = rules.next_status(visit["status"], action)
    step = rules.step_of(visit["status"])
    full = dict(changes)
    full["status"] = new_status
    full["updated_at"] = at
    try:
        db["visit_steps"].insert_one({"_id": f"{visit['_id']}:{step}", "visit_id": visit["_id"],
                                      "tenant_id": visit["tenant_id"], "action": action, "from": visit["status"],
                                      "set": full, "at": at})
    except DuplicateKeyError:
        row = db["visit_steps"].find_one({"_id": f"{visit['_id']}:{step}"}) or {}
        status = (row.get("set") or {}).get("status", visit["status"])
        raise Conflict("visit.illegal_transition", f"cannot {action} a visit that is {status}",
                       {"status": status, "action": action}) from None
    return full


def step_check(visit: dict[str, Any], action: str) -> Check:
    """Outbox check: the change happened once this visit's step was won by ``action``
    (the visit document itself may still be repaired by ``reconcile``)."""
    return Check("visit_steps", {"_id": f"{visit['_id']}:{rules.STEP_OF.get(visit['status'], 0)}",
                                 "action": action})


# -- open visits (what the expiry sweep reads) ---------------------------------------------

OPEN_STATE = "open_visits_state"


def mark_open(db: Database, visit: dict[str, Any]) -> None:
    """Record a visit the expiry sweep must look at once its planned day has ended. Written
    before the visit itself, so no open visit lacks one; a marker whose visit was never
    written, or was settled, is removed by the sweep. Keyed by the visit's ``_id``, so the
    collection holds only visits not yet past their day (the sweep never scans ``visits``)."""
    try:
        db["open_visits"].insert_one({"_id": visit["_id"], "tenant_id": visit["tenant_id"], "day": visit["day"]})
    except DuplicateKeyError:
        pass


def unmark_open(db: Database, visit_id: str) -> None:
    db["open_visits"].delete_one({"_id": visit_id})


def build_open_markers(db: Database) -> int:
    """Once per database: markers for open visits written before markers existed."""
    if db[OPEN_STATE].find_one({"_id": "built"}) is not None:
        return 0
    n = 0
    for v in db["visits"].find({"status": {"$in": list(rules.OPEN_FOR_EXPIRY)}}, {"tenant_id": 1, "day": 1}):
        if v.get("day") and v.get("tenant_id"):
            mark_open(db, v)
            n += 1
    try:
        db[OPEN_STATE].insert_one({"_id": "built", "at": datetime.now(UTC), "visits": n})
    except DuplicateKeyError:
        pass
    return n


def apply_step(db: Database, visit_id: str, full: dict[str, Any], visit: dict[str, Any] | None = None) -> None:
    """Write a won step's changes; ``visit``: the document the caller holds (its tenant
    and day spare the rollup a read)."""
    db["visits"].update_one({"_id": visit_id}, {"$set": full})
    touch(db, visit_id, visit)


def touch(db: Database, visit_id: str, visit: dict[str, Any] | None = None) -> None:
    """Keep the reports' rollup in step with a visit just written (see ``rollup``)."""
    from visits import rollup  # rollup builds on this module
    rollup.touch(db, visit_id, visit)


# -- idempotency -------------------------------------------------------------------------

IDEM_WAIT_S = 60.0
IDEM_STALE = timedelta(minutes=5)


def idem_begin(db: Database, tenant_id: str, visit_id: str, action: str, key: str,
               sleep: Any) -> dict[str, Any] | None:
    """Insert the key first. ``None`` = this call does the work; otherwise the stored
    result of the call that did (waiting while it is still running)."""
    _id = f"{tenant_id}:{visit_id}:{action}:{key}"
    try:
        db["idempotency"].insert_one({"_id": _id, "tenant_id": tenant_id, "visit_id": visit_id, "action": action,
                                      "key": key, "status": "running", "at": datetime.now(UTC)})
        return None
    except DuplicateKeyError:
        pass
    deadline = time.monotonic() + IDEM_WAIT_S
    while time.monotonic() < deadline:
        row = db["idempotency"].find_one({"_id": _id})
        if row is None:  # the first call failed and released the key: run again
            return idem_begin(db, tenant_id, visit_id, action, key, sleep)
        if row.get("status") == "done":
            return {"result": row.get("result")}
        started = aware(row.get("at"))
        if isinstance(started, datetime) and datetime.now(UTC) - started > IDEM_STALE:
            # the first call died mid-way (process killed): its key is taken over
            db["idempotency"].delete_one({"_id": _id, "status": "running"})
            return idem_begin(db, tenant_id, visit_id, action, key, sleep)
        sleep(0.1)
    raise Conflict("idempotency.in_progress", "a request with this Idempotency-Key is still running",
                   {"key": key})


def idem_done(db: Database, tenant_id: str, visit_id: str, action: str, key: str, result: Any) -> None:
    db["idempotency"].update_one({"_id": f"{tenant_id}:{visit_id}:{action}:{key}"},
                                 {"$set": {"status": "done", "result": result}})


def idem_release(db: Database, tenant_id: str, visit_id: str, action: str, key: str) -> None:
    db["idempotency"].delete_one({"_id": f"{tenant_id}:{visit_id}:{action}:{key}"})


# -- calendar buckets --------------------------------------------------------------------
# FerretDB 1.x (SQLite) pushes down only ``_id`` filters: any other query reads the whole
# collection. Calendars and day lists therefore read a small per-month collection
# ``calendar_YYYY_MM`` ({_id: visit_id, tenant_id, employee_id, owner_id, day}) instead of
# every visit of every month.

_CAL_READY: set[str] = set()


def cal_coll(db: Database, month: str) -> Any:
    name = f"calendar_{month.replace('-', '_')}"
    coll = db[name]
    if name not in _CAL_READY:
        coll.create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])
        coll.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
        _CAL_READY.add(name)
    return coll


def cal_add(db: Database, visit: dict[str, Any]) -> None:
    try:
        cal_coll(db, visit["month"]).insert_one({
            "_id": visit["_id"], "tenant_id": visit["tenant_id"], "employee_id": visit["employee_id"],
            "owner_id": visit.get("owner_id"), "day": visit["day"], "customer_id": visit["customer_id"]})
    except DuplicateKeyError:
        pass


def cal_set(db: Database, visit: dict[str, Any], fields: dict[str, Any]) -> None:
    cal_coll(db, visit["month"]).update_one({"_id": visit["_id"]}, {"$set": fields})


def set_owner_of_customer(db: Database, tenant_id: str, customer_id: str, owner_id: str | None) -> None:
    """The transfer rule: a customer's visits follow its current owner."""
    rows = list(db["visits"].find({"tenant_id": tenant_id, "customer_id": customer_id}, {"month": 1}))
    db["visits"].update_many({"tenant_id": tenant_id, "customer_id": customer_id}, {"$set": {"owner_id": owner_id}})
    for r in rows:
        if r.get("month"):
            cal_set(db, r, {"owner_id": owner_id})


# -- customers read model -----------------------------------------------------------------

def rm_id(tenant_id: str, customer_id: str) -> str:
    return f"{tenant_id}:{customer_id}"


def get_customer_rm(db: Database, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    return db["customers_rm"].find_one({"_id": rm_id(tenant_id, customer_id)})


def upsert_customer_rm(db: Database, tenant_id: str, customer_id: str, fields: dict[str, Any]) -> None:
    """Upsert; FerretDB upserts are not atomic, so a concurrent first insert can lose
    with a duplicate key — the row exists then, and the update is simply run again."""
    change = {"$set": {"tenant_id": tenant_id, "customer_id": customer_id, **fields}}
    try:
        db["customers_rm"].update_one({"_id": rm_id(tenant_id, customer_id)}, change, upsert=True)
    except DuplicateKeyError:
        db["customers_rm"].update_one({"_id": rm_id(tenant_id, customer_id)}, change)
