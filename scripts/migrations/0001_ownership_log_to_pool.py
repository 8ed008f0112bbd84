"""One-shot: copy the customers service's ``ownership_log`` into the pool's ``moves``.

Since issue 16 the ownership log lives in the pool (``moves``, ``_id = "<customer>:<seq>"``,
the same key). A database from before holds the rows in the customers database; this copies
them, keeping every field and adding the Beijing ``day`` the pool's targets read, and leaves
the old collection in place (drop it by hand once checked). Idempotent: rows already in
``moves`` are kept as they are (unique ``_id``; the pool's newer rows win). Run it once with
the services stopped:

    MONGO_URI=mongodb://127.0.0.1:27017/ MONGO_DB_PREFIX=crm_ .venv/bin/python \
        scripts/migrations/0001_ownership_log_to_pool.py
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, timedelta, timezone

import pymongo
from pymongo.errors import BulkWriteError

BEIJING = timezone(timedelta(hours=8))
BATCH = 500


def migrate(client: pymongo.MongoClient, prefix: str) -> tuple[int, int]:
    src = client[f"{prefix}customers"]["ownership_log"]
    dst = client[f"{prefix}pool"]["moves"]
    copied = seen = 0
    batch: list[dict] = []

    def flush() -> int:
        if not batch:
            return 0
        try:
            n = len(dst.insert_many(batch, ordered=False).inserted_ids)
        except BulkWriteError as exc:  # rows already there (a re-run, or the pool's own) stay
            n = int(exc.details.get("nInserted", 0))
        batch.clear()
        return n
    for row in src.find().batch_size(2000):
        seen += 1
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        batch.append({**row, "day": row.get("day") or at.astimezone(BEIJING).date().isoformat()})
        if len(batch) >= BATCH:
            copied += flush()
    copied += flush()
    return seen, copied


if __name__ == "__main__":
    uri = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/")
    prefix = os.environ.get("MONGO_DB_PREFIX", "")
    seen, copied = migrate(pymongo.MongoClient(uri, tz_aware=True), prefix)
    print(f"ownership_log rows: {seen}; copied into pool.moves: {copied}")
    sys.exit(0)
