"""Idempotent event handling: each (handler, event_id) has one effect.

A handler claims an event by inserting ``{_id: "<handler>:<event_id>"}`` under the
unique ``_id`` index — the insert that wins is the one that runs. A finished claim is
``done``; a duplicate delivery of a done event is acknowledged with no effect. A
failed run records its attempt and is retried later (by the caller's retry queue);
after ``max_attempts`` the event is parked in ``dead_letters`` where an operator can
see and replay it.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.docstore import aware

LEASE = timedelta(seconds=120)

Claim = Literal["run", "done", "busy"]


class Inbox:
    def __init__(self, db: Database[Any], now: Callable[[], datetime]):
        self.db = db
        self.coll = db["inbox"]
        self.dead = db["dead_letters"]
        self.now = now

    def ensure_indexes(self) -> None:
        self.dead.create_index("status")

    def claim(self, handler: str, event_id: str) -> tuple[Claim, int]:
        """Return ("run", attempts so far) when this delivery should run the handler."""
        key = f"{handler}:{event_id}"
        now = self.now()
        try:
            self.coll.insert_one({"_id": key, "status": "running", "at": now, "attempts": 0})
            return "run", 0
        except DuplicateKeyError:
            row = self.coll.find_one({"_id": key}) or {}
        status = row.get("status")
        attempts = int(row.get("attempts", 0))
        if status in ("done", "dead"):
            return "done", attempts
        at = row.get("at") or now
        at = aware(at)
        if status == "running" and now - at < LEASE:
            return "busy", attempts
        self.coll.update_one({"_id": key}, {"$set": {"status": "running", "at": now}})
        return "run", attempts

    def done(self, handler: str, event_id: str) -> None:
        self.coll.update_one({"_id": f"{handler}:{event_id}"}, {"$set": {"status": "done", "at": self.now()}})

    def failed(self, handler: str, event_id: str, error: str) -> int:
        key = f"{handler}:{event_id}"
        row = self.coll.find_one({"_id": key}) or {}
        attempts = int(row.get("attempts", 0)) + 1
        self.coll.update_one({"_id": key}, {"$set": {"status": "failed", "attempts": attempts,
                                                     "error": error[:2000], "at": self.now()}})
        return attempts

    def park(self, handler: str, queue: str, envelope: dict[str, Any], error: str, attempts: int) -> str:
        dl_id = uuid.uuid4().hex
        self.dead.insert_one({
            "_id": dl_id, "status": "parked", "handler": handler, "queue": queue,
            "event_id": envelope.get("event_id"), "event_type": envelope.get("type"),
            "tenant_id": envelope.get("tenant_id"), "envelope": envelope, "error": error[:2000],
            "attempts": attempts, "parked_at": self.now(),
        })
        self.coll.update_one({"_id": f"{handler}:{envelope.get('event_id')}"}, {"$set": {"status": "dead"}})
        return dl_id

    def list_dead(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = list(self.dead.find({"status": "parked"}).limit(limit))
        rows.sort(key=lambda r: r["parked_at"], reverse=True)
        return rows

    def count_dead(self) -> int:
        return self.dead.count_documents({"status": "parked"})

    def unpark(self, dl_id: str) -> dict[str, Any] | None:
        """Take a dead letter out for replay: its claim is reset so it runs again."""
        row: dict[str, Any] | None = self.dead.find_one({"_id": dl_id, "status": "parked"})
        if row is None:
            return None
        self.dead.update_one({"_id": dl_id}, {"$set": {"status": "replayed", "replayed_at": self.now()}})
        self.coll.update_one({"_id": f"{row['handler']}:{row['event_id']}"},
                             {"$set": {"status": "failed", "attempts": 0}})
        return row

    def forget_older_than(self, age: timedelta) -> int:
        cutoff = self.now() - age
        old = [r["_id"] for r in self.coll.find({"status": "done"}, {"at": 1}).limit(5000)
               if aware(r["at"]) < cutoff]
        if old:
            self.coll.delete_many({"_id": {"$in": old}})
        return len(old)
