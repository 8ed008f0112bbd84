"""Timeline (业务往来) entries and contact notes (联系小计)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.docstore import aware
from crmkit.errors import InvalidInput
from customers.rules import MAX_TEXT, Problems, clean_text
from customers.store import Store, new_id

NOTE_KINDS = ("call", "message", "meeting", "visit", "other")


def record(store: Store, tenant_id: str, customer_id: str, kind: str, at: datetime, actor_id: str | None,
           summary: str, data: dict[str, Any] | None = None, entry_id: str | None = None) -> None:
    """One entry; ``entry_id`` (an event id) makes a repeat a no-op."""
    try:
        store.timeline.insert_one({"_id": entry_id or new_id(), "tenant_id": tenant_id,
                                   "customer_id": customer_id, "kind": kind, "at": at, "actor_id": actor_id,
                                   "summary": summary, "data": data or {}})
    except DuplicateKeyError:
        pass


def tag_change_summary(before: list[str], after: list[str], labels: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Which tags were set and which removed, by name ("group / tag"; an unknown id as itself)."""
    added = [t for t in after if t not in before]
    removed = [t for t in before if t not in after]
    parts = [f"+{labels.get(t, t)}" for t in added] + [f"-{labels.get(t, t)}" for t in removed]
    data = {"added": [{"id": t, "label": labels.get(t, t)} for t in added],
            "removed": [{"id": t, "label": labels.get(t, t)} for t in removed]}
    return "tags: " + (", ".join(parts) or "unchanged"), data


def record_tags(store: Store, tenant_id: str, customer_id: str, at: datetime, actor_id: str | None,
                before: list[str], after: list[str], labels: dict[str, str], entry_id: str) -> None:
    summary, data = tag_change_summary(before, after, labels)
    record(store, tenant_id, customer_id, "customer.tags_changed", at, actor_id, summary, data, entry_id=entry_id)


def entry_from_event(env: dict[str, Any]) -> dict[str, Any] | None:
    """Timeline entry for another service's event that names a customer (visits, pool)."""
    data = env.get("data") or {}
    cid = data.get("customer_id")
    if not cid:
        return None
    kind = str(env.get("type", "event"))
    summary = {
        "visit.checked_in": "checked in", "visit.completed": "visit completed with notes",
        "visit.planned": "visit planned", "pool.claimed": "claimed from the public pool",
        "pool.released": "released to the public pool", "pool.reclaimed": "reclaimed to the public pool",
    }.get(kind, kind)
    keep = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | type(None))}
    return {"customer_id": str(cid), "kind": kind, "summary": summary, "data": keep}


def list_entries(store: Store, tenant_id: str, customer_id: str, page: int, size: int) -> dict[str, Any]:
    rows = list(store.timeline.find({"tenant_id": tenant_id, "customer_id": customer_id}))
    rows.sort(key=lambda r: (aware(r["at"]), r["_id"]), reverse=True)
    total = len(rows)
    chunk = rows[(page - 1) * size: page * size]
    return {"items": [{"id": r["_id"], "kind": r["kind"], "at": iso(r["at"]), "actor_id": r.get("actor_id"),
                       "summary": r.get("summary", ""), "data": r.get("data") or {}} for r in chunk],
            "total": total, "page": page, "page_size": size}


def validate_note(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("contact_note.invalid", "note must be an object")
    p = Problems()
    kind = data.get("kind") or "call"
    if kind not in NOTE_KINDS:
        p.add("kind", "invalid", f"one of {', '.join(NOTE_KINDS)}")
    content = clean_text(p, "content", data.get("content"), max_len=MAX_TEXT * 4, required=True)
    contact_id = data.get("contact_id")
    if contact_id is not None and not isinstance(contact_id, str):
        p.add("contact_id", "type", "must be a string")
    p.raise_if_any("contact_note.invalid")
    return {"kind": kind, "content": content, "contact_id": contact_id}
