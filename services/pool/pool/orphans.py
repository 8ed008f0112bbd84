"""Entries whose customer was never written.

``pool.enter`` takes the owner's slot and writes the first log row *before* customers writes
the customer; if customers dies between the two (or its undo, ``pool.cancel_entry``, never
arrives), the slot and the row stay with no customer behind them, and the owner's capacity
counts a customer they cannot see. ``enter`` notes each entry in ``store.unwritten`` first;
``customer.created`` (or the undo) clears the note. A note still there ``ORPHAN_AFTER`` after
the entry is asked about (``customers.existing_customers``, per tenant, 500 ids a call): the
customers customers has are cleared, the others are dropped (:func:`pool.ownership.drop_entry`).
A customers service that cannot answer leaves everything for the next run.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from itertools import groupby
from typing import Any

from crmkit.context import CallContext
from crmkit.nameko.kit import WorkerKit
from pool import ownership
from pool import store as storage
from pool.peers import Customers
from pool.store import Store

log = logging.getLogger(__name__)

#: far longer than an entry's RPC and customer write can take
ORPHAN_AFTER = timedelta(minutes=15)
#: entries looked at in one run (the next run takes the rest)
MAX_PER_RUN = 5000
BATCH = 500


def sweep(kit: WorkerKit, store: Store, customers: Customers, older_than: timedelta = ORPHAN_AFTER
          ) -> dict[str, Any]:
    """One run over every tenant: ``{"asked", "confirmed", "dropped"}`` (see the module doc)."""
    rows = storage.unwritten_before(store, kit.now() - older_than, MAX_PER_RUN)
    asked = confirmed = dropped = 0
    rows.sort(key=lambda r: str(r.get("tenant_id")))
    for tenant, group in groupby(rows, key=lambda r: str(r.get("tenant_id"))):
        tenant_rows = list(group)
        kit.act_as(CallContext(tenant_id=tenant, user_id="system", roles=("system",)))
        for i in range(0, len(tenant_rows), BATCH):
            chunk = tenant_rows[i:i + BATCH]
            answer = customers.existing_customers(customer_ids=[r["_id"] for r in chunk]) or {}
            have = set(answer.get("existing") or [])
            asked += len(chunk)
            confirmed += len(have)
            for r in chunk:
                if r["_id"] not in have and ownership.drop_entry(store, tenant, r["_id"], r.get("owner_id")):
                    dropped += 1
                    log.warning("dropped the entry of %s (tenant %s): its customer was never written",
                                r["_id"], tenant)
            storage.written(store, [r["_id"] for r in chunk])  # each one settled, either way
    return {"asked": asked, "confirmed": confirmed, "dropped": dropped}


def timed_sweep(kit: WorkerKit, store: Store, customers: Customers) -> None:
    """The timer's run; a failure (customers down) is logged and the next run retries."""
    try:
        result = sweep(kit, store, customers)
        if result["asked"]:
            log.info("orphaned entries: %s", result)
    except Exception:
        log.exception("the sweep of orphaned entries failed; the next run retries")
