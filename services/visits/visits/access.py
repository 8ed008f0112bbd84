"""Who may see and act on which visit (asks identity only for department admins)."""
from __future__ import annotations

from typing import Any

from crmkit.context import CallContext
from crmkit.errors import Forbidden, NotFound
from visits.peers import Identity, ReportIdentity

ALL_ROLES = ("tenant_admin", "all_customers", "system", "operator")
REVIEWER_ROLES = ("support", "tenant_admin", "dept_admin")
#: the PC menu behind the records page (SPEC §2: granted by the tenant admin per department)
RECORDS_MENU = "customer_visits"


def visible_owners(ctx: CallContext, identity: ReportIdentity) -> dict[str, Any]:
    """``{"all": bool, "user_ids": [...]}`` — identity's contract, short-cut where it is
    plain from the roles (everyone but a department admin)."""
    if ctx.has_role(*ALL_ROLES):
        return {"all": True, "user_ids": []}
    if ctx.has_role("dept_admin"):
        ans = identity.visible_owner_ids()
        ids = set(ans.get("user_ids") or [])
        ids.add(ctx.user_id)
        return {"all": bool(ans.get("all")), "user_ids": sorted(ids)}
    return {"all": False, "user_ids": [ctx.user_id]}


def require_records_menu(ctx: CallContext, identity: Identity) -> None:
    """The records page answers only people whose department holds the ``customer_visits``
    grant (identity's ``menu_allowed``, one call; tenant admins always): hiding the menu
    is not enough."""
    if ctx.has_role("tenant_admin", "system", "operator"):
        return
    if identity.menu_allowed(menu=RECORDS_MENU) is not True:
        raise Forbidden("visit.records_forbidden", "the visit records page is not granted to your department",
                        {"menu": RECORDS_MENU})


def can_see(ctx: CallContext, visit: dict[str, Any], identity: Identity) -> bool:
    if visit.get("tenant_id") != ctx.tenant_id:
        return False
    if ctx.has_role(*ALL_ROLES, "support"):
        return True
    if ctx.user_id in (visit.get("employee_id"), visit.get("created_by")):
        return True
    scope = visible_owners(ctx, identity)
    return scope["all"] or visit.get("owner_id") in scope["user_ids"] or \
        (ctx.has_role("dept_admin") and visit.get("employee_id") in scope["user_ids"])


def require_visible(ctx: CallContext, visit: dict[str, Any], identity: Identity) -> None:
    if not can_see(ctx, visit, identity):
        raise NotFound("visit.not_found", "no such visit", {"visit_id": visit.get("_id")})


def require_performer(ctx: CallContext, visit: dict[str, Any], identity: Identity) -> None:
    """Only the employee the visit is planned for checks in, checks out and writes notes."""
    require_visible(ctx, visit, identity)
    if visit.get("employee_id") != ctx.user_id:
        raise Forbidden("visit.not_yours", "only the employee the visit is planned for may do this",
                        {"employee_id": visit.get("employee_id")})


def require_reviewer(ctx: CallContext) -> None:
    if not ctx.has_role(*REVIEWER_ROLES):
        raise Forbidden("visit.not_reviewer", "only sales support or an admin reviews visits")
