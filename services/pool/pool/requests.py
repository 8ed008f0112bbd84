"""Claim requests (申请挑入): submit after a duplicate check, the support queue,
approve/reject with a reason, and the working-day deadlines of an approval."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from crmkit.clock import iso
from crmkit.errors import Conflict, Forbidden, InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from pool import rules as R
from pool import store as storage
from pool.peers import Customers
from pool.store import Store

SUPPORT = ("support", "tenant_admin")
ELEMENTS = ("name", "landline", "fax", "address")


def _text(errors: dict[str, str], data: dict[str, Any], key: str, required: bool, limit: int) -> str | None:
    v = data.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            errors[key] = "required"
        return None
    if not isinstance(v, str) or len(v) > limit:
        errors[key] = f"text of at most {limit} characters"
        return None
    return v.strip()


def view(row: dict[str, Any], now: Any) -> dict[str, Any]:
    status = row["status"]
    if status == "approved" and row.get("enter_by") and _passed(now, row["enter_by"]) and not row.get("entered"):
        status = "lapsed"
    return {
        "id": row["_id"], "status": status, "requester_id": row["requester_id"],
        "customer_id": row.get("customer_id"), "elements": row["elements"], "remarks": row.get("remarks"),
        "submitted_at": iso(row["submitted_at"]),
        "decided_at": iso(row["decided_at"]) if row.get("decided_at") else None,
        "decided_by": row.get("decided_by"), "decision_reason": row.get("decision_reason"),
        "enter_by": iso(row["enter_by"]) if row.get("enter_by") else None,
        "name_fix_by": iso(row["name_fix_by"]) if row.get("name_fix_by") else None,
    }


def submit(kit: WorkerKit, store: Store, customers: Customers, data: Any) -> dict[str, Any]:
    ctx = kit.ctx
    if not isinstance(data, dict):
        raise InvalidInput("pool.request_invalid", "body must be an object", {"fields": {"": "object"}})
    errors: dict[str, str] = {}
    el = {k: _text(errors, data, k, k in ("name", "address"), 500) for k in ELEMENTS}
    if not errors and not (el["landline"] or el["fax"]):
        errors["landline"] = "give a landline or a fax"
    remarks = _text(errors, data, "remarks", False, 2000)
    cid = data.get("customer_id")
    if cid == "":
        cid = None
    if cid is not None and (not isinstance(cid, str) or len(cid) > 128):
        errors["customer_id"] = "must be an id"
    if errors:
        raise InvalidInput("pool.request_invalid", "the claim request is incomplete", {"fields": errors})
    if cid is not None and storage.get_customer(store, ctx.tenant_id, cid) is None:
        # a request names a customer of the caller's own tenant, known to the pool (not deleted)
        raise NotFound("pool.customer_not_found", "no such customer", {"customer_id": cid})
    check = customers.duplicate_check(data={"name": el["name"], "landlines": [el["landline"]] if el["landline"]
                                            else [], "faxes": [el["fax"]] if el["fax"] else []})
    matches = (check or {}).get("matches") or []
    foreign = [m for m in matches if str(m.get("customer_id") or m.get("id")) != str(cid or "")]
    if foreign:
        raise Conflict("pool.request_duplicate", "the duplicate check found an existing customer",
                       {"matches": foreign})
    now = kit.now()
    rid = uuid.uuid4().hex
    row = {"_id": rid, "tenant_id": ctx.tenant_id, "requester_id": ctx.user_id, "customer_id": cid,
           "elements": el, "remarks": remarks, "status": "pending", "submitted_at": now,
           # customers' company-name key of the requested name (compared with the record's later)
           "name_key": (check or {}).get("name_key")}
    ev = kit.event("pool.claim_request_submitted", {"request_id": rid, "requester_id": ctx.user_id,
                                                    "customer_id": cid, "name": el["name"],
                                                    "customer_name": el["name"], "reason": remarks})
    with kit.change([ev], Check("claim_requests", {"_id": rid})):
        store.claim_requests.insert_one(row)
    return view(row, now)


def list_requests(kit: WorkerKit, store: Store, status: str | None = None, page: int | None = None,
                  page_size: int | None = None) -> dict[str, Any]:
    """The queue (support: every request; others: their own), oldest first. With ``page_size``
    one page of it (``{items, total, page, page_size}``), else every request."""
    ctx = kit.ctx
    q: dict[str, Any] = {"tenant_id": ctx.tenant_id}
    if status:
        if status not in ("pending", "approved", "rejected"):
            raise InvalidInput("pool.request_status", "status: pending, approved or rejected",
                               {"fields": {"status": "pending|approved|rejected"}})
        q["status"] = status
    if not ctx.has_role(*SUPPORT):
        q["requester_id"] = ctx.user_id
    now = kit.now()
    rows = sorted(store.claim_requests.find(q), key=lambda r: r["submitted_at"])
    if page_size is None:
        return {"items": [view(r, now) for r in rows], "total": len(rows)}
    pg = page or 1
    part = rows[(pg - 1) * page_size: pg * page_size]
    return {"items": [view(r, now) for r in part], "total": len(rows), "page": pg, "page_size": page_size}


def decide(kit: WorkerKit, store: Store, request_id: str, data: Any, approve: bool) -> dict[str, Any]:
    ctx = kit.ctx
    if not ctx.has_role(*SUPPORT):
        raise Forbidden("pool.request_forbidden", "only sales support may decide claim requests")
    data = data if isinstance(data, dict) else {}
    errors: dict[str, str] = {}
    reason = _text(errors, data, "reason", not approve, 1000)
    approved_name = _text(errors, data, "approved_name", False, 500)
    if errors:
        raise InvalidInput("pool.request_invalid", "invalid decision", {"fields": errors})
    row = store.claim_requests.find_one({"_id": str(request_id)})
    if row is None or row["tenant_id"] != ctx.tenant_id:
        raise NotFound("pool.request_not_found", "no such claim request")
    if row["status"] != "pending":
        raise Conflict("pool.request_decided", f"this request is already {row['status']}",
                       {"status": row["status"]})
    now = kit.now()
    rules = storage.load_rules(store, ctx.tenant_id)
    fields: dict[str, Any] = {"status": "approved" if approve else "rejected", "decided_at": now,
                              "decided_by": ctx.user_id, "decision_reason": reason}
    customer = storage.get_customer(store, ctx.tenant_id, str(row["customer_id"])) \
        if approve and row.get("customer_id") else None
    if approve:
        fields["enter_by"] = R.working_deadline(now, rules["request_entry_working_days"])
        # the record's company name differs from the requested one (as support found it, or as
        # the read model knows it): the requester must correct it within the working days
        mismatch = bool(approved_name and approved_name != row["elements"]["name"]) or (
            customer is not None and not storage.name_matches(customer, row.get("name_key"), row["elements"]["name"]))
        if mismatch:
            fields["name_fix_by"] = R.working_deadline(now, rules["name_fix_working_days"])
    # the decision is linearised by a unique insert: two support agents cannot both decide
    try:
        store.claim_request_decisions.insert_one({"_id": row["_id"], "tenant_id": ctx.tenant_id, **fields})
    except Exception:
        raise Conflict("pool.request_decided", "this request was decided meanwhile", {}) from None
    etype = "pool.claim_request_approved" if approve else "pool.claim_request_rejected"
    ev = kit.event(etype, {"request_id": row["_id"], "requester_id": row["requester_id"],
                           "customer_id": row.get("customer_id"), "customer_name": row["elements"]["name"],
                           "reason": reason,
                           "enter_by": iso(fields["enter_by"]) if fields.get("enter_by") else None,
                           "name_fix_by": iso(fields["name_fix_by"]) if fields.get("name_fix_by") else None})
    with kit.change([ev], Check("claim_requests", {"_id": row["_id"], "status": fields["status"]})):
        store.claim_requests.update_one({"_id": row["_id"]}, {"$set": fields})
    row.update(fields)
    if approve and row.get("customer_id"):
        # the claim path looks approvals up by ``_id`` (a filter on requester and status would scan)
        aid = approval_id(ctx.tenant_id, row["requester_id"], str(row["customer_id"]))
        store.approvals.replace_one({"_id": aid}, {
            "_id": aid, "tenant_id": ctx.tenant_id, "request_id": row["_id"], "requester_id": row["requester_id"],
            "customer_id": str(row["customer_id"]), "name": row["elements"]["name"], "name_key": row.get("name_key"),
            "enter_by": fields["enter_by"], "name_fix_by": fields.get("name_fix_by")}, upsert=True)
        _mark_approved(store, ctx.tenant_id, str(row["customer_id"]), row["requester_id"])
        if fields.get("name_fix_by"):
            _oblige_name_fix(store, ctx.tenant_id, str(row["customer_id"]), row, fields["name_fix_by"])
    return view(row, now)


def _oblige_name_fix(store: Store, tenant_id: str, customer_id: str, request: dict[str, Any], by: Any) -> None:
    """Put the name-correction deadline on the customer's read-model row: while the
    requester owns it with the name uncorrected, the sweep reclaims it from the day after
    ``by`` (rule ``name_not_corrected``); a correction in time clears it (readmodel)."""
    with storage.row_lock(store, customer_id):
        row = store.customers.find_one({"_id": customer_id})
        if row is None or row.get("tenant_id") != tenant_id:
            return
        fields: dict[str, Any] = {"name_fix_by": by, "name_fix_owner": request["requester_id"],
                                  "name_fix_key": request.get("name_key"), "name_fix_name": request["elements"]["name"],
                                  "name_fix_request": request["_id"]}
        fields.update(storage.reclaim_fields({**row, **fields}, storage.load_rules(store, tenant_id)))
        storage.upsert_customer(store, customer_id, tenant_id, fields)


def _mark_approved(store: Store, tenant_id: str, customer_id: str, requester_id: str) -> None:
    """The customer's row names the requester: only such a claim looks its approval up."""
    with storage.row_lock(store, customer_id):
        store.customers.update_one({"_id": customer_id, "tenant_id": tenant_id},
                                   {"$addToSet": {"approved_ids": requester_id}})


