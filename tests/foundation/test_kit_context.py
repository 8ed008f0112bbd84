"""The signed call context is bound to the call that carries it (decision 0004): real
nameko services verify service, method, caller's call id, arguments and expiry."""
from __future__ import annotations

import time
import uuid

import pytest

from crmkit.context import CallContext, binding_for, sign
from crmkit.errors import Unauthenticated
from tests.conftest import TEST_CONTEXT_KEY
from tests.support.waiting import wait_for

CTX = CallContext(tenant_id="t-" + uuid.uuid4().hex[:6], user_id="u-ctx", roles=("employee",))


def _ready(rpc, *services):
    for s in services:
        wait_for(lambda s=s: rpc.call(s, "health", timeout=3)["status"] == "ok", 60, what=f"{s} health")


def _token(service, method, call_id, kwargs, now=None):
    return sign(CTX, TEST_CONTEXT_KEY, call=binding_for(service, method, call_id, [], kwargs), now=now)


def test_a_context_signed_for_the_call_is_accepted(kit_stack, rpc):
    _ready(rpc, "fproducer")
    token = _token("fproducer", "whoami", "test.whoami.1", {"note": "a"})
    got = rpc.call("fproducer", "whoami", raw_context=token, call_id="test.whoami.1", note="a")
    assert (got["user_id"], got["note"]) == ("u-ctx", "a")
    assert rpc.call("fproducer", "whoami", ctx=CTX)["user_id"] == "u-ctx"


@pytest.mark.parametrize("method, call_id, kwargs", [
    ("nested_whoami", "test.whoami.1", {}),             # lifted onto another method
    ("whoami", "test.whoami.2", {"note": "a"}),         # same method, another call
    ("whoami", "test.whoami.1", {"note": "b"}),         # same call, other arguments
])
def test_a_lifted_context_is_refused_on_any_other_call(kit_stack, rpc, method, call_id, kwargs):
    _ready(rpc, "fproducer")
    lifted = _token("fproducer", "whoami", "test.whoami.1", {"note": "a"})
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("fproducer", method, raw_context=lifted, call_id=call_id, **kwargs)
    assert exc.value.code == "context.wrong_call"


def test_a_context_for_another_service_is_refused(kit_stack, rpc):
    _ready(rpc, "fconsumer")
    lifted = _token("fproducer", "whoami", "test.whoami.1", {})
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("fconsumer", "whoami", raw_context=lifted, call_id="test.whoami.1")
    assert exc.value.code == "context.wrong_call"


def test_an_expired_context_is_refused(kit_stack, rpc):
    _ready(rpc, "fproducer")
    old = _token("fproducer", "whoami", "test.whoami.9", {}, now=time.time() - 31)
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("fproducer", "whoami", raw_context=old, call_id="test.whoami.9")
    assert exc.value.code == "context.expired"


def test_nested_calls_are_signed_for_their_own_target(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    seen = rpc.call("fproducer", "nested_whoami", times=3, ctx=CTX)
    assert [s["user_id"] for s in seen] == ["u-ctx"] * 3 and [s["n"] for s in seen] == [0, 1, 2]
    assert seen[0]["tenant_id"] == CTX.tenant_id


def test_a_worker_acting_as_system_signs_its_calls_as_system(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    seen = rpc.call("fproducer", "nested_as_system", tenant_id="t-sys")
    assert (seen["tenant_id"], seen["user_id"], seen["roles"]) == ("t-sys", "system", ["system"])


def test_the_callers_language_and_request_id_travel_into_the_events_it_causes(kit_stack, rpc, stack_env):
    import pymongo

    from crmkit.outbox import find_events

    _ready(rpc, "fproducer")
    ctx = CallContext(tenant_id=CTX.tenant_id, user_id="u-lang", roles=("employee",), request_id="rq-lang-1",
                      language="en-GB")
    event_id = rpc.call("fproducer", "make_change", key=uuid.uuid4().hex, ctx=ctx)["event_id"]
    db = pymongo.MongoClient(stack_env["MONGO_URI"])[f"{stack_env['MONGO_DB_PREFIX']}fproducer"]
    [row] = wait_for(lambda: find_events(db, {"_id": event_id}), what="the outbox row")
    assert (row["envelope"]["language"], row["envelope"]["request_id"]) == ("en-GB", "rq-lang-1")


def test_a_handler_carries_them_on_into_the_events_it_emits(kit_stack, rpc):
    _ready(rpc, "fproducer", "fconsumer")
    key = uuid.uuid4().hex
    ctx = CallContext(tenant_id=CTX.tenant_id, user_id="u-lang", request_id="rq-chain-1", language="en")
    rpc.call("fproducer", "make_change", key=key, ctx=ctx)
    got = wait_for(lambda: (lambda o: o if o["language"] else None)(rpc.call("fconsumer", "effect_origin",
                                                                              key=key, ctx=CTX)),
                   what="the handler's follow-up")
    assert got == {"language": "en", "request_id": "rq-chain-1"}
