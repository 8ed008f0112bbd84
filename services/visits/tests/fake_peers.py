"""Stand-ins for the customers and identity services in the visits service tests.

They run as real nameko services on the real broker (in the test's own vhost), answer
the contract's RPCs from what the test seeded, and check the signed call context
like the real ones. Run: nameko run fake_peers:FakeCustomers fake_peers:FakeIdentity
"""
from __future__ import annotations

import os

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from crmkit.context import HEADER_KEY, verify
from crmkit.errors import NotFound
from crmkit.nameko.rpc import register_errors

register_errors()
CUSTOMERS: dict[tuple[str, str], dict] = {}
EMPLOYEES: dict[tuple[str, str], dict] = {}
MENUS: dict[str, set[str]] = {}  # tenant -> users whose department holds the customer_visits grant


class Ctx(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: verify(worker_ctx.data.get(HEADER_KEY), os.environ["CRM_CONTEXT_KEY"])


class FakeCustomers:
    name = "customers"
    ctx = Ctx()

    @rpc
    def _seed(self, tenant_id, customer):
        CUSTOMERS[(tenant_id, customer["id"])] = dict(customer)
        return True

    @rpc(expected_exceptions=(NotFound,))
    def get_customer(self, customer_id):
        ctx = self.ctx()
        c = CUSTOMERS.get((ctx.tenant_id, customer_id))
        if c is None:
            raise NotFound("customer.not_found", "no such customer", {"customer_id": customer_id})
        if not ctx.has_role("tenant_admin", "all_customers", "system") and c.get("owner_id") != ctx.user_id \
                and ctx.user_id not in c.get("shared_with", []):
            raise NotFound("customer.not_found", "no such customer", {"customer_id": customer_id})
        return c

    @rpc(expected_exceptions=(NotFound,))
    def list_projects(self, customer_id):
        """The customer's projects (customers' contract: visible customers only)."""
        return [p if isinstance(p, dict) else {"id": p} for p in self.get_customer(customer_id).get("projects") or []]


class FakeIdentity:
    name = "identity"
    ctx = Ctx()

    @rpc
    def _seed(self, tenant_id, employee):
        EMPLOYEES[(tenant_id, employee["id"])] = dict(employee)
        return True

    @rpc(expected_exceptions=(NotFound,))
    def get_employee(self, employee_id):
        e = EMPLOYEES.get((self.ctx().tenant_id, employee_id))
        if e is None:
            raise NotFound("employee.not_found", "no such employee")
        return e

    @rpc
    def supervisor_of(self, employee_id):
        e = EMPLOYEES.get((self.ctx().tenant_id, employee_id)) or {}
        return {"supervisor_id": e.get("supervisor_id")}

    @rpc
    def _seed_menu(self, tenant_id, user_ids):
        """Grant the records page (``customer_visits``) to these users."""
        MENUS.setdefault(tenant_id, set()).update(user_ids)
        return True

    @rpc
    def menu_allowed(self, menu):
        ctx = self.ctx()
        return ctx.has_role("tenant_admin", "system") or ctx.user_id in MENUS.get(ctx.tenant_id, set())

    @rpc
    def visible_owner_ids(self):
        ctx = self.ctx()
        ids = [e["id"] for (t, _), e in EMPLOYEES.items()
               if t == ctx.tenant_id and e.get("supervisor_id") == ctx.user_id]
        return {"all": False, "user_ids": sorted(set(ids + [ctx.user_id]))}

    @rpc
    def subtree_employee_ids(self, dept_id):
        """Members of the department (the tests seed ``dept_ids``; no tree below it here)."""
        ctx = self.ctx()
        return sorted(e["id"] for (t, _), e in EMPLOYEES.items()
                      if t == ctx.tenant_id and dept_id in (e.get("dept_ids") or []))
