"""Deleting and restoring customers (admin only), and the deleted-customers list.

A delete is soft and audited three ways: the document keeps ``deleted_at``,
``deleted_by`` and ``delete_reason``; the ownership log (the pool's) gets a ``delete`` row
(the insert under ``"<customer_id>:<seq>"`` linearises it with any concurrent owner
change); the timeline gets an entry. Its duplicate keys are released, so another customer may
take the name or the numbers meanwhile.

A restore re-runs the duplicate check by reserving the keys again (409 naming the holder
when another customer took one), brings the customer back to its owner — its previous
owner while they are an active employee, or the one the admin names, else *unowned*
(visible to admins, who reassign it) — takes that owner's private-pool slot under the
exact capacity and logs the ``restore`` row, both in the pool (``pool.change_owner``, which
emits ``customer.owner_changed`` with path ``restore``) — and the timeline. It emits
``customer.restored`` (the facts of ``customer.created``) so read models un-delete it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.clock import iso, parse_iso
from crmkit.context import CallContext
from crmkit.docstore import aware, page_args
from crmkit.errors import Conflict, Forbidden, InvalidInput, NotFound
from crmkit.outbox import Check
from customers import registry, timeline
from customers.peers import Directory
from customers.rules import ADMIN_ROLES
from customers.store import Store, keys_of, new_id

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

MAX_REASON = 500


def _reason(reason: Any) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise InvalidInput("customer.invalid_reason", f"reason: at most {MAX_REASON} characters", {"field": "reason"})
    return reason


def _log(pool: Any, doc: dict[str, Any], to_owner: str | None, path: str, reason: str,
         unowned: bool = False, capacity: str | None = None) -> dict[str, Any]:
    """The next ownership-log row, in the pool (the insert that wins the seq is the change)."""
    res: dict[str, Any] = pool.change_owner(customer_id=doc["_id"], expected_owner_id=doc.get("owner_id"),
                                            new_owner_id=to_owner, path=path, reason=reason, unowned=unowned,
                                            capacity=capacity)
    return {**res, "at": parse_iso(res["at"])}


def delete_customer(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, customer_id: str,
                    reason: str | None = None) -> dict[str, Any]:
    doc = registry.get_visible(store, ctx, d, customer_id)
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("customer.delete_forbidden", "only an admin may delete customers")
    why = _reason(reason)
    row = _log(pool, doc, doc.get("owner_id"), "delete", why, bool(doc.get("unowned")))
    now = row["at"]
    ev = kit.event("customer.deleted", {"customer_id": customer_id, "name": doc["name"],
                                        "owner_id": doc.get("owner_id"), "reason": why, "seq": row["seq"]})
    with kit.change([ev], Check("customers", {"_id": customer_id, "deleted": True})):
        store.customers.update_one({"_id": customer_id, "tenant_id": ctx.tenant_id}, {"$set": {
            "deleted": True, "deleted_at": now, "deleted_by": ctx.user_id, "delete_reason": why,
            "owner_seq": row["seq"], "updated_at": now}})
    store.audit.insert_one({"_id": new_id(), "tenant_id": ctx.tenant_id, "action": "customer.deleted",
                            "customer_id": customer_id, "actor_id": ctx.user_id, "at": now,
                            "reason": why, "snapshot": {"name": doc["name"]}})
    timeline.record(store, ctx.tenant_id, customer_id, "customer.deleted", now, ctx.user_id,
                    "deleted" + (f": {why}" if why else ""), {"reason": why, "owner_id": doc.get("owner_id")},
                    entry_id=ev["event_id"])
    keys = [("name_keys", doc.get("name_key") or "")] + [("phone_keys", n) for n in doc.get("phone_keys") or []]
    store.release_keys(ctx.tenant_id, customer_id, [k for k in keys if k[1]])
    return {"id": customer_id, "deleted": True, "deleted_at": iso(now), "deleted_by": ctx.user_id, "reason": why}


def list_deleted(store: Store, ctx: CallContext, d: Directory, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
    """Deleted customers of the tenant, most recently deleted first (admin only), with
    who deleted them, when and why."""
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("customer.deleted_list_forbidden", "only an admin may list deleted customers")
    pg, size = page_args(page, page_size)
    rows = list(store.customers.find({"tenant_id": ctx.tenant_id, "deleted": True},
                                     {"name": 1, "owner_id": 1, "deleted_at": 1, "deleted_by": 1,
                                      "delete_reason": 1, "created_at": 1}))
    rows.sort(key=lambda r: (aware(r["deleted_at"]) if r.get("deleted_at") else 0, r["_id"]), reverse=True)
    chunk = rows[(pg - 1) * size: pg * size]
    names = d.names([x for r in chunk for x in (r.get("owner_id"), r.get("deleted_by"))])
    items = [{"id": r["_id"], "name": r.get("name"), "owner_id": r.get("owner_id"),
              "owner_name": names.get(r.get("owner_id") or "") or None,
              "deleted_at": iso(r["deleted_at"]) if r.get("deleted_at") else None,
              "deleted_by": r.get("deleted_by"), "deleted_by_name": names.get(r.get("deleted_by") or "") or None,
              "reason": r.get("delete_reason") or ""} for r in chunk]
    return {"items": items, "total": len(rows), "page": pg, "page_size": size}


def restore_customer(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, pool: Any, customer_id: Any,
                     data: Any) -> dict[str, Any]:
    """Bring a deleted customer back (admin only). ``data``: ``reason?``, ``owner_id?``
    (an active employee, or null for unowned; default: the previous owner while active)."""
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("customer.restore_forbidden", "only an admin may restore customers")
    data = data if isinstance(data, dict) else {}
    why = _reason(data.get("reason"))
    doc = store.by_id("customers", str(customer_id)[:64], tenant_id=ctx.tenant_id) \
        if isinstance(customer_id, str) else None
    if doc is None:
        raise NotFound("customer.not_found", "no such customer")
    if not doc.get("deleted"):
        raise Conflict("customer.not_deleted", "the customer is not deleted", {"customer_id": doc["_id"]})
    owner = _restored_owner(d, doc, data)
    now = kit.now()
    name_key, numbers = keys_of(doc)
    try:
        taken = store.reserve_keys(ctx.tenant_id, doc["_id"], name_key, numbers, now)
    except Conflict as exc:  # the duplicate check again: another customer took a key meanwhile
        raise registry.duplicate_error(store, ctx, d, exc) from None
    try:
        row = _log(pool, doc, owner, "restore", why, owner is None, capacity="exact")
    except BaseException:
        store.release_keys(ctx.tenant_id, doc["_id"], taken)
        raise
    restored = {**doc, "owner_id": owner, "owner_seq": row["seq"], "unowned": owner is None}
    events = [kit.event("customer.restored", {**registry.created_facts(restored), "reason": why,
                                              "restored_by": ctx.user_id})]
    fields = {"deleted": False, "restored_at": now, "restored_by": ctx.user_id, "owner_id": owner,
              "owner_seq": row["seq"], "owner_since": now, "unowned": owner is None,
              "shared_with": store.share_targets(ctx.tenant_id, owner), "updated_at": now}
    try:
        with kit.change(events, Check("customers", {"_id": doc["_id"], "deleted": False, "owner_seq": row["seq"]})):
            store.customers.update_one({"_id": doc["_id"]}, {"$set": fields})
    except BaseException:
        store.release_keys(ctx.tenant_id, doc["_id"], taken)
        raise
    timeline.record(store, ctx.tenant_id, doc["_id"], "customer.restored", now, ctx.user_id,
                    "restored" + (f": {why}" if why else ""), {"reason": why, "owner_id": owner},
                    entry_id=events[0]["event_id"])
    return registry.view(store, ctx, {**doc, **fields})


def _restored_owner(d: Directory, doc: dict[str, Any], data: dict[str, Any]) -> str | None:
    if "owner_id" in data:
        new = data["owner_id"]
        if new is None:
            return None
        if not isinstance(new, str) or not new or len(new) > 64:
            raise InvalidInput("customer.invalid", "owner_id: an employee id or null", {"field": "owner_id"})
        d.require_employees([new], "owner_id")
        return new
    previous = doc.get("owner_id")
    if previous is None:
        return None
    e = d.employees([previous]).get(previous)
    return previous if e is not None and e.get("status") == "joined" else None
