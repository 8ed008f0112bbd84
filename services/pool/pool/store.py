"""Persistence of the pool service (pymongo on FerretDB or MongoDB).

Collections (all rows carry ``tenant_id``; every query filters by it):
- ``rules``      one document per tenant: the validated rules
- ``customers``  the read model kept from customers events (``_id`` = customer id)
- ``holds``      one row per (owner, customer) held: a customer takes one slot only
- ``slots``      capacity slots, ``_id = tenant:owner:n``; the unique ``_id`` insert
                 linearises capacity (no counter is ever updated)
- ``claim_slots`` per-person daily claim slots, ``_id = tenant:user:day:n``
- ``moves``      every ownership change seen, ``_id = customer:seq`` (the audit log and
                 the once-only gate for pool.claimed/released/reclaimed events; also the
                 targets' actuals: entries and claims per person and day)
- ``warnings``   reclaim warnings sent, ``_id = customer:epoch:reclaim_on:lead``
- ``claim_requests``
- ``unwritten``  ``_id`` = customer id: an entry whose ``customer.created`` has not come yet
                 (inserted by ``enter`` before its slots, deleted by the event or the undo); one
                 left after a while is asked about (``pool.orphans``)
"""
from __future__ import annotations

import logging
import os
import random
import time
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from crmkit import docstore
from crmkit.clock import parse_iso
from crmkit.db import service_db
from crmkit.errors import BusinessRule, Unavailable
from crmkit.nameko.dependency import Dependency
from pool import rules as R

log = logging.getLogger(__name__)


class Store:
    """The pool's database: one typed attribute per collection (see the module doc); the
    queries are the functions of this module, which take the store."""

    def __init__(self, db: Database[Any]):
        self.db = db
        self.name = db.name
        self.rules: Collection[Any] = db["rules"]
        self.customers: Collection[Any] = db["customers"]
        self.holds: Collection[Any] = db["holds"]
        self.slots: Collection[Any] = db["slots"]
        self.claim_slots: Collection[Any] = db["claim_slots"]
        self.hints: Collection[Any] = db["hints"]
        self.locks: Collection[Any] = db["locks"]
        self.moves: Collection[Any] = db["moves"]
        self.warnings: Collection[Any] = db["warnings"]
        self.claim_requests: Collection[Any] = db["claim_requests"]
        self.claim_request_decisions: Collection[Any] = db["claim_request_decisions"]
        self.approvals: Collection[Any] = db["approvals"]
        self.outbox: Collection[Any] = db["outbox"]  # the kit's (crmkit.outbox); see commit_events
        self.unwritten: Collection[Any] = db["unwritten"]  # entries whose customer.created has not come

    def ensure_indexes(self) -> None:
        """The only place the pool creates indexes (the ``_id`` keys need none)."""
        read_model = self.customers  # (a ``self.customers`` call reads like the customers service's proxy)
        read_model.create_index([("tenant_id", ASCENDING), ("private", ASCENDING)])
        read_model.create_index([("private", ASCENDING)])
        self.slots.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
        self.claim_slots.create_index([("tenant_id", ASCENDING), ("user_id", ASCENDING), ("day", ASCENDING)])
        self.moves.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
        self.moves.create_index([("tenant_id", ASCENDING), ("to_owner_id", ASCENDING), ("day", ASCENDING)])
        self.claim_requests.create_index([("tenant_id", ASCENDING), ("status", ASCENDING)])
        self.claim_requests.create_index([("tenant_id", ASCENDING), ("requester_id", ASCENDING)])  # a person's own

    def commit_events(self, event_ids: list[str]) -> None:
        """Flip staged outbox rows to pending in ONE round trip (one ``update`` command, each
        row addressed by its ``_id``); what ``crmkit.outbox.Outbox.commit`` does row by row."""
        if event_ids:
            self.outbox.bulk_write([UpdateOne({"_id": e}, {"$set": {"status": "pending"}}) for e in event_ids],
                                   ordered=False)


