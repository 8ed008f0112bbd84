"""What the customers service asks identity, with safe answers when identity cannot
answer (a made-up user, identity down or not yet deployed): less visibility, never more."""
from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import MethodNotFound

from crmkit.context import CallContext
from customers.rules import sees_all

log = logging.getLogger(__name__)


class Directory:
    def __init__(self, identity: Any, ctx: CallContext):
        self.identity = identity
        self.ctx = ctx
        self._scope: dict[str, Any] | None = None
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

    def supervisor_of(self, employee_id: str | None) -> str | None:
        if not employee_id:
            return None
        ans = self._ask("supervisor_of", employee_id, default=None)
        return (ans or {}).get("supervisor_id") if isinstance(ans, dict) else None

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
            for i in range(0, len(want), 50):  # identity answers at most 50 ids a call
                ans.update(self.identity.holders(want[i:i + 50]) or {})
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
            h = ans.get(i) if isinstance(ans, dict) and isinstance(ans.get(i), dict) else {}
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
