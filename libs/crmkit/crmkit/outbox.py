"""Outbox: no acknowledged change loses its event, even when the broker is down.

Without multi-document transactions (FerretDB 1.x has none) the change and its
events cannot be one write, so an outbox row is written *before* the change, in
state ``staged``, with a ``check`` filter that is true once the change is in the
database; after the change it is flipped to ``pending`` and only then is the caller
answered. The relay publishes ``pending`` rows with publisher confirms, retries
failures with back-off, and marks them ``sent``. A ``staged`` row older than
``STAGED_GRACE`` means the process died between the two writes: the relay publishes
it when its check matches (the change happened) and aborts it otherwise. Only the
relay writes a row after it is pending, so no two writers race on one row.
Publishing is at least once; consumers deduplicate by ``event_id`` (crmkit.inbox).
A published row moves to ``outbox_sent`` (kept a week), so the relay scans only the
backlog.
"""
from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.docstore import aware
from crmkit.errors import TooLarge

log = logging.getLogger(__name__)

STAGED_GRACE = timedelta(seconds=30)
SENT_RETENTION = timedelta(days=7)
BATCH = 200


@dataclass
class Check:
    """A change is visible when ``db[collection]`` has a document matching ``filter``."""

    collection: str
    filter: dict[str, Any]

    def to_doc(self) -> dict[str, Any]:
        return {"collection": self.collection, "filter": self.filter}


