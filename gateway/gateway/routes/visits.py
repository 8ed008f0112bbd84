"""HTTP routes of the visits service: plans, tasks, routes, calendar, lists, photo
check-in (multipart), check-out, notes, review, photos and settings.

Check-in upload: a ``Content-Length`` above ``MAX_BODY`` is refused before reading, the
body is streamed into the form parser (Starlette spools the photo: memory up to 1 MiB,
then disk) and cut off at ``MAX_BODY`` (413 before anything is sent on). The photo then
goes to the service in parts of ≤ 1 MiB (``visits.upload_part``, one part in memory at a
time) and ``check_in`` names the upload (``photo={upload_id, parts, filename,
content_type}``); the service spools the parts to a file, checks the real type, size and
pixel count again and does the image work.
"""
from __future__ import annotations

import asyncio
import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from crmkit.errors import InvalidInput, TooLarge
from gateway.openapi import operation, schema
from gateway.routing import call_service, idempotency_key, read_json, rpc_route, send_in_parts

TAG = ["visits"]
V = "/api/v1/visits"
R = "/api/v1/visit-routes"
MAX_PHOTO = 20 * 1024 * 1024
MAX_BODY = MAX_PHOTO + 256 * 1024
PHOTO_TIMEOUT = 60.0
FIELDS = ("time", "lat", "lng", "accuracy", "source", "mock_location", "fix_age_s")

LOCATION = {"type": "object", "required": ["lat", "lng"], "properties": {
    "address": {"type": "string"}, "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lng": {"type": "number", "minimum": -180, "maximum": 180}}}
PLAN_IN = schema("VisitPlanInput", {"type": "object", "required": ["customer_id", "planned_at", "topic",
                                                                   "policy_accepted"], "properties": {
    "customer_id": {"type": "string"}, "planned_at": {"type": "string", "format": "date-time"},
    "location": LOCATION, "topic": {"type": "string"}, "scenario": {"type": "string"},
    "project_ids": {"type": "array", "items": {"type": "string"}, "description": "required for vendor customers"},
    "policy_accepted": {"type": "boolean"}, "policy_version": {"type": "string"},
    "employee_id": {"type": "string", "description": "a task: plan for a subordinate (supervisors, admins)"}}})
CRITERION = {"type": "object", "properties": {
    "name": {"type": "string"}, "measured": {}, "threshold": {}, "unit": {"type": "string"},
    "passed": {"type": "boolean"}}}
VISIT = schema("Visit", {"type": "object", "properties": {
    "id": {"type": "string"}, "status": {"type": "string", "enum": [
        "pending_check_in", "pending_check_out", "pending_notes", "completed", "valid", "invalid", "expired",
        "cancelled"]},
    "customer_id": {"type": "string"}, "customer_name": {"type": "string"}, "employee_id": {"type": "string"},
    "created_by": {"type": "string"}, "owner_id": {"type": ["string", "null"]},
    "planned_at": {"type": "string"}, "day": {"type": "string"}, "month": {"type": "string"},
    "location": LOCATION, "topic": {"type": "string"}, "scenario": {"type": "string"},
    "policy_version": {"type": "string"}, "check_in": {"type": ["object", "null"]},
    "check_out": {"type": ["object", "null"]}, "notes": {"type": ["object", "null"]},
    "review": {"type": ["object", "null"]}, "criteria": {"type": "array", "items": CRITERION},
    "location_trust": {"type": "object"}}})
VISIT_PAGE = schema("VisitPage", {"type": "object", "properties": {
    "total": {"type": "integer"}, "items": {"type": "array", "items": VISIT}}})
CALENDAR = schema("VisitCalendar", {"type": "object", "properties": {
    "month": {"type": "string"}, "time_zone": {"type": "string"}, "today": {"type": "string"},
    "previous_month": {"type": "string"}, "next_month": {"type": "string"}, "total": {"type": "integer"},
    "days": {"type": "array", "items": {"type": "object", "properties": {
        "day": {"type": "string"}, "count": {"type": "integer"}}}}}})
POINT_IN = schema("VisitPointInput", {"type": "object", "required": ["lat", "lng"], "properties": {
    "time": {"type": "string", "format": "date-time"}, "lat": {"type": "number"}, "lng": {"type": "number"},
    "accuracy": {"type": "number", "description": "metres"}, "source": {"type": "string",
                                                                       "enum": ["gps", "network", "cell"]},
    "mock_location": {"type": "boolean"}, "fix_age_s": {"type": "number"}}})
