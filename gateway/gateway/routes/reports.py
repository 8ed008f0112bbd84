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

from crmkit.errors import InvalidInput
from gateway.api import Api, Inputs
from gateway.routing import call_service
from gateway.schemas import reports as s
from gateway.schemas.base import Result

TAG = ["reports"]
P = "/api/v1/reports"
FILTER_NAMES = ("from", "to", "dept_id", "employee_id", "validated_only", "trend", "since", "group_by", "limit",
                "offset")
REPORT_TIMEOUT = 60.0

def _report(method: str) -> Any:
    async def endpoint(request: Request, inp: Inputs) -> Response:
        result = await call_service(request, "visits", method, {"filters": dict(inp.query)},
                                    timeout=REPORT_TIMEOUT)
        return JSONResponse(result)
    endpoint.__name__ = f"reports_{method}"
    return endpoint


async def start_export(request: Request, inp: Inputs) -> Response:
    filters: dict[str, Any] = dict(inp.query)
    body = inp.body or {}
    filters.update({k: v for k, v in body.items() if k in FILTER_NAMES})
    result = await call_service(request, "visits", "start_summary_export", {"filters": filters},
                                timeout=REPORT_TIMEOUT)
    return JSONResponse(result, status_code=202)


async def export_status(request: Request, inp: Inputs) -> Response:
    export_id = inp.query.get("export_id")
    if not export_id:
        raise InvalidInput("report.missing_export_id", "export_id is required", {"field": "export_id"})
    return JSONResponse(await call_service(request, "visits", "export_status", {"export_id": export_id}))


async def download_export(request: Request, inp: Inputs) -> Response:
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


async def chart(request: Request, inp: Inputs) -> Response:
    result = await call_service(request, "visits", "report_chart", {
        "kind": inp.path["kind"], "filters": dict(inp.query)}, timeout=REPORT_TIMEOUT)
    return Response(base64.b64decode(result["data_b64"]), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=60"})


async def get_settings(request: Request, _inp: Inputs) -> Response:
    return JSONResponse(await call_service(request, "visits", "get_report_settings", {}))


async def update_settings(request: Request, inp: Inputs) -> Response:
    return JSONResponse(await call_service(request, "visits", "update_report_settings", {"changes": inp.body}))


E422 = "range too long (report.range_too_long / report.export_range_too_long), details.max_days"
api = Api(tags=["reports"])
VISIBLE = {404: "employee/department not visible"}

ROUTES = [
    api.handler("GET", f"{P}/employee-visits", _report("employee_visit_summary"), "Employee visit summary: three "
                "series, ranking, details, trend", query=s.EmployeeFilters, response=s.EmployeeSummary,
                errors={400: "bad filter", **VISIBLE, 422: E422}),
    api.handler("GET", f"{P}/customer-visits", _report("customer_visit_summary"), "Customer visit summary: "
                "0/1/2/… visits, average per grade, person/department × grade table", query=s.CustomerFilters,
                response=s.CustomerSummary, errors={**VISIBLE, 422: E422}),
    api.handler("GET", f"{P}/coverage", _report("coverage"), "Customers not visited since a day; grade cadence "
                "target vs actual", query=s.CoverageFilters, response=Result, errors={**VISIBLE, 422: E422}),
    api.handler("GET", f"{P}/targets", _report("targets_vs_actual"), "Daily targets vs actual per salesperson "
                "(at most 31 days)", query=s.Filters, response=Result, errors={**VISIBLE, 422: E422}),
    api.handler("POST", f"{P}/employee-visits/export", start_export, "Start an export of the employee summary "
                "(.zip of xlsx; at most 31 days)", query=s.EmployeeFilters, body=s.ExportIn, body_required=False,
                response=s.Export, status=202, errors={202: "job started", 422: E422}),
    api.handler("GET", f"{P}/employee-visits/export", export_status, "Status and progress of an export",
                query=s.ExportQuery, response=s.Export, errors={404: "no such export"}),
    api.handler("GET", f"{P}/exports/{{id}}", download_export, "Download a finished export (.zip)",
                response_content="application/zip", errors={404: "no such export", 409: "not ready yet"}),
    api.handler("GET", f"{P}/settings", get_settings, "Report settings: visit cadence per grade (visits per "
                "30 days)", response=s.ReportSettings),
    api.handler("PATCH", f"{P}/settings", update_settings, "Change the visit cadence per grade (tenant admin)",
                body=s.CadenceIn, response=s.ReportSettings, errors={403: "not admin"}),
    api.handler("GET", f"{P}/{{kind}}/chart.png", chart, "A report as a PNG chart: employee-visits (lines), "
                "customer-visits (pie), customer-grades (bars)", path_model=s.ChartPath, query=s.Filters,
                response_content="image/png", errors={400: "unknown kind"}),
]