def backoff(attempts: int, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential back-off with full jitter, in seconds."""
    return random.uniform(0, min(cap, base * (2 ** max(0, attempts - 1))))  # noqa: S311


def envelope_bytes(envelope: dict[str, Any]) -> int:
    """Size of an envelope on the wire (kombu's JSON escapes non-ASCII, as here)."""
    return len(json.dumps(envelope, default=str, separators=(", ", ": ")))


def check_size(envelope: dict[str, Any], limit: int | None) -> None:
    """Refuse an event larger than ``limit`` bytes before anything is written: a message
    the broker would refuse must never reach the outbox, where it would be retried forever."""
    if limit is None:
        return
    size = envelope_bytes(envelope)
    if size > limit:
        raise TooLarge("event.too_large", f"the event {envelope.get('type')} is larger than the {limit}-byte "
                       "message limit", {"event_type": envelope.get("type"), "bytes": size, "limit": limit})


class Outbox:
    def __init__(self, db: Database[Any], now: Callable[[], datetime], max_bytes: int | None = None,
                 validate: Callable[[dict[str, Any]], None] | None = None):
        """``validate``: raises for an envelope that must not be staged (``crmkit.messages.
        emit_validator(service)`` checks it against its declaration in ``contracts``)."""
        self.db = db
        self.coll = db["outbox"]
        self.now = now
        self.max_bytes = max_bytes
        self.validate = validate

    def ensure_indexes(self) -> None:
        self.coll.create_index([("status", ASCENDING)])

    def stage(self, events: list[dict[str, Any]], check: Check | None = None) -> list[str]:
        return self.stage_each([(e, check) for e in events])

    def stage_each(self, pairs: list[tuple[dict[str, Any], Check | None]]) -> list[str]:
        """Stage events that each have their own check (an import: each event with its own
        customer's) in one insert. Every event is validated and size-checked before the write,
        so a refused one stages nothing of the batch."""
        if not pairs:
            return []
        for e, _ in pairs:
            if self.validate is not None:
                self.validate(e)
            check_size(e, self.max_bytes)
        at = self.now()
        self.coll.insert_many([
            {"_id": e["event_id"], "status": "staged", "envelope": e, "check": check.to_doc() if check else None,
             "created_at": at, "attempts": 0, "next_at": at}
            for e, check in pairs
        ])
        return [e["event_id"] for e, _ in pairs]

    # Rows are addressed one by one by their string ``_id``: on FerretDB/SQLite that is
    # the only filter pushed down to storage (an ``$in`` or any other field scans).
    def commit(self, ids: list[str]) -> None:
        for event_id in ids:
            self.coll.update_one({"_id": event_id}, {"$set": {"status": "pending"}})

    def abort(self, ids: list[str]) -> None:
        for event_id in ids:
            self.coll.delete_one({"_id": event_id})

    @contextmanager
    def change(self, events: list[dict[str, Any]], check: Check | None = None) -> Iterator[None]:
        """``with outbox.change([event], Check(...)): <write the change>``."""
        ids = self.stage(events, check)
        try:
            yield
        except BaseException:
            self.abort(ids)
            raise
        self.commit(ids)

    def emit(self, events: list[dict[str, Any]]) -> None:
        """Events that are themselves the change (nothing else to write)."""
        self.commit(self.stage(events))

    def backlog(self) -> int:
        return self.coll.count_documents({"status": "pending"}) + self.coll.count_documents({"status": "staged"})

    # -- relay ---------------------------------------------------------------------

    def _recover_staged(self, now: datetime) -> None:
        for row in self.coll.find({"status": "staged"}).limit(BATCH):
            if now - aware(row["created_at"]) < STAGED_GRACE:
                continue
            chk = row.get("check")
            happened = chk is None or self.db[chk["collection"]].count_documents(chk["filter"], limit=1) > 0
            if happened:
                self.coll.update_one({"_id": row["_id"]}, {"$set": {"status": "pending"}})
            else:
                log.warning("outbox: aborting staged event %s whose change never happened", row["_id"])
                self.coll.update_one({"_id": row["_id"]}, {"$set": {"status": "aborted"}})

    def relay_once(self, publish: Callable[[dict[str, Any]], None]) -> int:
        """Publish due pending events in order of creation; return how many were sent.

        ``publish`` must raise unless the broker confirmed the message.
        """
        now = self.now()
        self._recover_staged(now)
        rows = list(self.coll.find({"status": "pending"}).limit(BATCH))
        rows.sort(key=lambda r: aware(r["created_at"]))
        sent = 0
        for row in rows:
            if aware(row.get("next_at") or row["created_at"]) > now:
                continue
            try:
                publish(row["envelope"])
            except TooLarge as exc:  # can never be sent: set it aside instead of blocking the backlog
                log.error("outbox: event %s refused for good: %s", row["_id"], exc.message)
                self.coll.update_one({"_id": row["_id"]}, {"$set": {"status": "too_large", "error": exc.message}})
                continue
            except Exception as exc:  # broker down, unroutable, not confirmed
                attempts = int(row.get("attempts", 0)) + 1
                self.coll.update_one({"_id": row["_id"]}, {"$set": {
                    "attempts": attempts, "error": repr(exc)[:500],
                    "next_at": now + timedelta(seconds=backoff(attempts)),
                }})
                log.warning("outbox: publish of %s failed (%s); will retry", row["_id"], exc)
                break  # keep order; the broker is most likely down for all of them
            # a sent row moves to ``outbox_sent``, so the relay's scan stays as small as the backlog
            sent_row = dict(row, status="sent", sent_at=self.now())
            try:
                self.db["outbox_sent"].insert_one(sent_row)
            except DuplicateKeyError:
                pass
            self.coll.delete_one({"_id": row["_id"]})
            sent += 1
        return sent

    def purge_sent(self) -> int:
        """Drop sent and aborted rows older than the retention."""
        cutoff = self.now() - SENT_RETENTION
        n = 0
        for coll, flt in ((self.db["outbox_sent"], {}), (self.coll, {"status": "aborted"})):
            old = [r["_id"] for r in coll.find(flt, {"created_at": 1}).limit(5000)
                   if aware(r.get("created_at") or cutoff) < cutoff]
            for event_id in old:
                coll.delete_one({"_id": event_id})
            n += len(old)
        return n


def find_events(db: Database[Any], filter: dict[str, Any]) -> list[dict[str, Any]]:
    """Outbox rows matching ``filter``, whether still pending or already sent (a row
    being moved may be seen in both collections for a moment: it counts once)."""
    rows: dict[Any, dict[str, Any]] = {}
    for coll in ("outbox", "outbox_sent"):
        for row in db[coll].find(filter):
            rows.setdefault(row["_id"], row)
    return list(rows.values())

