"""Ownership as the customers service sees it: who may move a customer (visibility and
roles, checked here), a copy of the owner on the customer document, sharing and
department assignment (visibility, not ownership).

The ownership log and every move live in the **pool** service (``pool.change_owner``,
``pool.enter``): the log insert that wins ``seq`` is the change, and the pool emits
``customer.owner_changed``. The copy here (``owner_id``, ``owner_seq``, ``owner_since``,
``unowned``) is written from the pool's answer for the caller's own moves (read your
writes) and from ``customer.owner_changed`` for every move (claims, releases, reclaims),
each only when its ``seq`` is newer than the copy's.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crmkit.clock import parse_iso
from crmkit.context import CallContext
from crmkit.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers import access, inputs, registry, timeline
from customers.peers import Directory, check_employees
from customers.rules import ADMIN_ROLES
from customers.store import Store

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

PATHS = ("entry", "claim", "release", "transfer", "assign", "import", "handover", "reclaim")
MANAGER_ROLES = ("tenant_admin", "support", "system", "operator")


def authorise(ctx: CallContext, d: Directory, doc: dict[str, Any], expected: str | None, new: str | None,
              path: str) -> None:
    if ctx.has_role(*MANAGER_ROLES):
        return
    scope = d.scope()
    if path == "claim" and expected is None and new == ctx.user_id:
        if doc.get("owner_id") is None:
            return
        raise Conflict("customer.owner_mismatch", "the customer was claimed meanwhile",
                       {"customer_id": doc["_id"], "seq": doc.get("owner_seq")})
    if not access.sees_customer(ctx, d, doc):
        raise NotFound("customer.not_found", "no such customer")
    if path == "release" and expected == ctx.user_id and new is None:
        return
    if ctx.has_role("dept_admin") and (new is None or new in set(scope.get("user_ids") or ())):
        return
    raise Forbidden("customer.owner_change_forbidden", "you may not move this customer")


def change_owner(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, customer_id: str,
                 expected_owner_id: str | None, new_owner_id: str | None, path: str, reason: str | None = None,
                 *, unowned: bool = False, check_rights: bool = True, owner_checked: bool = False,
                 capacity: str | None = None) -> dict[str, Any]:
    """Move the customer to ``new_owner_id`` (None: public pool, or unowned with
    ``unowned``): the rights are checked here, the move is the pool's. A new owner other
    than the caller must be an active employee of the tenant (404/422, asked of identity
    once; ``owner_checked`` when the caller did so for a batch) — no customer ever ends up
    owned by a non-employee. ``capacity``: the pool's rule for the new owner (``exact`` for a
    claim; default ``overflow``, an admin's move never fails on it)."""
    if path not in PATHS:
        raise InvalidInput("owner_change.invalid_path", f"path must be one of {', '.join(PATHS)}")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise InvalidInput("owner_change.invalid_reason", "reason: at most 500 characters")
    if not isinstance(customer_id, str) or len(customer_id) > 64:
        raise NotFound("customer.not_found", "no such customer")
    doc = store.load(ctx.tenant_id, customer_id)
    if check_rights:
        authorise(ctx, d, doc, expected_owner_id, new_owner_id, path)
        if new_owner_id is not None and new_owner_id != ctx.user_id and not owner_checked:
            d.require_employees([new_owner_id], "new_owner_id")
    if capacity is None:
        capacity = "exact" if path == "claim" else "overflow"
    res = pool.change_owner(customer_id=customer_id, expected_owner_id=expected_owner_id,
                            new_owner_id=new_owner_id, path=path, reason=reason or "", unowned=unowned,
                            capacity=capacity)
    apply_change(store, ctx.tenant_id, res, ctx.user_id, parse_iso(res["at"]), res["event_id"])
    return {k: res[k] for k in ("customer_id", "from_owner_id", "to_owner_id", "seq", "path", "at")}


#: paths whose timeline entry is written by the operation itself (entered, imported, restored)
OWN_TIMELINE = ("entry", "import", "restore", "delete")


