"""Customer ownership, in one place: the ownership log, every move and the capacity slots.

The log is ``moves`` (``_id = "<customer_id>:<seq>"``): the insert that wins ``seq`` *is*
the change (FerretDB has no atomic conditional update; a unique insert linearises). The
capacity slot of the new owner (``storage.take_slot``: one insert under a unique
``tenant:owner:n``) is taken *before* the log insert, in the same database, so capacity is
exact on every path that refuses past it (entry, import, claim, assignment by the pool,
restore). A move that loses the log insert frees the slot it took itself and answers with
the winner it has just read (the log row at that seq) — nothing to guess, nothing to undo
elsewhere. The read-model row (``customers``) follows the log under the row lock, guarded
by ``seq`` (an older move never overwrites a newer one).

``customer.owner_changed`` (name and shape unchanged) is emitted here through the pool's
outbox, published on the ``customers`` exchange where its consumers listen (see
``service.PoolService.kit``). Entry and import are announced once the customer exists:
the pool's ``customer.created`` handler emits their ``owner_changed`` with an event id
derived from the log row, so an entry whose customer write failed (and was cancelled,
:func:`cancel_entry`) is never announced. The customers service keeps a copy of the owner,
guarded by the same ``seq``.
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from crmkit.clock import iso
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from pool import access, peers, requests
from pool import rules as R
from pool import store as storage
from pool.facts import customer_fields
from pool.peers import Identity
from pool.store import Store

log = logging.getLogger(__name__)

PATHS = ("entry", "claim", "release", "transfer", "assign", "import", "handover", "reclaim", "restore", "delete")
POOL_EVENT_BY_PATH = {"claim": "pool.claimed", "release": "pool.released", "reclaim": "pool.reclaimed"}
ACTIVITY_BY_PATH = {"entry": "entry", "import": "entry", "claim": "claim"}  # the targets' actuals
#: announced by the ``customer.created`` handler, once the customer exists (see the module doc)
ANNOUNCED_ON_CREATION = ("entry", "import")
ASSIGNERS = ("support", "tenant_admin")
MAX_ENTRY = 10_000  # customer ids in one ``enter`` (an import's row limit)


class SweepCrash(RuntimeError):
    """Raised by the test hook that simulates a crash half-way through a sweep."""


class Lost(Exception):
    """The log insert of ``seq`` lost: ``winner`` is the log row that won it."""

    def __init__(self, winner: dict[str, Any]):
        super().__init__(winner.get("_id"))
        self.winner = winner


def _reason(data: dict[str, Any] | None, required: bool) -> str:
    reason = (data or {}).get("reason")
    if reason is None and not required:
        return ""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise InvalidInput("pool.reason_required", "a reason (1-500 characters) is required",
                           {"fields": {"reason": "required, 1-500 characters"}})
    return reason.strip()


def customer_view(row: dict[str, Any], *, masked: bool) -> dict[str, Any]:
    phones = row.get("phones") or {}
    shown = {k: [R.mask_phone(p) if masked else p for p in v] for k, v in phones.items()}
    return {
        "id": row["_id"], "name": row.get("name"), "name_key": row.get("name_key"),
        "industry": row.get("industry"), "grade": row.get("grade"), "phones": shown,
        "owner_id": row.get("owner_id"), "pool": "private" if row.get("private") else "public",
        "released_at": iso(row["released_at"]) if row.get("released_at") else None,
        "previous_owner_id": row.get("released_by"), "previous_owner_dept_id": row.get("prev_owner_dept_id"),
        "entered_at": iso(row["entered_at"]) if row.get("entered_at") else None,
        "reclaim_on": row.get("reclaim_on"), "reclaim_rule": row.get("reclaim_rule"),
        "seq": row.get("seq"),
    }


# ------------------------------------------------------------------ the log

def move_id(customer_id: str, seq: int) -> str:
    return f"{customer_id}:{seq}"


def announce_id(tenant_id: str, customer_id: str, seq: int) -> str:
    """The event id of the ``owner_changed`` announcing an entry (seq 1): one announcement
    however often it is attempted (consumers deduplicate by event id). Other moves get a
    fresh id: every contender stages its event before the log insert decides."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"crm:owner_changed:{tenant_id}:{customer_id}:{seq}").hex


