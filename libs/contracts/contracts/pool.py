"""What the pool publishes (pool.*) and the calls other services make on it."""
from __future__ import annotations

from typing import ClassVar

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


# -- calls other services make on the pool -----------------------------------------------------
class CheckCapacity(Payload):
    owner_id: Id
    adding: int = 1


class DailyTargets(Payload):
    day: str | None = None
    user_id: str | None = None


class TargetsAnswer(Answer):
    targets: JsonObject | None = None


rpc("pool", "check_capacity", CheckCapacity, JsonObject, ("customers",),
    "whether an owner can take ``adding`` more customers (422 when the private pool is full)")
rpc("pool", "daily_targets", DailyTargets, TargetsAnswer, ("visits",), "a day's targets and actuals")
