"""Customer commands and queries: entry with duplicate check, read, list, edit, delete."""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from crmkit.context import CallContext
from crmkit.docstore import aware, page_args
from crmkit.errors import Conflict, Forbidden, InvalidInput, NotFound
from crmkit.outbox import Check
from customers import access, catalog, cbms, timeline
from customers.names import company_key
from customers.peers import Directory
from customers.phones import phone_keys
from customers.rules import (
    ADMIN_ROLES,
    ENTRY_ROLES,
    all_numbers,
    can_edit,
    check_required,
    validate_customer,
)
from customers.store import Store, keys_of, new_id, public

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

EDITABLE = ("name", "address", "landlines", "faxes", "mobiles", "industry", "grade", "region", "location",
            "kind", "customer_type", "cbm_id", "contract_start", "contract_end", "billing", "custom", "tags",
            "remark")


def search_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """What the pool's search and phone masking read from customer events: the name key and
    the raw numbers (the pool masks them until a customer is claimed)."""
    return {"name_key": company_key(doc.get("name") or "") or None,
            **{k: list(doc.get(k) or []) for k in ("landlines", "faxes", "mobiles")}}


def created_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """The body of ``customer.created`` (and of ``customer.restored``)."""
    return {"customer_id": doc["_id"], "name": doc["name"], "owner_id": doc.get("owner_id"), "kind": doc.get("kind"),
            "grade": doc.get("grade"), "industry": doc.get("industry"), "region": doc.get("region"),
            "address": doc.get("address"), "location": doc.get("location"), "cbm_id": doc.get("cbm_id"),
            **search_facts(doc)}


#: what the pool's search and masking read of ``customer.created``
ENTRY_FACTS = ("name", "name_key", "industry", "grade", "region", "landlines", "faxes", "mobiles")


def entry_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """What ``pool.enter`` is given of a new customer: what the public pool's search and masking
    read, so the pool's row is complete before ``customer.created`` arrives."""
    created = created_facts(doc)  # one builder: the entry's facts are those of customer.created
    return {k: created[k] for k in ENTRY_FACTS}


def duplicate_check(store: Store, ctx: CallContext, d: Directory, data: Any, exclude_id: str | None = None
                    ) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("duplicate_check.invalid", "body must be an object")
    name = data.get("name") if isinstance(data.get("name"), str) else None
    if name is not None and len(name) > 1000:
        raise InvalidInput("duplicate_check.invalid", "name: at most 1000 characters")
    numbers: list[str] = []
    for f in ("landlines", "faxes", "mobiles", "phones"):
        v = data.get(f) or []
        v = [v] if isinstance(v, str) else v
        if not isinstance(v, list) or len(v) > 50:
            raise InvalidInput("duplicate_check.invalid", f"{f}: a list of at most 50 numbers")
        numbers.extend(str(x)[:64] for x in v if x)
    given = data.get("billing")
    billing: dict[str, Any] = given if isinstance(given, dict) else {}
    if billing.get("phone"):
        numbers.append(str(billing["phone"])[:64])
    extra = [billing["title"][:1000]] if isinstance(billing.get("title"), str) else []
    if not name and not numbers and not extra:
        raise InvalidInput("duplicate_check.invalid", "give a name or at least one number")
    matches = store.find_duplicates(ctx.tenant_id, name, numbers, exclude_id, extra)
    d.holders([m["owner_id"] for m in matches])  # one identity call for every holder
    for m in matches:
        m["holder"] = d.holder(m.pop("owner_id"), m.pop("unowned"))
    return {"duplicate": bool(matches), "name_key": company_key(name or "") or None,
            "phone_keys": phone_keys(numbers), "matches": matches}


def duplicate_error(store: Store, ctx: CallContext, d: Directory, exc: Conflict) -> Conflict:
    cid = exc.details.get("customer_id")
    holder: dict[str, Any] = {"type": "unknown"}
    name = None
    if cid:
        doc = store.by_id("customers", cid, tenant_id=ctx.tenant_id)
        if doc is not None:
            holder = d.holder(doc.get("owner_id"), bool(doc.get("unowned")))
            name = doc.get("name")
    who = holder.get("owner_name") or holder.get("owner_id") or holder["type"]
    return Conflict("customer.duplicate", f"duplicate of an existing customer held by {who}",
                    {"matches": [{"customer_id": cid, "name": name, "matched_on": exc.details.get("matched_on"),
                                  "holder": holder}]})


