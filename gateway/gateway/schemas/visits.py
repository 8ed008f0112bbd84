"""Contracts of the visits routes: plans, tasks, routes, calendar, lists, photo check-in,
check-out, notes, review, photos and settings."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, RootModel, StringConstraints

from gateway.schemas.base import (
    INT32,
    Answer,
    Body,
    DateTime,
    Day,
    Id,
    IdList,
    Lat,
    Lng,
    Month,
    Offset,
    Omittable,
    Query,
    Record,
)

#: a number as text, as form fields carry it (what ``float()`` reads: 31.2304, 1e-05, -0.5; no inf/nan)
DECIMAL = r"^[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][+-]?\d{1,3})?$"


def between(low: float, high: float) -> AfterValidator:
    """A decimal number sent as text (form fields, or JSON from clients that send the form's
    fields), between ``low`` and ``high``."""
    def within(value: str) -> str:
        if not low <= float(value) <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value
    return AfterValidator(within)


NumberText = StringConstraints(max_length=40, pattern=DECIMAL)
LatText = Annotated[str, NumberText, between(-90, 90)]
LngText = Annotated[str, NumberText, between(-180, 180)]
AccuracyText = Annotated[str, NumberText, between(0, 1e7)]
AgeText = Annotated[str, NumberText, between(0, 1e9)]
Flag = Literal["true", "false", "1", "0"]

Status = Literal["pending_check_in", "pending_check_out", "pending_notes", "completed", "valid", "invalid", "expired",
                 "cancelled"]
Positive = Field(None, gt=0, le=INT32)


class LocationIn(Body):
    address: Omittable[str] = Field(None, max_length=500)
    lat: Lat
    lng: Lng


class PlanIn(Body):
    customer_id: Id
    planned_at: DateTime
    location: LocationIn | None = Field(None, description="default (absent or null): the customer's location")
    topic: str = Field(max_length=200)
    scenario: Omittable[str] = Field(None, max_length=200)
    project_ids: Omittable[IdList] = Field(None, description="required for vendor customers")
    policy_accepted: bool
    policy_version: Omittable[str] = Field(None, max_length=50)
    employee_id: Omittable[Id] = Field(None, description="a task: plan for a subordinate (supervisors, admins)")
    route_id: Omittable[Id] = None


class Criterion(Answer):
    name: str
    measured: Any = None
    threshold: Any = None
    unit: str | None = None
    passed: bool | None = None


class PlaceOut(Answer):
    address: str | None = None
    lat: float | None = None
    lng: float | None = None


class VisitSummary(Record):
    status: Status
    customer_id: str | None = None
    customer_name: str | None = None
    employee_id: str | None = None
    created_by: str | None = None
    owner_id: str | None = None
    planned_at: str | None = None
    day: str | None = None
    topic: str | None = None
    scenario: str | None = None
    location: PlaceOut | None = None
    task: bool | None = None
    has_photo: bool | None = None


class Visit(VisitSummary):
    customer_id: str
    employee_id: str
    month: str | None = None
    policy_version: str | None = None
    project_ids: list[str] | None = None
    check_in: dict[str, Any] | None = Field(None, description="time, place, accuracy, source, photo {sha256, kinds}")
    check_out: dict[str, Any] | None = Field(None, description="time, place, stay and distances")
    notes: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    criteria: list[Criterion] | None = None
    location_trust: dict[str, Any] | None = None


class VisitPage(Answer):
    total: int
    items: list[VisitSummary]


class ListQuery(Query):
    day: Omittable[Day] = None
    month: Omittable[Month] = None
    status: Omittable[Status] = None
    limit: Omittable[int] = Field(None, ge=1, le=200)
    offset: Omittable[Offset] = None


SUBORDINATE = ("a subordinate's visits (their supervisor, a department admin over them, the tenant admin; "
               "else 403 visit.not_supervisor)")


class MyListQuery(ListQuery):
    employee_id: Omittable[Id] = Field(None, description=SUBORDINATE)


class RecordsQuery(ListQuery):
    employee_id: Omittable[Id] = None
    customer_id: Omittable[Id] = None
    dept_id: Omittable[Id] = Field(None, description="visits made by members of this subtree")
    from_day: Omittable[Day] = None
    to_day: Omittable[Day] = Field(None, description="inclusive, ≤ 366 days after from_day")


class CalendarQuery(Query):
    month: Omittable[Month] = None
    scope: Omittable[Literal["mine", "records"]] = None
    employee_id: Omittable[Id] = Field(None, description=SUBORDINATE)


class RoutesQuery(Query):
    employee_id: Omittable[Id] = Field(None, description="only this person's routes")


class CalendarDay(Answer):
    day: str
    count: int


class Calendar(Answer):
    month: str
    time_zone: str | None = None
    today: str | None = None
    previous_month: str | None = None
    next_month: str | None = None
    total: int | None = None
    days: list[CalendarDay]


class QueueQuery(Query):
    limit: Omittable[int] = Field(None, ge=1, le=200)
    offset: Omittable[Offset] = None


class SettingsIn(Body):
    error_code = "settings.invalid"
    time_zone: Omittable[str] = Field(None, max_length=64)
    min_stay_minutes: Omittable[float] = Positive
    max_plan_to_checkout_m: Omittable[float] = Positive
    max_checkin_to_checkout_m: Omittable[float] = Positive
    gps_tolerance_m: Omittable[float] = Positive
    network_tolerance_m: Omittable[float] = Positive
    cell_tolerance_m: Omittable[float] = Positive
    impossible_travel_kmh: Omittable[float] = Positive
    impossible_travel_min_m: Omittable[float] = Positive
    exif_time_tolerance_s: Omittable[float] = Positive
    exif_gps_tolerance_m: Omittable[float] = Positive
    # the operator's ceilings are the service's to say (settings.above_operator_limit); bounded here
    max_photo_bytes: Omittable[float] = Field(None, gt=0, le=1e15)
    max_photo_pixels: Omittable[float] = Field(None, gt=0, le=1e15)
    min_photo_pixels: Omittable[float] = Field(None, gt=0, le=1e15)
    reject_invalid_exif: Omittable[bool] = None
    visit_policy_version: Omittable[str] = Field(None, min_length=1, max_length=50)


class Settings(Answer):
    time_zone: str
    visit_policy_version: str


class PointIn(Body):
    time: Omittable[DateTime] = None
    lat: Lat
    lng: Lng
    accuracy: Omittable[float] = Field(None, ge=0, le=1e7, description="metres")
    source: Omittable[Literal["gps", "network", "cell"]] = None
    mock_location: Omittable[bool] = None
    fix_age_s: Omittable[float] = Field(None, ge=0, le=1e9)


class CheckInForm(Body):
    """multipart/form-data: the photo and the point's fields as text (a JSON body without a photo is read as
    a point too: :class:`CheckInPoint`)."""

    photo: Omittable[bytes] = Field(None, json_schema_extra={"format": "binary"},
                         description="JPEG or PNG (HEIC when supported), <= 20 MB")
    time: Omittable[DateTime] = None
    lat: Omittable[LatText] = None
    lng: Omittable[LngText] = None
    accuracy: Omittable[AccuracyText] = Field(None, description="metres")
    source: Omittable[Literal["gps", "network", "cell"]] = None
    mock_location: Omittable[Flag] = None
    fix_age_s: Omittable[AgeText] = None


class CheckInPoint(Body):
    """A check-in without a photo, as JSON: the point's fields as numbers, or as the text the form
    carries (clients send the same fields either way)."""

    time: Omittable[DateTime] = None
    lat: Lat | LatText
    lng: Lng | LngText
    accuracy: Omittable[Annotated[float, Field(ge=0, le=1e7)] | AccuracyText] = Field(None, description="metres")
    source: Omittable[Literal["gps", "network", "cell"]] = None
    mock_location: Omittable[bool | Flag] = None
    fix_age_s: Omittable[Annotated[float, Field(ge=0, le=1e9)] | AgeText] = None


class NotesIn(Body):
    text: str = Field(max_length=5000)


class ReviewIn(Body):
    decision: Literal["approve", "reject"]
    reason: Omittable[str] = Field(None, max_length=500)


class PhotoPath(Query):
    id: Id
    kind: Literal["original", "thumbnail", "watermarked"]


class RouteIn(Body):
    name: str = Field(max_length=100)
    employee_id: Omittable[Id] = None
    stops: list[Id] = Field(max_length=50, description="customer ids")


class RoutePatch(Body):
    name: Omittable[str] = Field(None, max_length=100)
    stops: Omittable[list[Id]] = Field(None, max_length=50, description="customer ids")


class Route(Record):
    name: str
    employee_id: str | None = None
    stops: list[dict[str, Any]]
    total_distance_m: float | None = None


class Routes(RootModel[list[Route]]):
    pass


class RouteDeleted(Answer):
    deleted: Any = None


class OptimiseIn(Body):
    apply: Omittable[bool] = None


class ScheduleIn(Body):
    day: Day
    start_time: Omittable[str] = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])
    interval_minutes: Omittable[int] = Field(None, ge=1, le=24 * 60)
    optimise: Omittable[bool] = None
    topic: Omittable[str] = Field(None, max_length=200)
    scenario: Omittable[str] = Field(None, max_length=200)
    policy_accepted: bool
    policy_version: Omittable[str] = Field(None, max_length=50)
    project_ids: Omittable[dict[Id, IdList]] = Field(None, description="customer id -> project ids (vendor customers)")