def ensure_indexes(db: Database[Any]) -> None:
    """For the benchmarks and the index test, which hold a bare database."""
    Store(db).ensure_indexes()


class PoolStore(Dependency[Store]):
    """The pool's persistence: the database in ``setup``, the indexes at start."""

    def setup(self) -> None:
        self.store = Store(service_db("pool"))

    def start(self) -> None:
        self.store.ensure_indexes()

    def get_dependency(self, worker_ctx: Any) -> Store:
        return self.store


# ------------------------------------------------------------------------- rules

# Rules are read on every claim; a short in-process cache saves that round trip. A
# save in this process replaces the cached copy at once; other replicas of the pool
# see a change within RULES_TTL seconds. Exactness-sensitive readers (the sweep, the
# preview, a rules update) pass ``fresh=True``.
RULES_TTL = float(os.environ.get("POOL_RULES_TTL", "5"))
_rules_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
#: bumped by every save in this process: a load that read the database before a save must
#: not put its older answer into the cache after the save did (greenlets interleave)
_rules_generation: dict[tuple[str, str], int] = {}


def load_rules(db: Store, tenant_id: str, *, fresh: bool = False) -> dict[str, Any]:
    """The tenant's validated rules. Treat the result as read-only (it may be shared)."""
    key = (db.name, tenant_id)
    hit = _rules_cache.get(key)
    if hit is not None and not fresh and time.monotonic() - hit[0] < RULES_TTL:
        return hit[1]
    generation = _rules_generation.get(key, 0)
    row = db.rules.find_one({"_id": tenant_id})
    rules = R.validate_rules({} if row is None else row["rules"])
    if _rules_generation.get(key, 0) == generation:
        _rules_cache[key] = (time.monotonic(), rules)
    return rules


def save_rules(db: Store, tenant_id: str, rules: dict[str, Any], by: str, at: datetime) -> None:
    db.rules.replace_one({"_id": tenant_id}, {"_id": tenant_id, "rules": rules, "updated_by": by,
                                              "updated_at": at}, upsert=True)
    key = (db.name, tenant_id)
    _rules_generation[key] = _rules_generation.get(key, 0) + 1
    _rules_cache[key] = (time.monotonic(), R.validate_rules(rules))


# ------------------------------------------------------------------- read model

LOCK_LEASE = timedelta(seconds=30)


def row_lock(db: Store, customer_id: str, timeout: float = 15.0) -> AbstractContextManager[None]:
    """Serialise read-modify-writes of one read-model row. FerretDB applies an update by
    reading, changing and writing back the whole document, so two handlers setting
    different fields of one row at once can lose one of the changes; the lock is an
    insert under the unique ``_id`` (``crmkit.docstore.lease_lock``: a stale lock of a dead
    worker expires)."""
    return docstore.lease_lock(db.locks, f"customer:{customer_id}", lease=LOCK_LEASE, wait=timeout,
                               busy=lambda: Unavailable("pool.busy", "the customer is being updated; try again",
                                                        {"customer_id": customer_id}))


