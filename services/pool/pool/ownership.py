"""Claim, release and assignment, and the read model's view of every ownership change.

Ownership itself belongs to the customers service: every change here is one
``customers.change_owner(customer_id, expected_owner_id, new_owner_id, path, reason)``,
linearised there. What the pool linearises itself is capacity (one slot insert under a
unique ``_id`` per customer held) and the daily claim limit (one claim-slot insert per
claim); a lost race frees both.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from crmkit.outbox import Check
from pool import access, dbtrace, store
from pool import rules as R

log = logging.getLogger(__name__)

POOL_EVENT_BY_PATH = {"claim": "pool.claimed", "release": "pool.released", "reclaim": "pool.reclaimed"}
ACTIVITY_BY_PATH = {"entry": "entry", "import": "entry", "claim": "claim"}
ASSIGNERS = ("support", "tenant_admin")


def _winner(details: dict[str, Any]) -> str | None:
    for key in ("winner_id", "owner_id", "current_owner_id", "to_owner_id", "new_owner_id"):
        if details.get(key):
            return str(details[key])
    win = details.get("winner")
    if isinstance(win, dict):
        return _winner(win)
    return str(win) if win else None


def _winner_from_read_model(db: Any, customer_id: str, wait: float = 3.0) -> str | None:
    """The winner when customers' Conflict does not name it: the winning claim writes the
    read model right after its change, so it shows up within moments."""
    deadline = time.monotonic() + wait
    while True:
        row = db.customers.find_one({"_id": customer_id}, {"owner_id": 1}) or {}
        if row.get("owner_id") or time.monotonic() > deadline:
            return row.get("owner_id")
        time.sleep(0.05)


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


# ------------------------------------------------------------------ the read model

def apply_owner_change(kit: Any, tenant_id: str, customer_id: str, *, from_owner: str | None,
                       to_owner: str | None, path: str, seq: int | None, at: datetime, actor_id: str,
                       reason: str = "", dept_of: Callable[[str], str | None] | None = None,
                       slot_taken: bool = False, new_move: bool = False) -> dict[str, Any] | None:
    """Apply one ownership change (from the event or from our own call's answer):
    idempotent per (customer, seq); older changes never overwrite newer ones.
    ``slot_taken``: the caller holds ``to_owner``'s capacity slot for this customer
    already; ``new_move``: the caller just won ``seq`` (skip the log's pre-check).
    Returns the row as written (None when the change was not newer)."""
    db = kit.db
    if seq is not None and not new_move:
        # cheap pre-check without the lock: an applied change is never undone (seq only grows)
        seen = db.customers.find_one({"_id": customer_id}, {"seq": 1})
        if seen is not None and seen.get("seq") is not None and int(seen["seq"]) >= int(seq):
            record_move(kit, tenant_id, customer_id, from_owner=from_owner, to_owner=to_owner, path=path,
                        seq=seq, at=at, actor_id=actor_id, reason=reason)
            return None
    dept = dept_of(from_owner) if (dept_of and from_owner and not to_owner) else None
    written = None
    with store.row_lock(db, customer_id):
        row = db.customers.find_one({"_id": customer_id}) or {}
        newer = seq is None or row.get("seq") is None or int(seq) > int(row["seq"])
        if newer:
            written = _apply(db, tenant_id, customer_id, row, from_owner, to_owner, path, seq, at, reason, dept,
                             slot_taken)
    record_move(kit, tenant_id, customer_id, from_owner=from_owner, to_owner=to_owner, path=path, seq=seq,
                at=at, actor_id=actor_id, reason=reason, known_new=new_move)
    return written


def _apply(db: Any, tenant_id: str, customer_id: str, row: dict[str, Any], from_owner: str | None,
           to_owner: str | None, path: str, seq: int | None, at: datetime, reason: str, dept: str | None,
           slot_taken: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"owner_id": to_owner, "private": to_owner is not None, "seq": seq, "last_path": path}
    if to_owner:
        fields.update({"entered_at": at, "epoch": seq})
    else:
        fields.update({"entered_at": None, "released_at": at, "released_by": from_owner, "release_reason": reason,
                       "released_path": path, "prev_owner_dept_id": dept})
    if row.get("name_fix_by") and to_owner != row.get("name_fix_owner"):
        fields.update({k: None for k in store.NAME_FIX_FIELDS})  # the name obligation was the requester's
    rules = store.load_rules(db, tenant_id)
    fields.update(store.reclaim_fields({**row, **fields}, rules))  # one write: readers never see half
    store.upsert_customer(db, customer_id, tenant_id, fields, on_insert={"deleted": False})
    if from_owner and from_owner != to_owner:
        store.free_slot(db, tenant_id, from_owner, customer_id)
    if to_owner and not slot_taken:
        store.take_slot(db, tenant_id, to_owner, customer_id, rules["capacity"], at, overflow=True)
    out = {"deleted": False, **row, **fields, "tenant_id": tenant_id}
    out["_id"] = customer_id
    return out


def record_move(kit: Any, tenant_id: str, customer_id: str, *, from_owner: str | None, to_owner: str | None,
                path: str, seq: int | None, at: datetime, actor_id: str, reason: str, known_new: bool = False) -> bool:
    """Log the move once (unique ``customer:seq``); the insert that wins emits the pool event."""
    if seq is None:
        return False
    db = kit.db
    move_id = f"{customer_id}:{seq}"
    if not known_new and db.moves.find_one({"_id": move_id}, {"_id": 1}) is not None:
        return False  # already logged (cheap check before staging an event that would be aborted)
    doc = {"_id": move_id, "tenant_id": tenant_id, "customer_id": customer_id, "from_owner_id": from_owner,
           "to_owner_id": to_owner, "path": path, "seq": seq, "at": at, "actor_id": actor_id, "reason": reason,
           "day": R.local_day(at).isoformat()}
    etype = POOL_EVENT_BY_PATH.get(path)
    events = []
    if etype:
        events.append(kit.event(etype, {"customer_id": customer_id, "from_owner_id": from_owner,
                                        "to_owner_id": to_owner, "reason": reason, "seq": seq, "at": iso(at)},
                                tenant_id=tenant_id, actor_id=actor_id))
    try:
        with kit.change(events, Check("moves", {"_id": move_id})):
            db.moves.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True  # the move is also the targets' actual (search.daily_targets): no separate activity row


# ------------------------------------------------------------------------ commands

# Test hooks only (``_test_pause``): sleep at a named point of a command, to make a
# race that real timing produces only rarely happen every time in a test.
TEST_PAUSES: dict[str, float] = {}


def test_pause(point: str) -> None:
    seconds = TEST_PAUSES.get(point)
    if seconds:
        time.sleep(seconds)


def _change_owner(customers: Any, customer_id: str, expected: str | None, new: str | None, path: str,
                  reason: str) -> dict[str, Any]:
    with dbtrace.section("customers.change_owner"):
        res = customers.change_owner(customer_id=customer_id, expected_owner_id=expected, new_owner_id=new,
                                     path=path, reason=reason)
    return res if isinstance(res, dict) else {}


def _seq(res: dict[str, Any]) -> int | None:
    seq = res.get("seq")
    return int(seq) if seq is not None else None


def claim(kit: Any, customers: Any, customer_id: str, data: dict[str, Any] | None = None,
          *, path: str = "claim", skip_limits: bool = False) -> dict[str, Any]:
    """Every database access here is keyed by a string ``_id`` (see store: the only
    filter FerretDB pushes down): the read-model row, the owner's hint, the claim-slot,
    capacity-slot and hold inserts, one hint write, then the customers call and the
    read-model write under the row lock."""
    ctx = kit.ctx
    db, now, tenant, user = kit.db, kit.now(), ctx.tenant_id, ctx.user_id
    cid = str(customer_id)
    reason = _reason(data, required=False) or "claim"
    row = store.get_customer(db, tenant, cid)
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer")
    if row.get("owner_id") == user:
        return customer_view(row, masked=False)
    if row.get("owner_id"):
        raise Conflict("pool.already_claimed", "this customer is already in someone's private pool",
                       {"winner_id": row["owner_id"]})
    rules = store.load_rules(db, tenant)
    today = R.local_day(now)
    check_protection(row, user, today, rules)
    if not skip_limits:
        R.check_cooldown(user, row.get("released_by"), store.to_dt(row.get("released_at")), now,
                         rules["cooldown_days"])
    hint = store.read_hint(db, tenant, user)
    claim_slot = None if skip_limits else store.take_claim_slot(
        db, tenant, user, today.isoformat(), cid, rules["daily_claim_limit"], now, hint=hint)
    try:
        slot, took = store.take_slot(db, tenant, user, cid, rules["capacity"], now, hint=hint, record_hint=False)
    except BaseException:
        if claim_slot:
            store.free_claim_slot(db, tenant, user, claim_slot)
        raise
    store.hint_after_claim(db, tenant, user, hint, claim_slot, slot if took else None)

    def undo() -> None:
        if took:
            store.free_slot(db, tenant, user, cid)
        if claim_slot:
            store.free_claim_slot(db, tenant, user, claim_slot)
    test_pause("claim.after_hold" if took else "claim.after_slot")
    try:
        res = _change_owner(customers, cid, None, user, path, reason)
    except Conflict as exc:
        winner = _winner(exc.details) or _winner_from_read_model(db, cid)
        if winner == user:
            # A parallel claim (or assignment) of the same customer to the same person won.
            # The one hold of (owner, customer) -- ours or the winner's -- is the slot the
            # winner relies on: keep it. Only our daily claim slot goes (one claim counts).
            if claim_slot:
                store.free_claim_slot(db, tenant, user, claim_slot)
            view = customer_view(store.get_customer(db, tenant, cid) or row, masked=False)
            view.update({"owner_id": user, "pool": "private"})
            return view
        undo()
        raise Conflict("pool.claim_lost", f"already claimed by {winner}" if winner else "already claimed",
                       {**exc.details, "winner_id": winner}) from None
    except BaseException:
        undo()
        raise
    seq = _seq(res)
    out = None
    if seq is not None:
        out = apply_owner_change(kit, tenant, cid, from_owner=None, to_owner=user, path=path, seq=seq,
                                 at=now, actor_id=user, reason=reason, slot_taken=took, new_move=True)
        if out is None:  # the owner_changed event was applied first (or a newer change): read it
            out = store.get_customer(db, tenant, cid)
    view = customer_view(out or row, masked=False)
    view.update({"owner_id": user, "pool": "private"})
    return view


def check_protection(row: dict[str, Any], user: str, today: Any, rules: dict[str, Any]) -> None:
    prot = R.protection_at(store.to_date(row.get("contract_start")), store.to_date(row.get("contract_end")),
                           today, rules)
    if prot.protected and row.get("protected_for") != user:
        until = prot.until.isoformat() if prot.until else None
        raise BusinessRule("pool.protected", f"this customer is protected until {until}",
                           {"until": until, "phase": prot.phase})


def release(kit: Any, customers: Any, customer_id: str, data: dict[str, Any] | None) -> dict[str, Any]:
    ctx = kit.ctx
    db, now, tenant, user = kit.db, kit.now(), ctx.tenant_id, ctx.user_id
    reason = _reason(data, required=True)
    row = store.get_customer(db, tenant, str(customer_id))
    if row is None or row.get("owner_id") != user:
        raise NotFound("pool.customer_not_found", "no such customer in your private pool")
    res = _change_owner(customers, str(customer_id), user, None, "release", reason)
    seq = _seq(res)
    if seq is not None:
        apply_owner_change(kit, tenant, str(customer_id), from_owner=user, to_owner=None, path="release",
                           seq=seq, at=now, actor_id=user, reason=reason, dept_of=lambda _o: _dept(ctx),
                           new_move=True)
    return {"id": str(customer_id), "pool": "public", "released_at": iso(now), "reason": reason}


def _dept(ctx: Any) -> str | None:
    return ctx.dept_ids[0] if ctx.dept_ids else None


def assign(kit: Any, customers: Any, identity: Any, customer_id: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """Direct assignment by support or the tenant admin: the customer must be the tenant's
    (404) and the new owner an active employee of the tenant (404 unknown, 422 inactive)."""
    ctx = kit.ctx
    if not ctx.has_role(*ASSIGNERS):
        raise Forbidden("pool.assign_forbidden", "only sales support or the tenant admin may assign")
    db, now, tenant = kit.db, kit.now(), ctx.tenant_id
    data = data or {}
    owner = data.get("owner_id")
    if not isinstance(owner, str) or not owner or len(owner) > 128:
        raise InvalidInput("pool.owner_required", "owner_id is required",
                           {"field": "owner_id", "fields": {"owner_id": "required"}})
    reason = _reason(data, required=False) or "assign"
    row = store.get_customer(db, tenant, str(customer_id))
    if row is None:
        raise NotFound("pool.customer_not_found", "no such customer", {"customer_id": str(customer_id)})
    access.require_active_employee(identity, owner)
    if row.get("owner_id") == owner:
        return customer_view(row, masked=False)
    rules = store.load_rules(db, tenant)
    _slot, took = store.take_slot(db, tenant, owner, str(customer_id), rules["capacity"], now)
    try:
        res = _change_owner(customers, str(customer_id), row.get("owner_id"), owner, "assign", reason)
    except BaseException:
        if took:
            store.free_slot(db, tenant, owner, str(customer_id))
        raise
    seq = _seq(res)
    out = None
    if seq is not None:
        out = apply_owner_change(kit, tenant, str(customer_id), from_owner=row.get("owner_id"), to_owner=owner,
                                 path="assign", seq=seq, at=now, actor_id=ctx.user_id, reason=reason,
                                 slot_taken=took, new_move=True)
    out = out or store.get_customer(db, tenant, str(customer_id)) or row
    return customer_view(out, masked=False)


def capacity_status(kit: Any, owner_id: str | None = None) -> dict[str, Any]:
    ctx = kit.ctx
    owner = owner_id or ctx.user_id
    rules = store.load_rules(kit.db, ctx.tenant_id)
    n = len(store.held(kit.db, ctx.tenant_id, owner))
    return {"owner_id": owner, "held": n, "capacity": rules["capacity"], "free": max(0, rules["capacity"] - n)}


def reserve_check(kit: Any, owner_id: str, adding: int = 1) -> dict[str, Any]:
    """For the customers service before an entry/import: refuse past the capacity."""
    st = capacity_status(kit, owner_id)
    R.check_capacity(st["held"], st["capacity"], int(adding))
    return st
