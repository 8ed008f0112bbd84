"""Contracts of the pool routes: public-pool search, claim, release, assignment, capacity,
rules (+ preview), reclaim, claim requests and daily targets."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.schemas.base import Answer, Body, Day, Id, Omittable, Page, Query, Record


class Rules(Body):
    error_code = "pool.rules_invalid"


class ReclaimRule(Rules):
    enabled: Omittable[bool] = None
    days: Omittable[int] = Field(None, ge=1, le=3650)


class ReclaimRules(Rules):
    no_contact: Omittable[ReclaimRule] = None
    no_visit: Omittable[ReclaimRule] = None
    no_deal: Omittable[ReclaimRule] = None


class Protection(Rules):
    service_months: Omittable[int] = Field(None, ge=0, le=120)
    renewal_months: Omittable[int] = Field(None, ge=0, le=120)
    after_expiry_months: Omittable[int] = Field(None, ge=0, le=120)


class Targets(Rules):
    prepared_prospects: Omittable[int] = Field(None, ge=0, le=10_000)
    new_prospects: Omittable[int] = Field(None, ge=0, le=10_000)
    effective_calls: Omittable[int] = Field(None, ge=0, le=10_000)
    field_visits: Omittable[int] = Field(None, ge=0, le=10_000)
    field_new_prospects: Omittable[int] = Field(None, ge=0, le=10_000)


class RulesIn(Rules):
    """Partial updates merge over the current rules."""

    capacity: Omittable[int] = Field(None, ge=1, le=100_000)
    cooldown_days: Omittable[int] = Field(None, ge=0, le=3650)
    daily_claim_limit: Omittable[int] = Field(None, ge=1, le=10_000)
    reclaim: Omittable[ReclaimRules] = None
    warning_lead_days: Omittable[list[int]] = Field(None, max_length=10)
    protection: Omittable[Protection] = None
    request_entry_working_days: Omittable[int] = Field(None, ge=1, le=30)
    name_fix_working_days: Omittable[int] = Field(None, ge=1, le=30)
    targets: Omittable[Targets] = None


class PoolRules(Answer):
    capacity: int | None = None
    cooldown_days: int | None = None
    daily_claim_limit: int | None = None
    reclaim: dict[str, Any] | None = None
    warning_lead_days: list[int] | None = None
    protection: dict[str, Any] | None = None
    request_entry_working_days: int | None = None
    name_fix_working_days: int | None = None
    targets: dict[str, Any] | None = None


class PreviewQuery(Query):
    days: Omittable[int] = Field(None, ge=1, le=366)


class PoolCustomer(Record):
    name: str | None = None
    owner_id: str | None = None
    pool: Literal["public", "private"] | None = None
    phones: Any = Field(None, description="masked while the customer is in the public pool")
    reclaim_on: str | None = None
    reclaim_rule: str | None = None


class PoolPage(Answer):
    items: list[PoolCustomer]
    total: int
    page: int
    page_size: int


class SearchQuery(Query):
    keyword: Omittable[str] = Field(None, max_length=100)
    released_from: Omittable[Day] = None
    released_to: Omittable[Day] = None
    previous_owner_dept_id: Omittable[Id] = None
    grade: Omittable[str] = Field(None, max_length=20)
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=100)


class ReasonIn(Body):
    reason: Omittable[str] = Field(None, max_length=500)


class AssignIn(Body):
    owner_id: Id
    reason: Omittable[str] = Field(None, max_length=500)


class OwnerQuery(Query):
    owner_id: Omittable[Id] = None


class Capacity(Answer):
    held: int | None = None
    capacity: int | None = None
    free: int | None = None


class ReclaimQuery(Query):
    customer_id: Omittable[Id] = None
    limit: Omittable[int] = Field(None, ge=1, le=1000)


class CustomerQuery(Query):
    customer_id: Omittable[Id] = None


class ClaimRequestIn(Body):
    error_code = "pool.request_invalid"
    name: str = Field(max_length=500)
    landline: Omittable[str] = Field(None, max_length=500)
    fax: Omittable[str] = Field(None, max_length=500)
    address: str = Field(max_length=500)
    remarks: Omittable[str] = Field(None, max_length=2000)
    customer_id: Omittable[Id] = None


class ClaimRequest(Record):
    status: Literal["pending", "approved", "rejected", "lapsed"]
    requester_id: str | None = None
    customer_id: str | None = None
    elements: dict[str, Any] | None = None
    remarks: str | None = None
    enter_by: str | None = Field(None, description="end of the 2nd Chinese working day after the reply")
    name_fix_by: str | None = None


class ClaimRequestPage(Answer):
    items: list[ClaimRequest] = Field(description="oldest first")
    total: int
    page: int | None = Field(None, description="with page_size")
    page_size: int | None = None


class ClaimRequestQuery(Query):
    status: Omittable[Literal["pending", "approved", "rejected", "lapsed"]] = None
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200, description="one page of the queue (+ page, page_size)")


class ApproveIn(Body):
    reason: Omittable[str] = Field(None, max_length=500)
    approved_name: Omittable[str] = Field(None, max_length=500)


class RejectIn(Body):
    reason: Omittable[str] = Field(None, max_length=500)


class TargetsQuery(Query):
    day: Omittable[Day] = None
    user_id: Omittable[Id] = None
