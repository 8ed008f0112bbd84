"""What identity publishes (employee.*, department.*, tenant.*) and the questions other services
ask it. The employee and department bodies are ``identity.store.employee_out`` /
``department_out`` plus the subject's id."""
from __future__ import annotations

from typing import Any, ClassVar

from contracts._registry import event, rpc
from contracts.base import Answer, Event, Id, IsoTime, Payload

PRODUCER = "identity"


class _Employee(Event):
    """``employee_out(doc)`` + ``employee_id``."""

    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("employee_id",)
    employee_id: Id
    id: Id
    tenant_id: Id
    name: str
    mobile: str
    email: str | None
    language: str
    preferred_language: str | None
    roles: list[str]
    dept_ids: list[str]
    primary_dept_id: str | None
    status: str
    membership: str
    disabled: bool
    created_at: IsoTime | None
    updated_at: IsoTime | None


@event
class EmployeeAccessChanged(Event):
    """What a token of this employee may still do (``crmkit.access.AccessChange``): tokens with a
    lower ``tv`` are revoked; ``av`` orders the changes; the gateways keep one entry per
    employee until ``until``. Emitted on logout, disable, enable, delete, leave, join and changes
    of roles, departments or name; the gateways consume it (not a service: no subscription)."""

    NAME: ClassVar[str] = "employee.access_changed"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("employee_id", "tenant_id", "tv", "av", "active", "until")
    employee_id: Id
    tenant_id: Id
    tv: int
    av: int
    roles: list[str]
    dept_ids: list[str]
    name: str
    active: bool
    reason: str
    until: IsoTime


@event
class EmployeeCreated(_Employee):
    NAME: ClassVar[str] = "employee.created"


@event
class EmployeeJoined(_Employee):
    NAME: ClassVar[str] = "employee.joined"


@event
class EmployeeUpdated(_Employee):
    NAME: ClassVar[str] = "employee.updated"
    changed: list[str]


@event
class EmployeeDisabled(_Employee):
    NAME: ClassVar[str] = "employee.disabled"


@event
class EmployeeEnabled(_Employee):
    NAME: ClassVar[str] = "employee.enabled"


@event
class EmployeeLeft(_Employee):
    """``handover_to``: the supervisor who takes over their records (None: they become unowned)."""

    NAME: ClassVar[str] = "employee.left"
    reason: str
    handover_to: str | None


@event
class EmployeeInvited(Event):
    NAME: ClassVar[str] = "employee.invited"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("employee_id",)
    employee_id: Id
    name: str
    mobile: str
    email: str | None
    invitation_id: Id
    invitation_token: str
    language: str | None
    expires_at: IsoTime
    tenant_name: str | None
    accept_url: str


class _Department(Event):
    """``department_out(doc)`` + ``department_id``."""

    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("department_id",)
    department_id: Id
    id: Id
    tenant_id: Id
    name: str
    parent_id: str | None
    manager_id: str | None
    created_at: IsoTime | None
    updated_at: IsoTime | None


@event
class DepartmentCreated(_Department):
    NAME: ClassVar[str] = "department.created"


@event
class DepartmentUpdated(_Department):
    NAME: ClassVar[str] = "department.updated"
    changed: list[str]


@event
class DepartmentDeleted(Event):
    NAME: ClassVar[str] = "department.deleted"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("department_id",)
    department_id: Id
    id: Id
    name: str


@event
class TenantCreated(Event):
    NAME: ClassVar[str] = "tenant.created"
    PRODUCER: ClassVar[str] = PRODUCER
    tenant_id: Id
    code: str
    name: str
    admin_id: Id


@event
class TenantMenuPermissionsChanged(Event):
    """``grants``: menu -> the department ids that see it."""

    NAME: ClassVar[str] = "tenant.menu_permissions_changed"
    PRODUCER: ClassVar[str] = PRODUCER
    grants: dict[str, list[str]]


# -- questions other services ask identity ------------------------------------------------------
class EmployeeAnswer(Answer):
    id: str
    name: str | None = None
    roles: list[str] = []
    dept_ids: list[str] = []
    primary_dept_id: str | None = None


class ListEmployees(Payload):
    role: str | None = None
    dept_id: str | None = None
    status: str | None = None


class EmployeeIds(Payload):
    ids: list[str]


class EmployeeRef(Payload):
    employee_id: Id


class NoArgs(Payload):
    pass


class MenuArg(Payload):
    menu: str


class DeptArg(Payload):
    dept_id: Id


class VisibleOwners(Answer):
    """``user_ids``: whose records the caller may see (absent: everyone's)."""

    user_ids: list[str] | None = None


class Supervisor(Answer):
    supervisor_id: str | None = None


rpc("identity", "list_employees", ListEmployees, list[EmployeeAnswer], ("notify", "visits"),
    "the tenant's employees (optionally of a role, department or status)")
rpc("identity", "get_employees", EmployeeIds, list[EmployeeAnswer], ("notify", "visits"),
    "the employees with these ids (unknown ids left out)")
rpc("identity", "get_employee", EmployeeRef, EmployeeAnswer, ("pool", "visits"), "one employee (404 when unknown)")
rpc("identity", "holders", EmployeeIds, dict[str, dict[str, Any]], ("customers", "pool"),
    "id -> {name, department, ...} of the employees holding records")
rpc("identity", "visible_owner_ids", NoArgs, VisibleOwners, ("pool", "visits"),
    "whose records the caller may see")
rpc("identity", "menu_allowed", MenuArg, bool, ("visits",), "whether the caller's departments see this menu")
rpc("identity", "subtree_employee_ids", DeptArg, list[str], ("visits",),
    "the employees of a department and its sub-departments")
rpc("identity", "supervisor_of", EmployeeRef, Supervisor, ("visits",), "an employee's supervisor")
