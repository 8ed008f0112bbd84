"""Tenant catalogues: tag groups (six colours, exclusive inside a group), custom fields
(built-ins undeletable, values validated by type) and projects of vendor customers."""
from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.docstore import aware
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from customers.rules import (
    ADMIN_ROLES,
    BUILTIN_CONTACT_FIELDS,
    BUILTIN_CUSTOMER_FIELDS,
    MAX_SHORT,
    MAX_TEXT,
    TAG_COLOURS,
    Problems,
    check_exclusive_tags,
    clean_date,
    clean_text,
    validate_custom_values,
    validate_field_definition,
)
from customers.store import Store, new_id


def require_admin(ctx: CallContext) -> None:
    if not ctx.has_role(*ADMIN_ROLES):
        raise Forbidden("admin_only", "only a tenant admin may do this")


# -- tag groups -------------------------------------------------------------------------------
def _tag_group_out(g: dict[str, Any]) -> dict[str, Any]:
    return {"id": g["_id"], "name": g["name"], "color": g["color"], "tags": g.get("tags") or []}


def _clean_group(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("tag_group.invalid", "tag group must be an object")
    p = Problems()
    name = clean_text(p, "name", data.get("name"), max_len=MAX_SHORT, required=True)
    color = data.get("color")
    if color not in TAG_COLOURS:
        p.add("color", "invalid", f"one of {', '.join(TAG_COLOURS)}")
    tags_in = data.get("tags") or []
    tags: list[dict[str, str]] = []
    if not isinstance(tags_in, list) or len(tags_in) > 100:
        p.add("tags", "type", "a list of at most 100 tags")
        tags_in = []
    names: set[str] = set()
    for i, t in enumerate(tags_in):
        t = t if isinstance(t, dict) else {"name": t}
        tn = clean_text(p, f"tags[{i}].name", t.get("name"), max_len=MAX_SHORT, required=True)
        if tn in names:
            p.add(f"tags[{i}].name", "duplicate", "tag names in a group must differ")
        names.add(tn or "")
        tid = t.get("id")
        tags.append({"id": tid if isinstance(tid, str) else new_id(), "name": tn or ""})
    p.raise_if_any("tag_group.invalid")
    return {"name": name, "color": color, "tags": tags}


def list_tag_groups(store: Store, ctx: CallContext) -> list[dict[str, Any]]:
    rows = list(store.tag_groups.find({"tenant_id": ctx.tenant_id}))
    rows.sort(key=lambda r: r["name"])
    return [_tag_group_out(g) for g in rows]


def create_tag_group(store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    require_admin(ctx)
    g = _clean_group(data)
    try:
        store.tag_group_names.insert_one({"_id": f"{ctx.tenant_id}|{g['name']}"})
    except DuplicateKeyError:
        raise Conflict("tag_group.exists", "a tag group with this name exists") from None
    doc = {"_id": new_id(), "tenant_id": ctx.tenant_id, **g}
    store.tag_groups.insert_one(doc)
    return _tag_group_out(doc)


def update_tag_group(store: Store, ctx: CallContext, group_id: str, data: Any) -> dict[str, Any]:
    require_admin(ctx)
    old = store.by_id("tag_groups", group_id, tenant_id=ctx.tenant_id)
    if old is None:
        raise NotFound("tag_group.not_found", "no such tag group")
    g = _clean_group({"name": old["name"], "color": old["color"], "tags": old.get("tags"), **(data or {})})
    if g["name"] != old["name"]:
        try:
            store.tag_group_names.insert_one({"_id": f"{ctx.tenant_id}|{g['name']}"})
        except DuplicateKeyError:
            raise Conflict("tag_group.exists", "a tag group with this name exists") from None
        store.tag_group_names.delete_one({"_id": f"{ctx.tenant_id}|{old['name']}"})
    store.tag_groups.update_one({"_id": group_id}, {"$set": g})
    return _tag_group_out({"_id": group_id, **g})


def delete_tag_group(store: Store, ctx: CallContext, group_id: str) -> dict[str, Any]:
    require_admin(ctx)
    old = store.by_id("tag_groups", group_id, tenant_id=ctx.tenant_id)
    if old is None:
        raise NotFound("tag_group.not_found", "no such tag group")
    store.tag_groups.delete_one({"_id": group_id})
    store.tag_group_names.delete_one({"_id": f"{ctx.tenant_id}|{old['name']}"})
    return {"id": group_id, "deleted": True}


def tag_index(store: Store, tenant_id: str) -> dict[str, str]:
    return {t["id"]: g["_id"] for g in store.tag_groups.find({"tenant_id": tenant_id}) for t in g.get("tags") or []}


def tag_labels(store: Store, tenant_id: str) -> dict[str, str]:
    """``{tag id: "group / tag"}`` of the tenant's tags (what a timeline entry names)."""
    return {t["id"]: f"{g['name']} / {t['name']}" for g in store.tag_groups.find({"tenant_id": tenant_id})
            for t in g.get("tags") or []}


def check_tags(store: Store, tenant_id: str, tag_ids: list[str]) -> None:
    check_exclusive_tags(tag_ids, tag_index(store, tenant_id))


# -- custom fields ----------------------------------------------------------------------------
def _field_out(f: dict[str, Any]) -> dict[str, Any]:
    return {"id": f["_id"], "entity": f["entity"], "key": f["key"], "label": f["label"], "type": f["type"],
            "options": f.get("options") or [], "required": bool(f.get("required")), "builtin": False}


def list_custom_fields(store: Store, ctx: CallContext, entity: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ent, keys in (("customer", BUILTIN_CUSTOMER_FIELDS), ("contact", BUILTIN_CONTACT_FIELDS)):
        if entity in (None, ent):
            out.extend({"id": f"builtin:{ent}:{k}", "entity": ent, "key": k, "label": k, "type": "builtin",
                        "options": [], "required": k in ("name", "address", "mobile"), "builtin": True}
                       for k in keys)
    q: dict[str, Any] = {"tenant_id": ctx.tenant_id}
    if entity:
        q["entity"] = entity
    out.extend(_field_out(f) for f in store.custom_fields.find(q))
    return out


def create_custom_field(store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    require_admin(ctx)
    f = validate_field_definition(data)
    _id = f"{ctx.tenant_id}|{f['entity']}|{f['key']}"
    doc = {"_id": _id, "tenant_id": ctx.tenant_id, **f}
    try:
        store.custom_fields.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict("custom_field.exists", "a field with this key exists") from None
    return _field_out(doc)


def delete_custom_field(store: Store, ctx: CallContext, field_id: str) -> dict[str, Any]:
    require_admin(ctx)
    if str(field_id).startswith("builtin:"):
        raise BusinessRule("custom_field.builtin", "built-in fields cannot be deleted", {"id": field_id})
    res = store.custom_fields.delete_one({"_id": field_id, "tenant_id": ctx.tenant_id})
    if not res.deleted_count:
        raise NotFound("custom_field.not_found", "no such field")
    return {"id": field_id, "deleted": True}


def check_custom(store: Store, tenant_id: str, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    fields = list(store.custom_fields.find({"tenant_id": tenant_id, "entity": entity}))
    return validate_custom_values(values, fields)


# -- projects (vendor customers) -------------------------------------------------------------
def _project_out(p: dict[str, Any]) -> dict[str, Any]:
    return {"id": p["_id"], "customer_id": p["customer_id"], "name": p["name"], "code": p.get("code"),
            "status": p.get("status", "active"), "start_date": p.get("start_date"), "end_date": p.get("end_date"),
            "remark": p.get("remark"), "created_at": iso(p["created_at"])}


def create_project(store: Store, ctx: CallContext, customer: dict[str, Any], data: Any, now: Any
                   ) -> dict[str, Any]:
    if customer.get("kind") != "vendor":
        raise BusinessRule("project.not_vendor_customer", "projects belong to vendor customers (项目关联客户)")
    if not isinstance(data, dict):
        raise InvalidInput("project.invalid", "project must be an object")
    p = Problems()
    name = clean_text(p, "name", data.get("name"), max_len=100, required=True)
    code = clean_text(p, "code", data.get("code"), max_len=MAX_SHORT)
    remark = clean_text(p, "remark", data.get("remark"), max_len=MAX_TEXT)
    start, end = clean_date(p, "start_date", data.get("start_date")), clean_date(p, "end_date", data.get("end_date"))
    status = data.get("status") or "active"
    if status not in ("active", "closed"):
        p.add("status", "invalid", "active or closed")
    p.raise_if_any("project.invalid")
    doc = {"_id": new_id(), "tenant_id": ctx.tenant_id, "customer_id": customer["_id"], "name": name,
           "code": code, "status": status, "start_date": start, "end_date": end, "remark": remark,
           "created_at": now, "created_by": ctx.user_id}
    store.projects.insert_one(doc)
    return _project_out(doc)


def list_projects(store: Store, ctx: CallContext, customer_id: str) -> list[dict[str, Any]]:
    rows = list(store.projects.find({"tenant_id": ctx.tenant_id, "customer_id": customer_id}))
    rows.sort(key=lambda r: aware(r["created_at"]))
    return [_project_out(r) for r in rows]
