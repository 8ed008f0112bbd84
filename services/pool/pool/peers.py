"""The typed view of the other services the pool calls (identity, customers).

The proxies are nameko ``TimedRpc`` dependencies of the service; their calls answer the
shapes declared in ``libs/contracts`` (``identity.get_employee`` -> EmployeeAnswer, ...).
"""
from __future__ import annotations

from typing import Any, Protocol


class Identity(Protocol):
    def get_employee(self, *, employee_id: str) -> dict[str, Any] | None: ...
    def holders(self, *, ids: list[str]) -> dict[str, dict[str, Any]] | None: ...
    def visible_owner_ids(self) -> dict[str, Any] | None: ...


class Customers(Protocol):
    def duplicate_check(self, *, data: dict[str, Any]) -> dict[str, Any] | None: ...
    def existing_customers(self, *, customer_ids: list[str]) -> dict[str, Any] | None: ...


def dept_of(identity: Identity, owner_id: str) -> str | None:
    """The primary department of ``owner_id`` (a released customer's previous owner's), or
    None when identity is down or the employee is gone (the department stays unknown)."""
    try:
        emp = identity.get_employee(employee_id=owner_id)
    except Exception:  # noqa: BLE001 - any failure leaves the department unknown, never fails the move
        return None
    return (emp or {}).get("primary_dept_id") or next(iter((emp or {}).get("dept_ids") or []), None)
