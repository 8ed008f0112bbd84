"""The events this service handles (what each ``@subscribe`` in ``service.py`` calls)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.clock import parse_iso
from customers import ownership, timeline
from customers.peers import Directory
from customers.store import Store

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit


def employee_left(kit: WorkerKit, store: Store, identity: Any, pool: Any, event: dict[str, Any]) -> None:
    """An employee left: their customers are handed over (or go back to the public pool)."""
    data = event.get("data") or {}
    emp = data.get("employee_id")
    if not emp:
        return
    ctx = kit.act_as_system(event["tenant_id"], event.get("request_id") or event["event_id"])
    ownership.handover(kit, store, ctx, Directory(identity, ctx), pool, str(emp), data.get("handover_to"))


def visit_to_timeline(kit: WorkerKit, store: Store, event: dict[str, Any]) -> None:
    """A visit's check-in or completion as an entry of its customer's timeline (once per event)."""
    entry = timeline.entry_from_event(event)
    if entry is None:
        return
    occurred = event.get("occurred_at")
    try:
        at = parse_iso(str(occurred)) if occurred else kit.now()
    except (TypeError, ValueError):
        at = kit.now()
    timeline.record(store, event["tenant_id"], entry["customer_id"], entry["kind"], at,
                    event.get("actor_id"), entry["summary"], entry["data"], entry_id=event["event_id"])