CHECK_IN_FORM = {"type": "object", "properties": {
    "photo": {"type": "string", "format": "binary", "description": "JPEG or PNG (HEIC when supported), <= 20 MB"},
    **{f: {"type": "string"} for f in FIELDS}}}
ROUTE_IN = schema("VisitRouteInput", {"type": "object", "required": ["name", "stops"], "properties": {
    "name": {"type": "string"}, "employee_id": {"type": "string"},
    "stops": {"type": "array", "items": {"type": "string", "description": "customer id"}, "maxItems": 50}}})
ROUTE = schema("VisitRoute", {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "employee_id": {"type": "string"},
    "stops": {"type": "array", "items": {"type": "object"}}, "total_distance_m": {"type": ["number", "null"]}}})
SCHEDULE_IN = schema("VisitRouteScheduleInput", {"type": "object", "required": ["day", "policy_accepted"],
                                                 "properties": {
    "day": {"type": "string", "format": "date"}, "start_time": {"type": "string", "example": "09:00"},
    "interval_minutes": {"type": "integer"}, "optimise": {"type": "boolean"}, "topic": {"type": "string"},
    "policy_accepted": {"type": "boolean"}, "policy_version": {"type": "string"},
    "project_ids": {"type": "object", "description": "customer id -> project ids (vendor customers)"}}})