def owner_changed(kit: WorkerKit, doc: dict[str, Any], customer_name: str | None, event_id: str | None = None
                  ) -> dict[str, Any]:
    data = {"customer_id": doc["customer_id"], "from_owner_id": doc["from_owner_id"],
            "to_owner_id": doc["to_owner_id"], "path": doc["path"], "reason": doc.get("reason") or "",
            "seq": doc["seq"], "unowned": bool(doc.get("unowned")), "customer_name": customer_name}
    if doc.get("import_id"):
        data["import_id"] = doc["import_id"]
    ev: dict[str, Any] = kit.event("customer.owner_changed", data, tenant_id=doc["tenant_id"],
                                   actor_id=doc["actor_id"], event_id=event_id)
    return ev


def log_row(tenant_id: str, customer_id: str, seq: int, *, from_owner: str | None, to_owner: str | None,
            path: str, reason: str, actor_id: str, at: datetime, unowned: bool = False,
            **extra: Any) -> dict[str, Any]:
    return {"_id": move_id(customer_id, seq), "tenant_id": tenant_id, "customer_id": customer_id, "seq": seq,
            "from_owner_id": from_owner, "to_owner_id": to_owner, "path": path, "reason": reason,
            "actor_id": actor_id, "at": at, "day": R.local_day(at).isoformat(),
            "unowned": bool(unowned and to_owner is None), **extra}


def record(kit: WorkerKit, store: Store, doc: dict[str, Any], customer_name: str | None) -> dict[str, Any]:
    """Insert one log row with its events (the pool event of a claim/release/reclaim and
    ``customer.owner_changed``, unless the path is announced on creation or is a delete),
    staged in the outbox with the row. Raises :class:`Lost` naming the winning row."""
    events = []
    etype = POOL_EVENT_BY_PATH.get(doc["path"])
    if etype:
        events.append(kit.event(etype, {"customer_id": doc["customer_id"], "from_owner_id": doc["from_owner_id"],
                                        "to_owner_id": doc["to_owner_id"], "reason": doc["reason"],
                                        "seq": doc["seq"], "at": iso(doc["at"]), "customer_name": customer_name},
                                tenant_id=doc["tenant_id"], actor_id=doc["actor_id"]))
    if doc["path"] not in ANNOUNCED_ON_CREATION and doc["path"] != "delete":
        events.append(owner_changed(kit, doc, customer_name))
        doc["event_id"] = events[-1]["event_id"]  # the answer names it: customers records it once
    # kit.change, but the staged rows are committed in one round trip (Store.commit_events)
    ids = kit.outbox.stage(events, Check("moves", {"_id": doc["_id"]}))
    try:
        store.moves.insert_one(doc)
    except BaseException as exc:
        kit.outbox.abort(ids)
        if isinstance(exc, DuplicateKeyError):
            raise Lost(store.moves.find_one({"_id": doc["_id"]}) or {}) from None
        raise
    store.commit_events(ids)
    return doc


