"""The customers service's persistence (pymongo): the ``Store`` — one typed attribute per
collection, the indexes, and the queries several use cases share — and its storage provider.

Duplicate keys are linearised by inserts under unique ``_id``s: ``name_keys`` holds
``"<tenant>|<name key>"`` and ``phone_keys`` ``"<tenant>|<number>"``, each pointing at
the customer that holds it. Whoever inserts a key first holds it; FerretDB's
conditional updates are not atomic, so no exclusivity here relies on them. The
customer document also carries ``name_key`` and ``phone_keys`` (indexed) so the
holder's own keys are known when they change.

This is the only module that reaches the database itself: the use-case modules take a
``Store`` and use its collections and methods (the worker kit stays for the call's context,
the clock, events and the outbox).
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crmkit.clock import iso
from crmkit.db import service_db
from crmkit.docstore import aware, insert_once
from crmkit.errors import Conflict, NotFound
from crmkit.nameko.dependency import Dependency
from customers.names import company_key
from customers.phones import phone_keys
from customers.rules import all_numbers

STALE_RESERVATION = timedelta(seconds=60)


class Store:
    """The customers service's collections (typed), its indexes and its shared queries."""

    def __init__(self, db: Database[Any]):
        self.db = db
        self.customers: Collection[Any] = db["customers"]
        self.name_keys: Collection[Any] = db["name_keys"]
        self.phone_keys: Collection[Any] = db["phone_keys"]
        self.share_rules: Collection[Any] = db["share_rules"]
        self.timeline: Collection[Any] = db["timeline"]
        self.audit: Collection[Any] = db["audit"]
        self.contacts: Collection[Any] = db["contacts"]
        self.contact_mobiles: Collection[Any] = db["contact_mobiles"]
        self.contact_notes: Collection[Any] = db["contact_notes"]
        self.tenant_settings: Collection[Any] = db["tenant_settings"]
        self.projects: Collection[Any] = db["projects"]
        self.tag_groups: Collection[Any] = db["tag_groups"]
        self.tag_group_names: Collection[Any] = db["tag_group_names"]
        self.custom_fields: Collection[Any] = db["custom_fields"]
        self.cbms: Collection[Any] = db["cbms"]
        self.assigned_depts: Collection[Any] = db["assigned_depts"]
        self.imports: Collection[Any] = db["imports"]
        self.uploads: Collection[Any] = db["uploads"]
        self.downloads: Collection[Any] = db["downloads"]

    def ensure_indexes(self) -> None:
        """Every index of this service (the only place that creates one)."""
        c = self.customers
        c.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("shared_with", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("dept_ids", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("name_key", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("phone_keys", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("tags", ASCENDING)])  # the list by tag
        c.create_index([("tenant_id", ASCENDING), ("created_at", DESCENDING)])
        self.name_keys.create_index([("tenant_id", ASCENDING)])
        self.phone_keys.create_index([("tenant_id", ASCENDING)])
        self.share_rules.create_index([("tenant_id", ASCENDING), ("from_owner_id", ASCENDING)])
        self.timeline.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
        self.contacts.create_index([("tenant_id", ASCENDING), ("owner_id", ASCENDING)])
        self.contacts.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
        self.contacts.create_index([("tenant_id", ASCENDING), ("deleted", ASCENDING)])
        self.contact_notes.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
        self.projects.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
        self.tag_groups.create_index([("tenant_id", ASCENDING)])
        self.custom_fields.create_index([("tenant_id", ASCENDING), ("entity", ASCENDING)])
        self.cbms.create_index([("tenant_id", ASCENDING), ("deleted", ASCENDING)])
        self.assigned_depts.create_index([("tenant_id", ASCENDING)])
        c.create_index([("tenant_id", ASCENDING), ("deleted", ASCENDING)])

    # -- documents ---------------------------------------------------------------------------
    def by_id(self, coll: str, _id: Any, **expect: Any) -> dict[str, Any] | None:
        """``find_one`` by ``_id`` alone, other fields checked here: FerretDB 1.24 (SQLite)
        pushes an ``_id``-only filter down, but a filter mixing ``_id`` with other fields is not
        pushed down at all and reads the whole collection (2 s at 100 000 rows, measured)."""
        doc: dict[str, Any] | None = self.db[coll].find_one({"_id": _id})
        if doc is None or any(doc.get(k) != v for k, v in expect.items()):
            return None
        return doc

    def load(self, tenant_id: str, customer_id: str) -> dict[str, Any]:
        """The live customer ``customer_id`` of the tenant, else 404 ``customer.not_found``."""
        doc = self.by_id("customers", str(customer_id), tenant_id=tenant_id, deleted=False)
        if doc is None:
            raise NotFound("customer.not_found", "no such customer")
        return doc

    def existing_ids(self, tenant_id: str, ids: list[str]) -> list[str]:
        """Of ``ids``, those with a customer record of the tenant (deleted ones included); an
        ``_id``-only filter, the tenant checked here (see :meth:`by_id`)."""
        rows = self.customers.find({"_id": {"$in": list(ids)}}, {"tenant_id": 1})
        return sorted(str(r["_id"]) for r in rows if r.get("tenant_id") == tenant_id)

    def notes_of(self, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
        """A customer's contact notes, newest first."""
        rows = list(self.contact_notes.find({"tenant_id": tenant_id, "customer_id": customer_id}))
        rows.sort(key=lambda r: (aware(r["at"]), r["_id"]), reverse=True)
        return rows

    def share_targets(self, tenant_id: str, owner_id: str | None) -> list[str]:
        """Whom every customer of ``owner_id`` is shared with (the owner's share rules)."""
        if owner_id is None:
            return []
        return [r["to_user_id"] for r in self.share_rules.find({"tenant_id": tenant_id, "from_owner_id": owner_id})]

    # -- departments customers were assigned to ----------------------------------------------------
    def mark_assigned_depts(self, tenant_id: str, dept_ids: list[str], now: datetime) -> None:
        """Remember that customers were assigned to these departments (one row per tenant and
        department, inserted once, never removed: a stale row costs one list filter, a missing one
        would hide customers from their department admins)."""
        for dept in dict.fromkeys(dept_ids):
            insert_once(self.assigned_depts, {"_id": f"{tenant_id}|{dept}", "tenant_id": tenant_id,
                                              "dept_id": dept, "at": now})

    def backfill_assigned_depts(self, now: datetime) -> int:
        """Mark the departments of customers assigned before ``assigned_depts`` existed (one
        projected pass at start)."""
        seen: set[tuple[str, str]] = set()
        for r in self.customers.find({}, {"tenant_id": 1, "dept_ids": 1}):  # plain scan: no operator to push down
            for dept in r.get("dept_ids") or []:
                seen.add((r["tenant_id"], dept))
        for tenant_id, dept in seen:
            self.mark_assigned_depts(tenant_id, [dept], now)
        return len(seen)

    def assigned_depts_of(self, tenant_id: str) -> set[str]:
        """Departments of the tenant that ever had customers assigned (a small collection)."""
        return {r["dept_id"] for r in self.assigned_depts.find({"tenant_id": tenant_id}, {"dept_id": 1})}

    # -- duplicate check -----------------------------------------------------------------------
    def find_duplicates(self, tenant_id: str, name: str | None, numbers: list[str], exclude_id: str | None = None,
                        extra_names: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every live customer of the tenant that shares the name key or any number."""
        hits: list[tuple[str, str, str]] = []  # (customer_id, matched_on, value)
        keys = [k for k in dict.fromkeys([company_key(n) for n in [name or "", *extra_names]]) if k]
        for k in keys:
            row = self.name_keys.find_one({"_id": f"{tenant_id}|{k}"})
            if row:
                hits.append((row["customer_id"], "name_key", k))
        for n in phone_keys(numbers):
            row = self.phone_keys.find_one({"_id": f"{tenant_id}|{n}"})
            if row:
                hits.append((row["customer_id"], "phone", n))
        out: dict[str, dict[str, Any]] = {}
        for cid, on, value in hits:
            if cid == exclude_id:
                continue
            doc = out.get(cid)
            if doc is None:
                cust = self.by_id("customers", cid, tenant_id=tenant_id, deleted=False)
                if cust is None:
                    continue
                doc = out[cid] = {"customer_id": cid, "name": cust["name"], "owner_id": cust.get("owner_id"),
                                  "unowned": bool(cust.get("unowned")), "matched_on": []}
            doc["matched_on"].append({"on": on, "value": value})
        return list(out.values())

    def _reserve_one(self, coll: str, tenant_id: str, key: str, customer_id: str, now: datetime) -> bool:
        """True when this call inserted the key; False when ``customer_id`` already held it."""
        _id = f"{tenant_id}|{key}"
        keys = self.db[coll]
        for _ in range(2):
            try:
                keys.insert_one({"_id": _id, "tenant_id": tenant_id, "key": key, "customer_id": customer_id,
                                 "at": now})
                return True
            except DuplicateKeyError:
                row = keys.find_one({"_id": _id})
                if row is None:
                    continue  # released meanwhile: try again
                if row["customer_id"] == customer_id:
                    return False
                holder = self.customers.find_one({"_id": row["customer_id"]}, {"deleted": 1})
                at = row.get("at")
                stale = (holder is not None and holder.get("deleted")) or (
                    holder is None and at is not None and now - aware(at) > STALE_RESERVATION)
                if not stale:
                    raise _Held(row["customer_id"], "name_key" if coll == "name_keys" else "phone", key) from None
                keys.delete_one({"_id": _id, "customer_id": row["customer_id"]})
        raise _Held("", "name_key" if coll == "name_keys" else "phone", key)

    def reserve_keys(self, tenant_id: str, customer_id: str, name_key: str, numbers: list[str], now: datetime
                     ) -> list[tuple[str, str]]:
        """Insert every key for ``customer_id``; on the first key held by another customer,
        release what this call inserted and raise Conflict naming the holder."""
        taken: list[tuple[str, str]] = []
        try:
            for coll, key in [("name_keys", name_key), *[("phone_keys", n) for n in numbers]]:
                if key and self._reserve_one(coll, tenant_id, key, customer_id, now):
                    taken.append((coll, key))
        except _Held as held:
            self.release_keys(tenant_id, customer_id, taken)
            raise Conflict("customer.duplicate", "a customer with this name or number already exists",
                           {"customer_id": held.customer_id, "matched_on": [{"on": held.on, "value": held.value}]}
                           ) from None
        except BaseException:
            self.release_keys(tenant_id, customer_id, taken)
            raise
        return taken

    def reserve_many(self, tenant_id: str, items: list[tuple[str, str, list[str]]], now: datetime,
                     max_held: int = 0) -> list[tuple[str, list[tuple[str, str]]]]:
        """Bulk :meth:`reserve_keys` for imports: unordered insert_many per collection, then the
        keys that collided go one by one (stale reservations are cleared there). All or nothing.

        The first key held by another customer raises ``Conflict``; with ``max_held`` > 0 up to
        that many held keys are collected first and :class:`KeysHeld` names them all (so an
        import needs no separate read of the tenant's keys: the unique inserts find them)."""
        taken: dict[str, list[tuple[str, str]]] = {cid: [] for cid, _, _ in items}
        held_keys: list[dict[str, str]] = []
        plan = {"name_keys": [(cid, key) for cid, key, _ in items if key],
                "phone_keys": [(cid, n) for cid, _, nums in items for n in nums]}
        try:
            for coll, pairs in plan.items():
                for i in range(0, len(pairs), 1000):
                    chunk = pairs[i:i + 1000]
                    failed: set[int] = set()
                    try:
                        self.db[coll].insert_many([{"_id": f"{tenant_id}|{k}", "tenant_id": tenant_id, "key": k,
                                                    "customer_id": cid, "at": now} for cid, k in chunk],
                                                  ordered=False)
                    except BulkWriteError as exc:
                        failed = {int(e["index"]) for e in exc.details.get("writeErrors", [])}
                    for j, (cid, k) in enumerate(chunk):
                        if j not in failed:
                            taken[cid].append((coll, k))
                    for j in sorted(failed):
                        cid, k = chunk[j]
                        try:
                            if self._reserve_one(coll, tenant_id, k, cid, now):
                                taken[cid].append((coll, k))
                        except _Held as held:
                            if len(held_keys) < max_held:
                                held_keys.append({"for_customer_id": cid, "customer_id": held.customer_id,
                                                  "on": held.on, "value": held.value})
                                continue
                            raise Conflict("customer.duplicate",
                                           "a customer with this name or number already exists",
                                           {"customer_id": held.customer_id,
                                            "matched_on": [{"on": held.on, "value": held.value}]}) from None
            if held_keys:
                raise KeysHeld("customer.duplicate", "customers with these names or numbers already exist",
                               {"held": held_keys})
        except BaseException:
            for cid, keys in taken.items():
                self.release_keys(tenant_id, cid, keys)
            raise
        return list(taken.items())

    def release_keys(self, tenant_id: str, customer_id: str, keys: list[tuple[str, str]]) -> None:
        for coll, key in keys:
            self.db[coll].delete_one({"_id": f"{tenant_id}|{key}", "customer_id": customer_id})


class CustomersStore(Dependency[Store]):
    """This service's persistence: the database in ``setup()``; at start, the indexes and
    the marking of departments assigned before ``assigned_depts`` existed."""

    def setup(self) -> None:
        self.store = Store(service_db("customers"))

    def start(self) -> None:
        self.store.ensure_indexes()
        self.store.backfill_assigned_depts(datetime.now(UTC))

    def get_dependency(self, worker_ctx: Any) -> Store:
        return self.store


class _Held(Exception):
    def __init__(self, customer_id: str, on: str, value: str):
        super().__init__(customer_id, on, value)
        self.customer_id, self.on, self.value = customer_id, on, value


class KeysHeld(Conflict):
    """:meth:`Store.reserve_many` found keys held by other customers: ``details["held"]`` lists
    every one ({for_customer_id, customer_id, on, value}); nothing stays reserved."""


def new_id() -> str:
    return uuid.uuid4().hex


def keys_of(doc: dict[str, Any]) -> tuple[str, list[str]]:
    return company_key(doc.get("name") or ""), phone_keys(all_numbers(doc))


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a customer."""
    out = {k: v for k, v in doc.items() if k not in ("_id", "deleted", "idempotency")}
    out["id"] = doc["_id"]
    for k in ("created_at", "updated_at", "owner_since", "deleted_at"):
        if isinstance(out.get(k), datetime):
            out[k] = iso(out[k])
    return out

