"""A stand-in identity service for notify's service-level tests: answers the identity RPCs
notify uses from a real MongoDB collection the tests fill (tenant-scoped by the verified
call context). Run as ``fake_identity:FakeIdentityService`` under ``nameko run``."""
from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from crmkit import config, db
from crmkit.context import HEADER_KEY, verify


class Ctx(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Any:
        return lambda: verify(worker_ctx.data.get(HEADER_KEY), config.context_key())


def _public(e: dict) -> dict:
    out = dict(e)
    out["id"] = out.pop("_id")
    return out


class FakeIdentityService:
    name = "identity"
    ctx = Ctx()

    @property
    def employees(self):
        return db.service_db("fake_identity")["employees"]

    @rpc
    def health(self) -> dict:
        return {"service": "identity", "status": "ok"}

    @rpc
    def get_employee(self, employee_id: str) -> dict | None:
        row = self.employees.find_one({"_id": employee_id, "tenant_id": self.ctx().tenant_id})
        return _public(row) if row else None

    @rpc
    def get_employees(self, ids: list[str]) -> list[dict]:
        tenant = self.ctx().tenant_id
        return [_public(r) for r in self.employees.find({"tenant_id": tenant}) if r["_id"] in set(ids)]

    @rpc
    def list_employees(self, role: str | None = None) -> list[dict]:
        tenant = self.ctx().tenant_id
        return [_public(r) for r in self.employees.find({"tenant_id": tenant})
                if role is None or role in (r.get("roles") or [])]