def apply_change(store: Store, tenant_id: str, change: dict[str, Any], actor_id: str, at: datetime,
                 event_id: str) -> bool:
    """Bring the copy of the owner up to the move ``change`` (the pool's answer, or the data of
    ``customer.owner_changed``) when its ``seq`` is newer, and note it in the timeline once
    (keyed by the event id). Returns whether the copy changed."""
    cid, seq, new = str(change["customer_id"]), int(change["seq"]), change.get("to_owner_id")
    if change.get("path") == "delete":
        return False
    doc = store.customers.find_one({"_id": cid}, {"owner_seq": 1, "tenant_id": 1})
    if doc is None or doc.get("tenant_id") != tenant_id or int(doc.get("owner_seq") or 0) >= seq:
        return False
    store.customers.update_one({"_id": cid, "owner_seq": doc.get("owner_seq")}, {"$set": {
        "owner_id": new, "owner_seq": seq, "owner_since": at, "unowned": bool(change.get("unowned")),
        "shared_with": store.share_targets(tenant_id, new), "updated_at": at}})
    if change.get("path") not in OWN_TIMELINE:
        path, reason = change.get("path"), change.get("reason") or ""
        timeline.record(store, tenant_id, cid, "customer.owner_changed", at, actor_id,
                        f"owner changed ({path})", {"from_owner_id": change.get("from_owner_id"),
                                                    "to_owner_id": new, "path": path, "reason": reason},
                        entry_id=event_id)
    return True


def existing(store: Store, ctx: CallContext, ids: list[str]) -> dict[str, Any]:
    """For the pool's sweep of entries whose customer was never written (``pool.enter`` ran, then
    this service died before its write): which of ``ids`` have a record. Services only."""
    if not ctx.has_role("system"):
        raise Forbidden("customers.services_only", "only services ask which customers exist")
    return {"existing": store.existing_ids(ctx.tenant_id, ids)}


def on_owner_changed(store: Store, env: dict[str, Any]) -> None:
    """``customer.owner_changed`` from the pool: every move reaches the copy."""
    data = env.get("data") or {}
    if not data.get("customer_id") or data.get("seq") is None:
        return
    apply_change(store, env["tenant_id"], data, env.get("actor_id") or "system", parse_iso(env["occurred_at"]),
                 env["event_id"])


def share_all(kit: WorkerKit, store: Store, ctx: CallContext, from_owner_id: str, to_user_ids: list[str]
              ) -> dict[str, Any]:
    """Share all of A's customers (now and later) with each B."""
    if not isinstance(from_owner_id, str) or not from_owner_id:
        raise InvalidInput("share.invalid", "from_owner_id is required")
    if not isinstance(to_user_ids, list) or not to_user_ids or len(to_user_ids) > 100 or \
            not all(isinstance(u, str) and u for u in to_user_ids):
        raise InvalidInput("share.invalid", "to_user_ids: a list of 1-100 employee ids")
    targets = [u for u in dict.fromkeys(to_user_ids) if u != from_owner_id]
    now = kit.now()
    for u in targets:
        store.share_rules.replace_one({"_id": f"{ctx.tenant_id}|{from_owner_id}|{u}"}, {
            "_id": f"{ctx.tenant_id}|{from_owner_id}|{u}", "tenant_id": ctx.tenant_id,
            "from_owner_id": from_owner_id, "to_user_id": u, "at": now, "actor_id": ctx.user_id}, upsert=True)
    ids = _apply_shares(store, ctx, from_owner_id)
    ev = kit.event("customer.shared", {"from_owner_id": from_owner_id, "to_user_ids": targets,
                                       "customer_ids": ids[:1000], "count": len(ids)})
    kit.emit(ev)
    for cid in ids:
        timeline.record(store, ctx.tenant_id, cid, "customer.shared", now, ctx.user_id,
                        "shared with colleagues", {"to_user_ids": targets}, entry_id=f"{ev['event_id']}:{cid}")
    return {"from_owner_id": from_owner_id, "to_user_ids": targets, "customers": len(ids)}


