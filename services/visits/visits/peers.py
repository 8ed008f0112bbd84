"""The typed view of the services visits calls (nameko RPC proxies, answers as JSON):
what each call is asked with and what the code reads from the answer. Stand-ins in the
tests (and the reports' frozen identity for background exports) fit these shapes."""
from __future__ import annotations

from typing import Any, Protocol


class ReportIdentity(Protocol):
    """What the reports (and visibility) ask identity; :class:`visits.reports.FrozenIdentity`
    answers the same from answers taken earlier."""

    def visible_owner_ids(self) -> dict[str, Any]:
        """``{"all": bool, "user_ids": [...]}``: whose customers a department admin sees."""
        ...

    def subtree_employee_ids(self, dept_id: str) -> list[str] | None: ...

    def get_employees(self, ids: list[str]) -> list[dict[str, Any]] | None: ...


class Identity(ReportIdentity, Protocol):
    def menu_allowed(self, menu: str) -> bool | None: ...

    def get_employee(self, employee_id: str) -> dict[str, Any] | None: ...

    def supervisor_of(self, employee_id: str) -> dict[str, Any] | None:
        """``{"supervisor_id": ...}``."""
        ...

    def list_employees(self) -> list[dict[str, Any]] | None: ...


class Customers(Protocol):
    def get_customer(self, customer_id: str) -> dict[str, Any] | None:
        """The customer as the caller may see it (404 otherwise)."""
        ...

    def list_projects(self, customer_id: str) -> list[dict[str, Any]] | None: ...


class Pool(Protocol):
    def daily_targets(self, day: str) -> dict[str, Any] | None:
        """``{"targets": {...}}`` of the tenant for ``day``."""
        ...
