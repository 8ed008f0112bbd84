"""A stand-in ``identity`` service for the pool's service-level tests: a real Nameko service
on the real broker that answers the identity contract the pool depends on (``holders``,
``get_employee``, ``visible_owner_ids``) from employees the test seeded, and checks the
signed call context like the real one (everything within ``ctx.tenant_id``)."""
from __future__ import annotations

import os
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from crmkit.context import HEADER_KEY, CallContext, verify
from crmkit.errors import NotFound
from crmkit.nameko.rpc import register_errors

register_errors()
#: (tenant, id) -> {id, status, supervisor_id, dept_admins: [ids of department admins over them]}
EMPLOYEES: dict[tuple[str, str], dict[str, Any]] = {}


class Ctx(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Any:
        return lambda: verify(worker_ctx.data.get(HEADER_KEY), os.environ["CRM_CONTEXT_KEY"])


class FakeIdentityService:
    name = "identity"
    ctx = Ctx()

    @rpc
    def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @rpc
    def _seed(self, tenant_id: str, employee: dict[str, Any]) -> bool:
        EMPLOYEES[(tenant_id, employee["id"])] = {"status": "joined", **employee}
        return True

    @rpc(expected_exceptions=(NotFound,))
    def get_employee(self, employee_id: str) -> dict[str, Any]:
        e = EMPLOYEES.get((self.ctx().tenant_id, employee_id))
        if e is None:
            raise NotFound("employee.not_found", "no such employee", {"employee_id": employee_id})
        return e

    @rpc
    def holders(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        ctx: CallContext = self.ctx()
        return {i: {"name": i, "supervisor_id": EMPLOYEES[(ctx.tenant_id, i)].get("supervisor_id"),
                    "supervisor_name": None}
                for i in ids if (ctx.tenant_id, i) in EMPLOYEES}

    @rpc
    def visible_owner_ids(self) -> dict[str, Any]:
        ctx: CallContext = self.ctx()
        if ctx.has_role("tenant_admin", "all_customers", "system"):
            return {"all": True, "user_ids": []}
        ids = {e["id"] for (t, _), e in EMPLOYEES.items()
               if t == ctx.tenant_id and ctx.user_id in (e.get("dept_admins") or [])}
        return {"all": False, "user_ids": sorted(ids | {ctx.user_id})}
