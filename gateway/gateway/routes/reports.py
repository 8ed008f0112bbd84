"""HTTP routes of the visit reports (served by the visits service).

Every report takes its filters from the query string: ``from``, ``to`` (YYYY-MM-DD,
tenant's local days), ``dept_id``, ``employee_id``, ``validated_only``, ``trend``
(months|weeks), ``since``, ``group_by`` (person|dept), ``limit``, ``offset``.
"""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crmkit.errors import InvalidInput
from gateway.openapi import operation, schema
from gateway.routing import call_service, read_json

TAG = ["reports"]
P = "/api/v1/reports"
FILTER_NAMES = ("from", "to", "dept_id", "employee_id", "validated_only", "trend", "since", "group_by", "limit",
                "offset", "visit_count")
REPORT_TIMEOUT = 60.0

QUERY = {
    "from": {"type": "string", "format": "date", "description": "first local day (default: 1st of this month)"},
    "to": {"type": "string", "format": "date", "description": "last local day (default: today)"},
    "dept_id": {"type": "string", "description": "a department: its whole subtree, by membership on each day"},
    "employee_id": {"type": "string"},
    "validated_only": {"type": "boolean", "description": "count only visits approved as valid"},
}
SUMMARY = schema("EmployeeVisitSummary", {"type": "object", "properties": {
    "days": {"type": "array", "items": {"type": "string"}},
    "series": {"type": "array", "items": {"type": "object", "properties": {
        "day": {"type": "string"}, "actual": {"type": "integer"}, "planned": {"type": "integer"},
        "actual_per_person": {"type": "number"}, "planned_per_person": {"type": "number"},
        "company_average": {"type": "number"}}}},
    "people": {"type": "array", "items": {"type": "object"}},
    "ranking": {"type": "array", "items": {"type": "object"}},
    "totals": {"type": "object"}, "trend": {"type": "object"},
    "details": {"type": "object", "properties": {"total": {"type": "integer"},
                                                 "items": {"type": "array", "items": {"type": "object"}}}}}})
CUSTOMER_SUMMARY = schema("CustomerVisitSummary", {"type": "object", "properties": {
    "customers": {"type": "integer"}, "visits": {"type": "integer"},
    "frequency": {"type": "array", "items": {"type": "object", "properties": {
        "visits": {"type": "integer"}, "customers": {"type": "integer"}}}},
    "grades": {"type": "array", "items": {"type": "object"}},
    "table": {"type": "object", "description": "rows (person or department) × grade, with a totals row"},
    "customer_list": {"type": "object", "description": "with visit_count: {visits, total, items[{customer_id, name, "
                                                       "owner_id, grade, visits}]} (≤ 500 items)"}}})
EXPORT = schema("ReportExport", {"type": "object", "properties": {
    "export_id": {"type": "string"}, "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
    "progress": {"type": "integer"}, "download_url": {"type": "string"}, "error": {"type": ["string", "null"]}}})


def _filters(request: Request) -> dict[str, Any]:
    return {k: request.query_params[k] for k in FILTER_NAMES if k in request.query_params}


def _report(method: str) -> Any:
    async def endpoint(request: Request) -> Response:
        result = await call_service(request, "visits", method, {"filters": _filters(request)},
                                    timeout=REPORT_TIMEOUT)
        return JSONResponse(result)
    endpoint.__name__ = f"reports_{method}"
    return endpoint


async def start_export(request: Request) -> Response:
    filters = _filters(request)
    body = await read_json(request, required=False)
    filters.update({k: v for k, v in body.items() if k in FILTER_NAMES})
    result = await call_service(request, "visits", "start_summary_export", {"filters": filters},
                                timeout=REPORT_TIMEOUT)
    return JSONResponse(result, status_code=202)


async def export_status(request: Request) -> Response:
    export_id = request.query_params.get("export_id") or request.path_params.get("id")
    if not export_id:
        raise InvalidInput("report.missing_export_id", "export_id is required", {"field": "export_id"})
    return JSONResponse(await call_service(request, "visits", "export_status", {"export_id": export_id}))


