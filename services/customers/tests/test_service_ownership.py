"""Service level (real RabbitMQ, FerretDB and services): the change_owner RPC contract
that the pool service builds on — exactly one of many concurrent claims wins."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from crmkit.context import CallContext
from crmkit.errors import Conflict, Forbidden, NotFound
from tests.conftest import TEST_CONTEXT_KEY
from tests.support.rpc import RpcClient


def ctx(tenant: str, user: str, *roles: str) -> CallContext:
    return CallContext(tenant_id=tenant, user_id=user, roles=roles or ("employee",))


@pytest.fixture
def entered(rpc, stack):
    tenant, owner = uuid.uuid4().hex, uuid.uuid4().hex
    n = str(uuid.uuid4().int)
    doc = rpc.call("customers", "create_customer", ctx=ctx(tenant, owner),
                   data={"name": f"服务{uuid.uuid4().hex[:8]}有限公司", "address": "x", "landlines": [f"0512-{n[:8]}"]})
    return tenant, owner, doc


def test_release_then_twelve_concurrent_claims_one_wins(rpc, infra, entered):
    tenant, owner, doc = entered
    cid = doc["id"]
    rel = rpc.call("customers", "change_owner", ctx=ctx(tenant, owner), customer_id=cid, expected_owner_id=owner,
                   new_owner_id=None, path="release", reason="no budget")
    assert rel["seq"] == 2 and rel["to_owner_id"] is None
    claimers = [uuid.uuid4().hex for _ in range(12)]

    def claim(user: str) -> str:
        c = RpcClient(infra.amqp_uri, TEST_CONTEXT_KEY)
        try:
            c.call("customers", "change_owner", ctx=ctx(tenant, user), customer_id=cid, expected_owner_id=None,
                   new_owner_id=user, path="claim", reason="")
            return "won"
        except Conflict as exc:
            return exc.code
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(claim, claimers))
    assert results.count("won") == 1, results
    assert set(results) - {"won"} <= {"customer.owner_conflict", "customer.owner_mismatch"}
    winner = claimers[results.index("won")]
    admin = ctx(tenant, "admin", "tenant_admin")
    assert rpc.call("customers", "get_customer", ctx=admin, customer_id=cid)["owner_id"] == winner
    log = rpc.call("customers", "ownership_history", ctx=admin, customer_id=cid)
    assert [(e["seq"], e["path"]) for e in log] == [(1, "entry"), (2, "release"), (3, "claim")]
    assert log[1]["reason"] == "no budget" and log[1]["actor_id"] == owner


def test_stale_expected_owner_is_a_conflict_and_rights_are_checked(rpc, entered):
    tenant, owner, doc = entered
    cid = doc["id"]
    stranger = ctx(tenant, uuid.uuid4().hex)
    with pytest.raises(NotFound):  # not visible to a stranger: 404, not 403
        rpc.call("customers", "change_owner", ctx=stranger, customer_id=cid, expected_owner_id=owner,
                 new_owner_id=stranger.user_id, path="transfer")
    with pytest.raises(Forbidden):  # the owner may release but not hand over by themselves
        rpc.call("customers", "change_owner", ctx=ctx(tenant, owner), customer_id=cid, expected_owner_id=owner,
                 new_owner_id=uuid.uuid4().hex, path="transfer")
    system = ctx(tenant, "pool", "system")
    with pytest.raises(Conflict) as ei:
        rpc.call("customers", "change_owner", ctx=system, customer_id=cid, expected_owner_id="someone-else",
                 new_owner_id=None, path="reclaim")
    assert ei.value.code == "customer.owner_mismatch" and ei.value.details["owner_id"] == owner
    done = rpc.call("customers", "change_owner", ctx=system, customer_id=cid, expected_owner_id=owner,
                    new_owner_id=None, path="reclaim", reason="no contact in 30 days")
    assert done["path"] == "reclaim"
    with pytest.raises(NotFound):  # another tenant cannot even see it
        rpc.call("customers", "get_customer", ctx=ctx(uuid.uuid4().hex, "x", "tenant_admin"), customer_id=cid)


def test_visible_customer_ids(rpc, entered):
    tenant, owner, doc = entered
    assert doc["id"] in rpc.call("customers", "visible_customer_ids", ctx=ctx(tenant, owner))
    assert rpc.call("customers", "visible_customer_ids", ctx=ctx(tenant, uuid.uuid4().hex)) == []
    ids = rpc.call("customers", "visible_customer_ids", ctx=ctx(tenant, "a", "tenant_admin"), owner_ids=[owner])
    assert ids == [doc["id"]]


def test_existing_customers_answers_services_of_the_tenant_only(rpc, entered):
    """What the pool's sweep of orphaned entries asks: which ids have a record."""
    tenant, owner, doc = entered
    system = ctx(tenant, "system", "system")
    ghost = uuid.uuid4().hex
    assert rpc.call("customers", "existing_customers", ctx=system, customer_ids=[doc["id"], ghost]) == \
        {"existing": [doc["id"]]}
    other = ctx(uuid.uuid4().hex, "system", "system")
    assert rpc.call("customers", "existing_customers", ctx=other, customer_ids=[doc["id"]]) == {"existing": []}
    with pytest.raises(Forbidden):
        rpc.call("customers", "existing_customers", ctx=ctx(tenant, owner, "tenant_admin"), customer_ids=[doc["id"]])


def test_a_logged_change_the_document_missed_is_rolled_forward_by_id(rpc, infra, stack_env, entered):
    """A crash between the log insert and the document update: the next change finds the
    log rows past the document's ``owner_seq`` by their ``_id`` and rolls forward first.
    (The ownership log is the pool's: the crashed changes are written there.)"""
    from datetime import UTC, datetime

    import pymongo

    tenant, owner, doc = entered
    cid = doc["id"]
    client = pymongo.MongoClient(infra.mongo_uri)
    db = client[f"{stack_env['MONGO_DB_PREFIX']}customers"]
    log_db = client[f"{stack_env['MONGO_DB_PREFIX']}pool"]
    other = uuid.uuid4().hex
    now = datetime.now(UTC)
    for seq, frm, to in ((2, owner, None), (3, None, other)):  # two changes, document still at seq 1
        log_db["moves"].insert_one({"_id": f"{cid}:{seq}", "tenant_id": tenant, "customer_id": cid, "seq": seq,
                                        "from_owner_id": frm, "to_owner_id": to, "path": "claim", "reason": "",
                                        "actor_id": "crashed", "at": now, "unowned": False})
    system = ctx(tenant, "pool", "system")
    with pytest.raises(Conflict) as ei:  # the owner is now the one the log says
        rpc.call("customers", "change_owner", ctx=system, customer_id=cid, expected_owner_id=owner,
                 new_owner_id=None, path="reclaim")
    assert ei.value.details["owner_id"] == other and ei.value.details["seq"] == 3
    done = rpc.call("customers", "change_owner", ctx=system, customer_id=cid, expected_owner_id=other,
                    new_owner_id=None, path="reclaim")
    assert done["seq"] == 4
    assert db["customers"].find_one({"_id": cid})["owner_seq"] == 4
