"""Who may see whose pool figures, and who may be given customers (asks identity).

A person's capacity and daily targets are theirs, their supervisors' (the manager of their
primary department, see identity's ``supervisor_of``; department admins over them) and the
admins' and sales support's; anyone else gets 404 like an id that does not exist (SPEC §3:
ids outside visibility cannot be probed).
"""
from __future__ import annotations

from typing import Any

from crmkit.context import CallContext
from crmkit.errors import BusinessRule, NotFound
from pool.peers import Identity

#: see every employee's pool figures
OVERSEERS = ("tenant_admin", "support", "system", "operator")


def _not_found(employee_id: str) -> NotFound:
    return NotFound("pool.employee_not_found", "no such employee", {"employee_id": employee_id})


def require_may_see(ctx: CallContext, identity: Identity, employee_id: str) -> None:
    """The caller may read ``employee_id``'s pool figures; 404 otherwise (also for an id
    that is no employee of the tenant). One identity call (``holders``: exists + supervisor),
    a second only for a department admin who is not the direct supervisor."""
    if employee_id == ctx.user_id:
        return
    holder = (identity.holders(ids=[employee_id]) or {}).get(employee_id)
    if holder is None:
        raise _not_found(employee_id)
    if ctx.has_role(*OVERSEERS) or holder.get("supervisor_id") == ctx.user_id:
        return
    if ctx.has_role("dept_admin") and employee_id in (identity.visible_owner_ids() or {}).get("user_ids", []):
        return
    raise _not_found(employee_id)


def require_active_employee(identity: Identity, employee_id: str) -> dict[str, Any]:
    """An owner to be: an employee of the caller's tenant (404 otherwise, identity asks in
    the caller's tenant only) who is active -- joined and not disabled (422 otherwise)."""
    try:
        emp = identity.get_employee(employee_id=employee_id)
    except NotFound:
        raise _not_found(employee_id) from None
    if not emp:
        raise _not_found(employee_id)
    if emp.get("status") != "joined":
        raise BusinessRule("pool.owner_inactive", "customers can be given only to an active employee",
                           {"owner_id": employee_id, "status": emp.get("status")})
    return dict(emp)
