"""CBMs (the vendor's direct-sales contacts, SPEC §1): a per-tenant record — name, e-mail,
mobile — that customers link to by ``cbm_id``. Admins keep the records; everyone in the
tenant may list them (to pick one for a customer). A customer's view carries its CBM
(``cbm: {id, name, email, mobile}``); the visits service reads that view when a visit is
planned and puts it into ``visit.planned``, and notify e-mails the CBM (and the tenant's
webhooks get the notice). A deleted CBM stays linked but is shown as ``null`` (no notice),
and no customer can be linked to it again."""
from __future__ import annotations

import re
from typing import Any

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.docstore import page_args
from crmkit.errors import Forbidden, InvalidInput, NotFound
from customers.phones import parse_phone
from customers.rules import ADMIN_ROLES, MAX_NAME, MAX_TEXT, Problems, clean_text
from customers.store import Store, new_id

COLL = "cbms"
FIELDS = ("name", "email", "mobile", "remark")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.[A-Za-z]{2,63}$")


def _require_admin(ctx: CallContext) -> None:
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("cbm.admin_only", "only a tenant admin may change CBM records")


def validate(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Name and e-mail are required (the e-mail is where visit notices go); the mobile is
    optional and normalised."""
    if not isinstance(data, dict):
        raise InvalidInput("cbm.invalid", "a CBM must be an object")
    p = Problems()
    out: dict[str, Any] = {}

    def given(k: str) -> bool:
        return not partial or k in data

    if given("name"):
        out["name"] = clean_text(p, "name", data.get("name"), max_len=MAX_NAME, required=True)
    if given("email"):
        email = clean_text(p, "email", data.get("email"), max_len=254, required=True)
        if email is not None and not _EMAIL.match(email):
            p.add("email", "invalid_email", "not an e-mail address")
        out["email"] = email.lower() if email else email
    if given("mobile"):
        raw = data.get("mobile")
        if raw in (None, ""):
            out["mobile"] = None
        else:
            ph = parse_phone(raw) if isinstance(raw, str) and len(raw) <= 64 else None
            if ph is None:
                p.add("mobile", "invalid_phone", "not a phone number")
            out["mobile"] = ph.display() if ph else None
    if given("remark"):
        out["remark"] = clean_text(p, "remark", data.get("remark"), max_len=MAX_TEXT)
    for f in sorted(set(data) - set(FIELDS)):
        p.add(f, "unknown_field", "is not a CBM field")
    p.raise_if_any("cbm.invalid")
    return out


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: doc.get(k) for k in FIELDS}, "created_at": iso(doc["created_at"]),
            "updated_at": iso(doc["updated_at"])}


def brief(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a customer's view (and so ``visit.planned``) carries of its CBM."""
    if doc is None or doc.get("deleted"):
        return None
    return {"id": doc["_id"], "name": doc.get("name"), "email": doc.get("email"), "mobile": doc.get("mobile")}


def load(store: Store, tenant_id: str, cbm_id: Any) -> dict[str, Any] | None:
    if not isinstance(cbm_id, str) or not cbm_id or len(cbm_id) > 64:
        return None
    return store.by_id(COLL, cbm_id, tenant_id=tenant_id)


def require(store: Store, tenant_id: str, cbm_id: Any) -> dict[str, Any]:
    """The live CBM ``cbm_id`` of the tenant, else 404 ``cbm.not_found`` (field ``cbm_id``)."""
    doc = load(store, tenant_id, cbm_id)
    if doc is None or doc.get("deleted"):
        raise NotFound("cbm.not_found", "cbm_id: no such CBM in this organisation", {"field": "cbm_id"})
    return doc


def list_cbms(store: Store, ctx: CallContext, q: Any = None, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
    pg, size = page_args(page, page_size)
    rows = list(store.cbms.find({"tenant_id": ctx.tenant_id, "deleted": False}))
    if q:
        qn = str(q).strip().lower()[:100]
        rows = [r for r in rows if qn in (r.get("name") or "").lower() or qn in (r.get("email") or "")
                or qn in (r.get("mobile") or "")]
    rows.sort(key=lambda r: (r.get("name") or "", r["_id"]))
    return {"items": [public(r) for r in rows[(pg - 1) * size: pg * size]], "total": len(rows), "page": pg,
            "page_size": size}


def get_cbm(store: Store, ctx: CallContext, cbm_id: Any) -> dict[str, Any]:
    return public(require(store, ctx.tenant_id, cbm_id))


def create_cbm(store: Store, ctx: CallContext, data: Any, now: Any) -> dict[str, Any]:
    _require_admin(ctx)
    clean = validate(data)
    doc = {"_id": new_id(), "tenant_id": ctx.tenant_id, **{k: clean.get(k) for k in FIELDS},
           "deleted": False, "created_at": now, "updated_at": now, "created_by": ctx.user_id}
    store.cbms.insert_one(doc)
    return public(doc)


def update_cbm(store: Store, ctx: CallContext, cbm_id: Any, data: Any, now: Any) -> dict[str, Any]:
    _require_admin(ctx)
    doc = require(store, ctx.tenant_id, cbm_id)
    changes = {**validate(data, partial=True), "updated_at": now}
    store.cbms.update_one({"_id": doc["_id"]}, {"$set": changes})
    return public({**doc, **changes})


def delete_cbm(store: Store, ctx: CallContext, cbm_id: Any, now: Any) -> dict[str, Any]:
    _require_admin(ctx)
    doc = require(store, ctx.tenant_id, cbm_id)
    store.cbms.update_one({"_id": doc["_id"]}, {"$set": {"deleted": True, "deleted_at": now,
                                                          "deleted_by": ctx.user_id}})
    return {"id": doc["_id"], "deleted": True}
