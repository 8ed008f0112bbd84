"""The document-store workarounds every service needs, solved once.

The services run on MongoDB and on FerretDB 1.x. FerretDB applies an update as
read-modify-write above its storage, so two concurrent updates of one document can lose
one of them, and only some filters use an index. What stays exact on both is an insert
under a unique key: of many concurrent inserts of one ``_id`` exactly one succeeds. The
helpers here build on that:

- :func:`insert_once` — the unique-insert lock: True for the one caller whose insert won.
- :func:`lease_lock` — that lock held for a block of work (a read-modify-write of one row):
  waits for it, takes over a holder that died (older than its lease), always lets go.
- :func:`upsert` — an upsert retried when two callers raced to create the row (MongoDB
  answers one of them with a duplicate key instead of updating).
- :class:`Idempotency` — a command with an ``Idempotency-Key`` has exactly one effect: the
  first call claims the key by an insert, later calls get its stored answer (or wait while
  it runs; a claim older than ``stale`` is taken over: its caller died).
- :func:`aware` — datetimes read back from the store as UTC-aware (a client without
  ``tz_aware`` gets naive ones).
- :func:`month_bucket` — one small collection per month (``<prefix>_YYYY_MM``), for reads
  that must not scan every month's rows.
- :func:`page_args` / :func:`page_of` — bounded ``page``/``page_size`` arguments and a page
  of rows.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.errors import Conflict, InvalidInput

T = TypeVar("T")


def aware(value: T) -> T:
    """A naive datetime as UTC; anything else unchanged (``None``, strings, numbers)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def insert_once(coll: Collection[Any], doc: Mapping[str, Any]) -> bool:
    """Insert ``doc``; False when its unique key (``_id`` or a unique index) is taken."""
    try:
        coll.insert_one(dict(doc))
    except DuplicateKeyError:
        return False
    return True


@contextmanager
def lease_lock(coll: Collection[Any], lock_id: str, *, lease: timedelta, wait: float,
               busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold the lock ``lock_id`` (a row of ``coll`` under its unique ``_id``) for the block.

    Waits up to ``wait`` seconds (then raises ``busy()``); a lock row older than ``lease`` is
    a holder's that died and is taken over. The row carries a token, so a holder that outlived
    its lease never releases its successor's lock."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    pause = 0.002
    while not insert_once(coll, {"_id": lock_id, "token": token, "at": datetime.now(UTC)}):
        row = coll.find_one({"_id": lock_id})
        at = aware((row or {}).get("at"))
        if row is not None and isinstance(at, datetime) and datetime.now(UTC) - at > lease:
            coll.delete_one({"_id": lock_id, "token": row.get("token")})  # its holder died
            continue
        if time.monotonic() > deadline:
            raise busy()
        time.sleep(pause)  # cooperative under eventlet
        pause = min(pause * 2, 0.05)
    try:
        yield
    finally:
        coll.delete_one({"_id": lock_id, "token": token})


def upsert(coll: Collection[Any], filter: Mapping[str, Any], update: Mapping[str, Any],
           attempts: int = 3) -> None:
    """``update_one(filter, update, upsert=True)``, again when a concurrent upsert created
    the row first (the next attempt updates that row)."""
    for attempt in range(attempts):
        try:
            coll.update_one(dict(filter), dict(update), upsert=True)
            return
        except DuplicateKeyError:
            if attempt == attempts - 1:
                raise


class Idempotency:
    """Exactly one effect per key. ``run(key, work)`` does the work for the first caller
    and stores its answer; a repeat returns that answer; a repeat while the first still
    runs waits up to ``wait`` seconds, then answers 409 ``idempotency.in_progress``. A
    failed first call releases its key (the next try does the work again)."""

    def __init__(self, coll: Collection[Any], *, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 wait: float = 60.0, stale: timedelta = timedelta(minutes=5),
                 sleep: Callable[[float], None] = time.sleep):
        self.coll = coll
        self.now = now
        self.wait = wait
        self.stale = stale
        self.sleep = sleep

    def begin(self, key: str, fields: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """None: this caller does the work (then :meth:`done` or :meth:`release`); else
        ``{"result": …}``, the answer of the call that did it."""
        deadline = time.monotonic() + self.wait
        while True:
            if insert_once(self.coll, {**(fields or {}), "_id": key, "status": "running", "at": self.now()}):
                return None
            row = self.coll.find_one({"_id": key})
            if row is None:  # released meanwhile: claim it again
                continue
            if row.get("status") == "done":
                return {"result": row.get("result")}
            started = aware(row.get("at"))
            if isinstance(started, datetime) and self.now() - started > self.stale:
                self.coll.delete_one({"_id": key, "status": "running", "at": row.get("at")})
                continue  # its caller died mid-way: the key is taken over
            if time.monotonic() >= deadline:
                raise Conflict("idempotency.in_progress", "a request with this Idempotency-Key is still running",
                               {"key": key.rsplit(":", 1)[-1]})
            self.sleep(0.1)

    def done(self, key: str, result: Any) -> None:
        self.coll.update_one({"_id": key}, {"$set": {"status": "done", "result": result, "done_at": self.now()}})

    def release(self, key: str) -> None:
        self.coll.delete_one({"_id": key, "status": "running"})

    def run(self, key: str | None, work: Callable[[], T], fields: Mapping[str, Any] | None = None) -> T | Any:
        """``work()`` once per key; without a key, every time."""
        if not key:
            return work()
        prior = self.begin(key, fields)
        if prior is not None:
            return prior["result"]
        try:
            result = work()
        except BaseException:
            self.release(key)
            raise
        self.done(key, result)
        return result


_BUCKETS_READY: set[tuple[str, str]] = set()


def month_bucket(db: Database[Any], prefix: str, month: str,
                 indexes: Sequence[Sequence[str]] = ()) -> Collection[Any]:
    """The collection ``<prefix>_YYYY_MM`` of ``month`` ("YYYY-MM"), its indexes (each a list
    of ascending fields) ensured once per process."""
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise InvalidInput("month.invalid", "month must be YYYY-MM", {"month": month})
    name = f"{prefix}_{month.replace('-', '_')}"
    coll = db[name]
    if (db.name, name) not in _BUCKETS_READY:
        for fields in indexes:
            coll.create_index([(f, ASCENDING) for f in fields])
        _BUCKETS_READY.add((db.name, name))
    return coll


def page_args(page: Any, page_size: Any, max_size: int = 200, default_size: int = 50) -> tuple[int, int]:
    """``page`` ≥ 1 and 1 ≤ ``page_size`` ≤ ``max_size`` as integers, or 400 ``pagination.invalid``."""
    try:
        pg = 1 if page in (None, "") else int(page)
        size = default_size if page_size in (None, "") else int(page_size)
    except (TypeError, ValueError):
        raise InvalidInput("pagination.invalid", "page and page_size must be integers") from None
    if pg < 1 or size < 1 or size > max_size:
        raise InvalidInput("pagination.invalid", f"page >= 1 and 1 <= page_size <= {max_size}")
    return pg, size


def page_of(rows: Sequence[T], page: int, page_size: int) -> dict[str, Any]:
    """One page of ``rows`` with the total: ``{items, total, page, page_size}``."""
    return {"items": list(rows[(page - 1) * page_size: page * page_size]), "total": len(rows), "page": page,
            "page_size": page_size}
