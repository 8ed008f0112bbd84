"""Organisation: departments, employees, joining, menus and the questions other services
ask (visibility, supervisors, colleagues). Every function takes the store (identity.store),
the worker kit when it writes (clock, events) and the caller's verified context, and touches
only ``ctx.tenant_id``."""
from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from identity import rules, sessions
from identity.store import Store, department_out, employee_out, forget_org, mobile_key, released_mobile_key
from identity.store import org as org_of

INVITATION_TTL = timedelta(days=7)


def new_id() -> str:
    return uuid.uuid4().hex


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- idempotency -----------------------------------------------------------------------
def idempotent(kit: WorkerKit, store: Store, ctx: CallContext, op: str, run: Callable[[], Any]) -> Any:
    """With an ``Idempotency-Key`` a retried command has exactly one effect: the first
    call claims the key by an insert under the unique ``_id`` and stores its answer."""
    if not ctx.idempotency_key:
        return run()
    key = f"{ctx.tenant_id}:{ctx.user_id}:{op}:{ctx.idempotency_key}"
    coll = store.idempotency
    try:
        coll.insert_one({"_id": key, "state": "running", "at": kit.now()})
    except DuplicateKeyError:
        row = coll.find_one({"_id": key}) or {}
        if row.get("state") == "done":
            return row.get("result")
        raise Conflict("idempotency.in_progress", "a request with this Idempotency-Key is still running") from None
    try:
        result = run()
    except BaseException:
        coll.delete_one({"_id": key})
        raise
    coll.update_one({"_id": key}, {"$set": {"state": "done", "result": result}})
    return result


# -- helpers ------------------------------------------------------------------------------
def _need_department(store: Store, ctx: CallContext, dept_id: Any, field: str = "department_id") -> dict[str, Any]:
    doc = store.department(ctx.tenant_id, dept_id)
    if doc is None:
        raise NotFound("department.not_found", "no such department", {"field": field, "id": dept_id})
    return doc


def _need_employee(store: Store, ctx: CallContext, employee_id: Any, *, live: bool = True) -> dict[str, Any]:
    doc = store.employee(ctx.tenant_id, employee_id)
    if doc is None or (live and doc["status"] == rules.DELETED):
        raise NotFound("employee.not_found", "no such employee", {"id": employee_id})
    return doc


def _me(store: Store, ctx: CallContext) -> dict[str, Any] | None:
    return store.employee(ctx.tenant_id, ctx.user_id)


def _managed_ids(store: Store, ctx: CallContext, user_id: str) -> list[str]:
    return [d["_id"] for d in store.departments_of(ctx.tenant_id) if d.get("manager_id") == user_id]


def _admin_scope(store: Store, ctx: CallContext) -> set[str] | None:
    """Departments the caller may manage: None = the whole tenant."""
    if ctx.has_role(rules.TENANT_ADMIN, "system", "operator"):
        return None
    me = _me(store, ctx)
    if me is None:
        return set()
    return rules.dept_admin_scope(me.get("dept_ids") or [], _managed_ids(store, ctx, ctx.user_id),
                                  store.parents(ctx.tenant_id))


def _require_employee_write(store: Store, ctx: CallContext, target: dict[str, Any] | None = None,
                            dept_ids: list[str] | None = None) -> None:
    rules.require(ctx.roles, "employee.write")
    scope = _admin_scope(store, ctx)
    if scope is None:
        return
    if target is not None:
        if rules.TENANT_ADMIN in (target.get("roles") or []):
            raise Forbidden("permission.scope", "a department admin may not manage a tenant admin")
        if not set(target.get("dept_ids") or []) <= scope:
            raise Forbidden("permission.scope", "this employee is outside the departments you manage")
    if dept_ids is not None and not set(dept_ids) <= scope:
        raise Forbidden("permission.scope", "these departments are outside the departments you manage",
                        {"dept_ids": sorted(set(dept_ids) - scope)})


def _other_active_admins(store: Store, tenant_id: str, employee_id: str) -> int:
    return sum(1 for e in store.active_members(tenant_id)
               if e["_id"] != employee_id and rules.TENANT_ADMIN in (e.get("roles") or [])
               and not e.get("disabled"))


