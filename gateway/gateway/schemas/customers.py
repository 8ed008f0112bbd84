"""Contracts of the customers routes: customers, duplicate check, ownership and sharing,
projects, contact notes, timeline, contacts, tag groups, custom fields, import/export, map.

The customers service checks each value itself (``customer.invalid`` with ``details.fields``);
the models here check the JSON shape with the same code."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.schemas.base import Answer, Body, Id, IdList, Lat, Lng, Omittable, Page, Query, Record, RecordDay

Phones = list[str]
PHONES = Field(None, max_length=10)
CustomKey = Field(None, description="custom field key -> value (keys: a-z, 0-9, _)")
Custom = dict[str, Any]


class Location(Body):
    error_code = "customer.invalid"
    lat: Lat
    lng: Lng


class Billing(Body):
    error_code = "customer.invalid"
    title: Omittable[str] = Field(None, max_length=100)
    tax_no: Omittable[str] = Field(None, max_length=30)
    bank: Omittable[str] = Field(None, max_length=50)
    account: Omittable[str] = Field(None, max_length=40)
    address: Omittable[str] = Field(None, max_length=200)
    phone: Omittable[str] = Field(None, max_length=40)


class CustomerFields(Body):
    error_code = "customer.invalid"
    name: Omittable[str] = Field(None, max_length=100, description="company name as on the business licence")
    address: Omittable[str] = Field(None, max_length=200)
    landlines: Omittable[Phones] = PHONES
    faxes: Omittable[Phones] = PHONES
    mobiles: Omittable[Phones] = PHONES
    industry: Omittable[str] = Field(None, max_length=50)
    grade: Omittable[str] = Field(None, max_length=20)
    region: Omittable[str] = Field(None, max_length=50)
    location: Location | None = None  # nullable: no location
    kind: Omittable[Literal["own", "vendor"]] = None
    customer_type: Omittable[Literal["company", "person"]] = None
    cbm_id: Omittable[str] = Field(None, max_length=64)
    contract_start: Omittable[RecordDay] = None
    contract_end: Omittable[RecordDay] = None
    billing: Billing | None = None  # nullable
    tags: Omittable[list[Id]] = Field(None, max_length=100)
    custom: Omittable[Custom] = CustomKey
    remark: Omittable[str] = Field(None, max_length=500)


class CustomerIn(CustomerFields):
    """At least one of landlines, faxes, mobiles is required."""

    name: str = Field(max_length=100, description="company name as on the business licence")
    address: str = Field(max_length=200)


class CustomerPatch(CustomerFields):
    """Only the given fields change; billing changes re-run the duplicate check."""


class CbmBrief(Answer):
    """What a customer's view carries of its CBM (and ``visit.planned`` carries to notify)."""

    id: str
    name: str | None = None
    email: str | None = None
    mobile: str | None = None


class Customer(Record):
    name: str
    owner_id: str | None = None
    created_at: str | None = None
    cbm: CbmBrief | None = None


class CustomerPage(Answer):
    items: list[Customer]
    total: int
    page: int
    page_size: int


class CustomerQuery(Query):
    q: Omittable[str] = Field(None, max_length=100)
    owner_id: Omittable[Id] = None
    grade: Omittable[str] = Field(None, max_length=20)
    tag: Omittable[Id] = None
    kind: Omittable[Literal["own", "vendor"]] = None
    dept_id: Omittable[Id] = Field(None, description="assigned to this department (分配到部门)")
    unowned: Omittable[bool] = Field(None, description="nobody follows them (无人负责; admins only)")
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200)


class PageQuery(Query):
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200)


class DuplicateBilling(Body):
    title: Omittable[str] = Field(None, max_length=100)
    phone: Omittable[str] = Field(None, max_length=40)


class DuplicateCheckIn(Body):
    error_code = "customer.invalid"
    name: Omittable[str] = Field(None, max_length=100)
    landlines: Omittable[Phones] = PHONES
    faxes: Omittable[Phones] = PHONES
    mobiles: Omittable[Phones] = PHONES
    phones: Omittable[Phones] = Field(None, max_length=30)
    billing: Omittable[DuplicateBilling] = None


class DuplicateCheck(Answer):
    duplicate: bool
    name_key: str | None = None
    phone_keys: list[str] = Field(default_factory=list)
    matches: list[dict[str, Any]] = Field(default_factory=list, description="customer_id, name, matched_on, holder")


class ShareIn(Body):
    from_owner_id: Omittable[Id] = None
    to_user_ids: IdList
    unshare: Omittable[bool] = None


class BindIn(Body):
    customer_ids: IdList
    owner_id: Id | None = None  # nullable: unbind (back to the public pool)
    reason: Omittable[str] = Field(None, max_length=500)


class DepartmentsIn(Body):
    customer_ids: IdList
    dept_ids: IdList
    unassign: Omittable[bool] = None


class TransferIn(Body):
    new_owner_id: Id
    reason: Omittable[str] = Field(None, max_length=500)


class OwnerChange(Answer):
    customer_id: str | None = None
    from_owner_id: str | None = None
    to_owner_id: str | None = None
    seq: int | None = None
    path: str | None = None
    at: str | None = None


class OwnerChanges(Answer):
    changed: int
    results: list[OwnerChange]


class DeleteQuery(Query):
    reason: Omittable[str] = Field(None, max_length=500)


class ProjectIn(Body):
    name: str = Field(max_length=100)
    code: Omittable[str] = Field(None, max_length=50)
    remark: Omittable[str] = Field(None, max_length=500)
    start_date: Omittable[RecordDay] = None
    end_date: Omittable[RecordDay] = None
    status: Omittable[str] = Field(None, max_length=20)