def note_unwritten(db: Store, tenant_id: str, owner_id: str, customer_ids: list[str], at: datetime,
                   import_id: str | None = None) -> None:
    """Entries about to be made whose customers are not written yet (a retried entry finds its
    row there already: kept)."""
    rows = [{"_id": c, "tenant_id": tenant_id, "owner_id": owner_id, "at": at,
             **({"import_id": import_id} if import_id else {})} for c in dict.fromkeys(customer_ids)]
    for i in range(0, len(rows), 500):
        try:
            db.unwritten.insert_many(rows[i:i + 500], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise


def written(db: Store, customer_ids: list[str]) -> None:
    """These entries' customers exist (``customer.created`` came, or customers said so)."""
    ids = list(dict.fromkeys(customer_ids))
    for i in range(0, len(ids), 500):
        db.unwritten.delete_many({"_id": {"$in": ids[i:i + 500]}})


def unwritten_before(db: Store, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Entries made before ``before`` whose customer was not seen written, at most ``limit``."""
    return list(db.unwritten.find({"at": {"$lt": before}}).limit(limit))


def get_customer(db: Store, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    row = db.customers.find_one({"_id": str(customer_id)})
    if row is None or row.get("tenant_id") != tenant_id or row.get("deleted"):
        return None
    return dict(row)


def upsert_customer(db: Store, customer_id: str, tenant_id: str, fields: dict[str, Any],
                    on_insert: dict[str, Any] | None = None) -> None:
    """``$set`` only the fields this fact knows (so facts arriving in any order never undo
    each other); ``on_insert`` defaults apply only when the row is new."""
    update: dict[str, Any] = {"$set": {**fields, "tenant_id": tenant_id}}
    extra = {k: v for k, v in (on_insert or {}).items() if k not in fields}
    if extra:
        update["$setOnInsert"] = extra
    docstore.upsert(db.customers, {"_id": customer_id}, update)  # a create race: the next attempt updates


def to_dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return R.day_start(value)
    return parse_iso(str(value))


def to_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return R.local_day(value)
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return R.local_day(parse_iso(text))
    except ValueError:  # a malformed date from an event counts as no date (never a failing claim)
        return None


def clocks_of(row: dict[str, Any]) -> R.Clocks | None:
    if not row.get("private") or not row.get("entered_at"):
        return None
    return R.Clocks(entered_at=to_dt(row["entered_at"]),  # type: ignore[arg-type]
                    last_contact_at=to_dt(row.get("last_contact_at")),
                    last_visit_at=to_dt(row.get("last_visit_at")),
                    last_deal_at=to_dt(row.get("last_deal_at")))


# A claim request approved with a company-name mismatch obliges its requester to correct
# the name by ``name_fix_by``; the obligation lives on the read-model row (``name_fix_*``)
# and is cleared by a correction that happened before the deadline or by the customer
# leaving the requester. While it is pending, the row's reclaim day is at the latest the
# day after the deadline (rule ``name_not_corrected``): the record is no longer protected.
NAME_FIX_FIELDS = ("name_fix_by", "name_fix_owner", "name_fix_key", "name_fix_name", "name_fix_request")


def name_matches(row: dict[str, Any], key: str | None, name: str | None) -> bool:
    """Whether the row's company name is the requested one: by name key (customers'
    ``company_key``, carried by customer.created/updated) when both are known, else by name."""
    if key and row.get("name_key"):
        return bool(row["name_key"] == key)
    return bool(name) and (row.get("name") or "").strip() == (name or "").strip()


def name_fix_pending_on(row: dict[str, Any]) -> date | None:
    """The day an uncorrected name makes the row reclaimable, if that obligation applies."""
    by = to_dt(row.get("name_fix_by"))
    if by is None or not row.get("owner_id") or row.get("owner_id") != row.get("name_fix_owner"):
        return None
    return R.name_fix_overdue_on(by)


def next_reclaim_of(row: dict[str, Any], rules: dict[str, Any]) -> tuple[date, str] | None:
    clocks = clocks_of(row)
    return R.next_reclaim(clocks, rules, name_fix_pending_on(row)) if clocks else None


def reclaim_fields(row: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    nxt = next_reclaim_of(row, rules)
    return {"reclaim_on": nxt[0].isoformat() if nxt else None, "reclaim_rule": nxt[1] if nxt else None}


def refresh_reclaim(db: Store, tenant_id: str, customer_id: str, rules: dict[str, Any] | None = None) -> None:
    row = db.customers.find_one({"_id": customer_id})
    if row is None:
        return
    rules = rules or load_rules(db, tenant_id)
    fields = reclaim_fields(row, rules)
    if (row.get("reclaim_on"), row.get("reclaim_rule")) != (fields["reclaim_on"], fields["reclaim_rule"]):
        db.customers.update_one({"_id": customer_id}, {"$set": fields})


CLOCK_FIELDS = {"_id": 1, "private": 1, "entered_at": 1, "last_contact_at": 1, "last_visit_at": 1,
                "last_deal_at": 1, "reclaim_on": 1, "reclaim_rule": 1, "owner_id": 1, "name_fix_by": 1,
                "name_fix_owner": 1}


def refresh_tenant(db: Store, tenant_id: str, rules: dict[str, Any]) -> int:
    """Recompute every private row's reclaim date under new rules: one pass reading the
    clocks; only a row whose date changes is locked, re-read and written."""
    n = 0
    for row in db.customers.find({"tenant_id": tenant_id, "private": True}, CLOCK_FIELDS).batch_size(2000):
        n += 1
        fields = reclaim_fields(row, rules)
        if (row.get("reclaim_on"), row.get("reclaim_rule")) == (fields["reclaim_on"], fields["reclaim_rule"]):
            continue
        with row_lock(db, row["_id"]):
            refresh_reclaim(db, tenant_id, row["_id"], rules)
    return n


# ------------------------------------------------------------------------ slots
#
# Hot paths address rows by their string ``_id`` only: on FerretDB/SQLite that is the
# one filter pushed down to storage, every other filter reads the whole collection.
#
# Finding a free slot number without reading all of an owner's slots: a per-owner
# *hint* (``hints``, ``_id = tenant:owner``) lists the slot numbers in use and today's
# claim-slot numbers. It is only a hint — written after the fact, and FerretDB's
# read-modify-write updates can lose a concurrent change — so it is never trusted to
# grant or refuse anything: the unique ``_id`` insert of the slot decides who gets a
# number, and a refusal is made only after the real rows were read (a scan, on the
# rare "full" path). A hint that misses used numbers costs a few failed inserts; one
# that lists freed numbers makes the claim fall back to the rows, which rewrites it.

PROBES = 6  # failed inserts on hinted numbers before reading the real rows


def held(db: Store, tenant_id: str, owner_id: str) -> list[dict[str, Any]]:
    return list(db.slots.find({"tenant_id": tenant_id, "owner_id": owner_id}, {"n": 1, "customer_id": 1}))


def hint_id(tenant_id: str, owner_id: str) -> str:
    return f"{tenant_id}:{owner_id}"


#: the hint each write of this process got back (``find_one_and_update``): a claim reads it
#: from here instead of the database (the read folded into the previous write). A stale copy
#: costs what a stale hint in the database costs -- a failed insert or the rows read --, never
#: a wrong grant or refusal (the hint decides nothing).
HINT_TTL = float(os.environ.get("POOL_HINT_TTL", "5"))
_hint_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def read_hint(db: Store, tenant_id: str, owner_id: str, *, cached: bool = False) -> dict[str, Any]:
    hid = hint_id(tenant_id, owner_id)
    hit = _hint_cache.get((db.name, hid)) if cached else None
    if hit is not None and time.monotonic() - hit[0] < HINT_TTL:
        return dict(hit[1])
    return dict(db.hints.find_one({"_id": hid}) or {})


def update_hint(db: Store, tenant_id: str, owner_id: str, update: dict[str, Any]) -> None:
    """Best effort: a hint that was not written only costs a later claim a retry."""
    hid = hint_id(tenant_id, owner_id)
    for _ in range(2):
        try:
            after = db.hints.find_one_and_update({"_id": hid}, update, upsert=True,
                                                 return_document=ReturnDocument.AFTER)
            if after is not None:
                _hint_cache[(db.name, hid)] = (time.monotonic(), after)
            return
        except DuplicateKeyError:  # a concurrent upsert created it: update that one
            continue
        except PyMongoError as exc:
            log.warning("pool hint %s not updated: %s", hid, exc)
            return


def _ints(values: Any) -> set[int]:
    return {int(v) for v in values or () if isinstance(v, int) or str(v).isdigit()}


def _insert_slot(db: Store, tenant_id: str, owner_id: str, n: int, customer_id: str, at: datetime) -> str | None:
    sid = f"{tenant_id}:{owner_id}:{n}"
    try:
        db.slots.insert_one({"_id": sid, "tenant_id": tenant_id, "owner_id": owner_id, "n": n,
                             "customer_id": customer_id, "at": at})
        return sid
    except DuplicateKeyError:
        return None


def take_slot(db: Store, tenant_id: str, owner_id: str, customer_id: str, capacity: int,
              at: datetime, overflow: bool = False, hint: dict[str, Any] | None = None,
              record_hint: bool = True) -> tuple[str, bool]:
    """Take one of ``capacity`` slots for ``customer_id``; the unique ``_id`` insert is the
    linearisation point. A ``holds`` row (``_id = tenant:owner:customer``, unique) makes a
    customer take one slot however many paths report it. ``overflow`` (a change that
    already happened elsewhere) takes a slot past the capacity so that the count stays
    true. ``hint`` is the owner's hint if the caller read it already; with
    ``record_hint=False`` the caller adds the number to the hint itself (one write for
    several changes). Returns (slot id, whether this call took it)."""
    hold_id = f"{tenant_id}:{owner_id}:{customer_id}"
    if overflow:  # a path reporting a change: most often someone took the slot already
        row = db.holds.find_one({"_id": hold_id}, {"slot_id": 1})
        if row is not None:
            return str(row.get("slot_id") or ""), False
    if hint is None:
        hint = read_hint(db, tenant_id, owner_id)
    used = _ints(hint.get("slots"))
    tried: set[int] = set()
    sid: str | None = None
    free = [n for n in range(1, capacity + 1) if n not in used]
    random.shuffle(free)  # parallel claims of one owner should not all try the same number
    if overflow:
        free += [n for n in range(capacity + 1, capacity + len(used) + PROBES + 1) if n not in used]
    for n in free[:PROBES]:
        tried.add(n)
        sid = _insert_slot(db, tenant_id, owner_id, n, customer_id, at)
        if sid:
            break
    if sid is None:  # the hint was stale or says full: read the real rows before refusing
        rows = held(db, tenant_id, owner_id)
        used = {int(r["n"]) for r in rows}
        update_hint(db, tenant_id, owner_id, {"$set": {"slots": sorted(used)}})
        free = [n for n in range(1, capacity + 1) if n not in used and n not in tried]
        random.shuffle(free)
        if overflow:
            free += [n for n in range(capacity + 1, capacity + len(rows) + 10_000) if n not in used]
        for n in free:
            sid = _insert_slot(db, tenant_id, owner_id, n, customer_id, at)
            if sid:
                break
        if sid is None:
            row = db.holds.find_one({"_id": hold_id}, {"slot_id": 1})
            if row is not None:  # a parallel path of the same owner holds this customer already
                return str(row.get("slot_id") or ""), False
            R.check_capacity(len(rows), capacity)
            R.check_capacity(capacity, capacity)  # every slot was taken while we looked
            raise AssertionError("unreachable")
    n = int(sid.rsplit(":", 1)[1])
    try:
        db.holds.insert_one({"_id": hold_id, "tenant_id": tenant_id, "owner_id": owner_id,
                             "customer_id": customer_id, "slot_id": sid, "n": n, "at": at})
    except DuplicateKeyError:  # another path holds this customer for this owner already
        db.slots.delete_one({"_id": sid})
        row = db.holds.find_one({"_id": hold_id}, {"slot_id": 1}) or {}
        return str(row.get("slot_id") or ""), False
    if record_hint:
        update_hint(db, tenant_id, owner_id, {"$addToSet": {"slots": n}})
    return sid, True


def free_slot(db: Store, tenant_id: str, owner_id: str | None, customer_id: str) -> None:
    if not owner_id:
        return
    hold_id = f"{tenant_id}:{owner_id}:{customer_id}"
    row = db.holds.find_one({"_id": hold_id}, {"slot_id": 1, "n": 1})
    if row is None:
        return
    if row.get("slot_id"):
        db.slots.delete_one({"_id": row["slot_id"]})
    else:  # a hold written before holds named their slot
        db.slots.delete_many({"tenant_id": tenant_id, "owner_id": owner_id, "customer_id": customer_id})
    db.holds.delete_one({"_id": hold_id})
    if row.get("n") is not None:
        update_hint(db, tenant_id, owner_id, {"$pull": {"slots": int(row["n"])}})


def take_claim_slot(db: Store, tenant_id: str, user_id: str, day: str, customer_id: str, limit: int,
                    at: datetime, hint: dict[str, Any] | None = None) -> str:
    """One of ``limit`` claim slots of ``user_id`` on ``day`` (``_id = tenant:user:day:n``);
    the caller records the number in the hint (see :func:`hint_after_claim`)."""
    prefix = f"{tenant_id}:{user_id}:{day}:"
    if hint is None:
        hint = read_hint(db, tenant_id, user_id)
    used = _ints(hint.get("claims")) if hint.get("day") == day else set()
    tried: set[int] = set()

    def attempt(n: int) -> bool:
        tried.add(n)
        try:
            db.claim_slots.insert_one({"_id": f"{prefix}{n}", "tenant_id": tenant_id, "user_id": user_id,
                                       "day": day, "n": n, "customer_id": customer_id, "at": at})
            return True
        except DuplicateKeyError:
            return False
    for n in [n for n in range(1, limit + 1) if n not in used][:PROBES]:
        if attempt(n):
            return f"{prefix}{n}"
    # stale or full hint: the real rows of the day decide
    rows = list(db.claim_slots.find({"tenant_id": tenant_id, "user_id": user_id, "day": day}, {"n": 1}))
    used = {int(r["n"]) for r in rows}
    update_hint(db, tenant_id, user_id, {"$set": {"day": day, "claims": sorted(used)}})
    for n in range(1, limit + 1):
        if n not in used and n not in tried and attempt(n):
            return f"{prefix}{n}"
    R.check_daily_limit(max(len(rows), limit), limit)
    raise AssertionError("unreachable")


def hint_after_claim(db: Store, tenant_id: str, user_id: str, hint: dict[str, Any], claim_slot: str | None,
                     slot_id: str | None) -> None:
    """Record a claim's daily slot and capacity slot numbers in the owner's hint, in one write."""
    update: dict[str, Any] = {}
    if slot_id:
        update["$addToSet"] = {"slots": int(slot_id.rsplit(":", 1)[1])}
    if claim_slot:
        day, n = claim_slot.rsplit(":", 2)[1:]
        if hint.get("day") == day:
            update.setdefault("$addToSet", {})["claims"] = int(n)
        else:
            update["$set"] = {"day": day, "claims": [int(n)]}
    if update:
        update_hint(db, tenant_id, user_id, update)


def free_claim_slot(db: Store, tenant_id: str, user_id: str, slot_id: str) -> None:
    db.claim_slots.delete_one({"_id": slot_id})
    update_hint(db, tenant_id, user_id, {"$pull": {"claims": int(slot_id.rsplit(":", 1)[1])}})


def purge_claim_slots(db: Store, before: str) -> int:
    """Housekeeping: daily claim slots of days before ``before`` (YYYY-MM-DD) decide nothing."""
    old = [r["_id"] for r in db.claim_slots.find({"day": {"$lt": before}}, {"_id": 1})]
    for i in range(0, len(old), 500):  # FerretDB/SQLite refuses one statement deleting very many rows
        db.claim_slots.delete_many({"_id": {"$in": old[i:i + 500]}})
    return len(old)


def seed_holdings(db: Store, tenant_id: str, owner_id: str, count: int, at: datetime) -> int:
    """Test support: ``count`` placeholder holdings in one bulk write (the owner's hint is
    left as it was: a stale hint, as after a lost hint update)."""
    ids = [f"seed-{i}" for i in range(1, count + 1)]
    db.holds.insert_many([{"_id": f"{tenant_id}:{owner_id}:{c}", "tenant_id": tenant_id, "owner_id": owner_id,
                           "customer_id": c, "slot_id": f"{tenant_id}:{owner_id}:{i}", "n": i, "at": at}
                          for i, c in enumerate(ids, start=1)])
    db.slots.insert_many([{"_id": f"{tenant_id}:{owner_id}:{i}", "tenant_id": tenant_id, "owner_id": owner_id,
                           "n": i, "customer_id": c, "at": at} for i, c in enumerate(ids, start=1)])
    return len(held(db, tenant_id, owner_id))


def take_slots(db: Store, tenant_id: str, owner_id: str, customer_ids: list[str], capacity: int,
               at: datetime, extra: dict[str, Any] | None = None) -> list[str]:
    """All of ``customer_ids`` into free slots of ``owner_id`` (an import), or none: the
    unique ``_id`` inserts decide, as for one slot; numbers taken meanwhile by a parallel
    taker are tried again from the real rows; when not all fit, what this call inserted is
    deleted and the refusal names how many did not fit. Returns the slot ids."""
    extra = extra or {}
    want = list(customer_ids)
    mine: dict[str, str] = {}  # customer -> slot id
    for _ in range(8):
        rows = held(db, tenant_id, owner_id)
        used = {int(r["n"]) for r in rows}
        free = [n for n in range(1, capacity + 1) if n not in used]
        todo = [c for c in want if c not in mine]
        if len(free) < len(todo):
            _drop_slots(db, list(mine.values()))
            raise BusinessRule("pool.capacity_full", "the private pool is full",
                               {"held": len(rows) - len(mine), "capacity": capacity, "adding": len(want),
                                "refused": len(todo) - len(free)})
        batch = [{"_id": f"{tenant_id}:{owner_id}:{n}", "tenant_id": tenant_id, "owner_id": owner_id, "n": n,
                  "customer_id": c, "at": at, **extra} for n, c in zip(free, todo, strict=False)]
        failed: set[int] = set()
        for i in range(0, len(batch), 500):
            try:
                db.slots.insert_many(batch[i:i + 500], ordered=False)
            except BulkWriteError as exc:
                failed |= {i + int(e["index"]) for e in exc.details.get("writeErrors", [])}
        for j, d in enumerate(batch):
            if j not in failed:
                mine[d["customer_id"]] = d["_id"]
        if len(mine) == len(want):
            break
    else:
        _drop_slots(db, list(mine.values()))
        raise Unavailable("pool.busy", "the private pool is changing; try again", {"owner_id": owner_id})
    holds = [{"_id": f"{tenant_id}:{owner_id}:{c}", "tenant_id": tenant_id, "owner_id": owner_id, "customer_id": c,
              "slot_id": sid, "n": int(sid.rsplit(":", 1)[1]), "at": at, **extra} for c, sid in mine.items()]
    for i in range(0, len(holds), 500):
        db.holds.insert_many(holds[i:i + 500], ordered=False)
    update_hint(db, tenant_id, owner_id, {"$addToSet": {"slots": {"$each": sorted(
        int(s.rsplit(":", 1)[1]) for s in mine.values())}}})
    return list(mine.values())


def _drop_slots(db: Store, slot_ids: list[str]) -> None:
    for sid in slot_ids:
        db.slots.delete_one({"_id": sid})