def approval_id(tenant_id: str, user_id: str, customer_id: str) -> str:
    return f"{tenant_id}:{user_id}:{customer_id}"


def _passed(now: datetime, value: Any) -> bool:
    at = storage.to_dt(value)
    return at is not None and now >= at


def may_have_approval(row: dict[str, Any], user_id: str) -> bool:
    """Whether ``user_id`` may hold an approval for the read-model ``row``: every approval
    marks its customer's row (``approved_ids``, see :func:`decide`), so a claim of a row
    without the mark needs no look-up in ``approvals``."""
    return user_id in (row.get("approved_ids") or ())


def approved_for(kit: WorkerKit, store: Store, tenant_id: str, user_id: str, row: dict[str, Any]
                 ) -> dict[str, Any] | None:
    """An approval of ``user_id`` for the customer ``row`` (read by the caller) that has not
    lapsed (``_id`` = the request's id)."""
    if not may_have_approval(row, user_id):
        return None
    now = kit.now()
    r = store.approvals.find_one({"_id": approval_id(tenant_id, user_id, str(row["_id"]))})
    if r is None or r.get("tenant_id") != tenant_id or not r.get("enter_by") or _passed(now, r["enter_by"]):
        return None
    if r.get("name_fix_by") and _passed(now, r["name_fix_by"]) and (
            row.get("name_fix_by") or not storage.name_matches(row, r.get("name_key"), r["name"])):
        return None  # the name was not corrected in time: the approval no longer protects
    return {**r, "_id": r["request_id"]}


def mark_entered(store: Store, approval: dict[str, Any]) -> None:
    """The approved request was used by a claim: it no longer lapses."""
    store.claim_requests.update_one({"_id": approval["_id"]}, {"$set": {"entered": True}})
