"""External contacts (外部联系人): unique mobile per tenant (linearised by an insert under
``contact_mobiles._id = "<tenant>|<mobile>"``), immutable mobile, no colleague phones,
edit by owner / owner's supervisor / admin, delete by admin only, tier limits."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.docstore import aware, page_args
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from customers import access, catalog, registry
from customers.peers import Directory
from customers.phones import parse_phone
from customers.rules import ADMIN_ROLES, MAX_ADDRESS, MAX_NAME, MAX_SHORT, Problems, clean_text
from customers.store import Store, new_id

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

TIERS = {"basic": 2000, "pro": 10000, "enterprise": 20000}
SHARE_SCOPES = ("private", "department", "company")
FIELDS = ("name", "mobile", "title", "company", "address", "tags", "custom", "share_scope", "customer_id")


def contact_limit(store: Store, tenant_id: str) -> int:
    row = store.tenant_settings.find_one({"_id": tenant_id}) or {}
    return int(row.get("contact_limit") or TIERS["basic"])


def tier_of(store: Store, ctx: CallContext) -> dict[str, Any]:
    """The tenant's contact tier, its limit and how many live contacts count against it."""
    row = store.tenant_settings.find_one({"_id": ctx.tenant_id}) or {}
    used = store.contacts.count_documents({"tenant_id": ctx.tenant_id, "deleted": False})
    return {"tier": row.get("contact_tier") or "basic", "contact_limit": contact_limit(store, ctx.tenant_id),
            "used": used, "tiers": dict(TIERS)}


def set_tier(store: Store, ctx: CallContext, tier: Any) -> dict[str, Any]:
    if not ctx.has_role("operator", "system", "tenant_admin"):
        raise Forbidden("admin_only", "only an admin may change the contact tier")
    if tier not in TIERS:
        raise InvalidInput("contact.tier_invalid", f"tier: one of {', '.join(TIERS)}")
    store.tenant_settings.update_one({"_id": ctx.tenant_id}, {"$set": {"contact_tier": tier,
                                                                          "contact_limit": TIERS[tier]}}, upsert=True)
    return {"tier": tier, "contact_limit": TIERS[tier]}


