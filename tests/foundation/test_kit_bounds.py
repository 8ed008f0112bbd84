"""Every message a service publishes is bounded, and no failure while answering ends the
service container (issue 12 §1): real nameko services, the real broker and database."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pika
import pytest

from crmkit.context import CallContext
from crmkit.errors import CrmError, TooLarge
from devstack.stack import Stack
from tests.support.waiting import wait_for

HERE = Path(__file__).resolve().parent
CTX = CallContext(tenant_id="t-" + uuid.uuid4().hex[:6], user_id="u1", roles=("employee",))
LIMIT = 8 * 1024 * 1024  # the kit's default MAX_MESSAGE_BYTES


def _ready(rpc, *services):
    for s in services:
        wait_for(lambda s=s: rpc.call(s, "health", timeout=3)["status"] == "ok", 60, what=f"{s} health")


def _metric(stack: Stack, service: str, name: str, **labels: str) -> float:
    url = f"http://127.0.0.1:{stack.procs[service].metrics_port}/metrics"
    wait_for(lambda: _reachable(url), 30, what=f"{service} /metrics")
    text = httpx.get(url, timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _reachable(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_oversized_answer_is_refused_with_an_error_and_the_service_keeps_answering(kit_stack, rpc):
    _ready(rpc, "fproducer")
    with pytest.raises(TooLarge) as exc:
        rpc.call("fproducer", "big_answer", size=LIMIT + 1024, ctx=CTX, timeout=30)
    assert exc.value.code == "reply.too_large"
    assert exc.value.details["limit"] == LIMIT and exc.value.details["bytes"] > LIMIT
    assert kit_stack.procs["fproducer"].running
    assert rpc.call("fproducer", "echo", text="still here", ctx=CTX) == {"text": "still here"}
    assert _metric(kit_stack, "fproducer", "crm_rpc_reply_failures_total", reason="too_large") >= 1
    # just under the limit is fine
    assert len(rpc.call("fproducer", "big_answer", size=LIMIT - 4096, ctx=CTX, timeout=30)) == LIMIT - 4096


def test_an_oversized_event_is_refused_when_it_is_emitted_and_nothing_is_written(kit_stack, rpc):
    _ready(rpc, "fproducer")
    key = uuid.uuid4().hex
    backlog = rpc.call("fproducer", "_test_outbox_backlog", ctx=CTX)
    with pytest.raises(TooLarge) as exc:
        rpc.call("fproducer", "big_event", key=key, size=LIMIT + 1, ctx=CTX, timeout=30)
    assert exc.value.code == "event.too_large" and exc.value.details["event_type"] == "thing.changed"
    assert rpc.call("fproducer", "thing_exists", key=key, ctx=CTX) is False  # the change did not happen
    assert rpc.call("fproducer", "_test_outbox_backlog", ctx=CTX) <= backlog  # nothing stuck in the outbox
    assert rpc.call("fproducer", "echo", text="ok", ctx=CTX) == {"text": "ok"}


def _raw_publish(amqp_uri: str, routing_key: str, body: bytes, **props) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        conn.channel().basic_publish("nameko-rpc", routing_key, body, pika.BasicProperties(**props))
    finally:
        conn.close()


def test_requests_that_cannot_be_answered_do_not_end_the_container(kit_stack, rpc, infra):
    """No reply_to, an unknown method without reply_to, a body that is not a request: each of
    these once raised in nameko's reply path and killed the process."""
    _ready(rpc, "fproducer")
    body = json.dumps({"args": [], "kwargs": {"text": "x"}}).encode()
    _raw_publish(infra.amqp_uri, "fproducer.echo", body, content_type="application/json")
    _raw_publish(infra.amqp_uri, "fproducer.no_such_method", body, content_type="application/json")
    _raw_publish(infra.amqp_uri, "fproducer.echo", b"[1, 2]", content_type="application/json",
                 reply_to="nowhere", correlation_id="c1")
    time.sleep(1.5)
    assert kit_stack.procs["fproducer"].running
    assert rpc.call("fproducer", "echo", text="alive", ctx=CTX) == {"text": "alive"}


@pytest.fixture(scope="module")
def big_stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    env = dict(stack_env)
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    logs = HERE.parents[1] / ".local" / "test-logs" / f"kit-big-{uuid.uuid4().hex[:6]}"
    s = Stack(env=env, gateway_port=0, log_dir=logs)
    s.add_service("fbig", "kit_services:BigReplyService", HERE / "config.yaml",
                  extra_env={"MAX_MESSAGE_BYTES": str(256 * 1024 * 1024)})
    s.start()
    try:
        yield s
    finally:
        s.stop()


def test_a_reply_the_broker_refuses_does_not_end_the_container(big_stack, rpc):
    """Above RabbitMQ's own limit (128 MB) the broker closes the channel (406) while the reply
    is published; the caller gets an error at once and the service answers the next call."""
    _ready(rpc, "fbig")
    with pytest.raises(CrmError) as exc:
        rpc.call("fbig", "big_answer", size=130 * 1024 * 1024, ctx=CTX, timeout=60)
    assert exc.value.code == "reply.failed"
    assert big_stack.procs["fbig"].running
    assert rpc.call("fbig", "echo", text="after 406", ctx=CTX, timeout=30) == {"text": "after 406"}
    assert _metric(big_stack, "fbig", "crm_rpc_reply_failures_total", reason="refused") >= 1
