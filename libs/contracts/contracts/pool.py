"""What the pool publishes (pool.*) and the calls other services make on it."""
from __future__ import annotations

from typing import ClassVar, Literal

from contracts._registry import event, rpc
from contracts.base import Answer, Event, Id, IsoDay, IsoTime, JsonObject, Payload

PRODUCER = "pool"


@event
class ClaimRequestSubmitted(Event):
    """``name`` and ``customer_name``: the requested company name (both carry it)."""

    NAME: ClassVar[str] = "pool.claim_request_submitted"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("request_id",)
    request_id: Id
    requester_id: Id
    customer_id: str | None
    name: str
    customer_name: str
    reason: str | None


class _Decision(Event):
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("request_id",)
    request_id: Id
    requester_id: Id
    customer_id: str | None
    customer_name: str
    reason: str | None
    enter_by: IsoTime | None
    name_fix_by: IsoTime | None


@event
class ClaimRequestApproved(_Decision):
    NAME: ClassVar[str] = "pool.claim_request_approved"


@event
class ClaimRequestRejected(_Decision):
    NAME: ClassVar[str] = "pool.claim_request_rejected"


@event
class CustomerOwnerChanged(Event):
    """Every change of owner, ordered per customer by ``seq`` (the pool's ownership log,
    ``pool.moves``). Produced by the pool, which owns ownership; it travels on the customers
    exchange with the other customer facts (``Kit(topics=...)``), where its consumers listen."""

    NAME: ClassVar[str] = "customer.owner_changed"
    PRODUCER: ClassVar[str] = PRODUCER
    EXCHANGE: ClassVar[str | None] = "customers"
    NEEDS: ClassVar[tuple[str, ...]] = ("customer_id",)
    NOTES: ClassVar[dict[str, str]] = {
        "unowned": "true when the customer went to the public pool (release, reclaim, delete)",
        "import_id": "only from an import",
    }
    customer_id: Id
    from_owner_id: str | None
    to_owner_id: str | None
    path: str
    reason: str | None
    seq: int
    customer_name: str | None
    unowned: bool | None = None
    import_id: str | None = None


class _Move(Event):
    """A move the pool logged (``pool.ownership.record_move``), one per customer and ``seq``."""

    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("customer_id",)
    customer_id: Id
    from_owner_id: str | None
    to_owner_id: str | None
    reason: str
    seq: int
    at: IsoTime
    #: the customer's name as the pool knows it (what a notification says)
    customer_name: str | None = None


@event
class Claimed(_Move):
    NAME: ClassVar[str] = "pool.claimed"


@event
class Released(_Move):
    NAME: ClassVar[str] = "pool.released"


@event
class Reclaimed(_Move):
    NAME: ClassVar[str] = "pool.reclaimed"


@event
class ReclaimWarning(Event):
    """``reclaim_on``: the local day the customer returns to the public pool under ``rule``."""

    NAME: ClassVar[str] = "pool.reclaim_warning"
    PRODUCER: ClassVar[str] = PRODUCER
    NEEDS: ClassVar[tuple[str, ...]] = ("customer_id",)
    customer_id: Id
    owner_id: Id
    reclaim_on: IsoDay
    rule: str
    lead_days: int
    days_left: int
    customer_name: str | None = None


# -- calls other services make on the pool -----------------------------------------------------
class CheckCapacity(Payload):
    owner_id: Id
    adding: int = 1


class Enter(Payload):
    """New customers, before customers writes them: their owner's slots and first log rows."""

    customer_ids: list[Id]
    owner_id: Id
    path: str = "entry"
    import_id: str | None = None
    #: customer id -> its search facts (name, name_key, industry, grade, region, landlines,
    #: faxes, mobiles): the pool's row is searchable at once
    facts: dict[str, JsonObject] | None = None


class CancelEntry(Payload):
    customer_ids: list[Id]
    owner_id: Id
    import_id: str | None = None


class ChangeOwner(Payload):
    customer_id: Id
    expected_owner_id: str | None
    new_owner_id: str | None
    path: str
    reason: str | None = None
    unowned: bool = False
    capacity: Literal["exact", "overflow"] | None = "overflow"


class MoveAnswer(Answer):
    """The move the pool logged (its ``seq``) and the event that announces it."""

    customer_id: str
    seq: int
    path: str
    at: IsoTime
    event_id: str
    from_owner_id: str | None = None
    to_owner_id: str | None = None


class CustomerRef(Payload):
    customer_id: Id


class DailyTargets(Payload):
    day: str | None = None
    user_id: str | None = None


class TargetsAnswer(Answer):
    targets: JsonObject | None = None


rpc("pool", "check_capacity", CheckCapacity, JsonObject, ("customers",),
    "whether an owner can take ``adding`` more customers (422 when the private pool is full)")
rpc("pool", "enter", Enter, JsonObject, ("customers",),
    "take the owner's slots (exact capacity) and the first log rows of new customers, all or nothing")
rpc("pool", "cancel_entry", CancelEntry, JsonObject, ("customers",),
    "give back the slots and log rows of an entry whose customer write failed")
rpc("pool", "change_owner", ChangeOwner, MoveAnswer, ("customers",),
    "move a customer to a new owner if its owner is still the expected one (the log insert decides)")
rpc("pool", "ownership_history", CustomerRef, list[JsonObject], ("customers",), "a customer's ownership log")
rpc("pool", "daily_targets", DailyTargets, TargetsAnswer, ("visits",), "a day's targets and actuals")
