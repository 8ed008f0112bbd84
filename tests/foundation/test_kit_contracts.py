"""Typed messages in the kit (crmkit.messages), against the real broker and database: an event
that breaks its declaration is refused at emit with nothing written; one delivered anyway is
parked as a dead letter without running the handler; a declared call is checked both ways."""
from __future__ import annotations

import time
import uuid

import pytest

from crmkit.context import CallContext
from crmkit.errors import CrmError
from tests.support.waiting import wait_for

CTX = CallContext(tenant_id="t-" + uuid.uuid4().hex[:6], user_id="u1", roles=("employee",))
OPERATOR = CallContext(tenant_id="", user_id="op", roles=("operator",))


def _ready(rpc, *services):
    for s in services:
        wait_for(lambda s=s: rpc.call(s, "health", timeout=3)["status"] == "ok", 60, what=f"{s} health")


def _refused(rpc, entry, **kw) -> CrmError:
    with pytest.raises(CrmError) as exc:
        rpc.call("fproducer", entry, ctx=CTX, **kw)
    return exc.value


def test_a_valid_event_passes_the_emit_check(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "change_with_event", key=key, type="thing.changed", data={"key": key}, ctx=CTX)
    wait_for(lambda: rpc.call("fconsumer", "counts", key=key, ctx=CTX)["effects"] == 1, what="effect")
    assert rpc.call("fproducer", "thing_exists", key=key, ctx=CTX)


@pytest.mark.parametrize(("type_", "data", "code", "field"), [
    ("thing.changed", {"key": "K", "fail_times": "twice"}, "event.invalid", "fail_times"),
    ("thing.changed", {"fail_times": 0}, "event.invalid", "key"),
    ("thing.changed", {"key": "K", "colour": "red"}, "event.invalid", "colour"),
    ("thing.vanished", {"key": "K"}, "event.undeclared", None),
    ("thing.noted", {"key": "K"}, "event.wrong_producer", None),  # fconsumer's event
])
def test_an_invalid_event_is_refused_at_emit_and_nothing_is_written(kit_stack, rpc, type_, data, code, field):
    _ready(rpc, "fproducer")
    key = uuid.uuid4().hex
    data = {k: (key if v == "K" else v) for k, v in data.items()}
    before = rpc.call("fproducer", "outbox_rows", event_type=type_, ctx=CTX)
    err = _refused(rpc, "change_with_event", key=key, type=type_, data=data)
    assert type(err).__name__ == "CrmError" and err.code == code, (err.code, err.message)
    assert err.details["event_type"] == type_
    if field:
        assert [p["field"] for p in err.details["problems"]] == [field] and field in err.message
    assert not rpc.call("fproducer", "thing_exists", key=key, ctx=CTX)   # the change was not written
    assert rpc.call("fproducer", "outbox_rows", event_type=type_, ctx=CTX) == before  # nor its event


def _dead_letter(rpc, event_id):
    rows = [r for r in rpc.call("fconsumer", "dead_letters", ctx=OPERATOR) if r["event_id"] == event_id]
    return rows[0] if rows else None


def test_an_invalid_delivered_payload_is_dead_lettered_without_running_the_handler(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    event_id = rpc.call("fproducer", "publish_unchecked", data={"key": key, "fail_times": "x"}, ctx=CTX)
    row = wait_for(lambda: _dead_letter(rpc, event_id), timeout=30, what="dead letter")
    assert row["error"].startswith("event.invalid:") and "fail_times" in row["error"]
    assert row["attempts"] == 0 and row["event_type"] == "thing.changed"
    time.sleep(1.5)  # no retry, no handler run
    assert rpc.call("fconsumer", "counts", key=key, ctx=CTX) == {"attempts": 0, "effects": 0}
    # replaying it refuses it again (until the consumer knows the shape): no crash loop either way
    rpc.call("fconsumer", "replay_dead_letter", dead_letter_id=row["id"], ctx=OPERATOR)
    wait_for(lambda: _dead_letter(rpc, event_id), timeout=30, what="parked again")
    assert rpc.call("fconsumer", "counts", key=key, ctx=CTX)["attempts"] == 0


def test_a_delivered_payload_with_unknown_fields_is_handled(kit_stack, rpc):
    """Forward compatible: a producer a release ahead may add a field; the consumer goes on."""
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    rpc.call("fproducer", "publish_unchecked", data={"key": key, "added_later": [1, 2]}, ctx=CTX)
    wait_for(lambda: rpc.call("fconsumer", "counts", key=key, ctx=CTX)["effects"] == 1, what="effect")


def test_a_declared_call_is_checked_both_ways(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    ok = rpc.call("fproducer", "call_consumer", name="whoami", args=[], kwargs={"n": 3}, ctx=CTX)
    assert ok["n"] == 3 and ok["tenant_id"] == CTX.tenant_id
    ok = rpc.call("fproducer", "call_consumer", name="whoami", args=[4], kwargs={}, ctx=CTX)  # positional
    assert ok["n"] == 4
    err = _refused(rpc, "call_consumer", name="whoami", args=[], kwargs={"n": "3"})
    assert err.code == "rpc.invalid_request" and err.details["problems"][0]["field"] == "n"
    err = _refused(rpc, "call_consumer", name="whoami", args=[], kwargs={"m": 1})
    assert err.code == "rpc.invalid_request" and err.details["problems"][0]["field"] == "m"
    err = _refused(rpc, "call_consumer", name="bad_whoami", args=[], kwargs={})
    assert err.code == "rpc.invalid_answer" and err.details["problems"][0]["field"] == "n"
