"""One-shot: mark the pool's read-model rows with the approvals made before the mark existed.

Since issue 16 a claim looks an approval up only when the customer's row names the claimer
(``approved_ids``, written when the request is approved); approvals made before that carry no
mark, so until they lapse their requesters' claims count against the cool-down and the daily
limit. This adds each live approval's requester to its row (``$addToSet``: a re-run changes
nothing; lapsed approvals and rows of another tenant are left). Run it once with the
services stopped (no other writer on the rows):

    MONGO_URI=mongodb://127.0.0.1:27017/ MONGO_DB_PREFIX=crm_ .venv/bin/python \
        scripts/migrations/0002_mark_approved_rows.py
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import pymongo


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def migrate(client: pymongo.MongoClient, prefix: str, now: datetime | None = None) -> tuple[int, int]:
    """Returns (live approvals seen, rows newly marked)."""
    db = client[f"{prefix}pool"]
    now = now or datetime.now(UTC)
    seen = marked = 0
    for a in db["approvals"].find().batch_size(2000):
        enter_by = a.get("enter_by")
        if not isinstance(enter_by, datetime) or _aware(enter_by) <= now:
            continue  # lapsed (or never had a deadline): it protects nothing any more
        seen += 1
        row = db["customers"].find_one({"_id": a["customer_id"]}, {"tenant_id": 1, "approved_ids": 1})
        if row is None or row.get("tenant_id") != a.get("tenant_id") or \
                a["requester_id"] in (row.get("approved_ids") or []):
            continue
        db["customers"].update_one({"_id": a["customer_id"]}, {"$addToSet": {"approved_ids": a["requester_id"]}})
        marked += 1
    return seen, marked


if __name__ == "__main__":
    uri = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/")
    prefix = os.environ.get("MONGO_DB_PREFIX", "")
    seen, marked = migrate(pymongo.MongoClient(uri, tz_aware=True), prefix)
    print(f"live approvals: {seen}; rows newly marked: {marked}")
    sys.exit(0)