def unshare(store: Store, ctx: CallContext, from_owner_id: str, to_user_ids: list[str]) -> dict[str, Any]:
    if not isinstance(to_user_ids, list) or not all(isinstance(u, str) for u in to_user_ids):
        raise InvalidInput("share.invalid", "to_user_ids: a list of employee ids")
    for u in to_user_ids:
        store.share_rules.delete_one({"_id": f"{ctx.tenant_id}|{from_owner_id}|{u}"})
    ids = _apply_shares(store, ctx, from_owner_id)
    return {"from_owner_id": from_owner_id, "removed": to_user_ids, "customers": len(ids)}


def _apply_shares(store: Store, ctx: CallContext, owner_id: str) -> list[str]:
    targets = store.share_targets(ctx.tenant_id, owner_id)
    ids = [r["_id"] for r in store.customers.find({"tenant_id": ctx.tenant_id, "owner_id": owner_id,
                                                    "deleted": False}, {"_id": 1})]
    if ids:
        store.customers.update_many({"tenant_id": ctx.tenant_id, "owner_id": owner_id, "deleted": False},
                                    {"$set": {"shared_with": targets}})
    return ids


def share(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, data: Any) -> dict[str, Any]:
    """Share all of A's customers (``from_owner_id``, default the caller) with each B, or
    drop those shares (``unshare``). A must be an employee of the tenant, each B an active
    one (unsharing may name a departed B); one identity call for all of them."""
    data = data if isinstance(data, dict) else {}
    frm = data.get("from_owner_id") or ctx.user_id
    if not isinstance(frm, str) or len(frm) > 64:
        raise InvalidInput("share.invalid", "from_owner_id: an employee id")
    if not (ctx.has_role(*ADMIN_ROLES) or frm == ctx.user_id or
            (ctx.has_role("dept_admin") and frm in d.scope().get("user_ids", []))):
        raise Forbidden("share.forbidden", "you may share only your own customers")
    to = data.get("to_user_ids")
    if not isinstance(to, list) or not to or len(to) > 100 or not all(isinstance(u, str) and u for u in to):
        raise InvalidInput("share.invalid", "to_user_ids: a list of 1-100 employee ids")
    found = d.employees([frm, *to])
    check_employees(found, [frm], "from_owner_id", active=False)
    check_employees(found, to, "to_user_ids", active=not data.get("unshare"))
    if data.get("unshare"):
        return unshare(store, ctx, frm, to)
    return share_all(kit, store, ctx, frm, to)


def assign_departments(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, docs: list[dict[str, Any]],
                       dept_ids: Any, assign: bool) -> dict[str, Any]:
    """Assign (or unassign) the customers ``docs`` (visible to the caller) to departments.
    Every department must exist in the tenant (404 ``department.not_found``) and, for a
    department admin, lie in their subtree (403 ``departments.outside_scope``). Assignment
    makes the customer visible to the department admins over that department (see
    ``access``), never to its plain members."""
    if not ctx.has_role(*ADMIN_ROLES, "dept_admin"):
        raise Forbidden("departments.forbidden", "only an admin may assign departments")
    if not docs or len(docs) > 1000:
        raise InvalidInput("departments.invalid", "customer_ids: a list of 1-1000 ids")
    if not isinstance(dept_ids, list) or not dept_ids or len(dept_ids) > 100 or \
            not all(isinstance(x, str) and x for x in dept_ids):
        raise InvalidInput("departments.invalid", "dept_ids: a list of 1-100 department ids")
    known = d.departments()
    missing = [x for x in dict.fromkeys(dept_ids) if x not in known]
    if missing:
        raise NotFound("department.not_found", "dept_ids: no such department in this organisation",
                       {"field": "dept_ids", "ids": missing[:50]})
    allowed = d.dept_scope()
    outside = [x for x in dict.fromkeys(dept_ids) if allowed is not None and x not in allowed]
    if outside:
        raise Forbidden("departments.outside_scope", "dept_ids: a department admin assigns only to departments of "
                        "their own subtree", {"field": "dept_ids", "ids": outside[:50]})
    now = kit.now()
    if assign:  # before any customer carries the departments: list filters find them (access)
        store.mark_assigned_depts(ctx.tenant_id, dept_ids, now)
    for doc in docs:
        current = list(doc.get("dept_ids") or [])
        new = list(dict.fromkeys(current + dept_ids)) if assign else [x for x in current if x not in dept_ids]
        store.customers.update_one({"_id": doc["_id"]}, {"$set": {"dept_ids": new, "updated_at": now}})
        names = [known[x].get("name") or x for x in dept_ids]
        timeline.record(store, ctx.tenant_id, doc["_id"], "customer.departments", now, ctx.user_id,
                        ("departments assigned: " if assign else "departments unassigned: ") + ", ".join(names),
                        {"dept_ids": new, "changed": list(dept_ids)})
    return {"customers": len(docs), "dept_ids": dept_ids, "assigned": assign}