REVIEW_IN = schema("VisitReviewInput", {"type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "enum": ["approve", "reject"]}, "reason": {"type": "string"}}})

E404 = "not found or not visible"
E409 = "illegal status transition (details.status = current status)"


def _too_large(size: int | None = None) -> TooLarge:
    return TooLarge("photo.too_large", f"the upload is larger than {MAX_PHOTO} bytes",
                    {**({"size": size} if size is not None else {}), "max_bytes": MAX_PHOTO})


def _limited(request: Request) -> Request:
    """The request with a body cut off at ``MAX_BODY`` (413) while the form parser streams it."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large(int(length))
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _too_large()
        return message

    return Request(request.scope, receive)


async def check_in(request: Request) -> Response:
    """multipart/form-data (``photo`` file + fields) or JSON (no photo)."""
    ctype = request.headers.get("content-type", "")
    kwargs: dict[str, Any] = {"visit_id": request.path_params["id"]}
    if ctype.startswith("multipart/form-data"):
        form = await _limited(request).form(max_files=1, max_fields=20, max_part_size=64 * 1024)
        try:
            data: dict[str, Any] = {f: form.get(f) for f in FIELDS if isinstance(form.get(f), str)}
            upload = form.get("photo")
            if upload is not None and not isinstance(upload, str):
                spool = upload.file
                await asyncio.to_thread(spool.seek, 0, 2)
                size = spool.tell()
                if size > MAX_PHOTO:
                    raise TooLarge("photo.too_large", f"the photo is larger than {MAX_PHOTO} bytes",
                                   {"size": size, "max_bytes": MAX_PHOTO})
                await asyncio.to_thread(spool.seek, 0)
                sent = await send_in_parts(request, "visits", spool)
                kwargs["photo"] = {"filename": upload.filename or "", **sent,
                                   "content_type": upload.content_type or ""}
            elif isinstance(upload, str) and upload:
                raise InvalidInput("photo.not_a_file", "send the photo as a file in the form field 'photo'")
        finally:
            await form.close()
    else:
        data = await read_json(request)
    kwargs["data"] = data
    key = idempotency_key(request)
    if key:
        kwargs["idempotency_key"] = key
    result = await call_service(request, "visits", "check_in", kwargs, timeout=PHOTO_TIMEOUT)
    return JSONResponse(result)


async def get_photo(request: Request) -> Response:
    result = await call_service(request, "visits", "get_photo", {"visit_id": request.path_params["id"],
                                                                   "kind": request.path_params["kind"]})
    return Response(base64.b64decode(result["data_b64"]), media_type=result["content_type"],
                    headers={"Cache-Control": "private, max-age=300", "X-Photo-SHA256": result.get("sha256") or ""})


async def review(request: Request) -> Response:
    body = await read_json(request)
    result = await call_service(request, "visits", "review_visit", {
        "visit_id": request.path_params["id"], "decision": body.get("decision"), "reason": body.get("reason")})
    return JSONResponse(result)


LIST_Q = {"day": {"type": "string", "format": "date"}, "month": {"type": "string", "example": "2026-03"},
          "status": {"type": "string"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}

operation("POST", V, "Plan a visit (or assign a task to a subordinate)", PLAN_IN,
          {201: {"description": "planned", "schema": VISIT}, 404: "customer not visible",
           422: "policy not accepted, projects missing, day in the past"}, TAG)
SUBORDINATE = {"type": "string", "description": "a subordinate's visits (their supervisor, a department admin over "
                                              "them, the tenant admin; else 403 visit.not_supervisor)"}
operation("GET", V, "The app's list: visits the caller makes (or a subordinate makes)", None,
          {200: {"description": "page", "schema": VISIT_PAGE}, 403: "employee_id: not the supervisor"}, TAG,
          query={**LIST_Q, "employee_id": SUBORDINATE})
operation("GET", f"{V}/records", "The records page: visits to customers the caller may see (current owner)", None,
          {200: {"description": "page", "schema": VISIT_PAGE}, 400: "bad filter or range (visit.bad_range)",
           403: "the department lacks the customer_visits grant"},
          TAG, query={**LIST_Q, "employee_id": {"type": "string"}, "customer_id": {"type": "string"},
                      "dept_id": {"type": "string", "description": "visits made by members of this subtree"},
                      "from_day": {"type": "string", "format": "date"},
                      "to_day": {"type": "string", "format": "date", "description": "inclusive, ≤ 366 days"}})
operation("GET", f"{V}/calendar", "Visits per day of a month in the tenant's time zone", None,
          {200: {"description": "calendar", "schema": CALENDAR}, 400: "bad month (2000-01..2099-12)",
           403: "scope=records without the customer_visits grant; employee_id: not the supervisor"}, TAG,
          query={"month": {"type": "string", "example": "2026-03"},
                 "scope": {"type": "string", "enum": ["mine", "records"]}, "employee_id": SUBORDINATE})
operation("GET", f"{V}/review-queue", "Completed visits awaiting review, with every criterion measured", None,
          {200: {"description": "queue", "schema": VISIT_PAGE}, 403: "not a reviewer"}, TAG,
          query={"limit": {"type": "integer"}, "offset": {"type": "integer"}})
operation("GET", f"{V}/settings", "Visit settings of the tenant (time zone, thresholds, policy version)", None,
          {200: "settings"}, TAG)
operation("PATCH", f"{V}/settings", "Change visit settings (tenant admin)", {"type": "object"},
          {200: "settings", 403: "not the tenant admin"}, TAG)
operation("GET", f"{V}/{{id}}", "One visit with its criteria and location trust", None,
          {200: {"description": "visit", "schema": VISIT}, 404: E404}, TAG)
operation("POST", f"{V}/{{id}}/check-in", "Check in: photo (multipart field 'photo') + time, lat, lng, accuracy, "
          "source, mock_location, fix_age_s", CHECK_IN_FORM,
          {200: {"description": "checked in", "schema": VISIT}, 400: "bad field, corrupt or truncated image",
           404: E404, 409: E409, 413: "photo too large or too many pixels", 415: "not a JPEG/PNG",
           422: "impossible EXIF values / fewer pixels than min_photo_pixels"}, TAG, idempotent=True, request_content_type="multipart/form-data")
operation("POST", f"{V}/{{id}}/check-out", "Check out: time, lat, lng, accuracy, source", POINT_IN,
          {200: {"description": "checked out (stay and distances measured)", "schema": VISIT}, 404: E404,
           409: E409}, TAG, idempotent=True)
operation("POST", f"{V}/{{id}}/notes", "Write the visit notes (completes the visit)",
          {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
          {200: {"description": "completed", "schema": VISIT}, 404: E404, 409: E409}, TAG, idempotent=True)
operation("POST", f"{V}/{{id}}/review", "Approve (valid) or reject (invalid) with a reason", REVIEW_IN,
          {200: {"description": "reviewed", "schema": VISIT}, 403: "not a reviewer", 404: E404, 409: E409,
           422: "a criterion is not met"}, TAG)
operation("GET", f"{V}/{{id}}/photos/{{kind}}", "The check-in photo: original, thumbnail or watermarked", None,
          {200: {"description": "image", "content_type": "image/jpeg", "schema": {"type": "string",
                                                                                  "format": "binary"}},
           404: E404}, TAG)
operation("POST", R, "Create a visit route (named, ordered customers)", ROUTE_IN,
          {201: {"description": "route", "schema": ROUTE}, 404: "a customer is not visible"}, TAG)
operation("GET", R, "The caller's routes and those they made for others", None, {200: {"description": "routes",
                                                                                       "schema": {
    "type": "array", "items": ROUTE}}}, TAG, query={"employee_id": {"type": "string",
                                                                "description": "only this person's"}})
operation("GET", f"{R}/{{id}}", "One route", None, {200: {"description": "route", "schema": ROUTE}, 404: E404}, TAG)
operation("PATCH", f"{R}/{{id}}", "Rename a route or change its stops", ROUTE_IN,
          {200: {"description": "route", "schema": ROUTE}, 404: E404}, TAG)
operation("DELETE", f"{R}/{{id}}", "Delete a route", None, {200: "deleted", 404: E404}, TAG)
operation("POST", f"{R}/{{id}}/optimise", "A stop order that shortens the total distance (apply=true keeps it)",
          {"type": "object", "properties": {"apply": {"type": "boolean"}}}, {200: "suggested order", 404: E404}, TAG)
operation("POST", f"{R}/{{id}}/schedule", "Put a route on a date: one plan per stop", SCHEDULE_IN,
          {201: "plans created", 404: E404, 422: "policy not accepted"}, TAG)


async def optimise(request: Request) -> Response:
    body = await read_json(request, required=False)
    result = await call_service(request, "visits", "suggest_route_order", {
        "route_id": request.path_params["id"], "apply": bool(body.get("apply"))})
    return JSONResponse(result)


ROUTES = [
    Route(V, rpc_route("visits", "plan_visit", body="data", status_code=201), methods=["POST"]),
    Route(V, rpc_route("visits", "list_my_visits", query=("day", "month", "status", "limit", "offset",
                                                          "employee_id")), methods=["GET"]),
    Route(f"{V}/records", rpc_route("visits", "list_records", query=(
        "day", "month", "status", "employee_id", "customer_id", "limit", "offset", "dept_id", "from_day",
        "to_day")), methods=["GET"]),
    Route(f"{V}/calendar", rpc_route("visits", "calendar", query=("month", "scope", "employee_id")),
          methods=["GET"]),
    Route(f"{V}/review-queue", rpc_route("visits", "review_queue", query=("limit", "offset")), methods=["GET"]),
    Route(f"{V}/settings", rpc_route("visits", "get_settings"), methods=["GET"]),
    Route(f"{V}/settings", rpc_route("visits", "update_settings", body="changes"), methods=["PATCH"]),
    Route(f"{V}/{{id}}", rpc_route("visits", "get_visit", path={"id": "visit_id"}), methods=["GET"]),
    Route(f"{V}/{{id}}/check-in", check_in, methods=["POST"]),
    Route(f"{V}/{{id}}/check-out", rpc_route("visits", "check_out", body="data", path={"id": "visit_id"},
                                             idempotent=True), methods=["POST"]),
    Route(f"{V}/{{id}}/notes", rpc_route("visits", "write_notes", body="data", path={"id": "visit_id"},
                                         idempotent=True), methods=["POST"]),
    Route(f"{V}/{{id}}/review", review, methods=["POST"]),
    Route(f"{V}/{{id}}/photos/{{kind}}", get_photo, methods=["GET"]),
    Route(R, rpc_route("visits", "create_route", body="data", status_code=201), methods=["POST"]),
    Route(R, rpc_route("visits", "list_routes", query=("employee_id",)), methods=["GET"]),
    Route(f"{R}/{{id}}", rpc_route("visits", "get_route", path={"id": "route_id"}), methods=["GET"]),
    Route(f"{R}/{{id}}", rpc_route("visits", "update_route", body="data", path={"id": "route_id"}),
          methods=["PATCH"]),
    Route(f"{R}/{{id}}", rpc_route("visits", "delete_route", path={"id": "route_id"}), methods=["DELETE"]),
    Route(f"{R}/{{id}}/optimise", optimise, methods=["POST"]),
    Route(f"{R}/{{id}}/schedule", rpc_route("visits", "schedule_route", body="data", path={"id": "route_id"},
                                            status_code=201, timeout=60.0), methods=["POST"]),
]
