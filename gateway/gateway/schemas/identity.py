"""Contracts of the identity routes: sessions, organisation, joining, menus, operator.

The identity service checks each field itself with codes of its own (``validation.mobile``,
``validation.role``, ``password.too_short`` ...); these models check the JSON shape with the
same generic codes (``validation.required``, ``validation.type``, ``validation.too_long``,
``validation.unknown_field``) and leave formats to it.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from gateway.schemas.base import Answer, Body, Id, IdList, Omittable, Page, Query

Role = Literal["tenant_admin", "dept_admin", "all_customers", "support", "employee"]
Status = Literal["created", "pending", "joined", "left", "deleted", "disabled"]
Name64 = Field(max_length=64)


class LoginIn(Body):
    tenant_code: str = Field(max_length=64)
    mobile: str = Field(max_length=32)
    password: str = Field(max_length=256)
    bind_device: bool = Field(False, description="issue a long-lived device token (现在绑定)")


class RefreshIn(Body):
    device_token: Omittable[str] = Field(None, max_length=4096, description="else the crm_device cookie (web app)")


class Tokens(Answer):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    device_token: str | None = None
    device_token_expires_in: int | None = None
    device_bound: bool | None = Field(None, description="cookie mode: the device cookie was set")


class LoggedOut(Answer):
    logged_out: bool


class Employee(Answer):
    id: str
    tenant_id: str
    name: str
    mobile: str
    email: str | None = None
    language: str
    preferred_language: str | None = Field(None, description="the language the employee chose (null: none chosen)")
    roles: list[str]
    dept_ids: list[str]
    primary_dept_id: str | None = None
    status: Status
    membership: str
    disabled: bool
    created_at: str | None = None
    updated_at: str | None = None


class Me(Employee):
    tenant: dict[str, Any] = Field(default_factory=dict, description="id, code, name")
    managed_dept_ids: list[str] = Field(default_factory=list)
    menus: dict[str, bool] = Field(default_factory=dict, description="menu -> visible")


class Employees(Answer):
    items: list[Employee]
    total: int | None = Field(None, description="with q, page or page_size: the matching employees")
    page: int | None = None
    page_size: int | None = None


class EmployeeQuery(Query):
    role: Omittable[Role] = None
    dept_id: Omittable[Id] = None
    status: Omittable[Status] = None
    q: Omittable[str] = Field(None, max_length=64, description="in the name or the mobile (one page answers)")
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200)


class DeparturePreview(Answer):
    employee_id: str
    name: str
    handover_to: str | None = Field(None, description="who receives the records (null: they become unowned)")
    handover_name: str | None = None
    customers: int = Field(description="live customers that move")
    contacts: int = Field(description="live contacts that move")
    future_visits: int = Field(description="planned visits from today on that move")


class EmployeeIn(Body):
    name: str = Name64
    mobile: str = Field(max_length=32, description="the confirmed phone number (digits, may start with +86)")
    email: Omittable[str] = Field(None, max_length=254)
    language: Omittable[str] = Field(None, max_length=16, description="zh-CN or en")
    roles: Omittable[list[str]] = Field(None, max_length=5,
                                        description="tenant_admin, dept_admin, all_customers, support, employee")
    dept_ids: IdList
    primary_dept_id: Omittable[Id] = None
    invite: Omittable[bool] = Field(None, description="invite at once (the mobile is the confirmed one)")


class EmployeePatch(Body):
    name: Omittable[str] = Field(None, max_length=64)
    mobile: Omittable[str] = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)  # nullable: clears the address
    language: Omittable[str] = Field(None, max_length=16)
    roles: Omittable[list[str]] = Field(None, max_length=5)
    dept_ids: Omittable[IdList] = None
    primary_dept_id: Omittable[Id] = None


class Department(Answer):
    id: str
    tenant_id: str | None = None
    name: str
    parent_id: str | None = None
    manager_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class DepartmentNode(Department):
    children: list[DepartmentNode] = Field(default_factory=list)


class Departments(Answer):
    items: list[Department]
    tree: list[DepartmentNode]


class DepartmentIn(Body):
    name: str = Name64
    parent_id: Id | None = None  # nullable
    manager_id: Id | None = None  # nullable: no manager


class DepartmentPatch(Body):
    name: Omittable[str] = Field(None, max_length=64)
    parent_id: Id | None = None  # nullable
    manager_id: Id | None = None  # nullable: no manager


class IdDeleted(Answer):
    deleted: str


class InvitationIn(Body):
    mobile: str = Field(max_length=32, description="the admin confirms the employee's phone number")


class Invitation(Answer):
    invitation_id: str
    expires_at: str
    employee_id: str
    sent_to: str
    status: str | None = None
    token: str | None = Field(None, description="development stacks with INVITE_TOKEN_TO_INVITER=1 only")


class AcceptIn(Body):
    token: str = Field(max_length=512)
    password: str = Field(max_length=256, description="8-128 characters")


class Joined(Answer):
    employee_id: str
    status: str
    tenant_code: str | None = None


class Grants(Body):
    customer_visits: Omittable[IdList] = Field(
        None, description="departments whose members see the PC visit records page")


class MenusIn(Body):
    grants: Grants


class Menus(Answer):
    grants: dict[str, list[str]]


class TenantIn(Body):
    code: str = Field(max_length=32, description="2-32 of a-z, 0-9, _ and -")
    name: str = Name64
    admin_mobile: str = Field(max_length=32)
    admin_name: str = Name64
    admin_password: str = Field(max_length=256)


class TenantCreated(Answer):
    tenant: dict[str, Any]
    tenant_id: str
    admin_id: str
    root_dept_id: str


class Tenant(Answer):
    id: str
    code: str
    name: str
    root_dept_id: str | None = None
    admin_id: str | None = None


class TenantPath(Query):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class InvitationPath(Query):
    """The invitation id of a public link: any text up to what a URL carries, so an odd id
    answers like an unknown one (invitation.not_found) and the route is no existence oracle."""
    id: str = Field(min_length=1, max_length=2048)


class Ids(RootModel[list[str]]):
    pass
