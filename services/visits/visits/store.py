"""The storage of the visits service (pymongo; works on MongoDB and FerretDB 1.x): the one
storage provider (:class:`VisitsStore`) and :class:`Store`, the collections and the queries.

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
- ``open_visits``: one marker per visit the expiry sweep must look at.
- ``employee_last_check_in``: each employee's last check-in (impossible travel).
- ``calendar_YYYY_MM``: the month buckets calendars and day lists read.
- ``blobs`` / ``blobs_chunks`` (or GridFS): photos; ``report_blobs``: export zips.
- the reports' read models (``report_*``) and rollup (``report_days_YYYY_MM``,
  ``report_months``, ``report_locks``, ``report_rollup_state``), see :mod:`visits.reports`
  and :mod:`visits.rollup`.

Indexes are created here only (:meth:`Store.ensure_indexes`, month buckets through
``crmkit.docstore.month_bucket``).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit import db as crmdb
from crmkit import docstore, parts
from crmkit.blobs import BlobStore, blob_store
from crmkit.errors import Conflict, NotFound
from crmkit.nameko.dependency import Dependency
from crmkit.outbox import Check
from visits import rules

Doc = dict[str, Any]
Coll = Collection[Doc]

#: the operator's bounds on the tenants' photo limits, from the environment once per process
#: (``VISITS_PHOTO_MAX_BYTES``, ``VISITS_PHOTO_MAX_PIXELS``, ``VISITS_PHOTO_MIN_PIXELS_FLOOR``)
PHOTO_BOUNDS = rules.photo_bounds(os.environ)

OPEN_STATE = "open_visits_state"
LEGACY_UPLOADS = "photo_uploads"  # parts were kept there (and copied into the blob store) before

IDEM_WAIT_S = 60.0

# the reports' rollup (:mod:`visits.rollup`)
ROLLUP_DAYS = "report_days"
ROLLUP_MONTHS = "report_months"
ROLLUP_LOCKS = "report_locks"
ROLLUP_STATE = "report_rollup_state"

CALENDAR_INDEXES = (("tenant_id", "employee_id"), ("tenant_id", "owner_id"))


def fix_dates(doc: Any) -> Any:
    """Every naive datetime in ``doc`` (nested) as UTC."""
    if isinstance(doc, dict):
        return {k: fix_dates(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [fix_dates(v) for v in doc]
    return docstore.aware(doc)


def step_check(visit: Doc, action: str) -> Check:
    """Outbox check: the change happened once this visit's step was won by ``action``
    (the visit document itself may still be repaired by ``reconcile``)."""
    return Check("visit_steps", {"_id": f"{visit['_id']}:{rules.STEP_OF.get(visit['status'], 0)}",
                                 "action": action})


def rm_id(tenant_id: str, customer_id: str) -> str:
    return f"{tenant_id}:{customer_id}"


class Store:
    """The visits database: typed collections and the queries on them."""

    fix_dates = staticmethod(fix_dates)
    step_check = staticmethod(step_check)

    def __init__(self, db: Database[Doc], blobs: BlobStore | None = None,
                 report_blobs: BlobStore | None = None):
        self.db = db
        self.visits: Coll = db["visits"]
        self.visit_steps: Coll = db["visit_steps"]
        self.idempotency: Coll = db["idempotency"]
        self.customers_rm: Coll = db["customers_rm"]
        self.settings_rows: Coll = db["settings"]
        self.routes: Coll = db["routes"]
        self.checkin_log: Coll = db["checkin_log"]
        self.employee_last_check_in: Coll = db["employee_last_check_in"]
        self.open_visits: Coll = db["open_visits"]
        self.open_visits_state: Coll = db[OPEN_STATE]
        self.report_emp_history: Coll = db["report_emp_history"]
        self.report_departments: Coll = db["report_departments"]
        self.report_customers: Coll = db["report_customers"]
        self.report_activity: Coll = db["report_activity"]
        self.report_exports: Coll = db["report_exports"]
        self.report_settings: Coll = db["report_settings"]
        self.report_months: Coll = db[ROLLUP_MONTHS]
        self.report_locks: Coll = db[ROLLUP_LOCKS]
        self.report_rollup_state: Coll = db[ROLLUP_STATE]
        self._blobs = blobs
        self._report_blobs = report_blobs

    # -- blobs (photos, export zips) ------------------------------------------------------------
    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            self._blobs = blob_store(self.db, "blobs")
        return self._blobs

    @property
    def report_blobs(self) -> BlobStore:
        if self._report_blobs is None:
            self._report_blobs = blob_store(self.db, "report_blobs")
        return self._report_blobs

    def ensure_indexes(self) -> None:
        """Every index of this service (month buckets get theirs on first use, through
        ``crmkit.docstore.month_bucket``)."""
        for keys in (
            [("tenant_id", ASCENDING), ("month", ASCENDING), ("employee_id", ASCENDING)],
            [("tenant_id", ASCENDING), ("day", ASCENDING)],
            [("tenant_id", ASCENDING), ("owner_id", ASCENDING)],
            [("tenant_id", ASCENDING), ("customer_id", ASCENDING)],
            [("tenant_id", ASCENDING), ("status", ASCENDING)],
            [("tenant_id", ASCENDING), ("employee_id", ASCENDING), ("status", ASCENDING)],
            [("status", ASCENDING)],
        ):
            self.visits.create_index(keys)
        self.idempotency.create_index(
            [("tenant_id", ASCENDING), ("visit_id", ASCENDING), ("action", ASCENDING), ("key", ASCENDING)],
            unique=True)
        self.customers_rm.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
        self.routes.create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])
        self.checkin_log.create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])
        # the reports' read models and exports
        self.report_emp_history.create_index([("tenant_id", ASCENDING), ("employee_id", ASCENDING)])
        self.report_departments.create_index([("tenant_id", ASCENDING)])
        self.report_customers.create_index([("tenant_id", ASCENDING)])
        self.report_activity.create_index([("tenant_id", ASCENDING), ("day", ASCENDING)])
        self.report_exports.create_index([("tenant_id", ASCENDING), ("requested_by", ASCENDING)])

    @staticmethod
    def replace(coll: Coll, doc: Doc) -> None:
        """replace_one(upsert) that survives FerretDB's non-atomic upsert (duplicate key)."""
        try:
            coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        except DuplicateKeyError:
            coll.replace_one({"_id": doc["_id"]}, doc)

    # -- settings --------------------------------------------------------------------------
    def settings(self, tenant_id: str) -> Doc:
        """The tenant's settings in force: defaults, the tenant's values, photo limits clamped
        to the operator's bounds."""
        row = self.settings_rows.find_one({"_id": tenant_id}) or {}
        return rules.merge_settings(row.get("values"), PHOTO_BOUNDS)

    def save_settings(self, tenant_id: str, changes: Any) -> Doc:
        """Validate ``changes`` (against the operator's bounds and the settings in force) and keep them."""
        clean = rules.validate_settings(changes, PHOTO_BOUNDS, self.settings(tenant_id))
        current: Doc = (self.settings_rows.find_one({"_id": tenant_id}) or {}).get("values") or {}
        current.update(clean)
        self.replace(self.settings_rows, {"_id": tenant_id, "values": current})
        return rules.merge_settings(current, PHOTO_BOUNDS)

    def tenants_with_settings(self) -> list[Doc]:
        return list(self.settings_rows.find({}))

    # -- visits ------------------------------------------------------------------------------
    def load_visit(self, tenant_id: str, visit_id: str) -> Doc:
        doc = self.visits.find_one({"_id": str(visit_id)})
        if doc is None or doc.get("tenant_id") != tenant_id:
            raise NotFound("visit.not_found", "no such visit", {"visit_id": visit_id})
        return self.reconcile(fix_dates(doc))

    def reconcile(self, doc: Doc) -> Doc:
        """Apply a won step whose visit update was lost (a crash between the two writes)."""
        for _ in range(5):
            step = rules.STEP_OF.get(doc["status"])
            if step is None:
                return doc
            row = self.visit_steps.find_one({"_id": f"{doc['_id']}:{step}"})
            if row is None:
                return doc
            changes = fix_dates(row["set"])
            self.visits.update_one({"_id": doc["_id"]}, {"$set": changes})
            self.touch(doc["_id"])
            doc.update(changes)
        return doc

    def claim_step(self, visit: Doc, action: str, changes: Doc, at: datetime) -> Doc:
        """Linearise ``action`` on ``visit``: insert its step; losing answers 409 with the
        status the winner set. Returns the full ``$set`` (status included)."""
        new_status = rules.next_status(visit["status"], action)
        step = rules.step_of(visit["status"])
        full = dict(changes)
        full["status"] = new_status
        full["updated_at"] = at
        _id = f"{visit['_id']}:{step}"
        if not docstore.insert_once(self.visit_steps, {
                "_id": _id, "visit_id": visit["_id"], "tenant_id": visit["tenant_id"], "action": action,
                "from": visit["status"], "set": full, "at": at}):
            row = self.visit_steps.find_one({"_id": _id}) or {}
            status = (row.get("set") or {}).get("status", visit["status"])
            raise Conflict("visit.illegal_transition", f"cannot {action} a visit that is {status}",
                           {"status": status, "action": action})
        return full

    def apply_step(self, visit_id: str, full: Doc, visit: Doc | None = None) -> None:
        """Write a won step's changes; ``visit``: the document the caller holds (its tenant
        and day spare the rollup a read)."""
        self.visits.update_one({"_id": visit_id}, {"$set": full})
        self.touch(visit_id, visit)

    def touch(self, visit_id: str, visit: Doc | None = None) -> None:
        """Keep the reports' rollup in step with a visit just written (see ``rollup``)."""
        from visits import rollup  # rollup builds on this module
        rollup.touch(self, visit_id, visit)

    def last_check_in(self, tenant_id: str, employee_id: str) -> Doc | None:
        row = self.employee_last_check_in.find_one({"_id": f"{tenant_id}:{employee_id}"})
        return fix_dates(row) if row else None

    def save_last_check_in(self, tenant_id: str, employee_id: str, visit_id: str, at: datetime,
                           point: Doc) -> None:
        self.replace(self.employee_last_check_in, {"_id": f"{tenant_id}:{employee_id}", "visit_id": visit_id,
                                                   "at": at, "point": {"lat": point["lat"], "lng": point["lng"]}})

    # -- open visits (what the expiry sweep reads) ---------------------------------------------
    def mark_open(self, visit: Doc) -> None:
        """Record a visit the expiry sweep must look at once its planned day has ended. Written
        before the visit itself, so no open visit lacks one; a marker whose visit was never
        written, or was settled, is removed by the sweep. Keyed by the visit's ``_id``, so the
        collection holds only visits not yet past their day (the sweep never scans ``visits``)."""
        docstore.insert_once(self.open_visits, {"_id": visit["_id"], "tenant_id": visit["tenant_id"],
                                                "day": visit["day"]})

    def unmark_open(self, visit_id: str) -> None:
        self.open_visits.delete_one({"_id": visit_id})

    def open_marks(self) -> list[Doc]:
        return list(self.open_visits.find({}))

    def move_open_mark(self, visit_id: str, day: str) -> None:
        self.open_visits.update_one({"_id": visit_id}, {"$set": {"day": day}})

    def build_open_markers(self) -> int:
        """Once per database: markers for open visits written before markers existed."""
        if self.open_visits_state.find_one({"_id": "built"}) is not None:
            return 0
        n = 0
        for v in self.visits.find({"status": {"$in": list(rules.OPEN_FOR_EXPIRY)}}, {"tenant_id": 1, "day": 1}):
            if v.get("day") and v.get("tenant_id"):
                self.mark_open(v)
                n += 1
        docstore.insert_once(self.open_visits_state, {"_id": "built", "at": datetime.now(UTC), "visits": n})
        return n

    # -- idempotency -------------------------------------------------------------------------
    def idempotency_of(self, sleep: Callable[[float], None]) -> docstore.Idempotency:
        """Keys ``<tenant>:<visit>:<action>:<key>`` (plus the four fields, unique together)."""
        return docstore.Idempotency(self.idempotency, wait=IDEM_WAIT_S, sleep=sleep)

    # -- calendar buckets --------------------------------------------------------------------
    # FerretDB 1.x (SQLite) pushes down only ``_id`` filters: any other query reads the whole
    # collection. Calendars and day lists therefore read a small per-month collection
    # ``calendar_YYYY_MM`` ({_id: visit_id, tenant_id, employee_id, owner_id, day}) instead of
    # every visit of every month.
    def cal_coll(self, month: str) -> Coll:
        return docstore.month_bucket(self.db, "calendar", month, CALENDAR_INDEXES)

    def cal_add(self, visit: Doc) -> None:
        docstore.insert_once(self.cal_coll(visit["month"]), {
            "_id": visit["_id"], "tenant_id": visit["tenant_id"], "employee_id": visit["employee_id"],
            "owner_id": visit.get("owner_id"), "day": visit["day"], "customer_id": visit["customer_id"]})

    def cal_set(self, visit: Doc, fields: Doc) -> None:
        self.cal_coll(visit["month"]).update_one({"_id": visit["_id"]}, {"$set": fields})

    def set_owner_of_customer(self, tenant_id: str, customer_id: str, owner_id: str | None) -> None:
        """The transfer rule: a customer's visits follow its current owner."""
        rows = list(self.visits.find({"tenant_id": tenant_id, "customer_id": customer_id}, {"month": 1}))
        self.visits.update_many({"tenant_id": tenant_id, "customer_id": customer_id},
                                {"$set": {"owner_id": owner_id}})
        for r in rows:
            if r.get("month"):
                self.cal_set(r, {"owner_id": owner_id})

    # -- the reports' rollup ---------------------------------------------------------------------
    def report_days(self, day: str) -> Coll:
        """The month's collection of per tenant-day rollup documents (read by ``_id``)."""
        return docstore.month_bucket(self.db, ROLLUP_DAYS, day[:7])

    # -- customers read model -----------------------------------------------------------------
    def get_customer_rm(self, tenant_id: str, customer_id: str) -> Doc | None:
        return self.customers_rm.find_one({"_id": rm_id(tenant_id, customer_id)})

    def upsert_customer_rm(self, tenant_id: str, customer_id: str, fields: Doc) -> None:
        """Upsert, again when a concurrent first insert won (FerretDB upserts are not atomic)."""
        docstore.upsert(self.customers_rm, {"_id": rm_id(tenant_id, customer_id)},
                        {"$set": {"tenant_id": tenant_id, "customer_id": customer_id, **fields}})

    # -- uploads -----------------------------------------------------------------------------
    def purge_legacy_uploads(self, now: datetime) -> int:
        """Parts left in the former ``photo_uploads`` collection."""
        return parts.purge_stale(self.db, LEGACY_UPLOADS, now)


class VisitsStore(Dependency[Store]):
    """This service's persistence (visits, reports, photo and export blobs); indexes are
    ensured at start."""

    def setup(self) -> None:
        self.store = Store(crmdb.service_db("visits"))

    def start(self) -> None:
        self.store.ensure_indexes()
        self.store.blobs  # noqa: B018 - the blob stores' own indexes, at start
        self.store.report_blobs  # noqa: B018

    def get_dependency(self, worker_ctx: Any) -> Store:
        return self.store