async def download_export(request: Request) -> Response:
    """The finished zip, streamed chunk by chunk from the service's blob store (one chunk of
    ≤ 255 KiB in memory at a time; the file never crosses the bus in one piece)."""
    export_id = request.path_params["id"]
    result = await call_service(request, "visits", "download_export", {"export_id": export_id},
                                timeout=REPORT_TIMEOUT)

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(int(result["chunks"])):
            part = await call_service(request, "visits", "download_export_chunk",
                                      {"export_id": export_id, "chunk": n}, timeout=REPORT_TIMEOUT)
            yield base64.b64decode(part["data_b64"])

    name = result.get("filename") or "visits.zip"
    return StreamingResponse(chunks(), media_type=result.get("content_type") or "application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"visits.zip\"; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(int(result["size"]))})


async def chart(request: Request) -> Response:
    result = await call_service(request, "visits", "report_chart", {
        "kind": request.path_params["kind"], "filters": _filters(request)}, timeout=REPORT_TIMEOUT)
    return Response(base64.b64decode(result["data_b64"]), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=60"})


async def get_settings(request: Request) -> Response:
    return JSONResponse(await call_service(request, "visits", "get_report_settings", {}))


async def update_settings(request: Request) -> Response:
    body = await read_json(request)
    return JSONResponse(await call_service(request, "visits", "update_report_settings", {"changes": body}))


E422 = "range too long (report.range_too_long / report.export_range_too_long), details.max_days"
operation("GET", f"{P}/employee-visits", "Employee visit summary: three series, ranking, details, trend", None,
          {200: {"description": "summary", "schema": SUMMARY}, 400: "bad filter", 404: "employee/department not visible",
           422: E422}, TAG, query={**QUERY, "trend": {"type": "string", "enum": ["months", "weeks"]},
                                   "limit": {"type": "integer"}, "offset": {"type": "integer"}})
operation("GET", f"{P}/customer-visits", "Customer visit summary: 0/1/2/… visits, average per grade, "
          "person/department × grade table", None,
          {200: {"description": "summary", "schema": CUSTOMER_SUMMARY}, 404: "not visible", 422: E422}, TAG,
          query={**QUERY, "group_by": {"type": "string", "enum": ["person", "dept"]},
                 "visit_count": {"type": "integer", "minimum": 0,
                                 "description": "list the customers visited exactly this often (customer_list)"}})
operation("GET", f"{P}/coverage", "Customers not visited since a day; grade cadence target vs actual", None,
          {200: "coverage", 404: "not visible", 422: E422}, TAG,
          query={**QUERY, "since": {"type": "string", "format": "date"}})
operation("GET", f"{P}/targets", "Daily targets vs actual per salesperson (at most 31 days)", None,
          {200: "targets", 404: "not visible", 422: E422}, TAG, query=QUERY)
operation("POST", f"{P}/employee-visits/export", "Start an export of the employee summary (.zip of xlsx; "
          "at most 31 days)", {"type": "object", "properties": {k: {"type": "string"} for k in FILTER_NAMES}},
          {202: {"description": "job started", "schema": EXPORT}, 422: E422}, TAG, query=QUERY)
operation("GET", f"{P}/employee-visits/export", "Status and progress of an export", None,
          {200: {"description": "job", "schema": EXPORT}, 404: "no such export"}, TAG,
          query={"export_id": {"type": "string"}})
operation("GET", f"{P}/exports/{{id}}", "Download a finished export (.zip)", None,
          {200: {"description": "zip", "content_type": "application/zip",
                 "schema": {"type": "string", "format": "binary"}},
           404: "no such export", 409: "not ready yet"}, TAG)
operation("GET", f"{P}/{{kind}}/chart.png", "A report as a PNG chart: employee-visits (lines), customer-visits "
          "(pie), customer-grades (bars)", None,
          {200: {"description": "chart", "content_type": "image/png", "schema": {"type": "string",
                                                                                 "format": "binary"}},
           400: "unknown kind"}, TAG, query=QUERY)
operation("GET", f"{P}/settings", "Report settings: visit cadence per grade (visits per 30 days)", None,
          {200: "settings"}, TAG)
operation("PATCH", f"{P}/settings", "Change the visit cadence per grade (tenant admin)",
          {"type": "object", "properties": {"cadence": {"type": "object"}}}, {200: "settings", 403: "not admin"}, TAG)

ROUTES = [
    Route(f"{P}/employee-visits", _report("employee_visit_summary"), methods=["GET"]),
    Route(f"{P}/customer-visits", _report("customer_visit_summary"), methods=["GET"]),
    Route(f"{P}/coverage", _report("coverage"), methods=["GET"]),
    Route(f"{P}/targets", _report("targets_vs_actual"), methods=["GET"]),
    Route(f"{P}/employee-visits/export", start_export, methods=["POST"]),
    Route(f"{P}/employee-visits/export", export_status, methods=["GET"]),
    Route(f"{P}/exports/{{id}}", download_export, methods=["GET"]),
    Route(f"{P}/settings", get_settings, methods=["GET"]),
    Route(f"{P}/settings", update_settings, methods=["PATCH"]),
    Route(f"{P}/{{kind}}/chart.png", chart, methods=["GET"]),
]