class NoteIn(Body):
    error_code = "contact_note.invalid"
    kind: Omittable[Literal["call", "message", "meeting", "visit", "other"]] = None
    content: str = Field(max_length=2000)
    contact_id: Omittable[Id] = None


class Note(Record):
    customer_id: str
    kind: str
    content: str
    contact_id: str | None = None
    author_id: str
    at: str


class NotePage(Answer):
    items: list[Note]
    total: int
    page: int
    page_size: int


class TimelinePage(Answer):
    items: list[dict[str, Any]] = Field(description="id, kind, at, actor_id, summary, data")
    total: int
    page: int
    page_size: int


class ContactFields(Body):
    error_code = "contact.invalid"
    name: Omittable[str] = Field(None, max_length=100)
    mobile: Omittable[str] = Field(None, max_length=40, description="immutable after creation")
    title: Omittable[str] = Field(None, max_length=50)
    company: Omittable[str] = Field(None, max_length=100)
    address: Omittable[str] = Field(None, max_length=200)
    customer_id: Id | None = None  # nullable
    tags: Omittable[list[Id]] = Field(None, max_length=100)
    custom: Omittable[Custom] = CustomKey
    share_scope: Omittable[Literal["private", "department", "company"]] = None
    owner_id: Omittable[Id] = Field(None, description="admins: reassign the contact")


class ContactIn(ContactFields):
    name: str = Field(max_length=100)
    mobile: str = Field(max_length=40, description="immutable after creation")


class ContactPatch(ContactFields):
    pass


class ContactQuery(Query):
    q: Omittable[str] = Field(None, max_length=100)
    tag: Omittable[Id] = None
    scope: Omittable[Literal["mine", "company", "unowned"]] = None
    customer_id: Omittable[Id] = None
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200)


class TierIn(Body):
    error_code = "contact.tier_invalid"
    tier: Literal["basic", "pro", "enterprise"] = Field(description="basic 2000 / pro 10000 / enterprise 20000")


class Tier(Answer):
    tier: str
    contact_limit: int


class TierUse(Tier):
    used: int = Field(description="live contacts of the tenant, counted against the limit")
    tiers: dict[str, int] = Field(description="every tier and its limit")


class TagIn(Body):
    id: Omittable[Id] = None
    name: str = Field(max_length=50)


class TagGroupIn(Body):
    error_code = "tag_group.invalid"
    name: str = Field(max_length=50)
    color: Literal["red", "orange", "yellow", "green", "blue", "purple"]
    tags: Omittable[list[TagIn | str]] = Field(None, max_length=100)


class TagGroupPatch(Body):
    error_code = "tag_group.invalid"
    name: Omittable[str] = Field(None, max_length=50)
    color: Omittable[Literal["red", "orange", "yellow", "green", "blue", "purple"]] = None
    tags: Omittable[list[TagIn | str]] = Field(None, max_length=100)


class FieldIn(Body):
    error_code = "custom_fields.invalid"
    entity: Literal["customer", "contact"]
    key: str = Field(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(max_length=50)
    type: Literal["text", "number", "date", "select", "multiselect", "bool"]
    options: Omittable[list[str]] = Field(None, max_length=200)
    required: Omittable[bool] = None


class FieldPath(Query):
    """A custom field's id is ``<tenant>|<entity>|<key>`` (``builtin:<key>`` for built-ins)."""

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:|-]+$")


class FieldQuery(Query):
    entity: Omittable[Literal["customer", "contact"]] = None


class OwnersQuery(Query):
    owner_ids: Omittable[str] = Field(None, max_length=5000, description="comma-separated employee ids")


class ImportReport(Answer):
    ok: bool
    rows: int | None = None
    total: int | None = Field(None, description="how many problems there are (the list holds the first ones)")
    truncated: bool | None = None
    problems: list[dict[str, Any]] = Field(default_factory=list, description="row, column, code, message")


class GeoJson(Answer):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


# -- deleted customers (admin: audit, restore) ------------------------------------------------------
class DeletedCustomer(Answer):
    id: str
    name: str | None = None
    owner_id: str | None = None
    owner_name: str | None = None
    deleted_at: str | None = None
    deleted_by: str | None = None
    deleted_by_name: str | None = None
    reason: str = ""


class DeletedCustomerPage(Answer):
    items: list[DeletedCustomer]
    total: int
    page: int
    page_size: int


class RestoreIn(Body):
    error_code = "customer.invalid"
    reason: Omittable[str] = Field(None, max_length=500)
    owner_id: Id | None = Field(None, description="default: the previous owner while active; null: unowned")


# -- CBM records (vendor direct-sales contacts) ------------------------------------------------------
class CbmIn(Body):
    error_code = "cbm.invalid"
    name: str = Field(max_length=100)
    email: str = Field(max_length=254, json_schema_extra={"format": "email"})
    mobile: str | None = Field(None, max_length=40)
    remark: str | None = Field(None, max_length=500)


class CbmPatch(Body):
    error_code = "cbm.invalid"
    name: Omittable[str] = Field(None, max_length=100)
    email: Omittable[str] = Field(None, max_length=254, json_schema_extra={"format": "email"})
    mobile: str | None = Field(None, max_length=40)
    remark: str | None = Field(None, max_length=500)


class Cbm(Answer):
    id: str
    name: str
    email: str
    mobile: str | None = None
    remark: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CbmPage(Answer):
    items: list[Cbm]
    total: int
    page: int
    page_size: int


class CbmQuery(Query):
    q: Omittable[str] = Field(None, max_length=100)
    page: Omittable[Page] = None
    page_size: Omittable[int] = Field(None, ge=1, le=200)
