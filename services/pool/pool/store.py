"""Persistence of the pool service (pymongo on FerretDB or MongoDB).

Collections (all rows carry ``tenant_id``; every query filters by it):
- ``rules``      one document per tenant: the validated rules
- ``customers``  the read model kept from customers events (``_id`` = customer id)
- ``holds``      one row per (owner, customer) held: a customer takes one slot only
- ``slots``      capacity slots, ``_id = tenant:owner:n``; the unique ``_id`` insert
                 linearises capacity (no counter is ever updated)
- ``claim_slots`` per-person daily claim slots, ``_id = tenant:user:day:n``
- ``moves``      every ownership change seen, ``_id = customer:seq`` (the audit log and
                 the once-only gate for pool.claimed/released/reclaimed events)
- ``warnings``   reclaim warnings sent, ``_id = customer:epoch:reclaim_on:lead``
- ``activity``   entries and claims per person and day (targets' actuals)
- ``claim_requests``
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.clock import parse_iso
from crmkit.errors import Unavailable
from pool import rules as R


def ensure_indexes(db: Database) -> None:
    db.customers.create_index([("tenant_id", ASCENDING), ("private", ASCENDING)])
    db.customers.create_index([("private", ASCENDING)])
    db.slots.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
    db.claim_slots.create_index([("tenant_id", ASCENDING), ("user_id", ASCENDING), ("day", ASCENDING)])
    db.moves.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
    db.activity.create_index([("tenant_id", ASCENDING), ("user_id", ASCENDING), ("day", ASCENDING)])
    db.claim_requests.create_index([("tenant_id", ASCENDING), ("status", ASCENDING)])


# ------------------------------------------------------------------------- rules

def load_rules(db: Database, tenant_id: str) -> dict[str, Any]:
    row = db.rules.find_one({"_id": tenant_id})
    if row is None:
        return R.validate_rules({})
    return R.validate_rules(row["rules"])


def save_rules(db: Database, tenant_id: str, rules: dict[str, Any], by: str, at: datetime) -> None:
    db.rules.replace_one({"_id": tenant_id}, {"_id": tenant_id, "rules": rules, "updated_by": by,
                                              "updated_at": at}, upsert=True)


# ------------------------------------------------------------------- read model

LOCK_LEASE = timedelta(seconds=30)


@contextmanager
def row_lock(db: Database, customer_id: str, timeout: float = 15.0) -> Iterator[None]:
    """Serialise read-modify-writes of one read-model row. FerretDB applies an update by
    reading, changing and writing back the whole document, so two handlers setting
    different fields of one row at once can lose one of the changes; the lock is an
    insert under the unique ``_id`` (a stale lock of a dead worker expires)."""
    lid = f"customer:{customer_id}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.locks.insert_one({"_id": lid, "at": datetime.now(UTC)})
            break
        except DuplicateKeyError:
            row = db.locks.find_one({"_id": lid})
            if row is not None and datetime.now(UTC) - _aware(row["at"]) > LOCK_LEASE:
                db.locks.delete_one({"_id": lid, "at": row["at"]})
                continue
            if time.monotonic() > deadline:
                raise Unavailable("pool.busy", "the customer is being updated; try again",
                                  {"customer_id": customer_id}) from None
            time.sleep(0.005)
    try:
        yield
    finally:
        db.locks.delete_one({"_id": lid})


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def get_customer(db: Database, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    row = db.customers.find_one({"_id": str(customer_id)})
    if row is None or row.get("tenant_id") != tenant_id or row.get("deleted"):
        return None
    return row


def upsert_customer(db: Database, customer_id: str, tenant_id: str, fields: dict[str, Any],
                    on_insert: dict[str, Any] | None = None) -> None:
    """``$set`` only the fields this fact knows (so facts arriving in any order never undo
    each other); ``on_insert`` defaults apply only when the row is new."""
    update: dict[str, Any] = {"$set": {**fields, "tenant_id": tenant_id}}
    extra = {k: v for k, v in (on_insert or {}).items() if k not in fields}
    if extra:
        update["$setOnInsert"] = extra
    for _ in range(3):
        try:
            db.customers.update_one({"_id": customer_id}, update, upsert=True)
            return
        except DuplicateKeyError:  # two upserts raced to create the row: the next one updates
            continue


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
    if len(text) == 10:
        return date.fromisoformat(text)
    return R.local_day(parse_iso(text))


def clocks_of(row: dict[str, Any]) -> R.Clocks | None:
    if not row.get("private") or not row.get("entered_at"):
        return None
    return R.Clocks(entered_at=to_dt(row["entered_at"]),  # type: ignore[arg-type]
                    last_contact_at=to_dt(row.get("last_contact_at")),
                    last_visit_at=to_dt(row.get("last_visit_at")),
                    last_deal_at=to_dt(row.get("last_deal_at")))


def reclaim_fields(row: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    clocks = clocks_of(row)
    nxt = R.next_reclaim(clocks, rules) if clocks else None
    return {"reclaim_on": nxt[0].isoformat() if nxt else None, "reclaim_rule": nxt[1] if nxt else None}


def refresh_reclaim(db: Database, tenant_id: str, customer_id: str, rules: dict[str, Any] | None = None) -> None:
    row = db.customers.find_one({"_id": customer_id})
    if row is None:
        return
    rules = rules or load_rules(db, tenant_id)
    fields = reclaim_fields(row, rules)
    if (row.get("reclaim_on"), row.get("reclaim_rule")) != (fields["reclaim_on"], fields["reclaim_rule"]):
        db.customers.update_one({"_id": customer_id}, {"$set": fields})


def refresh_tenant(db: Database, tenant_id: str, rules: dict[str, Any]) -> int:
    n = 0
    for row in db.customers.find({"tenant_id": tenant_id, "private": True}, {"_id": 1}):
        with row_lock(db, row["_id"]):
            refresh_reclaim(db, tenant_id, row["_id"], rules)
        n += 1
    return n


# ------------------------------------------------------------------------ slots

def held(db: Database, tenant_id: str, owner_id: str) -> list[dict[str, Any]]:
    return list(db.slots.find({"tenant_id": tenant_id, "owner_id": owner_id}))


def take_slot(db: Database, tenant_id: str, owner_id: str, customer_id: str, capacity: int,
              at: datetime, overflow: bool = False) -> tuple[str, bool]:
    """Take one of ``capacity`` slots for ``customer_id``; the unique ``_id`` insert is the
    linearisation point. A ``holds`` row (unique per owner and customer) makes a customer
    take one slot however many paths report it. ``overflow`` (a change that already
    happened elsewhere) takes a slot past the capacity so that the count stays true.
    Returns (slot id, whether this call took it)."""
    hold_id = f"{tenant_id}:{owner_id}:{customer_id}"
    try:
        db.holds.insert_one({"_id": hold_id, "tenant_id": tenant_id, "owner_id": owner_id,
                             "customer_id": customer_id, "at": at})
    except DuplicateKeyError:
        row = db.slots.find_one({"tenant_id": tenant_id, "owner_id": owner_id, "customer_id": customer_id})
        return (str(row["_id"]) if row else ""), False
    rows = held(db, tenant_id, owner_id)
    used = {int(r["n"]) for r in rows}
    free = [n for n in range(1, capacity + 1) if n not in used]
    random.shuffle(free)
    if overflow:
        free += list(range(capacity + 1, capacity + len(rows) + 10_000))
    for n in free:
        sid = f"{tenant_id}:{owner_id}:{n}"
        try:
            db.slots.insert_one({"_id": sid, "tenant_id": tenant_id, "owner_id": owner_id, "n": n,
                                 "customer_id": customer_id, "at": at})
            return sid, True
        except DuplicateKeyError:
            continue
    db.holds.delete_one({"_id": hold_id})
    count = db.slots.count_documents({"tenant_id": tenant_id, "owner_id": owner_id})
    R.check_capacity(count, capacity)
    R.check_capacity(capacity, capacity)  # every slot was taken while we looked
    raise AssertionError("unreachable")


def free_slot(db: Database, tenant_id: str, owner_id: str | None, customer_id: str) -> None:
    if owner_id:
        db.slots.delete_many({"tenant_id": tenant_id, "owner_id": owner_id, "customer_id": customer_id})
        db.holds.delete_one({"_id": f"{tenant_id}:{owner_id}:{customer_id}"})


def take_claim_slot(db: Database, tenant_id: str, user_id: str, day: str, customer_id: str, limit: int,
                    at: datetime) -> str:
    prefix = f"{tenant_id}:{user_id}:{day}:"
    rows = list(db.claim_slots.find({"tenant_id": tenant_id, "user_id": user_id, "day": day}))
    used = {int(r["n"]) for r in rows}
    for n in range(1, limit + 1):
        if n in used:
            continue
        try:
            db.claim_slots.insert_one({"_id": f"{prefix}{n}", "tenant_id": tenant_id, "user_id": user_id,
                                       "day": day, "n": n, "customer_id": customer_id, "at": at})
            return f"{prefix}{n}"
        except DuplicateKeyError:
            continue
    R.check_daily_limit(limit, limit)
    raise AssertionError("unreachable")


def free_claim_slot(db: Database, slot_id: str) -> None:
    db.claim_slots.delete_one({"_id": slot_id})


def claimed_today(db: Database, tenant_id: str, user_id: str, day: str) -> int:
    return db.claim_slots.count_documents({"tenant_id": tenant_id, "user_id": user_id, "day": day})


def seed_holdings(db: Database, tenant_id: str, owner_id: str, count: int, at: datetime) -> int:
    """Test support: ``count`` placeholder holdings in one bulk write."""
    ids = [f"seed-{i}" for i in range(1, count + 1)]
    db.holds.insert_many([{"_id": f"{tenant_id}:{owner_id}:{c}", "tenant_id": tenant_id, "owner_id": owner_id,
                           "customer_id": c, "at": at} for c in ids])
    db.slots.insert_many([{"_id": f"{tenant_id}:{owner_id}:{i}", "tenant_id": tenant_id, "owner_id": owner_id,
                           "n": i, "customer_id": c, "at": at} for i, c in enumerate(ids, start=1)])
    return len(held(db, tenant_id, owner_id))