def require_entry_role(ctx: CallContext) -> None:
    """Entering customers (one at a time or by xlsx import) is for the roles that follow
    customers (``ENTRY_ROLES``); sales support alone may not."""
    if not ctx.has_role(*ENTRY_ROLES):
        raise Forbidden("customer.entry_forbidden", "your roles may not enter customers",
                        {"roles": list(ctx.roles)})


def view(store: Store, ctx: CallContext, doc: dict[str, Any]) -> dict[str, Any]:
    """A customer as its detail view shows it: the document and its CBM
    (``cbm: {id, name, email, mobile}``, null when none or deleted)."""
    out = public(doc)
    out["cbm"] = cbms.brief(cbms.load(store, ctx.tenant_id, doc.get("cbm_id"))) if doc.get("cbm_id") else None
    return out


def _check_tags_and_custom(store: Store, ctx: CallContext, clean: dict[str, Any]) -> None:
    if clean.get("cbm_id"):
        cbms.require(store, ctx.tenant_id, clean["cbm_id"])
    if clean.get("tags"):
        catalog.check_tags(store, ctx.tenant_id, clean["tags"])
    if clean.get("custom"):
        clean["custom"] = catalog.check_custom(store, ctx.tenant_id, "customer", clean["custom"])


def create_customer(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, data: Any,
                    idempotency_key: str | None = None, path: str = "entry", pool: Any = None) -> dict[str, Any]:
    """Enter a customer; the entrant becomes its owner. After a retry is recognised and the
    duplicate keys are reserved, ``pool.enter`` takes the owner's capacity slot and writes
    the ownership log's first row (exact under parallel entries: a full pool refuses with
    the numbers, the keys are released and nothing is written); then the customer is
    written. If that write fails, ``pool.cancel_entry`` gives the slot back."""
    require_entry_role(ctx)
    clean = validate_customer(data)
    clean.pop("owner_id", None)
    _check_tags_and_custom(store, ctx, clean)
    clean.setdefault("kind", "own")
    clean.setdefault("customer_type", "company")
    if idempotency_key:  # a retry with the same key finds the same id and so the same record
        cid = uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.tenant_id}|{ctx.user_id}|create|{idempotency_key}").hex
        existing = store.by_id("customers", cid, tenant_id=ctx.tenant_id)
        if existing is not None:
            return view(store, ctx, existing)
    else:
        cid = new_id()
    now = kit.now()
    name_key, numbers = keys_of(clean)
    try:
        taken = store.reserve_keys(ctx.tenant_id, cid, name_key, numbers, now)
    except Conflict as exc:
        existing = store.by_id("customers", cid, tenant_id=ctx.tenant_id)
        if existing is not None:
            return view(store, ctx, existing)
        raise duplicate_error(store, ctx, d, exc) from None
    owner = ctx.user_id
    try:
        doc = {"_id": cid, "tenant_id": ctx.tenant_id, **{k: clean.get(k) for k in EDITABLE},
               "tags": clean.get("tags") or [], "custom": clean.get("custom") or {},
               "name_key": name_key, "phone_keys": numbers, "owner_id": owner, "owner_seq": 1, "owner_since": now,
               "unowned": False, "shared_with": store.share_targets(ctx.tenant_id, owner), "dept_ids": [],
               "created_at": now, "created_by": ctx.user_id, "updated_at": now, "deleted": False}
        if pool is not None:  # the slot and the log row first: the pool linearises capacity
            pool.enter(customer_ids=[cid], owner_id=owner, path=path, facts={cid: entry_facts(doc)})
    except BaseException:
        store.release_keys(ctx.tenant_id, cid, taken)
        raise
    # customer.owner_changed of the entry is the pool's: it announces it once it sees this customer
    events = [kit.event("customer.created", created_facts(doc))]
    if doc.get("contract_start"):
        events.append(kit.event("customer.deal_signed", {"customer_id": cid, "at": doc["contract_start"],
                                                         "owner_id": owner, "contract_end": doc.get("contract_end")}))
    try:
        with kit.change(events, Check("customers", {"_id": cid})):
            if TEST_FAIL_WRITE.get("create"):  # test hooks only: the write after the pool's entry fails
                raise RuntimeError("simulated failure of the customer write")
            store.customers.insert_one(doc)
    except DuplicateKeyError:
        existing = store.by_id("customers", cid, tenant_id=ctx.tenant_id)
        if existing is not None:
            return view(store, ctx, existing)
        store.release_keys(ctx.tenant_id, cid, taken)
        if pool is not None:
            pool.cancel_entry(customer_ids=[cid], owner_id=owner)
        raise
    except BaseException:
        store.release_keys(ctx.tenant_id, cid, taken)
        if pool is not None:
            pool.cancel_entry(customer_ids=[cid], owner_id=owner)
        raise
    timeline.record(store, ctx.tenant_id, cid, "customer.created", now, ctx.user_id, "customer entered",
                    {"owner_id": owner}, entry_id=events[0]["event_id"])
    return view(store, ctx, doc)


