"""What the customers service asks identity, with safe answers when identity cannot
answer (a made-up user, identity down or not yet deployed): less visibility, never more.
Checks of ids a caller names (new owners, share targets, departments) fail closed: when
identity cannot answer, the request is refused (503), never let through. Each answer is
asked once per request (one ``Directory`` per call) and cached."""
from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import MethodNotFound

from crmkit.context import CallContext
from crmkit.errors import BusinessRule, CrmError, NotFound, Unavailable
from customers.rules import ADMIN_ROLES, sees_all, subtree

ACTIVE = "joined"

log = logging.getLogger(__name__)


def check_employees(found: dict[str, dict[str, Any]], ids: list[str], field: str, *, active: bool = True) -> None:
    """``ids`` against an ``employees()`` answer: 404 for ids not in the tenant, 422 for
    employees that are not active (joined) when ``active``."""
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise NotFound("employee.not_found", f"{field}: no such employee in this organisation",
                       {"field": field, "ids": missing[:50]})
    if active:
        inactive = {i: found[i].get("status") for i in dict.fromkeys(ids) if found[i].get("status") != ACTIVE}
        if inactive:
            raise BusinessRule("employee.inactive", f"{field}: only an active employee (joined, not disabled, "
                               "left or deleted) can be named", {"field": field, "ids": list(inactive)[:50],
                                                                 "statuses": dict(list(inactive.items())[:50])})


