"""Who sees a customer or a contact: the pure rules (``rules.can_see``) composed with
identity's answers (``Directory``), asked lazily and once per request.

- owner, shares, and identity's ``visible_owner_ids`` (a department admin: everyone in
  their subtrees; tenant admin / all-customers: everyone);
- department assignment (分配到部门): a customer assigned to department D is seen by the
  department admins whose subtree holds D — not by D's plain members (SPEC §3 gives an
  employee only what they follow and what is shared with them);
- the supervisor (manager of the owner's primary department, SPEC §2) sees and may edit a
  subordinate's customers and contacts, without the ``dept_admin`` role.
"""
from __future__ import annotations

from typing import Any

from crmkit.context import CallContext
from customers.peers import Directory
from customers.rules import can_see, visibility_filters
from customers.store import Store


def sees_customer(ctx: CallContext, d: Directory, doc: dict[str, Any]) -> bool:
    if can_see(doc, ctx.user_id, d.scope()):
        return True
    if doc.get("dept_ids") and ctx.has_role("dept_admin") and can_see(doc, ctx.user_id, d.scope(),
                                                                                  d.dept_scope() or ()):
        return True
    return d.supervises(doc.get("owner_id"))


def visible_filters(ctx: CallContext, d: Directory, store: Store) -> list[dict[str, Any]]:
    """Equality filters whose union is what the caller lists (empty = everything). A
    supervisor lists a subordinate's customers by naming the owner (``owner_id``).

    Each filter is one pass over the collection on FerretDB, so a department admin gets a
    ``dept_ids`` filter only for the departments of their subtree that ever had customers
    assigned (``Store.assigned_depts_of``, one small read) — and identity's department tree is
    asked only when there are such departments."""
    scope = d.scope()
    if scope.get("all"):
        return []
    depts: set[str] = set()
    if ctx.has_role("dept_admin"):
        assigned = store.assigned_depts_of(ctx.tenant_id)
        if assigned:
            depts = assigned & (d.dept_scope() or set())
    return visibility_filters(ctx.user_id, scope, depts)


def sees_contact(ctx: CallContext, d: Directory, doc: dict[str, Any]) -> bool:
    scope = d.scope()
    if scope.get("all"):
        return True
    owner = doc.get("owner_id")
    if owner is not None and owner in set(scope.get("user_ids") or ()):
        return True
    if doc.get("share_scope") == "company":
        return True
    return d.supervises(owner)