#: test hooks only (``_test_fail_write``): make a named write fail, to test the paths that undo
TEST_FAIL_WRITE: dict[str, bool] = {}


def fail_write(name: Any, fail: Any) -> dict[str, bool]:
    """Test hook: make the named write fail (``create``: the customer write after the pool's entry)."""
    TEST_FAIL_WRITE[str(name)] = bool(fail)
    return dict(TEST_FAIL_WRITE)


def get_customer(store: Store, ctx: CallContext, d: Directory, customer_id: Any) -> dict[str, Any]:
    """The detail view of a customer the caller sees."""
    return view(store, ctx, get_visible(store, ctx, d, customer_id))


def get_visible(store: Store, ctx: CallContext, d: Directory, customer_id: Any) -> dict[str, Any]:
    if not isinstance(customer_id, str) or not customer_id or len(customer_id) > 64:
        raise NotFound("customer.not_found", "no such customer")
    doc = store.load(ctx.tenant_id, customer_id)
    if not access.sees_customer(ctx, d, doc):
        raise NotFound("customer.not_found", "no such customer")
    return doc


def get_audited(store: Store, ctx: CallContext, d: Directory, customer_id: Any) -> dict[str, Any]:
    """A customer whose audit trail (ownership log, timeline) the caller may read: what
    they see — and for admins also a deleted one (who deleted it, when, why)."""
    if ctx.has_role(*ADMIN_ROLES) and isinstance(customer_id, str) and 0 < len(customer_id) <= 64:
        doc = store.by_id("customers", customer_id, tenant_id=ctx.tenant_id)
        if doc is not None:
            return doc
    return get_visible(store, ctx, d, customer_id)


