"""The database half of an import: duplicates against the tenant, then an
all-or-nothing creation of every row (keys reserved first, compensated on failure)."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import eventlet
from pymongo.collection import Collection
from pymongo.database import Database

from crmkit import config
from crmkit.context import CallContext
from crmkit.errors import BusinessRule, Conflict
from crmkit.outbox import Check, Outbox
from customers import uploads
from customers.phones import phone_keys
from customers.registry import EDITABLE, created_facts, entry_facts, require_entry_role
from customers.sheets import COLUMN_OF, MAX_COLLECTED, Parsed, parse_upload, shown
from customers.store import KeysHeld, Store, keys_of, new_id

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

log = logging.getLogger(__name__)

BATCH = 500
#: events of a small import are made pending before the answer; a large one's behind it
SYNC_COMMIT = 400

#: FerretDB (SQLite) pushes down only an equality on a string ``_id``; any other filter
#: (``$in`` included) reads the whole collection, every tenant's rows. One ``_id`` lookup
#: costs about as much as scanning this many rows, so per-key lookups are used while
#: ``keys * LOOKUP_COST`` stays below the collection's size, and one scan above that.
LOOKUP_COST = 6
#: concurrent ``_id`` lookups (green threads; the pymongo pool is shared)
LOOKUP_CONCURRENCY = 8
#: ``$in`` batch on MongoDB, where ``_id`` is indexed for every operator
IN_BATCH = 1000

_ferret: dict[int, bool] = {}


def _is_ferretdb(db: Database[Any]) -> bool:
    key = id(db.client)
    if key not in _ferret:
        from crmkit.db import is_ferretdb
        try:
            _ferret[key] = is_ferretdb(db)
        except Exception:  # a fake database in unit tests: behave as on FerretDB
            _ferret[key] = True
    return _ferret[key]


def _size(coll: Collection[Any]) -> int:
    """Rows in ``coll`` from collStats (FerretDB answers ``count`` without a scan, unlike
    ``estimated_document_count``, which reads every row there); unknown: very large."""
    try:
        return int(coll.database.command("collStats", coll.name).get("count", 1 << 62))
    except Exception:
        return 1 << 62


def _held_rows(coll: Collection[Any], tenant_id: str, keys: list[str]) -> dict[str, str]:
    """{key: customer_id} of the keys held in ``coll`` (reservation rows, live or not)."""
    ids = [f"{tenant_id}|{k}" for k in keys]
    held: dict[str, str] = {}
    if not ids:
        return held
    if not _is_ferretdb(coll.database):
        for i in range(0, len(ids), IN_BATCH):
            for row in coll.find({"_id": {"$in": ids[i:i + IN_BATCH]}}, {"key": 1, "customer_id": 1}):
                held[row["key"]] = row["customer_id"]
        return held
    if len(ids) * LOOKUP_COST > _size(coll):
        want = set(keys)
        for row in coll.find({"tenant_id": tenant_id}, {"key": 1, "customer_id": 1}):
            if row.get("key") in want:
                held[row["key"]] = row["customer_id"]
        return held

    def one(k: str) -> tuple[str, dict[str, Any] | None]:
        return k, coll.find_one({"_id": f"{tenant_id}|{k}"}, {"customer_id": 1})

    green = eventlet.GreenPool(LOOKUP_CONCURRENCY)
    for k, row in green.imap(one, keys):
        if row is not None:
            held[k] = row["customer_id"]
    return held


def _existing(store: Store, coll: Collection[Any], tenant_id: str, keys: list[str]) -> dict[str, str]:
    held = _held_rows(coll, tenant_id, list(dict.fromkeys(keys)))
    found: dict[str, str] = {}
    live: dict[str, bool] = {}
    for k, cid in held.items():
        if cid not in live:
            live[cid] = store.by_id("customers", cid, deleted=False) is not None
        if live[cid]:
            found[k] = cid
    return found


def tenant_duplicates(store: Store, tenant_id: str, parsed: Parsed) -> None:
    """Add a problem for every row whose name key or any number is already held — every
    data row's probe (its usable name and numbers), also of rows with other problems, so
    a check lists every problem of a mixed file at once."""
    prepared = [(rownum, clean, *keys_of(clean)) for rownum, clean in parsed.probes]
    names = _existing(store, store.name_keys, tenant_id, [p[2] for p in prepared if p[2]])
    numbers = _existing(store, store.phone_keys, tenant_id, sorted({n for p in prepared for n in p[3]}))
    for rownum, clean, key, nums in prepared:
        if key and key in names:
            _tenant_problem(parsed, rownum, clean, "name_key", key, names[key])
        for n in nums:
            if n in numbers:
                _tenant_problem(parsed, rownum, clean, "number", n, numbers[n])


def _tenant_problem(parsed: Parsed, rownum: int, clean: dict[str, Any], on: str, value: str, holder: str) -> None:
    if on == "name_key":
        parsed.add(rownum, COLUMN_OF["name"], "duplicate_in_tenant",
                   f"company already exists (customer {holder}, key {shown(value)})")
        return
    col = next((COLUMN_OF[f] for f in ("landlines", "faxes", "mobiles")
                if value in phone_keys(clean.get(f) or [])), COLUMN_OF["landlines"])
    parsed.add(rownum, col, "duplicate_in_tenant", f"number {value} belongs to customer {holder}")


def report(parsed: Parsed) -> dict[str, Any]:
    """``{ok, rows, problems (the first MAX_PROBLEMS, sheet order), total, truncated}``."""
    return {"ok": not parsed.total, "rows": len(parsed.rows) if not parsed.total else None, **parsed.details()}


def run_import(kit: WorkerKit, store: Store, ctx: CallContext, parsed: Parsed, pool: Any = None,
               capacity_check: Any = None) -> dict[str, Any]:
    """All-or-nothing import of a clean file; the importer owns the rows. ``capacity_check(n)``
    (a look at the pool's capacity) refuses a file that cannot fit before any key is
    reserved; then, keys reserved, ``pool.enter`` takes the slots and writes the log rows of
    every row, all or nothing under the exact capacity (parallel imports at the limit never
    exceed it), before any customer is written. A failure after it cancels the pool's entry."""
    if parsed.total:
        raise BusinessRule("import.has_problems", "the file has problems; fix them and import again",
                           parsed.details())
    if not parsed.rows:
        raise BusinessRule("import.empty", "the file has no rows")
    if capacity_check is not None:
        capacity_check(len(parsed.rows))
    import_id = new_id()
    now = kit.now()
    owner = ctx.user_id
    shared = store.share_targets(ctx.tenant_id, owner)
    docs: list[dict[str, Any]] = []
    plan: list[tuple[str, str, list[str]]] = []
    for rownum, clean in parsed.rows:
        cid = new_id()
        key, nums = keys_of(clean)
        plan.append((cid, key, nums))
        docs.append({"_id": cid, "tenant_id": ctx.tenant_id, **{k: clean.get(k) for k in EDITABLE},
                     "kind": clean.get("kind") or "own", "customer_type": clean.get("customer_type") or "company",
                     "tags": [], "custom": {}, "name_key": key, "phone_keys": nums, "owner_id": owner,
                     "owner_seq": 1, "owner_since": now, "unowned": False, "shared_with": shared,
                     "dept_ids": [], "created_at": now, "created_by": ctx.user_id, "updated_at": now,
                     "deleted": False, "import_id": import_id, "import_row": rownum})
    # No separate read of the tenant's keys: the unique inserts themselves find every key
    # another customer holds (all are collected, then released) and those become problems.
    try:
        reserved = store.reserve_many(ctx.tenant_id, plan, now, max_held=MAX_COLLECTED)
    except KeysHeld as exc:
        row_of = {d["_id"]: (rownum, clean) for d, (rownum, clean) in zip(docs, parsed.rows, strict=True)}
        for h in sorted(exc.details["held"], key=lambda h: row_of[h["for_customer_id"]][0]):
            rownum, clean = row_of[h["for_customer_id"]]
            _tenant_problem(parsed, rownum, clean, "name_key" if h["on"] == "name_key" else "number", h["value"],
                            h["customer_id"])
        raise BusinessRule("import.has_problems", "the file has problems; fix them and import again",
                           parsed.details()) from None
    except Conflict as exc:
        raise Conflict("import.duplicate_meanwhile", "a duplicate was entered while importing; check again",
                       exc.details) from None
    if pool is not None:
        try:  # the owner's slots and the ownership log first (linearised in the pool)
            pool.enter(customer_ids=[d["_id"] for d in docs], owner_id=owner, path="import", import_id=import_id,
                       facts=_entry_facts(docs))
        except BaseException:
            _compensate(store, ctx, import_id, reserved)
            raise
    # one builder for customer.created (registry.created_facts); the pool announces the
    # owner_changed of each row once it sees the customer exist
    events = {d["_id"]: [kit.event("customer.created", {**created_facts(d), "import_id": import_id})] for d in docs}
    # The outbox's staged -> pending pattern (crmkit.outbox) through the kit's outbox, so every
    # event passes the outbox's checks (its declaration in ``contracts``, the message-size limit)
    # before anything is written: each chunk's events are staged *before* its rows, each with
    # ``Check("customers", {"_id": cid})``. A crash at any point leaves the relay to publish
    # exactly the events whose customer was written and to abort the others.
    staged: list[str] = []
    try:
        for i in range(0, len(docs), BATCH):
            chunk = docs[i:i + BATCH]
            _stage(kit.outbox, [(d["_id"], e) for d in chunk for e in events[d["_id"]]], staged)
            store.customers.insert_many(chunk)
        store.imports.insert_one({"_id": import_id, "tenant_id": ctx.tenant_id, "actor_id": ctx.user_id,
                                  "at": now, "created": len(docs)})
    except BaseException:
        _abort_quietly(kit.outbox, staged)  # staged: never published (a leftover the relay aborts)
        _compensate(store, ctx, import_id, reserved)
        if pool is not None:
            pool.cancel_entry(customer_ids=[d["_id"] for d in docs], owner_id=owner, import_id=import_id)
        raise
    # Every row is written: flip the events to pending (one ``_id``-keyed update each, in order)
    # behind the answer; if this process dies meanwhile, the relay's staged-row recovery
    # publishes them (their checks match).
    if len(staged) <= SYNC_COMMIT:
        kit.outbox.commit(staged)
    else:
        eventlet.spawn_n(_commit_quietly, kit.outbox, staged)
    store.timeline.insert_many([
        {"_id": f"{import_id}:{d['_id']}", "tenant_id": ctx.tenant_id, "customer_id": d["_id"],
         "kind": "customer.imported", "at": now, "actor_id": ctx.user_id, "summary": "imported from xlsx",
         "data": {"import_id": import_id, "row": d["import_row"]}} for d in docs])
    created = [{"row": d["import_row"], "id": d["_id"], "name": d["name"]} for d in docs]
    return {"import_id": import_id, "created": len(created), "customers": created}


def _stage(outbox: Outbox, pairs: list[tuple[str, dict[str, Any]]], staged: list[str]) -> None:
    """The chunk's events, each with its own check (``Check("customers", {"_id": cid})``), in one
    ``Outbox.stage_each``: every event is checked as the outbox checks it before the insert, so a
    refused event stages nothing of its chunk; the staged ids are added to ``staged`` (for the
    caller to abort when a later step fails)."""
    staged.extend(outbox.stage_each([(e, Check("customers", {"_id": cid})) for cid, e in pairs]))


def _abort_quietly(outbox: Outbox, ids: list[str]) -> None:
    try:
        outbox.abort(ids)
    except Exception:  # the relay aborts staged rows whose customer never appeared
        log.exception("import: aborting %d staged events failed; the relay will abort them", len(ids))


def _commit_quietly(outbox: Any, ids: list[str]) -> None:
    try:
        outbox.commit(ids)
    except Exception:  # the relay recovers what is still staged
        log.exception("import: committing %d staged events failed; the relay will recover them", len(ids))


def _entry_facts(docs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rows' search facts for ``pool.enter``, when they fit in half a message (a file of
    long names does not): without them the pool's rows learn them from ``customer.created``."""
    facts = {d["_id"]: entry_facts(d) for d in docs}
    return facts if len(json.dumps(facts)) <= config.max_message_bytes() // 2 else None


def _compensate(store: Store, ctx: CallContext, import_id: str, reserved: list[tuple[str, list[tuple[str, str]]]]
                ) -> None:
    store.customers.delete_many({"tenant_id": ctx.tenant_id, "import_id": import_id})
    for cid, keys in reserved:
        store.release_keys(ctx.tenant_id, cid, keys)


def check_file(store: Store, ctx: CallContext, file_b64: Any, upload_id: Any, parts: Any) -> dict[str, Any]:
    """The import check: the file's problems and, for every row, the tenant's duplicates."""
    parsed = uploads.parsed(store, ctx, parse_upload, file_b64, upload_id, parts, require_entry_role)
    tenant_duplicates(store, ctx.tenant_id, parsed)  # every problem, also in a mixed file
    return report(parsed)


def import_file(kit: WorkerKit, store: Store, ctx: CallContext, pool: Any, file_b64: Any, upload_id: Any, parts: Any
                ) -> dict[str, Any]:
    """The import of a clean file (``run_import``), the pool's capacity looked at first."""
    parsed = uploads.parsed(store, ctx, parse_upload, file_b64, upload_id, parts, require_entry_role)
    return run_import(kit, store, ctx, parsed, pool,
                      capacity_check=lambda n: pool.check_capacity(owner_id=ctx.user_id, adding=n))