def roll_forward(kit: WorkerKit, store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """The row brought up to the newest log row (its write may still be on its way, or
    lost in a crash between the log insert and the row write): probes ``<id>:<seq+1>``..."""
    seq = int(row.get("seq") or 0)
    last = None
    while True:
        nxt = store.moves.find_one({"_id": move_id(row["_id"], seq + 1)})
        if nxt is None:
            break
        last, seq = nxt, seq + 1
        frm = nxt.get("from_owner_id")
        if frm and frm != nxt.get("to_owner_id"):  # the mover may have died before freeing it
            storage.free_slot(store, nxt["tenant_id"], frm, row["_id"])
    if last is None:
        return row
    return write_row(kit, store, last, row)


def write_row(kit: WorkerKit, store: Store, doc: dict[str, Any], row: dict[str, Any], dept: str | None = None
              ) -> dict[str, Any]:
    """Apply the log row ``doc`` to the read-model row (read before as ``row``) under the
    row lock: one conditional write, applied only while the row's ``seq`` is older."""
    tenant, cid, to_owner, at = doc["tenant_id"], doc["customer_id"], doc["to_owner_id"], doc["at"]
    fields: dict[str, Any] = {"owner_id": to_owner, "private": to_owner is not None, "seq": doc["seq"],
                              "last_path": doc["path"], "unowned": bool(doc.get("unowned"))}
    if doc["path"] == "delete":
        fields = {"seq": doc["seq"], "last_path": "delete"}
    elif to_owner:
        fields.update({"entered_at": at, "epoch": doc["seq"]})
    else:
        fields.update({"entered_at": None, "released_at": at, "released_by": doc["from_owner_id"],
                       "release_reason": doc["reason"], "released_path": doc["path"], "prev_owner_dept_id": dept})
    if doc["path"] == "restore":
        fields["deleted"] = False
    if row.get("name_fix_by") and to_owner != row.get("name_fix_owner") and doc["path"] != "delete":
        fields.update({k: None for k in storage.NAME_FIX_FIELDS})  # the name obligation was the requester's
    rules = storage.load_rules(store, tenant)
    if doc["path"] != "delete":
        fields.update(storage.reclaim_fields({**row, **fields}, rules))  # one write: readers never see half
    with storage.row_lock(store, cid):
        try:
            store.customers.update_one(
                {"_id": cid, "$or": [{"seq": None}, {"seq": {"$lt": doc["seq"]}}]},
                {"$set": {**fields, "tenant_id": tenant}, **({} if "deleted" in fields else
                                                             {"$setOnInsert": {"deleted": False}})}, upsert=True)
        except DuplicateKeyError:
            pass  # the row holds a newer change already
    out = {"deleted": False, **row, **fields, "tenant_id": tenant}
    out["_id"] = cid
    return out


def history(kit: WorkerKit, store: Store, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    rows = list(store.moves.find({"tenant_id": tenant_id, "customer_id": customer_id}))
    rows.sort(key=lambda r: r["seq"])
    return [{"seq": r["seq"], "from_owner_id": r.get("from_owner_id"), "to_owner_id": r.get("to_owner_id"),
             "path": r["path"], "reason": r.get("reason", ""), "actor_id": r.get("actor_id"), "at": iso(r["at"])}
            for r in rows]


# ------------------------------------------------------------------------ commands

# Test hooks only (``_test_pause``): sleep at a named point of a command, to make a
# race that real timing produces only rarely happen every time in a test.
TEST_PAUSES: dict[str, float] = {}


def test_pause(point: str) -> None:
    seconds = TEST_PAUSES.get(point)
    if seconds:
        time.sleep(seconds)


def claim(kit: WorkerKit, store: Store, customer_id: str, data: dict[str, Any] | None = None, *,
          skip_limits: bool = False, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every database access here is keyed by a string ``_id``: the read-model row, the
    owner's hint, the claim-slot, capacity-slot and hold inserts, one hint write, the log
    insert (with its staged events) and the row write under the row lock."""
    ctx = kit.ctx
    now, tenant, user = kit.now(), ctx.tenant_id, ctx.user_id
    cid = str(customer_id)
    reason = _reason(data, required=False) or "claim"
    row = row if row is not None else storage.get_customer(store, tenant, cid)
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer")
    if row.get("owner_id") == user:
        return customer_view(row, masked=False)
    if row.get("owner_id"):
        raise Conflict("pool.already_claimed", "this customer is already in someone's private pool",
                       {"winner_id": row["owner_id"]})
    rules = storage.load_rules(store, tenant)
    today = R.local_day(now)
    check_protection(row, user, today, rules)
    if not skip_limits:
        R.check_cooldown(user, row.get("released_by"), storage.to_dt(row.get("released_at")), now,
                         rules["cooldown_days"])
    hint = storage.read_hint(store, tenant, user, cached=True)  # usually no round trip
    claim_slot = None if skip_limits else storage.take_claim_slot(
        store, tenant, user, today.isoformat(), cid, rules["daily_claim_limit"], now, hint=hint)
    try:
        slot, took = storage.take_slot(store, tenant, user, cid, rules["capacity"], now, hint=hint, record_hint=False)
    except BaseException:
        if claim_slot:
            storage.free_claim_slot(store, tenant, user, claim_slot)
        raise
    storage.hint_after_claim(store, tenant, user, hint, claim_slot, slot if took else None)
    test_pause("claim.after_hold" if took else "claim.after_slot")
    seq = int(row.get("seq") or 0) + 1
    while True:
        doc = log_row(tenant, cid, seq, from_owner=None, to_owner=user, path="claim", reason=reason, actor_id=user,
                      at=now)
        try:
            record(kit, store, doc, row.get("name"))
            break
        except Lost as lost:
            winner = lost.winner
            if winner.get("to_owner_id") is None and winner.get("path") not in ("delete",):
                seq += 1  # a later move made it public again (our row was behind): try the next seq
                continue
            if winner.get("to_owner_id") == user:
                # a parallel claim (or assignment) of the same customer to the same person won: the one
                # hold of (owner, customer) -- ours or the winner's -- is the slot the winner relies on
                if claim_slot:
                    storage.free_claim_slot(store, tenant, user, claim_slot)
                view = customer_view(roll_forward(kit, store, row), masked=False)
                view.update({"owner_id": user, "pool": "private"})
                return view
            if took:
                storage.free_slot(store, tenant, user, cid)
            if claim_slot:
                storage.free_claim_slot(store, tenant, user, claim_slot)
            who = winner.get("to_owner_id")
            raise Conflict("pool.claim_lost", f"already claimed by {who}" if who else "already claimed",
                           {"customer_id": cid, "seq": seq, "winner_id": who}) from None
    out = write_row(kit, store, doc, row)
    view = customer_view(out, masked=False)
    view.update({"owner_id": user, "pool": "private"})
    return view


def check_protection(row: dict[str, Any], user: str, today: Any, rules: dict[str, Any]) -> None:
    prot = R.protection_at(storage.to_date(row.get("contract_start")), storage.to_date(row.get("contract_end")),
                           today, rules)
    if prot.protected and row.get("protected_for") != user:
        until = prot.until.isoformat() if prot.until else None
        raise BusinessRule("pool.protected", f"this customer is protected until {until}",
                           {"until": until, "phase": prot.phase})


def _current(store: Store, tenant: str, cid: str, *, deleted_too: bool = False) -> dict[str, Any] | None:
    row: dict[str, Any] | None = store.customers.find_one({"_id": cid})
    if row is None or row.get("tenant_id") != tenant or (row.get("deleted") and not deleted_too):
        return None
    return row


def change(kit: WorkerKit, store: Store, cid: str, *, expected: str | None, new: str | None, path: str, reason: str,
           capacity: str | None, unowned: bool = False, dept: str | None = None,
           row: dict[str, Any] | None = None, deleted_too: bool = False,
           crash_before_row: bool = False) -> dict[str, Any]:
    """One ownership move of ``cid`` from ``expected`` to ``new`` (None: the public pool, or
    unowned with ``unowned``). ``capacity``: ``"exact"`` refuses past the new owner's
    capacity, ``"overflow"`` takes a slot past it (an admin's transfer or a departure must
    not fail on it), None takes none. Conflicts are customers' contract codes."""
    ctx = kit.ctx
    now, tenant = kit.now(), ctx.tenant_id
    row = row if row is not None else _current(store, tenant, cid, deleted_too=deleted_too)
    if row is None:
        raise NotFound("customer.not_found", "no such customer")
    row = roll_forward(kit, store, row)
    current = row.get("owner_id")
    if current != expected:
        raise Conflict("customer.owner_mismatch", "the customer's owner has changed meanwhile",
                       {"customer_id": cid, "owner_id": current, "seq": row.get("seq")})
    if path not in ("delete", "restore") and new == current \
            and not (new is None and unowned != bool(row.get("unowned"))):
        raise Conflict("customer.owner_unchanged", "the customer already has this owner",
                       {"customer_id": cid, "owner_id": current})
    took = False
    if new is not None and (new != current or path == "restore") and capacity:
        rules = storage.load_rules(store, tenant)
        _slot, took = storage.take_slot(store, tenant, new, cid, rules["capacity"], now,
                                        overflow=capacity == "overflow")
    seq = int(row.get("seq") or 0) + 1
    doc = log_row(tenant, cid, seq, from_owner=current, to_owner=current if path == "delete" else new, path=path,
                  reason=reason, actor_id=ctx.user_id, at=now, unowned=unowned)
    try:
        record(kit, store, doc, row.get("name"))
    except Lost as lost:
        if took:
            storage.free_slot(store, tenant, new, cid)
        w = lost.winner
        raise Conflict("customer.owner_conflict", "another change of this customer's owner won",
                       {"customer_id": cid, "seq": seq, "winner_id": w.get("to_owner_id"), "winner": {
                           "to_owner_id": w.get("to_owner_id"), "actor_id": w.get("actor_id"),
                           "path": w.get("path")}}) from None
    if crash_before_row:  # test hook: the process dies right after the log insert, before the row write
        raise SweepCrash(f"simulated crash after reclaiming {cid}")
    if path != "delete":
        if current and current != new:
            storage.free_slot(store, tenant, current, cid)
        write_row(kit, store, doc, row, dept)
    else:
        write_row(kit, store, doc, row)
    return answer(doc)


def answer(doc: dict[str, Any]) -> dict[str, Any]:
    """What a move answers (customers' ``change_owner`` contract), with the event id of its
    ``owner_changed`` so the customers service can record it idempotently."""
    return {"customer_id": doc["customer_id"], "from_owner_id": doc["from_owner_id"],
            "to_owner_id": doc["to_owner_id"], "seq": doc["seq"], "path": doc["path"], "at": iso(doc["at"]),
            "unowned": bool(doc.get("unowned")), "reason": doc.get("reason") or "",
            "event_id": doc.get("event_id") or announce_id(doc["tenant_id"], doc["customer_id"], doc["seq"])}


def release(kit: WorkerKit, store: Store, customer_id: str, data: dict[str, Any] | None) -> dict[str, Any]:
    ctx = kit.ctx
    tenant, user = ctx.tenant_id, ctx.user_id
    reason = _reason(data, required=True)
    cid = str(customer_id)
    row = storage.get_customer(store, tenant, cid)
    if row is not None and row.get("owner_id") != user:
        row = roll_forward(kit, store, row)  # refuse only on the newest state
    if row is None or row.get("owner_id") != user:
        raise NotFound("pool.customer_not_found", "no such customer in your private pool")
    try:
        out = change(kit, store, cid, expected=user, new=None, path="release", reason=reason, capacity=None,
                     dept=ctx.dept_ids[0] if ctx.dept_ids else None, row=row)
    except Conflict as exc:
        raise NotFound("pool.customer_not_found", "no such customer in your private pool",
                       {"customer_id": cid, "owner_id": exc.details.get("owner_id")}) from None
    return {"id": cid, "pool": "public", "released_at": out["at"], "reason": reason}


def assign(kit: WorkerKit, store: Store, identity: Identity, customer_id: str, data: dict[str, Any] | None
           ) -> dict[str, Any]:
    """Direct assignment by support or the tenant admin: the customer must be the tenant's
    (404) and the new owner an active employee of the tenant (404 unknown, 422 inactive)."""
    ctx = kit.ctx
    if not ctx.has_role(*ASSIGNERS):
        raise Forbidden("pool.assign_forbidden", "only sales support or the tenant admin may assign")
    tenant = ctx.tenant_id
    data = data or {}
    owner = data.get("owner_id")
    if not isinstance(owner, str) or not owner or len(owner) > 128:
        raise InvalidInput("pool.owner_required", "owner_id is required",
                           {"field": "owner_id", "fields": {"owner_id": "required"}})
    reason = _reason(data, required=False) or "assign"
    cid = str(customer_id)
    row = storage.get_customer(store, tenant, cid)
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer", {"customer_id": cid})
    access.require_active_employee(identity, owner)
    if row.get("owner_id") == owner:
        return customer_view(row, masked=False)
    change(kit, store, cid, expected=row.get("owner_id"), new=owner, path="assign", reason=reason, capacity="exact",
           row=row)
    return customer_view(storage.get_customer(store, tenant, cid) or row, masked=False)


# --------------------------------------------------------------------- entry and import

def enter(kit: WorkerKit, store: Store, customer_ids: list[str], owner_id: str, path: str, import_id: str | None = None,
          facts: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Entry (one id) or import (many): the owner's slots under the exact capacity, then one
    log row (seq 1) and one read-model row per customer -- all before the customer is written.
    Each row starts with the customer's ``facts`` (name, name key, numbers...: what the search
    reads), so a customer is found as soon as it is entered; ``customer.created`` confirms them.
    All or nothing: when not every customer fits, nothing is taken and the refusal names how
    many did not fit (``pool.capacity_full``: held, capacity, adding, refused). A retry of
    the same ids (an idempotent entry) finds its rows and takes nothing twice."""
    ctx = kit.ctx
    now, tenant = kit.now(), ctx.tenant_id
    rules = storage.load_rules(store, tenant)
    ids = list(dict.fromkeys(customer_ids))
    known = _entered(store, tenant, ids, owner_id)
    fresh = [c for c in ids if c not in known]
    if not fresh:
        return {"owner_id": owner_id, "entered": len(ids), "seq": 1}
    extra: dict[str, Any] = {"import_id": import_id} if import_id else {}
    # first of all: should this entry stop half way, the sweep of orphans (pool.orphans) finds it
    storage.note_unwritten(store, tenant, owner_id, fresh, now, import_id)
    try:
        if len(fresh) == 1:
            storage.take_slot(store, tenant, owner_id, fresh[0], rules["capacity"], now)
        else:
            storage.take_slots(store, tenant, owner_id, fresh, rules["capacity"], now, extra)
    except BaseException:  # refused (capacity) or failed: nothing was entered
        storage.written(store, fresh)
        raise
    docs = [log_row(tenant, c, 1, from_owner=None, to_owner=owner_id, path=path, reason=path, actor_id=ctx.user_id,
                    at=now, **extra) for c in fresh]
    try:
        _insert_all(store.moves, docs)
    except DuplicateKeyError:  # a seq 1 of another owner (ids are new: only a forged call gets here)
        for c in fresh:
            storage.free_slot(store, tenant, owner_id, c)
        storage.written(store, fresh)
        raise Conflict("customer.owner_conflict", "these customers were entered already",
                       {"customer_ids": fresh[:50]}) from None
    fields = {"owner_id": owner_id, "private": True, "seq": 1, "last_path": path, "entered_at": now, "epoch": 1,
              "unowned": False, "deleted": False, "tenant_id": tenant, **extra}
    fields.update(storage.reclaim_fields(fields, rules))
    given = facts or {}
    rows = [{"_id": c, **customer_fields(given.get(c) or {}), **fields} for c in fresh]
    try:
        _insert_all(store.customers, rows)
    except DuplicateKeyError:  # a row made by an early event: write the owner onto it, one by one
        for d in docs:
            write_row(kit, store, d, store.customers.find_one({"_id": d["customer_id"]}) or {"_id": d["customer_id"]})
    return {"owner_id": owner_id, "entered": len(ids), "seq": 1}


def _entered(store: Store, tenant: str, ids: list[str], owner: str) -> set[str]:
    """Of ``ids``, those whose seq 1 this owner holds already (a retried entry)."""
    if len(ids) > 1:
        return set()  # an import's ids are new uuids
    row = store.moves.find_one({"_id": move_id(ids[0], 1)})
    if row is None:
        return set()
    if row.get("tenant_id") != tenant or row.get("to_owner_id") != owner:
        raise Conflict("customer.owner_conflict", "this customer was entered by someone else",
                       {"customer_id": ids[0]})
    return {ids[0]}


def _insert_all(coll: Any, docs: list[dict[str, Any]]) -> None:
    for i in range(0, len(docs), 500):
        try:
            coll.insert_many(docs[i:i + 500], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") == 11000 for e in exc.details.get("writeErrors", [])):
                raise DuplicateKeyError("duplicate in bulk insert") from None
            raise


def cancel_entry(kit: WorkerKit, store: Store, customer_ids: list[str], owner_id: str, import_id: str | None = None
                 ) -> dict[str, Any]:
    """The customer write after :func:`enter` failed: free the slots and drop the log and
    read-model rows of customers still at their entry (seq 1, never announced)."""
    ctx = kit.ctx
    tenant = ctx.tenant_id
    cancelled = 0
    if import_id:
        q = {"tenant_id": tenant, "import_id": import_id}
        for coll in (store.slots, store.holds, store.moves, store.customers, store.unwritten):
            res = coll.delete_many(q)
            if coll is store.moves:
                cancelled = res.deleted_count
        storage.update_hint(store, tenant, owner_id, {"$set": {"slots": []}})  # re-read from the rows next time
        return {"cancelled": cancelled}
    for cid in dict.fromkeys(customer_ids):
        cancelled += drop_entry(store, tenant, cid, owner_id)
    return {"cancelled": cancelled}


def drop_entry(store: Store, tenant: str, customer_id: str, owner_id: str | None) -> bool:
    """Undo an entry whose customer was never written: its slot, read-model row and log row go,
    while it is still at its entry (seq 1 of ``owner_id``, nothing after it)."""
    first = store.moves.find_one({"_id": move_id(customer_id, 1)})
    if first is None or first.get("tenant_id") != tenant or first.get("to_owner_id") != owner_id \
            or store.moves.find_one({"_id": move_id(customer_id, 2)}, {"_id": 1}) is not None:
        return False
    storage.written(store, [customer_id])  # nothing left to wait for
    storage.free_slot(store, tenant, owner_id, customer_id)
    store.customers.delete_one({"_id": customer_id})
    store.moves.delete_one({"_id": move_id(customer_id, 1)})
    return True


def announce_entry(kit: WorkerKit, store: Store, tenant: str, customer_id: str, name: str | None) -> bool:
    """``customer.created`` arrived: the customer exists, so its entry (seq 1 of path entry or
    import) is announced -- once: the event id is the log row's, and the outbox row's unique
    ``_id`` refuses a second staging."""
    doc = store.moves.find_one({"_id": move_id(customer_id, 1)})
    if doc is None or doc.get("tenant_id") != tenant or doc.get("path") not in ANNOUNCED_ON_CREATION:
        return False
    try:
        ev = owner_changed(kit, doc, name, announce_id(tenant, customer_id, 1))
        with kit.change([ev], Check("moves", {"_id": doc["_id"]})):
            pass
    except (DuplicateKeyError, BulkWriteError):  # staged already (a retried handler)
        return False
    return True


def capacity_status(kit: WorkerKit, store: Store, owner_id: str | None = None) -> dict[str, Any]:
    ctx = kit.ctx
    owner = owner_id or ctx.user_id
    rules = storage.load_rules(store, ctx.tenant_id)
    n = len(storage.held(store, ctx.tenant_id, owner))
    return {"owner_id": owner, "held": n, "capacity": rules["capacity"], "free": max(0, rules["capacity"] - n)}


def reserve_check(kit: WorkerKit, store: Store, owner_id: str, adding: int = 1) -> dict[str, Any]:
    """A look at the capacity (no slot is taken): BusinessRule past it, naming how many of
    ``adding`` do not fit (``refused``), as the entry's own refusal does."""
    st = capacity_status(kit, store, owner_id)
    try:
        R.check_capacity(st["held"], st["capacity"], int(adding))
    except BusinessRule as exc:
        raise BusinessRule(exc.code, exc.message, {**exc.details, "refused": min(
            int(adding), st["held"] + int(adding) - st["capacity"])}) from None
    return st


def validate_path(path: Any) -> str:
    if path not in PATHS:
        raise InvalidInput("owner_change.invalid_path", f"path must be one of {', '.join(PATHS)}")
    return str(path)


# ------------------------------------------------------------ what the entrypoints call

def claim_customer(kit: WorkerKit, store: Store, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A claim from the gateway: an approved claim request of the caller for this customer
    lifts the cool-down and the daily limit, and is marked entered once the claim is made."""
    ctx = kit.ctx
    row = storage.get_customer(store, ctx.tenant_id, customer_id)
    approval = requests.approved_for(kit, store, ctx.tenant_id, ctx.user_id, row) if row is not None else None
    out = claim(kit, store, customer_id, data, skip_limits=approval is not None, row=row)
    if approval is not None:
        requests.mark_entered(store, approval)
    return out


def pool_customer(kit: WorkerKit, store: Store, customer_id: str) -> dict[str, Any]:
    """One customer of the caller's tenant: a public one (masked) to anyone, a private one
    to its owner and the overseers; 404 otherwise."""
    ctx = kit.ctx
    row = storage.get_customer(store, ctx.tenant_id, customer_id)
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer")
    mine = row.get("owner_id") == ctx.user_id
    if row.get("owner_id") and not mine and not ctx.has_role("tenant_admin", "all_customers", "support",
                                                               "dept_admin", "system"):
        raise NotFound("pool.customer_not_found", "no such customer")
    return customer_view(row, masked=not row.get("owner_id"))


def capacity_for(kit: WorkerKit, store: Store, identity: Identity, owner_id: str) -> dict[str, Any]:
    """``owner_id``'s private-pool figures, for a caller who may see them (:mod:`pool.access`)."""
    access.require_may_see(kit.ctx, identity, owner_id)
    return capacity_status(kit, store, owner_id)


def change_owner(kit: WorkerKit, store: Store, identity: Identity, cid: str, *, expected: str | None,
                 new: str | None, path: str, reason: str, capacity: str | None, unowned: bool) -> dict[str, Any]:
    """The customers service's ``change_owner``: a release to the public pool records the
    previous owner's department (asked of identity)."""
    path = validate_path(path)
    dept = peers.dept_of(identity, expected) if expected and new is None and path != "delete" else None
    return change(kit, store, cid, expected=expected, new=new, path=path, reason=reason, capacity=capacity,
                  unowned=unowned, dept=dept, deleted_too=path == "restore")


def protection_of(kit: WorkerKit, store: Store, customer_id: str, user_id: str | None) -> dict[str, Any]:
    """Whether ``user_id`` (default: the caller) may take the customer; BusinessRule when protected."""
    ctx = kit.ctx
    row = storage.get_customer(store, ctx.tenant_id, customer_id)
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer")
    rules = storage.load_rules(store, ctx.tenant_id)
    check_protection(row, user_id or ctx.user_id, R.local_day(kit.now()), rules)
    return {"protected": False}


def purge_old_claim_slots(kit: WorkerKit, store: Store) -> None:
    """Old daily claim slots decide nothing; dropping them keeps the refusal path's read small."""
    try:
        before = (R.local_day(kit.now()) - timedelta(days=2)).isoformat()
        storage.purge_claim_slots(store, before)
    except Exception:
        log.exception("pool housekeeping failed; the next run retries")


def seed_holdings(kit: WorkerKit, store: Store, owner_id: str, count: int) -> dict[str, Any]:
    """Test hook: ``count`` capacity slots of ``owner_id`` in the caller's tenant."""
    kit.require_test_hooks()
    return {"held": storage.seed_holdings(store, kit.ctx.tenant_id, owner_id, count, kit.now())}


def set_test_pause(kit: WorkerKit, point: str, seconds: float) -> dict[str, float]:
    kit.require_test_hooks()
    if seconds:
        TEST_PAUSES[str(point)] = float(seconds)
    else:
        TEST_PAUSES.pop(str(point), None)
    return dict(TEST_PAUSES)
