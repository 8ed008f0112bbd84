"""RpcBridge against the real RabbitMQ and a real nameko service (tests/echo_service.py)."""
from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from crmkit.context import CallContext, ContextSigner, binding_for, sign, verify
from crmkit.errors import Conflict, CrmError, Unavailable, UpstreamTimeout
from gateway.bridge import RpcBridge

from conftest import AMQP_URI

pytestmark = pytest.mark.anyio


async def test_call_returns_result(bridge, echo):
    assert await bridge.call(echo, "echo", {"a": 1, "text": "héllo", "nested": {"x": [1, 2]}}) == {
        "a": 1, "text": "héllo", "nested": {"x": [1, 2]},
    }
    assert await bridge.call(echo, "health", {}) == {"status": "ok"}


async def test_200_concurrent_calls_are_matched_by_correlation_id(bridge, echo):
    results = await asyncio.gather(*(bridge.call(echo, "echo", {"i": i, "tag": f"t{i}"}) for i in range(200)))
    assert results == [{"i": i, "tag": f"t{i}"} for i in range(200)]
    assert not bridge._pending


async def test_context_and_call_id_stack_headers_reach_the_service(bridge, echo):
    token = sign(CallContext(tenant_id="t1", user_id="u1", roles=("sales",), request_id="r1"), "k")
    seen = await bridge.call(echo, "whoami", {}, context=token)
    assert verify(seen["crm_context"], "k").tenant_id == "t1"
    assert seen["call_id_stack"][0].startswith("gateway.whoami.")
    assert len(seen["call_id_stack"]) == 2  # nameko appended the service's own call id
    assert (await bridge.call(echo, "whoami", {}))["crm_context"] is None


async def test_a_signer_is_signed_for_each_call_it_makes(bridge, echo):
    signer = ContextSigner(CallContext(tenant_id="t1", user_id="u1"), "k" * 32, ttl=30)
    seen = await bridge.call(echo, "whoami", {}, context=signer)
    caller = seen["call_id_stack"][0]
    token = seen["crm_context"]
    assert verify(token, "k" * 32, call=binding_for(echo, "whoami", caller, [], {})).user_id == "u1"
    for other in (binding_for(echo, "echo", caller, [], {}),            # another method
                  binding_for(echo, "whoami", "gateway.whoami.x", [], {}),  # another call
                  binding_for(echo, "whoami", caller, [], {"a": 1})):    # other arguments
        with pytest.raises(Exception) as exc:
            verify(token, "k" * 32, call=other)
        assert exc.value.code == "context.wrong_call"
    again = await bridge.call(echo, "whoami", {}, context=signer)
    assert again["crm_context"] != token  # a fresh signature per call


async def test_remote_conflict_is_rebuilt(bridge, echo):
    with pytest.raises(Conflict) as info:
        await bridge.call(echo, "fail", {"name": "ACME"})
    assert info.value.code == "customer.duplicate"
    assert info.value.details == {"name": "ACME"}
    assert info.value.status == 409


async def test_remote_unknown_error_is_internal_without_internals(bridge, echo):
    with pytest.raises(CrmError) as info:
        await bridge.call(echo, "boom", {})
    assert type(info.value) is CrmError and info.value.code == "internal"
    assert "secret" not in json.dumps(info.value.to_body())


async def test_slow_call_times_out(bridge, echo):
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as info:
        await bridge.call(echo, "slow", {"seconds": 3}, timeout=0.7)
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 0.7 + 0.5
    assert info.value.code == "upstream_timeout" and info.value.details == {"service": echo}
    assert not bridge._pending
    # the bridge stays usable and the late reply is ignored
    assert await bridge.call(echo, "echo", {"after": True}) == {"after": True}


async def test_default_timeout_applies(echo):
    b = RpcBridge(AMQP_URI, default_timeout=0.5)
    await b.start()
    try:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            await b.call(echo, "slow", {"seconds": 2})
        assert time.monotonic() - started < 1.0
    finally:
        await b.stop()


async def test_service_without_consumer_is_unavailable_fast(bridge):
    service = f"nobody_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with pytest.raises(Unavailable) as info:
        await bridge.call(service, "health", {}, timeout=5)
    assert time.monotonic() - started < 0.5
    assert info.value.code == "service_unavailable" and info.value.details == {"service": service}


async def test_unreachable_broker_fails_fast_and_does_not_hang():
    b = RpcBridge("amqp://crm:nothing@127.0.0.1:1/", default_timeout=5, connect_timeout=1)
    started = time.monotonic()
    await b.start()
    try:
        assert not b.connected
        with pytest.raises(Unavailable):
            await b.call("identity", "health", {})
        assert time.monotonic() - started < 3
    finally:
        await b.stop()


async def test_stop_fails_calls_in_flight(echo):
    b = RpcBridge(AMQP_URI, default_timeout=10)
    await b.start()
    task = asyncio.create_task(b.call(echo, "slow", {"seconds": 3}))
    await asyncio.sleep(0.2)
    await b.stop()
    with pytest.raises(Unavailable):
        await task
    assert not b.connected


async def test_stopped_service_with_a_leftover_queue_is_unavailable_fast_and_comes_back(echo_factory):
    """nameko's durable ``rpc-<service>`` queue outlives the service: once a probe has seen
    no consumer on it, calls are refused at once (503) instead of waiting for the timeout,
    and they go through again when an instance consumes from the queue."""
    from conftest import AMQP_URI, EchoProcess

    proc = echo_factory("gwstop")
    b = RpcBridge(AMQP_URI, 3, probe_interval=0.2)
    await b.start()
    try:
        assert await b.call(proc.name, "echo", {"value": 1}) is not None
        proc.proc.terminate()
        proc.proc.wait(10)
        # the first call after the stop may still time out; a probe then sees no consumer
        deadline = time.monotonic() + 10
        while True:
            started = time.monotonic()
            try:
                await b.call(proc.name, "echo", {"value": 2}, timeout=1)
            except Unavailable as exc:
                assert time.monotonic() - started < 0.5
                assert exc.details == {"service": proc.name} and "no running instance" in exc.message
                break
            except UpstreamTimeout:
                pass
            assert time.monotonic() < deadline, "calls to a stopped service never became fast 503s"
            await asyncio.sleep(0.1)
        again = EchoProcess(proc.name)
        try:
            again.wait_ready()
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert await b.call(proc.name, "echo", {"value": 3}, timeout=2) is not None
                    break
                except Unavailable:
                    assert time.monotonic() < deadline, "the service came back but calls stayed refused"
                    await asyncio.sleep(0.1)
        finally:
            again.stop()
    finally:
        await b.stop()
