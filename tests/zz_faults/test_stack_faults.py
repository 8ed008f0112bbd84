"""Faults against the whole stack through the gateway (runs last: it stops things).

- /readyz?verbose reports the five services;
- a stopped service keeps /readyz at 200 (the gateway answers from the broker and its own
  database), is named by /readyz?verbose and its calls answer 503/504 within the
  timeout while the others keep answering;
- after a RabbitMQ restart the same gateway and services work again by themselves.
"""
from __future__ import annotations

import time

import pytest

from tests.support import infra as infra_mod
from tests.support.waiting import wait_for

SERVICES = ("identity", "customers", "pool", "visits", "notify")


def _all_ready(http) -> bool:
    r = http.get("/readyz?verbose")
    return r.status_code == 200 and r.json()["services_ready"] is True


def test_readyz_reports_five_ready_services(http):
    r = http.get("/readyz?verbose")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True and body["broker"] is True and body["services_ready"] is True
    assert sorted(body["services"]) == sorted(SERVICES)
    assert all(v["ready"] for v in body["services"].values())


def test_stopped_service_is_named_and_bounded_others_keep_answering(stack, http):
    stack.stop("notify")
    try:
        assert http.get("/readyz").status_code == 200  # one sick service keeps the API in rotation
        r = http.get("/readyz?verbose")
        assert r.status_code == 200 and r.json()["services_ready"] is False
        services = r.json()["services"]
        assert services["notify"]["ready"] is False
        assert all(services[s]["ready"] for s in SERVICES if s != "notify")

        started = time.monotonic()
        r = http.get("/healthz/notify")
        elapsed = time.monotonic() - started
        assert r.status_code in (503, 504), r.text
        assert r.json()["error"]["code"] in ("service_unavailable", "upstream_timeout")
        assert elapsed < float(stack.env.get("RPC_TIMEOUT", "10")) + 2

        for s in ("identity", "customers", "pool", "visits"):
            assert http.get(f"/healthz/{s}").status_code == 200
    finally:
        stack.start("notify")
    wait_for(lambda: _all_ready(http), 90, what="notify back")


@pytest.mark.broker_restart
def test_calls_work_again_after_rabbitmq_restart(stack, http, infra):
    if not infra.local_broker:
        pytest.skip("needs a local broker this test may restart (rabbitmqctl)")
    assert _all_ready(http)
    infra_mod.restart_broker()
    wait_for(lambda: http.get("/healthz/identity").status_code == 200, 60, what="identity via gateway")
    wait_for(lambda: _all_ready(http), 90, what="all ready after restart")
    assert all(p.running for p in stack.procs.values()), "nothing was restarted by hand"