def visible_docs(store: Store, ctx: CallContext, d: Directory, extra: dict[str, Any] | None = None,
                 projection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every visible live customer (union of equality queries), newest first."""
    base = {"tenant_id": ctx.tenant_id, "deleted": False, **(extra or {})}
    filters = access.visible_filters(ctx, d, store)
    owner = (extra or {}).get("owner_id")
    if filters and owner and owner not in (d.scope().get("user_ids") or ()) and d.supervises(owner):
        filters = [{"owner_id": owner}]  # a supervisor naming a subordinate: all of theirs
    if not filters:
        rows = list(store.customers.find(base, projection))
    else:
        seen: dict[str, dict[str, Any]] = {}
        for f in filters:
            if any(k in base and base[k] != v for k, v in f.items()):
                continue
            for r in store.customers.find({**base, **f}, projection):
                seen.setdefault(r["_id"], r)
        rows = list(seen.values())
    rows.sort(key=lambda r: (aware(r["created_at"]) if r.get("created_at") else 0, r["_id"]), reverse=True)
    return rows


def list_customers(store: Store, ctx: CallContext, d: Directory, q: str | None = None, owner_id: str | None = None,
                   grade: str | None = None, tag: str | None = None, kind: str | None = None,
                   page: Any = 1, page_size: Any = 50, dept_id: str | None = None,
                   unowned: Any = None) -> dict[str, Any]:
    """One page of the visible customers, newest first. Filters are equalities (FerretDB pushes
    only those down): ``dept_id`` = assigned to that department (分配到部门), ``unowned`` =
    the records nobody follows after a departure without a supervisor (admins only, SPEC §2)."""
    pg, size = page_args(page, page_size)
    extra: dict[str, Any] = {}
    if unowned_filter(unowned):
        if not ctx.has_role(*ADMIN_ROLES):
            raise Forbidden("customer.filter_admin_only", "the unowned filter is for admins",
                            {"field": "unowned"})
        extra["owner_id"] = None
        extra["unowned"] = True
    elif owner_id:
        extra["owner_id"] = owner_id
    if dept_id:
        extra["dept_ids"] = str(dept_id)[:64]
    if grade:
        extra["grade"] = grade
    if tag:
        extra["tags"] = tag
    if kind:
        extra["kind"] = kind
    base = {"tenant_id": ctx.tenant_id, "deleted": False, **extra}
    qn = str(q).strip().lower()[:100] if q else ""
    coll = store.customers
    if not qn and not access.visible_filters(ctx, d, store):
        # everything visible: let the database sort and page
        total = coll.count_documents(base)
        rows = list(coll.find(base).sort([("created_at", -1), ("_id", -1)]).skip((pg - 1) * size).limit(size))
        return {"items": [public(r) for r in rows], "total": total, "page": pg, "page_size": size}
    slim = visible_docs(store, ctx, d, extra, projection={"_id": 1, "created_at": 1, "name": 1, "name_key": 1,
                                                          "phone_keys": 1})
    if qn:
        slim = [r for r in slim if qn in (r.get("name") or "").lower() or qn in (r.get("name_key") or "")
                or any(qn in n for n in r.get("phone_keys") or [])]
    total = len(slim)
    ids = [r["_id"] for r in slim[(pg - 1) * size: pg * size]]
    docs = [store.by_id("customers", i, tenant_id=ctx.tenant_id) for i in ids]  # no $in scan
    items = [public(x) for x in docs if x is not None]
    return {"items": items, "total": total, "page": pg, "page_size": size}


def unowned_filter(value: Any) -> bool:
    """The ``unowned`` flag of a query string or a call: true/1/yes, false/0/no or absent."""
    if value is None or value == "" or value is False:
        return False
    if value is True or str(value).lower() in ("1", "true", "yes"):
        return True
    if str(value).lower() in ("0", "false", "no"):
        return False
    raise InvalidInput("customer.invalid_filter", "unowned: true or false", {"field": "unowned"})


def handover_preview(store: Store, ctx: CallContext, d: Directory, owner_id: Any) -> dict[str, Any]:
    """How many live customers and contacts a leaver would hand over (what ``ownership.handover``
    moves). Admins, and department admins over that person."""
    if not isinstance(owner_id, str) or not owner_id or len(owner_id) > 64:
        raise InvalidInput("customer.invalid", "owner_id: an employee id", {"field": "owner_id"})
    if not ctx.has_role(*ADMIN_ROLES) and not (ctx.has_role("dept_admin") and
                                               owner_id in (d.scope().get("user_ids") or [])):
        raise Forbidden("customer.handover_forbidden", "only admins see what a leaver hands over")
    base = {"tenant_id": ctx.tenant_id, "owner_id": owner_id, "deleted": False}
    return {"owner_id": owner_id, "customers": store.customers.count_documents(base),
            "contacts": store.contacts.count_documents(base)}


def update_customer(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str, data: Any
                    ) -> dict[str, Any]:
    doc = get_visible(store, ctx, d, customer_id)
    sup = None if ctx.has_role(*ADMIN_ROLES) else d.supervisor_of(doc.get("owner_id"))
    if not can_edit(doc, ctx.user_id, ctx.roles, sup):
        raise Forbidden("customer.edit_forbidden", "only the owner, the owner's supervisor or an admin may edit")
    if isinstance(data, dict) and "owner_id" in data:
        raise InvalidInput("customer.invalid", "owner_id: change the owner with a transfer")
    clean = validate_customer(data, partial=True)
    _check_tags_and_custom(store, ctx, clean)
    merged = {**doc, **clean}
    check_required(merged)
    old_key, old_numbers = doc.get("name_key") or "", list(doc.get("phone_keys") or [])
    new_key, new_numbers = keys_of(merged)
    now = kit.now()
    billing_changed = "billing" in clean and clean["billing"] != doc.get("billing")
    if billing_changed and (clean.get("billing") or {}).get("title"):
        dup = store.find_duplicates(ctx.tenant_id, None, [], customer_id, [clean["billing"]["title"]])
        if dup:
            raise duplicate_error(store, ctx, d, Conflict("customer.duplicate", "", {
                "customer_id": dup[0]["customer_id"], "matched_on": dup[0]["matched_on"]}))
    add_keys = ([new_key] if new_key != old_key else [])
    add_numbers = [n for n in new_numbers if n not in old_numbers]
    try:
        taken = store.reserve_keys(ctx.tenant_id, customer_id, add_keys[0] if add_keys else "",
                                   add_numbers, now)
    except Conflict as exc:
        raise duplicate_error(store, ctx, d, exc) from None
    changes = {k: v for k, v in clean.items() if v != doc.get(k)}
    update = {**changes, "name_key": new_key, "phone_keys": new_numbers, "updated_at": now}
    ev = kit.event("customer.updated", {"customer_id": customer_id, "fields": sorted(changes),
                                        "name": merged.get("name"), "owner_id": doc.get("owner_id"),
                                        "grade": merged.get("grade"), "address": merged.get("address"),
                                        "location": merged.get("location"), "cbm_id": merged.get("cbm_id"),
                                        "industry": merged.get("industry"), **search_facts(merged)})
    events = [ev]
    if changes.get("contract_start"):
        events.append(kit.event("customer.deal_signed", {"customer_id": customer_id, "at": changes["contract_start"],
                                                         "owner_id": doc.get("owner_id"),
                                                         "contract_end": merged.get("contract_end")}))
    if "tags" in changes:
        before = doc.get("tags") or []
        events.append(kit.event("customer.tags_changed", {
            "customer_id": customer_id, "tags": changes["tags"],
            "added": [t for t in changes["tags"] if t not in before],
            "removed": [t for t in before if t not in changes["tags"]]}))
    try:
        with kit.change(events, Check("customers", {"_id": customer_id, "updated_at": now})):
            store.customers.update_one({"_id": customer_id, "tenant_id": ctx.tenant_id}, {"$set": update})
    except BaseException:
        store.release_keys(ctx.tenant_id, customer_id, taken)
        raise
    drop = ([("name_keys", old_key)] if old_key and old_key != new_key else []) + \
        [("phone_keys", n) for n in old_numbers if n not in new_numbers]
    store.release_keys(ctx.tenant_id, customer_id, drop)
    if changes:
        timeline.record(store, ctx.tenant_id, customer_id, "customer.updated", now, ctx.user_id,
                        "edited: " + ", ".join(sorted(changes)), {"fields": sorted(changes)},
                        entry_id=ev["event_id"])
    if "tags" in changes:
        timeline.record_tags(store, ctx.tenant_id, customer_id, now, ctx.user_id, doc.get("tags") or [],
                             changes["tags"], catalog.tag_labels(store, ctx.tenant_id),
                             entry_id=f"{ev['event_id']}:tags")
    return view(store, ctx, {**doc, **update})


def visible_customer_ids(store: Store, ctx: CallContext, d: Directory, owner_ids: list[str] | None = None
                         ) -> list[str]:
    rows = visible_docs(store, ctx, d, projection={"_id": 1, "created_at": 1, "owner_id": 1})
    if owner_ids:
        wanted = set(owner_ids)
        rows = [r for r in rows if r.get("owner_id") in wanted]
    return [r["_id"] for r in rows]


__all__ = ["all_numbers", "create_customer", "duplicate_check", "list_customers"]
