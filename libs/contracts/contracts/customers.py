"""What customers publishes (customer.*) and the calls other services make on it."""
from __future__ import annotations

from typing import Any, ClassVar

from contracts._registry import event, rpc
from contracts.base import Answer, Event, Id, IsoTime, JsonObject, Payload

PRODUCER = "customers"


class _Customer(Event):
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("customer_id",)


class _Facts(_Customer):
    """``customers.registry.created_facts``: what the pool's read model, its search and phone
    masking and the visits read models keep of a customer."""

    customer_id: Id
    name: str
    owner_id: str | None
    kind: str | None
    grade: str | None
    industry: str | None
    region: str | None
    address: str | None
    location: JsonObject | None
    cbm_id: str | None = None
    name_key: str | None
    landlines: list[str]
    faxes: list[str]
    mobiles: list[str]


@event
class CustomerCreated(_Facts):
    """Built twice: ``registry.created_facts`` (entry) and inline in ``imports.py`` (import);
    the union of both."""

    NAME: ClassVar[str] = "customer.created"
    NOTES: ClassVar[dict[str, str]] = {
        "cbm_id": "sent by entry (registry.created_facts); imports.py leaves it out",
        "import_id": "only from an import",
    }
    import_id: str | None = None


@event
class CustomerRestored(_Facts):
    NAME: ClassVar[str] = "customer.restored"
    reason: str | None
    restored_by: Id


@event
class CustomerUpdated(_Customer):
    """``fields``: the names of the fields that changed; the rest is the record as it is now."""

    NAME: ClassVar[str] = "customer.updated"
    customer_id: Id
    fields: list[str]
    name: str | None
    owner_id: str | None
    grade: str | None
    address: str | None
    location: JsonObject | None
    cbm_id: str | None
    industry: str | None
    name_key: str | None
    landlines: list[str]
    faxes: list[str]
    mobiles: list[str]


@event
class CustomerDeleted(_Customer):
    NAME: ClassVar[str] = "customer.deleted"
    customer_id: Id
    name: str
    owner_id: str | None
    reason: str | None
    seq: int


@event
class CustomerDealSigned(_Customer):
    """``at``: the contract's start date."""

    NAME: ClassVar[str] = "customer.deal_signed"
    customer_id: Id
    at: str
    owner_id: str | None
    contract_end: str | None


@event
class CustomerTagsChanged(_Customer):
    NAME: ClassVar[str] = "customer.tags_changed"
    customer_id: Id
    tags: list[str]
    added: list[str]
    removed: list[str]


@event
class CustomerContactNoted(_Customer):
    NAME: ClassVar[str] = "customer.contact_noted"
    customer_id: Id
    note_id: Id
    owner_id: str | None
    at: IsoTime
    kind: str


@event
class CustomerShared(Event):
    """``customer_ids``: at most the first 1000 (``count``: all of them)."""

    NAME: ClassVar[str] = "customer.shared"
    PRODUCER: ClassVar[str] = PRODUCER
    from_owner_id: Id
    to_user_ids: list[str]
    customer_ids: list[str]
    count: int


# -- calls other services make on customers ----------------------------------------------------
class DuplicateCheck(Payload):
    data: JsonObject
    exclude_customer_id: str | None = None


class DuplicateAnswer(Answer):
    matches: list[JsonObject] = []
    name_key: str | None = None


class CustomerRef(Payload):
    customer_id: Id


class CustomerAnswer(Answer):
    id: str
    name: str | None = None
    owner_id: str | None = None


class CustomerIds(Payload):
    customer_ids: list[Id]


class ExistingAnswer(Answer):
    """The ids of the call that have a customer record (deleted ones included)."""

    existing: list[str]


rpc("customers", "existing_customers", CustomerIds, ExistingAnswer, ("pool",),
    "which entered customers were written (the pool's sweep of orphaned entries)")
rpc("customers", "duplicate_check", DuplicateCheck, DuplicateAnswer, ("pool",),
    "the customers a name or numbers would duplicate")
rpc("customers", "get_customer", CustomerRef, CustomerAnswer, ("visits",), "a customer the caller may see")
rpc("customers", "list_projects", CustomerRef, list[dict[str, Any]], ("visits",), "a customer's projects")
