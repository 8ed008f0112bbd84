"""Nameko entrypoints of the identity service: each checks its arguments, calls one function
of a use-case module (:mod:`identity.access`, :mod:`identity.org`) and returns its answer.

Public calls (``login``, ``refresh``, ``authenticate``, ``accept_invitation``) and the
operator's ``create_tenant`` carry no user context; every other call uses the caller's
verified context (``self.kit.ctx``) and answers only within its tenant."""
from __future__ import annotations

from typing import Any

from nameko.timer import timer

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import api, secret_api
from identity import access, org
from identity.dependencies import Identity
from identity.store import IdentityStore


class IdentityService(BaseService):
    name = "identity"
    kit = Kit("identity", secrets=("JWT_SECRET", "OPERATOR_SECRET"))
    store = IdentityStore()
    identity = Identity()

    @timer(interval=3600)
    def _identity_housekeeping(self) -> None:
        access.housekeeping(self.kit, self.store, self.identity.settings)

    # -- operator ---------------------------------------------------------------------
    @secret_api("operator_secret", "admin_password")
    def create_tenant(self, operator_secret: str, code: str, name: str, admin_mobile: str, admin_name: str,
                      admin_password: str) -> dict[str, Any]:
        access.check_operator(operator_secret)
        return access.create_tenant(self.kit, self.store, self.identity.passwords, code=code, name=name,
                                    admin_mobile=admin_mobile, admin_name=admin_name, admin_password=admin_password)

    @secret_api("operator_secret")
    def operator_tenant(self, operator_secret: str, code: str) -> dict[str, Any]:
        access.check_operator(operator_secret)
        return access.tenant_by_code(self.store, code)

    # -- sessions (public) ------------------------------------------------------------
    @secret_api("password")
    def login(self, tenant_code: str, mobile: str, password: str, bind_device: bool = False) -> dict[str, Any]:
        return access.login(self.kit, self.store, self.identity.passwords, self.identity.settings,
                            tenant_code=tenant_code, mobile=mobile, password=password, bind_device=bind_device)

    @secret_api("device_token")
    def refresh(self, device_token: str) -> dict[str, Any]:
        return access.refresh(self.kit, self.store, self.identity.settings, device_token)

    @secret_api("token")
    def authenticate(self, token: str) -> dict[str, Any]:
        return access.authenticate(self.kit, self.store, self.identity.settings, token)

    @secret_api("token", "password")
    def accept_invitation(self, invitation_id: str, token: str, password: str) -> dict[str, Any]:
        return access.accept_invitation(self.kit, self.store, self.identity.passwords, invitation_id=invitation_id,
                                        token=token, password=password)

    @api
    def logout(self) -> dict[str, Any]:
        return access.logout(self.kit, self.store, self.kit.ctx)

    @api
    def revocations(self, after: str | None = None, limit: int = 500) -> dict[str, Any]:
        """The gateway's revocation set (a system context): loaded at start and after a reconnect."""
        return access.revocations(self.kit, self.store, self.kit.ctx, after, limit)

    @api
    def me(self) -> dict[str, Any]:
        return org.me(self.store, self.kit.ctx)

    # -- departments ------------------------------------------------------------------
    @api
    def list_departments(self) -> dict[str, Any]:
        return org.list_departments(self.store, self.kit.ctx)

    @api
    def get_department(self, department_id: str) -> dict[str, Any]:
        return org.get_department(self.store, self.kit.ctx, department_id)

    @api
    def create_department(self, data: dict[str, Any]) -> dict[str, Any]:
        return org.create_department(self.kit, self.store, self.kit.ctx, data)

    @api
    def update_department(self, department_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return org.update_department(self.kit, self.store, self.kit.ctx, department_id, data)

    @api
    def delete_department(self, department_id: str) -> dict[str, Any]:
        return org.delete_department(self.kit, self.store, self.kit.ctx, department_id)

    # -- employees --------------------------------------------------------------------
    @api
    def list_employees(self, role: str | None = None, dept_id: str | None = None,
                       status: str | None = None) -> list[dict[str, Any]]:
        return org.list_employees(self.store, self.kit.ctx, role=role, dept_id=dept_id, status=status)

    @api
    def search_employees(self, q: str | None = None, role: str | None = None, dept_id: str | None = None,
                         status: str | None = None, page: Any = 1, page_size: Any = 20) -> dict[str, Any]:
        return org.search_employees(self.store, self.kit.ctx, q=q, role=role, dept_id=dept_id, status=status,
                                    page=page, page_size=page_size)

    @api
    def departure_preview(self, employee_id: str) -> dict[str, Any]:
        return org.departure_preview(self.store, self.kit.ctx, employee_id)

    @api
    def get_employee(self, employee_id: str) -> dict[str, Any]:
        return org.get_employee(self.store, self.kit.ctx, employee_id)

    @api
    def get_employees(self, ids: list[str]) -> list[dict[str, Any]]:
        return org.get_employees(self.store, self.kit.ctx, ids)

    @api
    def create_employee(self, data: dict[str, Any]) -> dict[str, Any]:
        return org.create_employee(self.kit, self.store, self.kit.ctx, data)

    @api
    def update_employee(self, employee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return org.update_employee(self.kit, self.store, self.kit.ctx, employee_id, data)

    @api
    def delete_employee(self, employee_id: str) -> dict[str, Any]:
        return org.delete_employee(self.kit, self.store, self.kit.ctx, employee_id)

    @api
    def disable_employee(self, employee_id: str) -> dict[str, Any]:
        return org.set_disabled(self.kit, self.store, self.kit.ctx, employee_id, True)

    @api
    def enable_employee(self, employee_id: str) -> dict[str, Any]:
        return org.set_disabled(self.kit, self.store, self.kit.ctx, employee_id, False)

    @api
    def invite_employee(self, employee_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return org.invite_employee(self.kit, self.store, self.kit.ctx, employee_id, data)

    @api
    def leave(self) -> dict[str, Any]:
        return org.leave(self.kit, self.store, self.kit.ctx)

    # -- menu permissions -------------------------------------------------------------
    @api
    def get_menu_permissions(self) -> dict[str, Any]:
        return org.get_menu_permissions(self.store, self.kit.ctx)

    @api
    def set_menu_permissions(self, data: dict[str, Any]) -> dict[str, Any]:
        return org.set_menu_permissions(self.kit, self.store, self.kit.ctx, data)

    @api
    def menu_allowed(self, menu: str) -> bool:
        return org.menu_allowed(self.store, self.kit.ctx, menu)

    # -- questions other services ask -------------------------------------------------
    @api
    def visible_owner_ids(self) -> dict[str, Any]:
        return org.visible_owner_ids(self.store, self.kit.ctx)

    @api
    def subtree_employee_ids(self, dept_id: str) -> list[str]:
        return org.subtree_employee_ids(self.store, self.kit.ctx, dept_id)

    @api
    def supervisor_of(self, employee_id: str) -> dict[str, Any]:
        return org.supervisor_of(self.store, self.kit.ctx, employee_id)

    @api
    def holders(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return org.holders(self.store, self.kit.ctx, ids)

    @api
    def employee_ids_by_name(self, name: str) -> list[str]:
        return org.employee_ids_by_name(self.store, self.kit.ctx, name)

    @api
    def is_colleague_mobile(self, mobile: str) -> dict[str, Any]:
        return org.is_colleague_mobile(self.store, self.kit.ctx, mobile)
