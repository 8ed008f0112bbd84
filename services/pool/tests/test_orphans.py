"""Entries whose customer was never written (customers died between ``pool.enter`` and its
write): the sweep asks customers and gives the slot back; written customers are kept."""
from __future__ import annotations

import uuid

import pytest

from crmkit.errors import NotFound

from .conftest import ctx_of
from .test_claims import admin, create, seen, tid


def test_an_entry_whose_customer_was_never_written_gives_its_slot_back(pool):
    t = tid()
    owner = ctx_of(t, "alice", "employee")
    [kept] = create(pool, t, [{"name": "真有其户有限公司", "owner_id": "alice"}])  # entered and written
    seen(pool, t, kept, owner="alice")
    orphan = uuid.uuid4().hex  # entered, then "customers died": no record, no cancel_entry
    pool.call("pool", "enter", ctx=owner, customer_ids=[orphan], owner_id="alice",
              facts={orphan: {"name": "半途而废有限公司"}})
    assert pool.call("pool", "capacity", ctx=owner)["held"] == 2
    young = pool.call("pool", "_test_sweep_orphaned_entries", ctx=admin(t), older_than_seconds=3600)
    assert young["dropped"] == 0  # not old enough: an entry may still be on its way
    done = pool.call("pool", "_test_sweep_orphaned_entries", ctx=admin(t), older_than_seconds=0)
    assert done["dropped"] >= 1, done
    assert pool.call("pool", "capacity", ctx=owner)["held"] == 1
    with pytest.raises(NotFound):
        pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=orphan)
    assert pool.call("pool", "ownership_history", ctx=admin(t), customer_id=orphan) == []
    assert pool.call("pool", "get_pool_customer", ctx=admin(t), customer_id=kept)["owner_id"] == "alice"
    again = pool.call("pool", "_test_sweep_orphaned_entries", ctx=admin(t), older_than_seconds=0)
    assert again["dropped"] == 0  # the written one stays