def handover(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, employee_id: str,
             handover_to: str | None) -> dict[str, Any]:
    """Departure: the leaver's customers and contacts go to ``handover_to`` or become unowned."""
    moved = 0
    for doc in list(store.customers.find({"tenant_id": ctx.tenant_id, "owner_id": employee_id,
                                          "deleted": False}, {"_id": 1})):
        try:
            change_owner(kit, store, ctx, d, pool, doc["_id"], employee_id, handover_to, "handover",
                         "employee left", unowned=handover_to is None, check_rights=False)
            moved += 1
        except Conflict:
            continue  # moved meanwhile by someone else: that change stands
    contacts = store.contacts.update_many(
        {"tenant_id": ctx.tenant_id, "owner_id": employee_id, "deleted": False},
        {"$set": {"owner_id": handover_to, "unowned": handover_to is None, "updated_at": kit.now()}})
    store.share_rules.delete_many({"tenant_id": ctx.tenant_id, "from_owner_id": employee_id})
    return {"customers": moved, "contacts": contacts.modified_count, "to_owner_id": handover_to}


def transfer(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, customer_id: str, data: Any
             ) -> dict[str, Any]:
    """Admin/dept-admin transfer to a new owner (expected owner = the current one)."""
    doc = registry.get_visible(store, ctx, d, customer_id)
    new = (data or {}).get("new_owner_id")
    if not isinstance(new, str) or not new:
        raise InvalidInput("transfer.invalid", "new_owner_id is required")
    return change_owner(kit, store, ctx, d, pool, customer_id, doc.get("owner_id"), new, "transfer",
                        (data or {}).get("reason"))


def bind(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, data: dict[str, Any]
         ) -> dict[str, Any]:
    """Bind (owner_id given: path assign) or unbind (owner_id null: back to the public pool)."""
    ids = inputs.ids(data.get("customer_ids"))
    if not ids:
        raise InvalidInput("bind.invalid", "customer_ids is required")
    new = data.get("owner_id")
    if new is not None and (not isinstance(new, str) or not new):
        raise InvalidInput("bind.invalid", "owner_id: an employee id or null")
    if not ctx.has_role(*MANAGER_ROLES, "dept_admin"):
        raise Forbidden("bind.forbidden", "only an admin may bind customers")
    docs = [registry.get_visible(store, ctx, d, cid) for cid in ids]  # every id first: 404 moves nothing
    if new is not None:
        d.require_employees([new], "owner_id")
    results = [change_owner(kit, store, ctx, d, pool, doc["_id"], doc.get("owner_id"), new,
                            "assign" if new else "release", data.get("reason"), owner_checked=True)
               for doc in docs]
    return {"changed": len(results), "results": results}


def history(store: Store, ctx: CallContext, d: Directory, pool: Any, customer_id: str) -> list[dict[str, Any]]:
    """The ownership log (the pool's); for admins also of a deleted customer (its delete is logged)."""
    registry.get_audited(store, ctx, d, customer_id)
    rows: list[dict[str, Any]] = pool.ownership_history(customer_id=customer_id)
    return rows


def assign_departments_of(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, data: dict[str, Any]
                          ) -> dict[str, Any]:
    """``assign_departments`` of the customers ``data["customer_ids"]`` names (each visible to the caller)."""
    if not ctx.has_role(*ADMIN_ROLES, "dept_admin"):
        raise Forbidden("departments.forbidden", "only an admin may assign departments")
    docs = [registry.get_visible(store, ctx, d, cid) for cid in inputs.ids(data.get("customer_ids"))]
    return assign_departments(kit, store, ctx, d, docs, data.get("dept_ids"), not data.get("unassign"))
