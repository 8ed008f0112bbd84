"""The liveness endpoint (``/livez`` on the metrics port, what the Kubernetes probe calls)
fails for a real service process whose hub is stuck or whose container threads are gone."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import Stack
from tests.support.waiting import wait_for

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def live_stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    env = dict(stack_env)
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    logs = HERE.parents[1] / ".local" / "test-logs" / f"kit-live-{uuid.uuid4().hex[:6]}"
    s = Stack(env=env, gateway_port=0, log_dir=logs)
    s.add_service("flive", "kit_services:LivenessService", HERE / "config.yaml",
                  extra_env={"LIVENESS_MAX_AGE_SECONDS": "4"})
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _livez(stack: Stack, timeout: float = 3.0) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{stack.procs['flive'].metrics_port}/livez", timeout=timeout)


def _ready(rpc):
    wait_for(lambda: rpc.call("flive", "health", timeout=3)["status"] == "ok", 60, what="flive health")


def test_a_live_service_says_so_and_still_serves_metrics(live_stack, rpc):
    _ready(rpc)
    r = _livez(live_stack)
    assert r.status_code == 200 and r.json()["alive"] is True and r.json()["heartbeat_age_seconds"] < 4
    metrics = httpx.get(f"http://127.0.0.1:{live_stack.procs['flive'].metrics_port}/metrics", timeout=3)
    assert metrics.status_code == 200 and "crm_heartbeat_timestamp_seconds" in metrics.text


def test_a_stuck_hub_fails_the_probe(live_stack, rpc):
    """The kubelet's probe has timeoutSeconds: 3 — a hub that does not run answers nothing."""
    _ready(rpc)
    with pytest.raises(TimeoutError):
        rpc.call("flive", "_test_freeze", seconds=8, timeout=1)  # sent; the hub is now blocked
    time.sleep(0.5)
    with pytest.raises(httpx.TimeoutException):
        _livez(live_stack, timeout=3)
    # it recovers by itself once the hub runs again
    wait_for(lambda: _livez(live_stack).status_code == 200, timeout=30, what="alive again")


def test_a_container_whose_threads_are_gone_fails_the_probe(live_stack, rpc):
    _ready(rpc)
    assert _livez(live_stack).status_code == 200
    rpc.call("flive", "_test_stop_heartbeat")
    r = wait_for(lambda: (lambda r: r if r.status_code == 503 else None)(_livez(live_stack)), timeout=15,
                 what="503 from /livez")
    assert r.json() == {**r.json(), "alive": False, "reason": "heartbeat too old"}
    assert live_stack.procs["flive"].running  # the process itself is still there: only liveness tells
