"""What visits publishes (visit.*, report.export_ready) and the calls other services make on it.
Every visit event starts with ``visits.views.event_data``: the visit's ids, day, plan and status."""
from __future__ import annotations

from typing import Any, ClassVar

from contracts._registry import event, rpc
from contracts.base import Answer, Event, Id, IsoDay, IsoTime, JsonObject, Payload

PRODUCER = "visits"


class _Visit(Event):
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("visit_id",)
    visit_id: Id
    customer_id: Id
    employee_id: Id
    owner_id: str | None
    day: IsoDay
    planned_at: IsoTime
    status: str


@event
class VisitPlanned(_Visit):
    NAME: ClassVar[str] = "visit.planned"
    NOTES: ClassVar[dict[str, str]] = {"cbm": "only when the customer has a CBM contact"}
    topic: str | None
    scenario: str | None
    address: str | None
    project_ids: list[str]
    task: bool
    created_by: Id
    cbm_id: str | None
    customer_name: str
    cbm: JsonObject | None = None


@event
class VisitCheckedIn(_Visit):
    NAME: ClassVar[str] = "visit.checked_in"
    at: IsoTime
    lat: float
    lng: float
    source: str | None
    has_photo: bool
    photo_sha256: str | None
    flags: list[Any]
    customer_name: str | None


@event
class VisitCheckedOut(_Visit):
    NAME: ClassVar[str] = "visit.checked_out"
    at: IsoTime
    stay_minutes: float | None
    plan_to_check_out_m: float | None
    check_in_to_check_out_m: float | None
    source: str | None


@event
class VisitCompleted(_Visit):
    NAME: ClassVar[str] = "visit.completed"
    at: IsoTime
    customer_name: str | None
    notes_excerpt: str
    stay_minutes: float | None


@event
class VisitReviewed(_Visit):
    NAME: ClassVar[str] = "visit.reviewed"
    result: str
    reason: str | None
    reviewer_id: Id
    at: IsoTime
    customer_name: str | None
    failing: list[Any]


@event
class VisitExpired(_Visit):
    NAME: ClassVar[str] = "visit.expired"
    previous_status: str
    at: IsoTime
    customer_name: str | None


@event
class ReportExportReady(Event):
    NAME: ClassVar[str] = "report.export_ready"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("export_id",)
    export_id: Id
    requested_by: Id
    download_url: str
    tenant_id: Id
    filename: str | None


# -- calls other services make on visits --------------------------------------------------------
class NoArgs(Payload):
    pass


class SettingsAnswer(Answer):
    time_zone: str | None = None


rpc("visits", "get_settings", NoArgs, SettingsAnswer, ("customers",), "the tenant's visit settings (its time zone)")
