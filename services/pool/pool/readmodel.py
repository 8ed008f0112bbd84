"""Keep the pool's read model from customers and visits events.

Producers may add fields; we read only what we need and tolerate both a flat ``data``
and one that nests the record under ``customer``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from crmkit.clock import parse_iso
from crmkit.nameko.kit import WorkerKit
from pool import ownership
from pool import store as storage
from pool.facts import contract as _contract
from pool.facts import customer_fields
from pool.facts import record as _record
from pool.store import Store


def _at(env: dict[str, Any], data: dict[str, Any], *keys: str) -> datetime:
    for k in keys:
        if data.get(k):
            return parse_iso(str(data[k]))
    return parse_iso(env["occurred_at"])


def on_customer_created(kit: WorkerKit, store: Store, env: dict[str, Any]) -> None:
    """The customer exists: its facts join the row the entry made, and the entry is announced
    (``customer.owner_changed`` of seq 1, see :func:`pool.ownership.announce_entry`)."""
    on_customer_upserted(kit, store, env)
    data = env.get("data") or {}
    rec = _record(data)
    cid = str(rec.get("id") or rec.get("_id") or data.get("customer_id"))
    storage.written(store, [cid])
    ownership.announce_entry(kit, store, env["tenant_id"], cid, customer_fields(data).get("name"))


def on_customer_upserted(kit: WorkerKit, store: Store, env: dict[str, Any], *, restored: bool = False) -> None:
    """``customer.created`` / ``customer.updated``, and ``customer.restored`` (``restored``:
    the row is un-deleted; its owner and slot came back with the ``restore`` move)."""
    data = env.get("data") or {}
    rec = _record(data)
    cid = str(rec.get("id") or rec.get("_id") or data.get("customer_id"))
    tenant = env["tenant_id"]
    fields = customer_fields(data)
    with storage.row_lock(store, cid):
        row = store.customers.find_one({"_id": cid}) or {}
        if "contract_start" in fields or "contract_end" in fields:
            fields["protected_for"] = row.get("owner_id") or rec.get("owner_id")
        by = storage.to_dt(row.get("name_fix_by"))
        if by is not None and ("name" in fields or "name_key" in fields):
            merged = {**row, **fields}
            if "name" in fields and "name_key" not in fields:
                merged.pop("name_key", None)  # a key from before the rename says nothing
            if storage.name_matches(merged, row.get("name_fix_key"), row.get("name_fix_name")) \
                    and parse_iso(env["occurred_at"]) < by:
                fields.update({k: None for k in storage.NAME_FIX_FIELDS})
                fields["name_fixed_at"] = parse_iso(env["occurred_at"])
                if row.get("private"):
                    fields.update(storage.reclaim_fields({**row, **fields}, storage.load_rules(store, tenant)))
        if restored:
            fields["deleted"] = False
        # ownership comes only from the log (ownership.py, ordered by seq); a new row starts public
        storage.upsert_customer(store, cid, tenant, fields,
                              on_insert={"private": False, "owner_id": None, "deleted": False})


def on_customer_deleted(kit: WorkerKit, store: Store, env: dict[str, Any]) -> None:
    data = env.get("data") or {}
    cid = str(data.get("customer_id") or _record(data).get("id"))
    with storage.row_lock(store, cid):
        row = store.customers.find_one({"_id": cid})
        storage.upsert_customer(store, cid, env["tenant_id"], {"deleted": True, "private": False})
    if row and row.get("owner_id"):
        storage.free_slot(store, env["tenant_id"], row["owner_id"], cid)


def on_clock_event(kit: WorkerKit, store: Store, env: dict[str, Any], field: str) -> None:
    d = env.get("data") or {}
    cid = d.get("customer_id")
    if not cid:
        return
    cid = str(cid)
    at = _at(env, d, "at", "completed_at", "signed_at", "checked_out_at")
    with storage.row_lock(store, cid):
        row = store.customers.find_one({"_id": cid})
        fields: dict[str, Any] = {}
        prev = storage.to_dt((row or {}).get(field))
        if prev is None or at > prev:
            fields[field] = at
        if field == "last_deal_at":
            contract = _contract(d)
            if contract and "contract_start" not in contract and d.get("at"):
                contract["contract_start"] = str(d["at"])[:10]  # customers sends the start as ``at``
            if contract:
                fields.update(contract)
                fields["protected_for"] = (row or {}).get("owner_id")
        if fields:
            rules = storage.load_rules(store, env["tenant_id"])
            fields.update(storage.reclaim_fields({**(row or {}), **fields}, rules))
            storage.upsert_customer(store, cid, env["tenant_id"], fields)