def _clean(data: Any, partial: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("contact.invalid", "contact must be an object")
    p = Problems()
    out: dict[str, Any] = {}

    def given(k: str) -> bool:
        return not partial or k in data

    if given("name"):
        out["name"] = clean_text(p, "name", data.get("name"), max_len=MAX_NAME, required=True)
    if not partial:
        raw = data.get("mobile")
        if not raw:
            p.add("mobile", "required", "is required")
        else:
            ph = parse_phone(raw)
            if ph is None or ph.kind not in ("mobile", "intl"):
                p.add("mobile", "invalid_mobile", "not a mobile number")
            else:
                out["mobile"] = ph.number
    for f, n in (("title", MAX_SHORT), ("company", MAX_NAME), ("address", MAX_ADDRESS)):
        if given(f):
            out[f] = clean_text(p, f, data.get(f), max_len=n)
    if given("share_scope"):
        s = data.get("share_scope") or "private"
        if s not in SHARE_SCOPES:
            p.add("share_scope", "invalid", f"one of {', '.join(SHARE_SCOPES)}")
        out["share_scope"] = s
    if given("tags"):
        t = data.get("tags") or []
        if not isinstance(t, list) or not all(isinstance(x, str) for x in t):
            p.add("tags", "type", "a list of tag ids")
            t = []
        out["tags"] = list(dict.fromkeys(t))
    if given("custom"):
        c = data.get("custom") or {}
        if not isinstance(c, dict):
            p.add("custom", "type", "must be an object")
            c = {}
        out["custom"] = c
    if not partial and data.get("customer_id") is not None:
        out["customer_id"] = str(data["customer_id"])[:64]
    for f in sorted(set(data) - set(FIELDS) - {"owner_id"}):
        p.add(f, "unknown_field", "is not a contact field")
    p.raise_if_any("contact.invalid")
    return out


def _out(c: dict[str, Any]) -> dict[str, Any]:
    return {"id": c["_id"], **{k: c.get(k) for k in FIELDS}, "owner_id": c.get("owner_id"),
            "unowned": bool(c.get("unowned")), "created_at": iso(c["created_at"]),
            "updated_at": iso(c["updated_at"])}


def _holder(d: Directory, owner_id: str | None) -> dict[str, Any]:
    h = d.holder(owner_id, unowned=owner_id is None)
    h["admin_ids"] = d.admins()
    return h


def create_contact(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, data: Any) -> dict[str, Any]:
    c = _clean(data, partial=False)
    if c.get("customer_id"):
        registry.get_visible(store, ctx, d, c["customer_id"])
    if c.get("tags"):
        catalog.check_tags(store, ctx.tenant_id, c["tags"])
    if c.get("custom"):
        c["custom"] = catalog.check_custom(store, ctx.tenant_id, "contact", c["custom"])
    colleague = d.colleague_with_mobile(c["mobile"])
    if colleague:
        raise BusinessRule("contact.colleague_mobile", "a colleague's phone cannot be added as a contact",
                           {"employee_id": colleague})
    limit = contact_limit(store, ctx.tenant_id)
    count = store.contacts.count_documents({"tenant_id": ctx.tenant_id, "deleted": False})
    if count >= limit:
        raise BusinessRule("contact.limit_reached", f"the tenant's contact limit ({limit}) is reached",
                           {"limit": limit, "count": count})
    cid = new_id()
    key = f"{ctx.tenant_id}|{c['mobile']}"
    now = kit.now()
    try:
        store.contact_mobiles.insert_one({"_id": key, "contact_id": cid, "at": now})
    except DuplicateKeyError:
        row = store.contact_mobiles.find_one({"_id": key}) or {}
        held = store.by_id("contacts", row.get("contact_id"), deleted=False) or {}
        raise Conflict("contact.duplicate_mobile", "this mobile is already held in the company; ask its holder "
                       "to share it", {"contact_id": row.get("contact_id"),
                                       "holder": _holder(d, held.get("owner_id"))}) from None
    doc = {"_id": cid, "tenant_id": ctx.tenant_id, **{k: c.get(k) for k in FIELDS},
           "tags": c.get("tags") or [], "custom": c.get("custom") or {}, "share_scope": c.get("share_scope")
           or "private", "owner_id": ctx.user_id, "unowned": False, "deleted": False, "created_at": now,
           "updated_at": now, "created_by": ctx.user_id}
    try:
        store.contacts.insert_one(doc)
    except BaseException:
        store.contact_mobiles.delete_one({"_id": key, "contact_id": cid})
        raise
    return _out(doc)


def _load(store: Store, ctx: CallContext, d: Directory, contact_id: str) -> dict[str, Any]:
    doc = store.by_id("contacts", str(contact_id)[:64], tenant_id=ctx.tenant_id, deleted=False)
    if doc is None or not access.sees_contact(ctx, d, doc):
        raise NotFound("contact.not_found", "no such contact")
    return doc


def require_note_contact(store: Store, ctx: CallContext, d: Directory, customer_id: str, contact_id: Any) -> None:
    """A contact note's ``contact_id`` must name a live contact of the tenant that the
    caller sees or that belongs to this customer (404 ``contact.not_found`` otherwise:
    random ids and other tenants' ids alike)."""
    if contact_id is None:
        return
    doc = store.by_id("contacts", str(contact_id)[:64], tenant_id=ctx.tenant_id, deleted=False)
    if doc is None or not (doc.get("customer_id") == customer_id or access.sees_contact(ctx, d, doc)):
        raise NotFound("contact.not_found", "contact_id: no such contact", {"field": "contact_id"})
    if doc.get("customer_id") not in (None, customer_id):
        raise BusinessRule("contact_note.contact_of_another_customer", "contact_id: this contact belongs to "
                           "another customer", {"field": "contact_id"})


def get_contact(store: Store, ctx: CallContext, d: Directory, contact_id: str) -> dict[str, Any]:
    return _out(_load(store, ctx, d, contact_id))


def update_contact(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, contact_id: str, data: Any
                   ) -> dict[str, Any]:
    doc = _load(store, ctx, d, contact_id)
    if isinstance(data, dict) and "mobile" in data:
        ph = parse_phone(data["mobile"])
        if ph is None or ph.number != doc["mobile"]:
            raise BusinessRule("contact.mobile_immutable", "a contact's mobile cannot be changed; delete the "
                               "contact and add it again")
        data = {k: v for k, v in data.items() if k != "mobile"}
    if isinstance(data, dict) and "customer_id" in data:
        raise InvalidInput("contact.invalid", "customer_id cannot be edited here")
    admin = ctx.has_role(*ADMIN_ROLES)
    owner = doc.get("owner_id")
    if not admin and owner != ctx.user_id and (owner is None or d.supervisor_of(owner) != ctx.user_id):
        raise Forbidden("contact.edit_forbidden", "only the owner, the owner's supervisor or an admin may edit")
    new_owner = _new_owner(ctx, d, data)
    c = _clean({k: v for k, v in data.items() if k != "owner_id"} if isinstance(data, dict) else data, partial=True)
    if new_owner is not None:
        c.update({"owner_id": new_owner, "unowned": False})
    if c.get("tags"):
        catalog.check_tags(store, ctx.tenant_id, c["tags"])
    if c.get("custom"):
        c["custom"] = catalog.check_custom(store, ctx.tenant_id, "contact", c["custom"])
    c["updated_at"] = kit.now()
    store.contacts.update_one({"_id": doc["_id"]}, {"$set": c})
    return _out({**doc, **c})


def _new_owner(ctx: CallContext, d: Directory, data: Any) -> str | None:
    """``owner_id`` in an edit: an admin reassigns a contact (e.g. an unowned one after a
    departure with no supervisor) to an active employee of the tenant (404/422)."""
    if not isinstance(data, dict) or "owner_id" not in data:
        return None
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("contact.owner_change_forbidden", "only an admin may reassign a contact")
    new = data["owner_id"]
    if not isinstance(new, str) or not new or len(new) > 64:
        raise InvalidInput("contact.invalid", "owner_id: an employee id", {"field": "owner_id"})
    d.require_employees([new], "owner_id")
    return new


def delete_contact(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, contact_id: str
                   ) -> dict[str, Any]:
    doc = _load(store, ctx, d, contact_id)
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("contact.delete_forbidden", "only an admin may delete contacts")
    store.contacts.update_one({"_id": doc["_id"]}, {"$set": {"deleted": True, "deleted_at": kit.now(),
                                                             "deleted_by": ctx.user_id}})
    store.contact_mobiles.delete_one({"_id": f"{ctx.tenant_id}|{doc['mobile']}", "contact_id": doc["_id"]})
    return {"id": doc["_id"], "deleted": True}


def list_contacts(store: Store, ctx: CallContext, d: Directory, q: str | None = None, tag: str | None = None,
                  scope: str | None = None, customer_id: str | None = None, page: Any = 1,
                  page_size: Any = 50) -> dict[str, Any]:
    pg, size = page_args(page, page_size)
    scope = scope or "mine"
    if scope not in ("mine", "company", "unowned"):
        raise InvalidInput("contact.invalid_scope", "scope: mine, company or unowned")
    if scope in ("company", "unowned") and not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("contact.filter_admin_only", "the whole-company and unowned filters are for admins")
    base: dict[str, Any] = {"tenant_id": ctx.tenant_id, "deleted": False}
    if tag:
        base["tags"] = tag
    if customer_id:
        registry.get_visible(store, ctx, d, customer_id)
        base["customer_id"] = customer_id
    if scope == "unowned":
        rows = list(store.contacts.find({**base, "owner_id": None}))
    elif scope == "company" or (customer_id and d.scope().get("all")):
        rows = list(store.contacts.find(base))
    else:
        seen: dict[str, dict[str, Any]] = {}
        for o in d.scope().get("user_ids") or [ctx.user_id]:
            for r in store.contacts.find({**base, "owner_id": o}):
                seen[r["_id"]] = r
        if customer_id:
            for r in store.contacts.find(base):
                seen[r["_id"]] = r
        rows = list(seen.values())
    if q:
        qn = str(q).strip().lower()[:100]
        digits = "".join(ch for ch in qn if ch.isdigit())
        rows = [r for r in rows if qn in (r.get("name") or "").lower() or (digits and digits in r.get("mobile", ""))]
    rows.sort(key=lambda r: (aware(r["created_at"]), r["_id"]), reverse=True)
    return {"items": [_out(r) for r in rows[(pg - 1) * size: pg * size]], "total": len(rows), "page": pg,
            "page_size": size}
