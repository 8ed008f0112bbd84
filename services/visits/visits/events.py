"""The events the visits service handles (what each ``@subscribe`` of ``service.py`` calls):
customer facts into the read model ``customers_rm`` (and the visits that follow the
customer's current owner), a leaver's future plans handed over."""
from __future__ import annotations

from typing import Any

from crmkit.nameko.kit import WorkerKit
from visits import planning
from visits.store import Store


def customer_facts(store: Store, event: dict[str, Any], *, restored: bool = False) -> None:
    """``customer.created/updated/restored``: name, CBM link, kind and address; the owner only
    while no ``customer.owner_changed`` (with its sequence number) has been seen."""
    data = event.get("data") or {}
    cid = data.get("customer_id") or data.get("id") or (data.get("customer") or {}).get("id")
    if not cid:
        return
    facts = planning.customer_facts(data)
    tenant = event["tenant_id"]
    row = store.get_customer_rm(tenant, str(cid)) or {}
    fields = {k: facts[k] for k in ("name", "cbm_id", "kind", "address") if facts.get(k)}
    if facts.get("owner_id") is not None and row.get("owner_seq") is None:
        fields["owner_id"] = facts["owner_id"]
    if restored:
        fields["deleted"] = False
    store.upsert_customer_rm(tenant, str(cid), fields)
    if "owner_id" in fields:
        store.set_owner_of_customer(tenant, str(cid), fields["owner_id"])


def customer_deleted(store: Store, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    if data.get("customer_id"):
        store.upsert_customer_rm(event["tenant_id"], str(data["customer_id"]), {"deleted": True})


def owner_changed(store: Store, event: dict[str, Any]) -> None:
    """``customer.owner_changed``: the newest change (by ``seq``) wins; the customer's visits
    follow the new owner."""
    data = event.get("data") or {}
    tenant, cid = event["tenant_id"], str(data.get("customer_id") or "")
    if not cid:
        return
    seq = data.get("seq")
    row = store.get_customer_rm(tenant, cid) or {}
    if seq is not None and row.get("owner_seq") is not None and int(row["owner_seq"]) >= int(seq):
        return  # an older change arriving late
    owner = data.get("to_owner_id")
    store.upsert_customer_rm(tenant, cid, {"owner_id": owner, "owner_seq": int(seq) if seq is not None else 0})
    store.set_owner_of_customer(tenant, cid, owner)


def employee_left(kit: WorkerKit, store: Store, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    if data.get("employee_id"):
        planning.hand_over(kit, store, event["tenant_id"], str(data["employee_id"]), data.get("handover_to"))
