"""HTTP routes of the visits service: plans, tasks, routes, calendar, lists, photo
check-in (multipart), check-out, notes, review, photos and settings.

Check-in upload: the photo's size limit is the one setting the visits service reads too
(``VISITS_PHOTO_MAX_BYTES``, :func:`crmkit.parts.photo_max_bytes`, default 20 MiB):
``MAX_PHOTO``. A ``Content-Length`` above ``MAX_BODY`` (the photo plus room for the form's
other fields) is refused before reading, the body is streamed into the form parser
(Starlette spools the photo: memory up to 1 MiB, then disk) and cut off at ``MAX_BODY``, a
photo above ``MAX_PHOTO`` is refused (all 413 ``photo.too_large`` before anything is sent on). The photo then
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
from starlette.types import Message

from crmkit import parts
from crmkit.errors import InvalidInput, TooLarge
from gateway.api import Api, Inputs, read_body
from gateway.routing import call_service, idempotency_key, send_in_parts
from gateway.schemas import visits as s
from gateway.schemas.base import Result
from gateway.validation import validate_body

TAG = ["visits"]
V = "/api/v1/visits"
R = "/api/v1/visit-routes"
MAX_PHOTO = parts.photo_max_bytes()  # the one photo size setting (the visits service's too)
MAX_BODY = MAX_PHOTO + 256 * 1024  # + room for the form's other fields and the part headers
PHOTO_TIMEOUT = 60.0
FIELDS = ("time", "lat", "lng", "accuracy", "source", "mock_location", "fix_age_s")

E404 = "not found or not visible"
E409 = "illegal status transition (details.status = current status)"


def _too_large(size: int | None = None) -> TooLarge:
    return TooLarge("photo.too_large", f"the photo is larger than {MAX_PHOTO} bytes",
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


async def check_in(request: Request, inp: Inputs) -> Response:
    """multipart/form-data (``photo`` file + fields) or JSON (no photo)."""
    ctype = request.headers.get("content-type", "")
    kwargs: dict[str, Any] = {"visit_id": request.path_params["id"]}
    if ctype.startswith("multipart/form-data"):
        form = await _limited(request).form(max_files=1, max_fields=20, max_part_size=64 * 1024)
        try:
            data: dict[str, Any] = {f: form.get(f) for f in FIELDS if isinstance(form.get(f), str)}
            validate_body(s.CheckInForm, data)
            upload = form.get("photo")
            if upload is not None and not isinstance(upload, str):
                spool = upload.file
                await asyncio.to_thread(spool.seek, 0, 2)
                size = spool.tell()
                if size > MAX_PHOTO:
                    raise _too_large(size)
                await asyncio.to_thread(spool.seek, 0)
                sent = await send_in_parts(request, "visits", spool)
                kwargs["photo"] = {"filename": upload.filename or "", **sent,
                                   "content_type": upload.content_type or ""}
            elif isinstance(upload, str) and upload:
                raise InvalidInput("photo.not_a_file", "send the photo as a file in the form field 'photo'")
        finally:
            await form.close()
    else:
        data = await read_body(request)
        validate_body(s.CheckInPoint, data)
    kwargs["data"] = data
    key = idempotency_key(request)
    if key:
        kwargs["idempotency_key"] = key
    result = await call_service(request, "visits", "check_in", kwargs, timeout=PHOTO_TIMEOUT)
    return JSONResponse(result)


async def get_photo(request: Request, _inp: Inputs) -> Response:
    result = await call_service(request, "visits", "get_photo", {"visit_id": request.path_params["id"],
                                                                   "kind": request.path_params["kind"]})
    return Response(base64.b64decode(result["data_b64"]), media_type=result["content_type"],
                    headers={"Cache-Control": "private, max-age=300", "X-Photo-SHA256": result.get("sha256") or ""})


async def optimise(request: Request, inp: Inputs) -> Response:
    result = await call_service(request, "visits", "suggest_route_order", {
        "route_id": inp.path["id"], "apply": bool((inp.body or {}).get("apply"))})
    return JSONResponse(result)


api = Api(tags=["visits"])
_VID = {"id": "visit_id"}
_RID = {"id": "route_id"}
ERR = {404: E404}

ROUTES = [
    api.rpc("POST", V, "visits.plan_visit", "Plan a visit (or assign a task to a subordinate)", body=s.PlanIn,
            response=s.Visit, status=201,
            errors={404: "customer not visible", 422: "policy not accepted, projects missing, day in the past"}),
    api.rpc("GET", V, "visits.list_my_visits", "The app's list: visits the caller makes (or a subordinate makes)",
            query=s.MyListQuery, response=s.VisitPage, errors={403: "employee_id: not the supervisor"}),
    api.rpc("GET", f"{V}/records", "visits.list_records", "The records page: visits to customers the caller may "
            "see (current owner)", query=s.RecordsQuery, response=s.VisitPage,
            errors={400: "bad filter or range (visit.bad_range)",
                    403: "the department lacks the customer_visits grant"}),
    api.rpc("GET", f"{V}/calendar", "visits.calendar", "Visits per day of a month in the tenant's time zone",
            query=s.CalendarQuery, response=s.Calendar,
            errors={400: "bad month (2000-01..2099-12)", 403: "scope=records without the customer_visits grant; "
                    "employee_id: not the supervisor"}),
    api.rpc("GET", f"{V}/review-queue", "visits.review_queue", "Completed visits awaiting review, with every "
            "criterion measured", query=s.QueueQuery, response=s.VisitPage, errors={403: "not a reviewer"}),
    api.rpc("GET", f"{V}/settings", "visits.get_settings", "Visit settings of the tenant (time zone, thresholds, "
            "policy version)", response=s.Settings),
    api.rpc("PATCH", f"{V}/settings", "visits.update_settings", "Change visit settings (tenant admin)",
            body=s.SettingsIn, body_as="changes", response=s.Settings, errors={403: "not the tenant admin"}),
    api.rpc("GET", f"{V}/{{id}}", "visits.get_visit", "One visit with its criteria and location trust",
            path_names=_VID, response=s.Visit, errors=ERR),
    api.handler("POST", f"{V}/{{id}}/check-in", check_in, "Check in: photo (multipart field 'photo') + time, lat, "
                "lng, accuracy, source, mock_location, fix_age_s", body=s.CheckInForm,
                body_content="multipart/form-data", other_bodies={"application/json": s.CheckInPoint}, response=s.Visit,
                errors={400: "bad field, corrupt or truncated image", 404: E404, 409: E409,
                        413: "photo too large or too many pixels", 415: "not a JPEG/PNG",
                        422: "impossible EXIF values / fewer pixels than min_photo_pixels"}),
    api.rpc("POST", f"{V}/{{id}}/check-out", "visits.check_out", "Check out: time, lat, lng, accuracy, source",
            path_names=_VID, body=s.PointIn, pass_key=True, response=s.Visit,
            errors={200: "checked out (stay and distances measured)", 404: E404, 409: E409}),
    api.rpc("POST", f"{V}/{{id}}/notes", "visits.write_notes", "Write the visit notes (completes the visit)",
            path_names=_VID, body=s.NotesIn, pass_key=True, response=s.Visit, errors={404: E404, 409: E409}),
    api.rpc("POST", f"{V}/{{id}}/review", "visits.review_visit", "Approve (valid) or reject (invalid) with a reason",
            path_names=_VID, body=s.ReviewIn, body_as=None, response=s.Visit,
            errors={403: "not a reviewer", 404: E404, 409: E409, 422: "a criterion is not met"}),
    api.handler("GET", f"{V}/{{id}}/photos/{{kind}}", get_photo, "The check-in photo: original, thumbnail or "
                "watermarked", path_model=s.PhotoPath, response_content="image/jpeg", errors=ERR),
    api.rpc("POST", R, "visits.create_route", "Create a visit route (named, ordered customers)", body=s.RouteIn,
            response=s.Route, status=201, errors={404: "a customer is not visible"}),
    api.rpc("GET", R, "visits.list_routes", "The caller's routes and those they made for others",
            query=s.RoutesQuery, response=s.Routes),
    api.rpc("GET", f"{R}/{{id}}", "visits.get_route", "One route", path_names=_RID, response=s.Route, errors=ERR),
    api.rpc("PATCH", f"{R}/{{id}}", "visits.update_route", "Rename a route or change its stops", path_names=_RID,
            body=s.RoutePatch, response=s.Route, errors=ERR),
    api.rpc("DELETE", f"{R}/{{id}}", "visits.delete_route", "Delete a route", path_names=_RID,
            response=s.RouteDeleted, errors=ERR),
    api.handler("POST", f"{R}/{{id}}/optimise", optimise, "A stop order that shortens the total distance "
                "(apply=true keeps it)", body=s.OptimiseIn, body_required=False, response=Result,
                errors={200: "suggested order", **ERR}),
    api.rpc("POST", f"{R}/{{id}}/schedule", "visits.schedule_route", "Put a route on a date: one plan per stop",
            path_names=_RID, body=s.ScheduleIn, status=201, timeout=60.0, response=Result,
            errors={201: "plans created", 404: E404, 422: "policy not accepted"}),
]