def _employee_event(kit: WorkerKit, type_: str, doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = employee_out(doc)
    data["employee_id"] = doc["_id"]
    data.update(extra)
    return kit.event(type_, data, tenant_id=doc["tenant_id"])


# -- departments --------------------------------------------------------------------------
def list_departments(store: Store, ctx: CallContext) -> dict[str, Any]:
    rules.require(ctx.roles, "department.read") if not ctx.has_role("system") else None
    items = [department_out(d) for d in store.departments_of(ctx.tenant_id)]
    items.sort(key=lambda d: d["name"])
    return {"items": items, "tree": rules.build_tree(items)}


def get_department(store: Store, ctx: CallContext, department_id: str) -> dict[str, Any]:
    return department_out(_need_department(store, ctx, department_id))


def _check_manager(store: Store, ctx: CallContext, manager_id: Any) -> str | None:
    if manager_id is None:
        return None
    doc = store.employee(ctx.tenant_id, manager_id)
    if doc is None or doc["status"] in (rules.LEFT, rules.DELETED):
        raise NotFound("employee.not_found", "the manager is not an employee of this organisation",
                       {"field": "manager_id", "id": manager_id})
    return str(manager_id)


def _check_sibling_name(store: Store, ctx: CallContext, parent_id: str | None, name: str,
                        exclude: str | None = None) -> None:
    for d in store.departments_of(ctx.tenant_id):
        if d.get("parent_id") == parent_id and d["name"] == name and d["_id"] != exclude:
            raise Conflict("department.name_taken", "a sibling department already has this name",
                           {"name": name, "department_id": d["_id"]})


def create_department(kit: WorkerKit, store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    rules.require(ctx.roles, "department.write")
    data = rules.only_fields(data, ("name", "parent_id", "manager_id"))
    name = rules.text(data, "name")
    tenant = store.tenant(ctx.tenant_id)
    if tenant is None:
        raise NotFound("tenant.not_found", "no such tenant")
    parent_id = rules.ident(data, "parent_id", required=False) or tenant["root_dept_id"]
    _need_department(store, ctx, parent_id, "parent_id")
    manager_id = _check_manager(store, ctx, rules.ident(data, "manager_id", required=False))
    assert name is not None

    def run() -> dict[str, Any]:
        _check_sibling_name(store, ctx, parent_id, name)
        now = kit.now()
        doc = {"_id": new_id(), "tenant_id": ctx.tenant_id, "name": name, "parent_id": parent_id,
               "manager_id": manager_id, "created_at": now, "updated_at": now}
        ev = kit.event("department.created", {**department_out(doc), "department_id": doc["_id"]})
        with kit.change([ev], Check("departments", {"_id": doc["_id"]})):
            store.departments.insert_one(doc)
        forget_org(store, ctx.tenant_id)
        return department_out(doc)

    return idempotent(kit, store, ctx, "create_department", run)  # type: ignore[no-any-return]


def update_department(kit: WorkerKit, store: Store, ctx: CallContext, department_id: str, data: Any) -> dict[str, Any]:
    rules.require(ctx.roles, "department.write")
    data = rules.only_fields(data, ("name", "parent_id", "manager_id"))
    doc = _need_department(store, ctx, department_id)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = rules.text(data, "name")
    if "parent_id" in data:
        parent_id = rules.ident(data, "parent_id")
        if doc.get("parent_id") is None:
            raise BusinessRule("department.root", "the root department cannot move")
        _need_department(store, ctx, parent_id, "parent_id")
        assert parent_id is not None
        rules.check_move(doc["_id"], parent_id, store.parents(ctx.tenant_id))
        changes["parent_id"] = parent_id
    if "manager_id" in data:
        changes["manager_id"] = _check_manager(store, ctx, data["manager_id"]) if data["manager_id"] is not None \
            else None
        if data["manager_id"] is not None:
            rules.ident(data, "manager_id")
    if "name" in changes or "parent_id" in changes:
        _check_sibling_name(store, ctx, changes.get("parent_id", doc.get("parent_id")),
                            changes.get("name", doc["name"]), exclude=doc["_id"])
    if not changes:
        return department_out(doc)
    changes["updated_at"] = kit.now()
    new = {**doc, **changes}
    ev = kit.event("department.updated", {**department_out(new), "department_id": doc["_id"],
                                          "changed": sorted(k for k in changes if k != "updated_at")})
    check = {"_id": doc["_id"], **{k: v for k, v in changes.items() if k != "updated_at"}}
    with kit.change([ev], Check("departments", check)):
        store.departments.update_one({"_id": doc["_id"]}, {"$set": changes})
    forget_org(store, ctx.tenant_id)
    return department_out(new)


def delete_department(kit: WorkerKit, store: Store, ctx: CallContext, department_id: str) -> dict[str, Any]:
    rules.require(ctx.roles, "department.write")
    doc = _need_department(store, ctx, department_id)
    if doc.get("parent_id") is None:
        raise BusinessRule("department.root", "the root department cannot be deleted")
    children = [d["_id"] for d in store.departments_of(ctx.tenant_id) if d.get("parent_id") == doc["_id"]]
    members = [e["_id"] for e in store.active_members(ctx.tenant_id) if doc["_id"] in (e.get("dept_ids") or [])]
    if children or members:
        raise Conflict("department.not_empty", "only an empty department can be deleted",
                       {"child_department_ids": children, "employee_ids": members})
    tenant = store.tenant(ctx.tenant_id) or {}
    grants = tenant.get("menu_grants") or {}
    ev = kit.event("department.deleted", {"department_id": doc["_id"], "id": doc["_id"], "name": doc["name"]})
    with kit.change([ev]):
        store.departments.delete_one({"_id": doc["_id"]})
        if any(doc["_id"] in ids for ids in grants.values()):
            store.tenants.update_one({"_id": ctx.tenant_id}, {"$set": {"menu_grants": {
                m: [d for d in ids if d != doc["_id"]] for m, ids in grants.items()}}})
    forget_org(store, ctx.tenant_id)
    return {"deleted": doc["_id"]}


# -- employees ---------------------------------------------------------------------------
EMPLOYEE_FIELDS = ("name", "mobile", "email", "language", "roles", "dept_ids", "primary_dept_id")
SELF_FIELDS = frozenset({"name", "email", "language"})


def list_employees(store: Store, ctx: CallContext, role: str | None = None, dept_id: str | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
    if not ctx.has_role("system"):
        rules.require(ctx.roles, "employee.read")
    rows = store.employees_of(ctx.tenant_id)
    if role is not None:
        rows = [r for r in rows if role in (r.get("roles") or [])]
    if dept_id is not None:
        rows = [r for r in rows if dept_id in (r.get("dept_ids") or [])]
    out = [employee_out(r) for r in rows]
    if status is not None:
        out = [e for e in out if e["status"] == status]
    out.sort(key=lambda e: (e["name"], e["id"]))
    return out


def search_employees(store: Store, ctx: CallContext, q: Any = None, role: str | None = None,
                     dept_id: str | None = None, status: str | None = None, page: Any = 1,
                     page_size: Any = 20) -> dict[str, Any]:
    """The console's employee table: ``list_employees`` filtered by a term in the name or
    the mobile, one page of it (``{items, total, page, page_size}``)."""
    term = rules.search_text(q)
    pg = rules.whole(page, "page", 1, 1, 100_000)
    size = rules.whole(page_size, "page_size", 20, 1, rules.PAGE_SIZE_MAX)
    rows = [e for e in list_employees(store, ctx, role=role, dept_id=dept_id, status=status) if rules.matches(e, term)]
    return rules.page_of(rows, pg, size)


def departure_preview(store: Store, ctx: CallContext, employee_id: str) -> dict[str, Any]:
    """Who would receive a leaver's records (SPEC §2: the manager of the primary department,
    chosen as ``_depart`` chooses; None = they become unowned). Asked by those who may delete
    the employee."""
    doc = _need_employee(store, ctx, employee_id)
    _require_employee_write(store, ctx, target=doc)
    to = rules.supervisor(doc["_id"], doc.get("primary_dept_id"), store.parents(ctx.tenant_id),
                          store.managers(ctx.tenant_id))
    target = store.employee(ctx.tenant_id, to) if to else None
    return {"employee_id": doc["_id"], "name": doc["name"], "handover_to": to,
            "handover_name": target["name"] if target else None}


def get_employee(store: Store, ctx: CallContext, employee_id: str) -> dict[str, Any]:
    return employee_out(_need_employee(store, ctx, employee_id, live=False))


def get_employees(store: Store, ctx: CallContext, ids: Any) -> list[dict[str, Any]]:
    if not isinstance(ids, list):
        raise InvalidInput("validation.type", "ids must be a list", {"field": "ids"})
    wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str)]
    if len(wanted) <= ID_LOOKUPS:
        # one ``_id`` equality each: FerretDB (SQLite) pushes only that down; ``$in`` with
        # ``tenant_id`` reads the whole employees collection of every tenant
        docs: Any = [d for d in (store.employee(ctx.tenant_id, i) for i in wanted) if d is not None]
    else:
        docs = store.employees.find({"_id": {"$in": wanted}, "tenant_id": ctx.tenant_id}, {"password_hash": 0})
    return [employee_out(d) for d in docs]


#: up to this many ids, ``get_employees``/``holders`` look each one up by ``_id``
ID_LOOKUPS = 50


def _supervisor_by_id(store: Store, ctx: CallContext, doc: dict[str, Any]) -> str | None:
    """:func:`rules.supervisor` walking the department chain with ``_id`` lookups (usually one
    or two) instead of reading every department of the tenant."""
    parents: dict[str, str | None] = {}
    managers: dict[str, str | None] = {}
    cur = doc.get("primary_dept_id")
    for _ in range(64):  # a corrupt cycle stops here and in rules.ancestors
        if not isinstance(cur, str) or cur in parents:
            break
        dept = store.departments.find_one({"_id": cur}, {"tenant_id": 1, "parent_id": 1, "manager_id": 1})
        if dept is None or dept.get("tenant_id") != ctx.tenant_id:
            break
        parents[cur], managers[cur] = dept.get("parent_id"), dept.get("manager_id")
        if managers[cur] is None or managers[cur] != doc["_id"]:
            break  # rules.supervisor stops at this department
        cur = parents[cur]
    return rules.supervisor(doc["_id"], doc.get("primary_dept_id"), parents, managers)


def holders(store: Store, ctx: CallContext, ids: Any) -> dict[str, dict[str, Any]]:
    """For each employee id: name, supervisor id and supervisor name, in one call (what a
    duplicate-check answer names). Unknown ids are left out; at most ``ID_LOOKUPS`` ids."""
    if not isinstance(ids, list) or len(ids) > ID_LOOKUPS:
        raise InvalidInput("validation.type", f"ids must be a list of at most {ID_LOOKUPS}", {"field": "ids"})
    docs: dict[str, dict[str, Any] | None] = {}

    def employee(i: str) -> dict[str, Any] | None:
        if i not in docs:
            docs[i] = store.employee(ctx.tenant_id, i)
        return docs[i]

    out: dict[str, dict[str, Any]] = {}
    for i in dict.fromkeys(ids):
        doc = employee(i) if isinstance(i, str) else None
        if doc is None:
            continue
        sup = _supervisor_by_id(store, ctx, doc)
        sup_doc = employee(sup) if sup else None
        out[i] = {"name": doc["name"], "supervisor_id": sup,
                  "supervisor_name": sup_doc["name"] if sup_doc is not None else None}
    return out


def _check_departments(store: Store, ctx: CallContext, dept_ids: list[str]) -> None:
    known = set(store.parents(ctx.tenant_id))
    missing = [d for d in dept_ids if d not in known]
    if missing:
        raise NotFound("department.not_found", "no such department", {"field": "dept_ids", "ids": missing})


def create_employee(kit: WorkerKit, store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    rules.require(ctx.roles, "employee.write")
    data = rules.only_fields(data, (*EMPLOYEE_FIELDS, "invite"))
    name = rules.text(data, "name")
    mob = rules.mobile(data)
    mail = rules.email(data)
    lang = rules.language(data)  # None: not chosen (notifications follow the request's language)
    roles = rules.roles(data) or [rules.EMPLOYEE]
    dept_ids = rules.id_list(data, "dept_ids", required=True)
    assert dept_ids is not None and mob is not None
    primary = rules.primary_dept(dept_ids, rules.ident(data, "primary_dept_id", required=False))
    invite = rules.flag(data, "invite")
    _check_departments(store, ctx, dept_ids)
    _require_employee_write(store, ctx, dept_ids=dept_ids)
    rules.check_grant(ctx.roles, roles)

    def run() -> dict[str, Any]:
        now = kit.now()
        doc = {"_id": new_id(), "tenant_id": ctx.tenant_id, "name": name, "mobile": mob,
               "mobile_key": mobile_key(ctx.tenant_id, mob), "email": mail, "language": lang, "roles": roles,
               "dept_ids": dept_ids, "primary_dept_id": primary, "status": rules.CREATED, "disabled": False,
               "password_hash": None, "tv": 1, "created_at": now, "updated_at": now}
        ev = _employee_event(kit, "employee.created", doc)
        try:
            with kit.change([ev], Check("employees", {"_id": doc["_id"]})):
                store.employees.insert_one(doc)
        except DuplicateKeyError:
            holder = store.employee_by_mobile(ctx.tenant_id, mob)
            raise Conflict("employee.mobile_taken", "another employee of this organisation has this mobile",
                           {"field": "mobile", "employee_id": holder["_id"] if holder else None}) from None
        out = employee_out(doc)
        if invite:
            out["invitation"] = _invite(kit, store, ctx, doc)
            out.update({k: v for k, v in employee_out(store.employee(ctx.tenant_id, doc["_id"]) or doc).items()})
        return out

    return idempotent(kit, store, ctx, "create_employee", run)  # type: ignore[no-any-return]


def update_employee(kit: WorkerKit, store: Store, ctx: CallContext, employee_id: str, data: Any) -> dict[str, Any]:
    data = rules.only_fields(data, EMPLOYEE_FIELDS)
    doc = _need_employee(store, ctx, employee_id)
    if not (employee_id == ctx.user_id and set(data) <= SELF_FIELDS):
        _require_employee_write(store, ctx, target=doc)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = rules.text(data, "name")
    if "email" in data:
        changes["email"] = rules.email(data)
    if "language" in data:
        changes["language"] = rules.language(data)  # null clears the choice
    if "roles" in data:
        roles = rules.roles(data, required=True)
        assert roles is not None
        rules.check_grant(ctx.roles, roles)
        if rules.TENANT_ADMIN in (doc.get("roles") or []) and rules.TENANT_ADMIN not in roles:
            rules.check_not_last_admin(doc["roles"], _other_active_admins(store, ctx.tenant_id, doc["_id"]),
                                       "demote")
        changes["roles"] = roles
    dept_ids = doc.get("dept_ids") or []
    if "dept_ids" in data:
        dept_ids = rules.id_list(data, "dept_ids", required=True) or []
        _check_departments(store, ctx, dept_ids)
        _require_employee_write(store, ctx, dept_ids=dept_ids)
        changes["dept_ids"] = dept_ids
    if "dept_ids" in data or "primary_dept_id" in data:
        primary = rules.ident(data, "primary_dept_id", required=False)
        if primary is None:
            primary = doc.get("primary_dept_id") if doc.get("primary_dept_id") in dept_ids else None
        changes["primary_dept_id"] = rules.primary_dept(dept_ids, primary)
    new_mobile = None
    if "mobile" in data:
        new_mobile = rules.mobile(data)
        if new_mobile != doc["mobile"]:
            changes["mobile"] = new_mobile
            changes["mobile_key"] = mobile_key(ctx.tenant_id, new_mobile or "")
    if not changes:
        return employee_out(doc)
    changes["updated_at"] = kit.now()
    new = {**doc, **changes}
    ev = _employee_event(kit, "employee.updated", new,
                         changed=sorted(k for k in changes if k not in ("updated_at", "mobile_key")))
    events = [ev]
    # what an access token carries changed: the gateways learn it before the caller is answered
    carried = any(k in changes and changes[k] != doc.get(k) for k in sessions.CARRIED)
    if carried:
        access_ev, changes = sessions.prepare(kit, doc, changes, reason="updated")
        events.append(access_ev)
    try:
        with kit.change(events, Check("employees", {"_id": doc["_id"], "updated_at": changes["updated_at"]})):
            store.set_employee(doc["_id"], changes, bump_av=carried)
    except DuplicateKeyError:
        raise Conflict("employee.mobile_taken", "another employee of this organisation has this mobile",
                       {"field": "mobile"}) from None
    sessions.publish_now(kit, events[1:])
    return employee_out(new)


def set_disabled(kit: WorkerKit, store: Store, ctx: CallContext, employee_id: str, disabled: bool) -> dict[str, Any]:
    doc = _need_employee(store, ctx, employee_id)
    _require_employee_write(store, ctx, target=doc)
    if doc["_id"] == ctx.user_id:
        raise BusinessRule("employee.self", "you cannot disable or enable yourself")
    if bool(doc.get("disabled")) == disabled:
        return employee_out(doc)
    if disabled:
        rules.check_not_last_admin(doc.get("roles") or [], _other_active_admins(store, ctx.tenant_id, doc["_id"]),
                                   "disable")
    now = kit.now()
    new = {**doc, "disabled": disabled, "updated_at": now}
    ev = _employee_event(kit, "employee.disabled" if disabled else "employee.enabled", new)
    access_ev, fields = sessions.prepare(kit, doc, {"disabled": disabled, "updated_at": now},
                                         reason="disabled" if disabled else "enabled", bump_tv=disabled)
    with kit.change([ev, access_ev], Check("employees", {"_id": doc["_id"], "disabled": disabled})):
        # disabling revokes every token at once (token version)
        store.set_employee(doc["_id"], fields, bump_tv=disabled, bump_av=True)
    sessions.publish_now(kit, [access_ev])
    return employee_out(new)


def _depart(kit: WorkerKit, store: Store, ctx: CallContext, doc: dict[str, Any], reason: str) -> dict[str, Any]:
    """Delete or leave: the employee leaves the organisation, every token dies, the
    departments they managed lose their manager, and ``employee.left`` names the
    handover target (their supervisor, or None: their records become unowned)."""
    if doc["status"] == rules.DELETED or (doc["status"] == rules.LEFT and reason == "left"):
        return employee_out(doc)
    if doc["status"] == rules.LEFT:  # deleting someone who already left: no second handover
        fields: dict[str, Any] = {"status": rules.DELETED, "mobile_key": released_mobile_key(doc["_id"]),
                                  "updated_at": kit.now()}
        new = {**doc, **fields}
        ev = _employee_event(kit, "employee.updated", new, changed=["status"])
        access_ev, fields = sessions.prepare(kit, doc, fields, reason="deleted", bump_tv=True)
        with kit.change([ev, access_ev], Check("employees", {"_id": doc["_id"], "status": rules.DELETED})):
            store.set_employee(doc["_id"], fields, bump_tv=True, bump_av=True)
        sessions.publish_now(kit, [access_ev])
        return {**employee_out(new), "handover_to": None}
    rules.check_not_last_admin(doc.get("roles") or [], _other_active_admins(store, ctx.tenant_id, doc["_id"]),
                               "remove")
    parents = store.parents(ctx.tenant_id)
    managers = store.managers(ctx.tenant_id)
    handover_to = rules.supervisor(doc["_id"], doc.get("primary_dept_id"), parents, managers)
    now = kit.now()
    status = rules.DELETED if reason == "deleted" else rules.LEFT
    fields = {"status": status, "updated_at": now}
    if status == rules.DELETED:
        fields["mobile_key"] = released_mobile_key(doc["_id"])
    new = {**doc, **fields}
    managed = [d for d in store.departments_of(ctx.tenant_id) if d.get("manager_id") == doc["_id"]]
    events = [kit.event("employee.left", {**employee_out(new), "employee_id": doc["_id"], "reason": reason,
                                          "handover_to": handover_to}, tenant_id=doc["tenant_id"])]
    for d in managed:
        events.append(kit.event("department.updated", {**department_out({**d, "manager_id": None}),
                                                       "department_id": d["_id"], "changed": ["manager_id"]},
                                tenant_id=doc["tenant_id"]))
    access_ev, fields = sessions.prepare(kit, doc, fields, reason=reason, bump_tv=True)
    events.append(access_ev)
    with kit.change(events, Check("employees", {"_id": doc["_id"], "status": status})):
        for d in managed:
            store.departments.update_one({"_id": d["_id"]}, {"$set": {"manager_id": None, "updated_at": now}})
        store.set_employee(doc["_id"], fields, bump_tv=True, bump_av=True)
    sessions.publish_now(kit, [access_ev])
    if managed:
        forget_org(store, doc["tenant_id"])
    out = employee_out(new)
    out["handover_to"] = handover_to
    return out


def delete_employee(kit: WorkerKit, store: Store, ctx: CallContext, employee_id: str) -> dict[str, Any]:
    doc = _need_employee(store, ctx, employee_id)
    _require_employee_write(store, ctx, target=doc)
    if doc["_id"] == ctx.user_id:
        raise BusinessRule("employee.self", "you cannot delete yourself; leave the organisation instead")
    return _depart(kit, store, ctx, doc, "deleted")


def leave(kit: WorkerKit, store: Store, ctx: CallContext) -> dict[str, Any]:
    doc = _need_employee(store, ctx, ctx.user_id)
    return _depart(kit, store, ctx, doc, "left")


# -- joining -------------------------------------------------------------------------------
def _invite(kit: WorkerKit, store: Store, ctx: CallContext, doc: dict[str, Any]) -> dict[str, Any]:
    token = secrets.token_urlsafe(32)
    inv_id = new_id()
    now = kit.now()
    expires = now + INVITATION_TTL
    inv = {"_id": inv_id, "tenant_id": doc["tenant_id"], "employee_id": doc["_id"], "mobile": doc["mobile"],
           "token_hash": token_hash(token), "expires_at": expires, "created_at": now}
    ev = kit.event("employee.invited", {
        "employee_id": doc["_id"], "name": doc["name"], "mobile": doc["mobile"], "email": doc.get("email"),
        "invitation_id": inv_id, "invitation_token": token, "language": doc.get("language"),
        "expires_at": iso(expires), "tenant_name": (store.tenant(doc["tenant_id"]) or {}).get("name"),
        "accept_url": rules.invitation_link(app_url(), inv_id, token),
    }, tenant_id=doc["tenant_id"])
    with kit.change([ev], Check("employees", {"_id": doc["_id"], "invitation_id": inv_id})):
        store.invitations.insert_one(inv)
        store.set_employee(doc["_id"], {"status": rules.PENDING, "invitation_id": inv_id, "updated_at": now})
    out = {"invitation_id": inv_id, "expires_at": iso(expires), "employee_id": doc["_id"], "sent_to": "invitee"}
    if invite_token_to_inviter():
        out["token"] = token
    return out


def app_url() -> str:
    """Where the invitee opens the web app (``APP_URL``, e.g. ``https://crm.example.com``;
    default the local ``make run`` gateway)."""
    return os.environ.get("APP_URL", "").strip() or "http://127.0.0.1:8000"


def invite_token_to_inviter() -> bool:
    """The invitation token reaches only the invitee (notify delivers it). Development and
    test stacks, which have no SMS/e-mail to the invitee's phone, set
    ``INVITE_TOKEN_TO_INVITER=1`` to hand it to the inviter as well."""
    return os.environ.get("INVITE_TOKEN_TO_INVITER", "").strip() == "1"


def invite_employee(kit: WorkerKit, store: Store, ctx: CallContext, employee_id: str, data: Any) -> dict[str, Any]:
    """The admin ticks "join" and confirms the phone number; an invitation goes out."""
    data = rules.only_fields(data or {}, ("mobile",))
    doc = _need_employee(store, ctx, employee_id)
    _require_employee_write(store, ctx, target=doc)
    confirmed = rules.mobile(data)
    if confirmed != doc["mobile"]:
        raise BusinessRule("invitation.mobile_mismatch", "the confirmed phone number is not the employee's",
                           {"field": "mobile"})
    if doc["status"] not in rules.INVITABLE:
        raise Conflict("invitation.already_joined", "this employee has already joined", {"status": doc["status"]})
    if doc.get("disabled"):
        raise BusinessRule("invitation.disabled", "enable the employee before inviting them")

    def run() -> dict[str, Any]:
        result = _invite(kit, store, ctx, doc)
        result["status"] = rules.PENDING
        return result

    return idempotent(kit, store, ctx, f"invite_employee:{doc['_id']}", run)  # type: ignore[no-any-return]


# -- menus --------------------------------------------------------------------------------
def get_menu_permissions(store: Store, ctx: CallContext) -> dict[str, Any]:
    rules.require(ctx.roles, "menu.manage")
    tenant = store.tenant(ctx.tenant_id) or {}
    grants = tenant.get("menu_grants") or {}
    return {"grants": {m: list(grants.get(m) or []) for m in rules.MENUS}}


def set_menu_permissions(kit: WorkerKit, store: Store, ctx: CallContext, data: Any) -> dict[str, Any]:
    rules.require(ctx.roles, "menu.manage")
    data = rules.only_fields(data, ("grants",))
    grants = data.get("grants")
    if not isinstance(grants, dict):
        raise InvalidInput("validation.required", "grants must be an object of menu -> department ids",
                           {"field": "grants"})
    unknown = sorted(set(grants) - set(rules.MENUS))
    if unknown:
        raise InvalidInput("menu.unknown", f"unknown menus: {', '.join(unknown)}", {"menus": unknown})
    clean: dict[str, list[str]] = {}
    for menu in rules.MENUS:
        ids = rules.id_list(grants, menu, allow_empty=True) or []
        _check_departments(store, ctx, ids)
        clean[menu] = ids
    ev = kit.event("tenant.menu_permissions_changed", {"grants": clean})
    with kit.change([ev]):
        store.tenants.update_one({"_id": ctx.tenant_id}, {"$set": {"menu_grants": clean}})
        forget_org(store, ctx.tenant_id)
    return {"grants": clean}


def _menu_allowed(menu: str, tenant: dict[str, Any], me: dict[str, Any] | None,
                  parents: dict[str, str | None] | None, store: Store, ctx: CallContext) -> bool:
    granted = set((tenant.get("menu_grants") or {}).get(menu) or [])
    if not granted or me is None:
        return False
    if parents is None:
        parents = store.parents(ctx.tenant_id)
    return bool(rules.subtree(granted, parents) & set(me.get("dept_ids") or []))


def menu_allowed(store: Store, ctx: CallContext, menu: str) -> bool:
    """Tenant admins see every menu; others when a department they belong to (or one of its
    ancestors) is granted the menu by the tenant admin."""
    if menu not in rules.MENUS:
        raise InvalidInput("menu.unknown", "unknown menu", {"menu": menu})
    if ctx.has_role(rules.TENANT_ADMIN, "system"):
        return True
    tenant = store.tenant(ctx.tenant_id) or {}
    return _menu_allowed(menu, tenant, _me(store, ctx), None, store, ctx)


# -- questions other services ask -----------------------------------------------------------
def visible_owner_ids(store: Store, ctx: CallContext) -> dict[str, Any]:
    if ctx.has_role(rules.TENANT_ADMIN, rules.ALL_CUSTOMERS, "system"):
        return {"all": True, "user_ids": []}
    if ctx.has_role(rules.DEPT_ADMIN):
        scope = _admin_scope(store, ctx) or set()
        ids = {e["_id"] for e in store.employees_of(ctx.tenant_id, include_gone=True)
               if set(e.get("dept_ids") or []) & scope}
        ids.add(ctx.user_id)
        return {"all": False, "user_ids": sorted(ids)}
    return {"all": False, "user_ids": [ctx.user_id]}


def subtree_employee_ids(store: Store, ctx: CallContext, dept_id: str) -> list[str]:
    _need_department(store, ctx, dept_id, "dept_id")
    depts = rules.subtree([dept_id], store.parents(ctx.tenant_id))
    return sorted(e["_id"] for e in store.active_members(ctx.tenant_id) if set(e.get("dept_ids") or []) & depts)


def supervisor_of(store: Store, ctx: CallContext, employee_id: str) -> dict[str, Any]:
    doc = _need_employee(store, ctx, employee_id, live=False)
    sup = rules.supervisor(doc["_id"], doc.get("primary_dept_id"), store.parents(ctx.tenant_id),
                           store.managers(ctx.tenant_id))
    return {"supervisor_id": sup}


def employee_ids_by_name(store: Store, ctx: CallContext, name: str) -> list[str]:
    if not isinstance(name, str):
        raise InvalidInput("validation.type", "name must be a string", {"field": "name"})
    wanted = name.strip()
    return sorted(e["_id"] for e in store.active_members(ctx.tenant_id) if e["name"] == wanted)


def is_colleague_mobile(store: Store, ctx: CallContext, mobile: str) -> dict[str, Any]:
    try:
        m = rules.normalise_mobile(mobile)
    except InvalidInput:
        return {"employee_id": None}
    for e in store.with_mobile(ctx.tenant_id, m):
        if e["status"] not in (rules.LEFT, rules.DELETED):
            return {"employee_id": e["_id"]}
    return {"employee_id": None}


def me(store: Store, ctx: CallContext) -> dict[str, Any]:
    doc = _need_employee(store, ctx, ctx.user_id)
    o = org_of(store, ctx.tenant_id)  # tenant and department tree, at most store.ORG_TTL seconds old
    tenant, parents = o.tenant, dict(o.parents)
    managed = [d for d, m in o.managers.items() if m == ctx.user_id]
    out = employee_out(doc)
    out["tenant"] = {"id": tenant.get("_id"), "code": tenant.get("code"), "name": tenant.get("name")}
    out["managed_dept_ids"] = sorted(managed)
    admin = ctx.has_role(rules.TENANT_ADMIN)
    out["menus"] = {m: admin or _menu_allowed(m, tenant, doc, parents, store, ctx) for m in rules.MENUS}
    return out
