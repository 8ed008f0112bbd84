"""Contracts of the visit reports (served by the visits service): filters, summaries,
exports, charts and the cadence settings."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.schemas.base import Answer, Body, Day, Id, Offset, Omittable, Query


class Filters(Query):
    from_: Omittable[Day] = Field(None, alias="from", description="first local day (default: 1st of this month)")
    to: Omittable[Day] = Field(None, description="last local day (default: today)")
    dept_id: Omittable[Id] = Field(None, description="a department: its whole subtree, by membership on each day")
    employee_id: Omittable[Id] = None
    validated_only: Omittable[bool] = Field(None, description="count only visits approved as valid")


class EmployeeFilters(Filters):
    trend: Omittable[Literal["months", "weeks"]] = None
    limit: Omittable[int] = Field(None, ge=1, le=1000)
    offset: Omittable[Offset] = None


class CustomerFilters(Filters):
    group_by: Omittable[Literal["person", "dept"]] = None
    visit_count: Omittable[int] = Field(None, ge=0, le=100000,
                             description="list the customers visited exactly this often (customer_list)")


class CoverageFilters(Filters):
    since: Omittable[Day] = None


class ExportIn(Body):
    """The filters of the export (the query string's, which these override)."""

    from_: Omittable[Day] = Field(None, alias="from")
    to: Omittable[Day] = None
    dept_id: Omittable[Id] = None
    employee_id: Omittable[Id] = None
    validated_only: Omittable[bool | Literal["true", "false", "1", "0"]] = None
    trend: Omittable[Literal["months", "weeks"]] = None
    since: Omittable[Day] = None
    group_by: Omittable[Literal["person", "dept"]] = None
    limit: Omittable[int] = Field(None, ge=1, le=1000)
    offset: Omittable[Offset] = None


class ExportQuery(Query):
    export_id: Omittable[Id] = None


class ChartPath(Query):
    kind: Literal["employee-visits", "customer-visits", "customer-grades"]


class EmployeeSummary(Answer):
    days: list[str] | None = None
    series: list[dict[str, Any]] | None = None
    people: list[dict[str, Any]] | None = None
    ranking: list[dict[str, Any]] | None = None
    totals: dict[str, Any] | None = None
    trend: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


class CustomerSummary(Answer):
    customers: int | None = None
    visits: int | None = None
    frequency: list[dict[str, Any]] | None = None
    grades: list[dict[str, Any]] | None = None
    table: dict[str, Any] | None = Field(None, description="rows (person or department) × grade, with a totals row")
    customer_list: dict[str, Any] | None = Field(None, description="with visit_count: {visits, total, items["
                                                 "{customer_id, name, owner_id, grade, visits}]} (≤ 500 items)")


class Export(Answer):
    export_id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: int | None = None
    download_url: str | None = None
    error: str | None = None


class CadenceIn(Body):
    cadence: dict[str, float] = Field(description="grade -> visits per 30 days")


class ReportSettings(Answer):
    cadence: dict[str, Any]