class Directory:
    def __init__(self, identity: Any, ctx: CallContext):
        self.identity = identity
        self.ctx = ctx
        self._scope: dict[str, Any] | None = None
        self._members: list[dict[str, Any]] | None = None
        self._departments: dict[str, dict[str, Any]] | None = None
        self._dept_scope: set[str] | None = None
        self._names: dict[str, str] = {}
        self._holders: dict[str, tuple[str | None, str | None, str | None]] = {}

    def _ask(self, method: str, *args: Any, default: Any = None, **kwargs: Any) -> Any:
        try:
            return getattr(self.identity, method)(*args, **kwargs)
        except Exception as exc:  # identity unavailable or the method not there yet
            log.warning("identity.%s failed: %s", method, exc)
            return default

    def scope(self) -> dict[str, Any]:
        """{"all": bool, "user_ids": [...]} — whose customers the caller sees."""
        if self._scope is None:
            if sees_all(self.ctx.roles):
                self._scope = {"all": True, "user_ids": []}
            else:
                ans = self._ask("visible_owner_ids", default=None)
                if not isinstance(ans, dict):
                    ans = {"all": False, "user_ids": [self.ctx.user_id]}
                ids = [str(i) for i in (ans.get("user_ids") or [])]
                if self.ctx.user_id not in ids:
                    ids.append(self.ctx.user_id)
                self._scope = {"all": bool(ans.get("all")), "user_ids": ids}
        return self._scope

    def _must(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Ask identity for a check that must not pass unanswered: 503 when it cannot answer."""
        try:
            return getattr(self.identity, method)(*args, **kwargs)
        except CrmError as exc:
            if exc.status >= 500:
                raise Unavailable("identity.unavailable", "identity cannot answer; try again",
                                  {"service": "identity"}) from None
            raise
        except Exception as exc:  # identity down, timed out, or the method not there
            log.warning("identity.%s failed: %s", method, exc)
            raise Unavailable("identity.unavailable", "identity cannot answer; try again",
                              {"service": "identity"}) from None

    def supervisor_of(self, employee_id: str | None) -> str | None:
        """The supervisor (manager of the primary department) of ``employee_id``, from the
        same ``holders`` answer the duplicate check uses (cached for the request)."""
        if not employee_id:
            return None
        self.holders([employee_id])
        return self._holders[employee_id][1]

    def supervises(self, employee_id: str | None) -> bool:
        """The caller is ``employee_id``'s supervisor (SPEC §2: manager of their primary department)."""
        return bool(employee_id) and employee_id != self.ctx.user_id and \
            self.supervisor_of(employee_id) == self.ctx.user_id

    def employees(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{id: employee}`` of the ids that are employees of the caller's tenant (one
        ``get_employees`` call; fails closed)."""
        want = list(dict.fromkeys(i for i in ids if isinstance(i, str) and i))
        if not want:
            return {}
        rows = self._must("get_employees", want) or []
        out = {str(r["id"]): r for r in rows if isinstance(r, dict) and r.get("id") in want
               and r.get("tenant_id", self.ctx.tenant_id) == self.ctx.tenant_id}
        for i, r in out.items():
            self._names[i] = r.get("name") or ""
        return out

    def require_employees(self, ids: list[str], field: str, *, active: bool = True) -> dict[str, dict[str, Any]]:
        """Every id must be an employee of the caller's tenant (404 ``employee.not_found``
        naming the field and the ids) and, with ``active``, joined — not pending, disabled,
        left or deleted (422 ``employee.inactive``). One identity call for all the ids."""
        found = self.employees(ids)
        check_employees(found, ids, field, active=active)
        return found

    def members(self) -> list[dict[str, Any]]:
        """Employees still in the organisation (not left or deleted), one ``list_employees``
        answer per request (what a contact import resolves names and phones against)."""
        if self._members is None:
            rows = self._must("list_employees") or []
            self._members = [r for r in rows if isinstance(r, dict)
                             and r.get("membership", r.get("status")) not in ("left", "deleted")]
        return self._members

    def departments(self) -> dict[str, dict[str, Any]]:
        """The tenant's departments by id (one ``list_departments`` answer per request)."""
        if self._departments is None:
            ans = self._must("list_departments") or {}
            items = ans.get("items") if isinstance(ans, dict) else ans
            self._departments = {str(d["id"]): d for d in items or [] if isinstance(d, dict) and d.get("id")}
        return self._departments

    def dept_scope(self) -> set[str] | None:
        """Departments whose assigned customers the caller sees and may assign: None = all
        (tenant admin, system); a department admin: the subtrees of the departments they
        belong to or manage (as identity's ``visible_owner_ids``); anyone else: none."""
        if self.ctx.has_role(*ADMIN_ROLES):
            return None
        if not self.ctx.has_role("dept_admin"):
            return set()
        if self._dept_scope is None:
            try:
                depts = self.departments()
            except Unavailable:
                return set()  # less visibility, never more
            parents = {i: d.get("parent_id") for i, d in depts.items()}
            roots = [*self.ctx.dept_ids, *(i for i, d in depts.items() if d.get("manager_id") == self.ctx.user_id)]
            self._dept_scope = subtree(roots, parents)
        return self._dept_scope

    def names(self, ids: list[str | None]) -> dict[str, str]:
        want = [i for i in dict.fromkeys(ids) if i and i not in self._names]
        if want:
            rows = self._ask("get_employees", want, default=[]) or []
            for r in rows if isinstance(rows, list) else []:
                if isinstance(r, dict) and r.get("id"):
                    self._names[str(r["id"])] = r.get("name") or ""
        return {i: self._names.get(i, "") for i in ids if i}

    def colleague_with_mobile(self, mobile: str) -> str | None:
        ans = self._ask("is_colleague_mobile", mobile, default=None)
        return (ans or {}).get("employee_id") if isinstance(ans, dict) else None

    def ids_by_name(self, name: str) -> list[str]:
        ans = self._ask("employee_ids_by_name", name, default=[])
        return [str(i) for i in ans] if isinstance(ans, list) else []

    def admins(self) -> list[str]:
        rows = self._ask("list_employees", role="tenant_admin", default=[]) or []
        return [str(r["id"]) for r in rows if isinstance(r, dict) and r.get("id")]

    def holders(self, owner_ids: list[str | None]) -> None:
        """Learn owner names and supervisors of ``owner_ids`` with one identity call
        (``identity.holders``); when identity has no such method yet, two calls as before."""
        want = [i for i in dict.fromkeys(owner_ids) if i and i not in self._holders]
        if not want:
            return
        ans: dict[str, Any] | None = {}
        try:
            got: dict[str, Any] = {}
            for n in range(0, len(want), 50):  # identity answers at most 50 ids a call
                got.update(self.identity.holders(want[n:n + 50]) or {})
            ans = got
        except MethodNotFound:  # an identity deployed before ``holders``: two calls per owner
            ans = None
        except Exception as exc:  # identity unavailable: holders without names or supervisors
            log.warning("identity.holders failed: %s", exc)
            ans = {}
        if ans is None:
            for i in want:
                sup = self.supervisor_of(i)
                names = self.names([i, sup])
                self._holders[i] = (names.get(i) or None, sup, names.get(sup) if sup else None)
            return
        for i in want:
            got_i = ans.get(i)
            h: dict[str, Any] = got_i if isinstance(got_i, dict) else {}
            sup = h.get("supervisor_id") or None
            self._holders[i] = (h.get("name") or None, sup, (h.get("supervisor_name") or None) if sup else None)
            if h.get("name"):
                self._names[i] = h["name"]

    def holder(self, owner_id: str | None, unowned: bool = False) -> dict[str, Any]:
        """Who holds a record: owner and owner's supervisor, or the public pool."""
        if owner_id is None:
            return {"type": "unowned" if unowned else "public_pool", "owner_id": None, "owner_name": None,
                    "supervisor_id": None, "supervisor_name": None}
        self.holders([owner_id])
        name, sup, sup_name = self._holders[owner_id]
        return {"type": "owner", "owner_id": owner_id, "owner_name": name,
                "supervisor_id": sup, "supervisor_name": sup_name}
