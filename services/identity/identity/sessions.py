"""What an access token carries and when it stops being valid (issue 16).

The gateway verifies access tokens itself (:mod:`crmkit.access`) and keeps a revocation set
fed by ``employee.access_changed``. Every change of what an access token carries (roles,
departments, name) or of the right to hold one (token version: logout, disable, delete,
leave; membership; disabled) goes through :func:`prepare`: the employee's update gets
``av`` + 1 and ``access_until`` (now + the access-token lifetime), and the event is staged in
the outbox with the change. Once the change is in, :func:`publish_now` publishes it at once
(publisher confirms: the gateways' queues hold it before the caller is answered); the outbox
relay sends it again (at least once; consumers keep the highest ``av``/``tv``).

:func:`revocations` answers, from the employee documents themselves (the same update as the
change, so it is never behind the database), every entry still to be remembered: what a
gateway loads at start and after its event consumer reconnects, before it trusts its set.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from crmkit import docstore
from crmkit.access import AccessChange
from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.errors import Forbidden, InvalidInput
from crmkit.nameko.kit import WorkerKit
from identity import rules, tokens
from identity.store import Store

log = logging.getLogger(__name__)

REVOCATIONS_PAGE_MAX = 1000
#: the employee fields an access token carries (besides its ids and versions)
CARRIED = ("roles", "dept_ids", "name")
#: entries are answered this long past their ``until`` too (a gateway's clock may lag identity's;
#: the gateway keeps them as long: gateway.access.KEEP_MARGIN)
SKEW = timedelta(seconds=120)


def _until(kit: WorkerKit, ttl: timedelta) -> datetime:
    # the later of the business clock (which tests may move ahead) and the wall clock: no
    # token issued before the change expires after it, whichever clock issued it
    now: datetime = kit.now()
    return max(now, datetime.now(UTC)) + ttl


def active(doc: dict[str, Any]) -> bool:
    """May hold a token at all: joined and not disabled."""
    return doc.get("status") == rules.JOINED and not doc.get("disabled")


def entry(doc: dict[str, Any], *, tv: int, av: int, reason: str, until: datetime) -> AccessChange:
    return AccessChange(employee_id=doc["_id"], tenant_id=doc["tenant_id"], tv=tv, av=av,
                        roles=tuple(doc.get("roles") or ()), dept_ids=tuple(doc.get("dept_ids") or ()),
                        name=str(doc.get("name") or ""), active=active(doc), reason=reason, until=iso(until))


def prepare(kit: WorkerKit, doc: dict[str, Any], fields: dict[str, Any], *, reason: str,
            bump_tv: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(event, fields)`` of an access change of ``doc`` by ``fields``: stage the event with the
    change and write ``fields`` with ``Store.set_employee(..., bump_tv=bump_tv, bump_av=True)``."""
    until = _until(kit, tokens.access_ttl())
    new = {**doc, **fields}
    change = entry(new, tv=int(doc.get("tv") or 1) + (1 if bump_tv else 0), av=int(doc.get("av") or 0) + 1,
                   reason=reason, until=until)
    event = kit.event("employee.access_changed", change.to_data(), tenant_id=doc["tenant_id"])
    return event, {**fields, "access_until": until}


def av_after(event: dict[str, Any]) -> int:
    """The access version the change in ``event`` writes (for the outbox ``Check``)."""
    return int(event["data"]["av"])


def publish_now(kit: WorkerKit, events: list[dict[str, Any]]) -> None:
    """Publish committed access changes at once (best effort: the outbox still sends them)."""
    publish = getattr(kit, "publish_now", None)
    if publish is None:  # a kit without a broker (operator commands, tests of the functions)
        return
    publish(*events)


def revocations(kit: WorkerKit, store: Store, ctx: CallContext, after: Any = None, limit: Any = 500
                ) -> dict[str, Any]:
    """Every employee whose last access change must still be remembered, in ``_id`` order, one
    page at a time: ``{entries: [AccessChange], next: <after for the next page> | None,
    horizon_seconds}``. For the gateway (a ``system`` context) only."""
    if not ctx.has_role("system"):
        raise Forbidden("permission.denied", "only the gateway asks for revocations")
    if after is not None and not isinstance(after, str):
        raise InvalidInput("validation.type", "after must be an employee id", {"field": "after"})
    size = rules.whole(limit, "limit", 500, 1, REVOCATIONS_PAGE_MAX)
    business: datetime = kit.now()
    now = min(business, datetime.now(UTC))
    docs = store.access_changes(now - SKEW, after, size)
    entries = [entry(d, tv=int(d.get("tv") or 1), av=int(d.get("av") or 0), reason="snapshot",
                     until=docstore.aware(d["access_until"])).to_data() for d in docs]
    return {"entries": entries, "next": docs[-1]["_id"] if len(docs) == size else None,
            "horizon_seconds": int(tokens.access_ttl().total_seconds())}
