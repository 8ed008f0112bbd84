"""Contact notes (联系小计) of a customer: logged with their event, listed newest first."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.context import CallContext
from crmkit.docstore import page_args
from crmkit.outbox import Check
from customers import contacts, registry, timeline
from customers.peers import Directory
from customers.store import Store, new_id

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit


def add_contact_note(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str, data: Any
                     ) -> dict[str, Any]:
    doc = registry.get_visible(store, ctx, d, customer_id)
    note = timeline.validate_note(data)
    contacts.require_note_contact(store, ctx, d, customer_id, note["contact_id"])
    now = kit.now()
    nid = new_id()
    row = {"_id": nid, "tenant_id": ctx.tenant_id, "customer_id": customer_id, **note, "author_id": ctx.user_id,
           "at": now}
    ev = kit.event("customer.contact_noted", {"customer_id": customer_id, "note_id": nid,
                                              "owner_id": doc.get("owner_id"), "at": now.isoformat(),
                                              "kind": note["kind"]})
    with kit.change([ev], Check("contact_notes", {"_id": nid})):
        store.contact_notes.insert_one(row)
    timeline.record(store, ctx.tenant_id, customer_id, "customer.contact_noted", now, ctx.user_id,
                    f"contact note ({note['kind']})", {"note_id": nid, "content": note["content"][:200]},
                    entry_id=ev["event_id"])
    return {"id": nid, "customer_id": customer_id, **note, "author_id": ctx.user_id, "at": now.isoformat()}


def list_contact_notes(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str, page: Any,
                       page_size: Any) -> dict[str, Any]:
    registry.get_visible(store, ctx, d, customer_id)
    pg, size = page_args(page, page_size)
    rows = store.notes_of(ctx.tenant_id, customer_id)
    items = [{"id": r["_id"], "customer_id": customer_id, "kind": r["kind"], "content": r["content"],
              "contact_id": r.get("contact_id"), "author_id": r["author_id"], "at": r["at"].isoformat()}
             for r in rows[(pg - 1) * size: pg * size]]
    return {"items": items, "total": len(rows), "page": pg, "page_size": size}


def customer_timeline(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str, page: Any,
                      page_size: Any) -> dict[str, Any]:
    """Newest first; for admins also of a deleted customer (who deleted it, when, why)."""
    registry.get_audited(store, ctx, d, customer_id)
    pg, size = page_args(page, page_size)
    return timeline.list_entries(store, ctx.tenant_id, customer_id, pg, size)
