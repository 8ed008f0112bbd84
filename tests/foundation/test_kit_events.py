"""The kit's delivery guarantees, against the real broker and database."""
from __future__ import annotations

import time
import uuid

import pytest

from crmkit.context import CallContext
from crmkit.errors import InvalidInput, Unauthenticated
from tests.support import infra as infra_mod
from tests.support.waiting import wait_for

CTX = CallContext(tenant_id="t-" + uuid.uuid4().hex[:6], user_id="u1", roles=("employee",))
OPERATOR = CallContext(tenant_id="", user_id="op", roles=("operator",))


def _ready(rpc, *services):
    for s in services:
        wait_for(lambda s=s: rpc.call(s, "health", timeout=3)["status"] == "ok", 60, what=f"{s} health")


def _counts(rpc, key):
    return rpc.call("fconsumer", "counts", key=key, ctx=CTX)


def test_change_event_is_handled_once(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "make_change", key=key, ctx=CTX)
    wait_for(lambda: _counts(rpc, key)["effects"] == 1, what="effect")
    time.sleep(1)
    assert _counts(rpc, key) == {"attempts": 1, "effects": 1}


def test_same_event_twice_has_one_effect(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "publish_directly", key=key, times=3, ctx=CTX)
    wait_for(lambda: _counts(rpc, key)["effects"] == 1, what="effect")
    time.sleep(1.5)
    assert _counts(rpc, key)["effects"] == 1


def test_failed_change_emits_nothing(kit_stack, rpc):
    _ready(rpc, "fproducer")
    key = uuid.uuid4().hex
    with pytest.raises(InvalidInput):
        rpc.call("fproducer", "failing_change", key=key, ctx=CTX)
    time.sleep(1.5)
    assert _counts(rpc, key)["attempts"] == 0


def test_handler_failing_twice_then_succeeding_has_one_effect(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "make_change", key=key, fail_times=2, ctx=CTX)
    wait_for(lambda: _counts(rpc, key)["effects"] == 1, what="effect after retries")
    time.sleep(1)
    assert _counts(rpc, key) == {"attempts": 3, "effects": 1}


def test_handler_always_failing_is_dead_lettered_and_replayable(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    event_id = rpc.call("fproducer", "make_change", key=key, always_fail=True, ctx=CTX)["event_id"]

    def parked():
        rows = rpc.call("fconsumer", "dead_letters", ctx=OPERATOR)
        return [r for r in rows if r["event_id"] == event_id]

    rows = wait_for(parked, timeout=30, what="dead letter")
    assert rows[0]["attempts"] == 3 and "induced failure" in rows[0]["error"]
    assert _counts(rpc, key) == {"attempts": 3, "effects": 0}
    # a plain employee may not see them
    with pytest.raises(Exception) as exc:
        rpc.call("fconsumer", "dead_letters", ctx=CTX)
    assert type(exc.value).__name__ == "Forbidden"
    # an operator replays it: the handler runs again (and, failing again, parks it again)
    rpc.call("fconsumer", "replay_dead_letter", dead_letter_id=rows[0]["id"], ctx=OPERATOR)
    wait_for(lambda: _counts(rpc, key)["attempts"] >= 4, what="replayed attempt")


def test_subscriber_down_while_events_are_published_gets_them(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    kit_stack.stop("fconsumer")
    keys = [uuid.uuid4().hex for _ in range(5)]
    for k in keys:
        rpc.call("fproducer", "make_change", key=k, ctx=CTX)
    time.sleep(1)  # the relay has published into the (declared) queue
    kit_stack.start("fconsumer")
    _ready(rpc, "fconsumer")
    for k in keys:
        wait_for(lambda k=k: _counts(rpc, k)["effects"] == 1, what=f"late effect {k}")


def test_forged_context_is_refused(kit_stack, rpc):
    _ready(rpc, "fproducer")
    with pytest.raises(Unauthenticated):
        rpc.call("fproducer", "make_change", key="x", raw_context="eyJ0ZW5hbnRfaWQiOiJldmlsIn0.Zm9yZ2Vk")
    with pytest.raises(Unauthenticated):
        rpc.call("fproducer", "make_change", key="x")


@pytest.mark.broker_restart
def test_change_acknowledged_before_broker_outage_is_delivered_once(kit_stack, rpc, infra):
    if not infra.local_broker:
        pytest.skip("needs a local broker this test may stop (rabbitmqctl)")
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "_test_hold_outbox", seconds=3, ctx=CTX)
    rpc.call("fproducer", "make_change", key=key, ctx=CTX)  # acknowledged; event only in the outbox
    rpc.close()
    infra_mod.stop_broker()
    try:
        time.sleep(5)  # the hold has lapsed: the relay tries and fails while the broker is down
    finally:
        infra_mod.start_broker()
    from tests.conftest import TEST_CONTEXT_KEY
    from tests.support.rpc import RpcClient

    fresh = wait_for(lambda: RpcClient(infra.amqp_uri, TEST_CONTEXT_KEY), 30, what="broker back")
    try:
        wait_for(lambda: fresh.call("fconsumer", "counts", key=key, ctx=CTX, timeout=5)["effects"] == 1,
                 timeout=60, what="event delivered after the outage")
        time.sleep(2)
        assert fresh.call("fconsumer", "counts", key=key, ctx=CTX) == {"attempts": 1, "effects": 1}
    finally:
        fresh.close()
