"""What the customers service asks identity, with safe answers when identity cannot
answer (a made-up user, identity down or not yet deployed): less visibility, never more."""
from __future__ import annotations

import logging
from typing import Any

from crmkit.context import CallContext
from customers.rules import sees_all

log = logging.getLogger(__name__)


class Directory:
    def __init__(self, identity: Any, ctx: CallContext):
        self.identity = identity
        self.ctx = ctx
        self._scope: dict[str, Any] | None = None
        self._names: dict[str, str] = {}

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

    def holder(self, owner_id: str | None, unowned: bool = False) -> dict[str, Any]:
        """Who holds a record: owner and owner's supervisor, or the public pool."""
        if owner_id is None:
            return {"type": "unowned" if unowned else "public_pool", "owner_id": None, "owner_name": None,
                    "supervisor_id": None, "supervisor_name": None}
        sup = self.supervisor_of(owner_id)
        names = self.names([owner_id, sup])
        return {"type": "owner", "owner_id": owner_id, "owner_name": names.get(owner_id) or None,
                "supervisor_id": sup, "supervisor_name": names.get(sup) if sup else None}
