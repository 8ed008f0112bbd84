"""A stand-in ``customers`` service for the pool's service-level tests.

It is a real Nameko service on the real broker and database, implementing the
customers contract the pool depends on exactly as specified: an entry asks
``pool.enter`` before it writes the customer, an owner change is ``pool.change_owner``
(the pool keeps the ownership log), and the ``customer.*`` events leave through the
outbox. It lets the pool's concurrency and reclaim
tests run without the full stack; the end-to-end tests use the real customers service.
"""
from __future__ import annotations

import uuid
from typing import Any

from crmkit.errors import NotFound
from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from crmkit.outbox import Check


class FakeCustomersService(BaseService):
    name = "customers"
    kit = Kit("customers", check_emit=False)  # a stand-in: its events are partial (the pool still checks them)
    pool = TimedRpc("pool", timeout=30)

    def _doc(self, customer_id: str) -> dict[str, Any]:
        doc = self.kit.db.customers.find_one({"_id": customer_id, "tenant_id": self.kit.ctx.tenant_id})
        if doc is None:
            raise NotFound("customer.not_found", "no such customer")
        return doc

    @api
    def change_owner(self, customer_id: str, expected_owner_id: str | None, new_owner_id: str | None,
                     path: str, reason: str = "") -> dict[str, Any]:
        doc = self._doc(customer_id)
        res = self.pool.change_owner(customer_id=customer_id, expected_owner_id=expected_owner_id,
                                     new_owner_id=new_owner_id, path=path, reason=reason)
        if int(res["seq"]) > int(doc.get("owner_seq") or 0):
            self.kit.db.customers.update_one({"_id": customer_id}, {"$set": {"owner_id": new_owner_id,
                                                                            "owner_seq": res["seq"]}})
        return {**res, "owner_id": new_owner_id}

    @api
    def duplicate_check(self, data: dict[str, Any]) -> dict[str, Any]:
        ctx = self.kit.ctx
        name = data.get("name")
        matches = [{"customer_id": d["_id"], "name": d["name"]}
                   for d in self.kit.db.customers.find({"tenant_id": ctx.tenant_id, "name": name})]
        # the real service answers with customers' company-name key; the stand-in's key is the trimmed name
        return {"duplicate": bool(matches), "matches": matches, "name_key": (name or "").strip() or None}

    @api
    def existing_customers(self, customer_ids: list[str]) -> dict[str, Any]:
        rows = self.kit.db.customers.find({"_id": {"$in": list(customer_ids)}})
        return {"existing": sorted(d["_id"] for d in rows if d.get("tenant_id") == self.kit.ctx.tenant_id)}

    # -- test drivers ------------------------------------------------------------------
    @api
    def _fake_create(self, items: list[dict[str, Any]], path: str = "entry") -> list[str]:
        """Create customers; each with an ``owner_id`` is entered (seq 1) by ``path``."""
        ctx = self.kit.ctx
        ids, docs, events = [], [], []
        owners: dict[str, list[str]] = {}
        for it in items:
            cid = it.get("id") or uuid.uuid4().hex
            owner = it.get("owner_id")
            docs.append({"_id": cid, "tenant_id": ctx.tenant_id, "name": it.get("name", cid), "owner_id": owner,
                         "owner_seq": 1 if owner else 0})
            fields = {k: v for k, v in it.items() if k not in ("id",)}
            events.append(self.kit.event("customer.created", {"customer_id": cid, **fields}))
            if owner:
                owners.setdefault(owner, []).append(cid)
            ids.append(cid)
        for owner, cids in owners.items():  # the pool first: slots and log rows, then the records
            self.pool.enter(customer_ids=cids, owner_id=owner, path=path)
        with self.kit.change(events, Check("customers", {"_id": ids[-1]})):
            self.kit.db.customers.insert_many(docs)
        return ids

    @api
    def _fake_update(self, customer_id: str, fields: dict[str, Any]) -> None:
        self._doc(customer_id)
        self.kit.emit(self.kit.event("customer.updated", {"customer_id": customer_id, **fields}))

    @api
    def _fake_contact_note(self, customer_id: str) -> None:
        doc = self._doc(customer_id)
        self.kit.emit(self.kit.event("customer.contact_noted", {
            "customer_id": customer_id, "note_id": uuid.uuid4().hex, "owner_id": doc.get("owner_id"),
            "at": self.kit.event("x", {})["occurred_at"]}))

    @api
    def _fake_deal(self, customer_id: str, contract_start: str | None = None,
                   contract_end: str | None = None) -> None:
        self._doc(customer_id)
        self.kit.emit(self.kit.event("customer.deal_signed", {
            "customer_id": customer_id, "contract_start": contract_start, "contract_end": contract_end}))

    @api
    def _fake_visit_completed(self, customer_id: str) -> None:
        """Publish ``visit.completed`` on the visits exchange, as the visits service would."""
        ev = self.kit.event("visit.completed", {"visit_id": uuid.uuid4().hex, "customer_id": customer_id})
        self.kit.provider.publisher.publish_event("visits", ev)

    @api
    def _fake_ownership_log(self, customer_id: str) -> list[dict[str, Any]]:
        rows = [r for r in self.pool.ownership_history(customer_id=customer_id) if r["path"] != "delete"]
        return [{"seq": r["seq"], "to_owner_id": r.get("to_owner_id"), "path": r.get("path")} for r in rows]
