"""The bridge survives a broker restart by itself (rabbitmqctl stop_app / start_app).

Stops the local RabbitMQ application for a few seconds; the broker is always started
again in ``finally``. Deselect with ``-m "not broker_restart"``.
"""
from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from crmkit.errors import Unavailable
from gateway.bridge import RpcBridge

from conftest import AMQP_URI

pytestmark = [pytest.mark.anyio, pytest.mark.broker_restart]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


async def test_bridge_recovers_after_broker_restart(echo_factory):
    service = echo_factory("gwrestart").name  # its own service process, so others are not disturbed
    bridge = RpcBridge(AMQP_URI, default_timeout=3)
    await bridge.start()
    try:
        assert await bridge.call(service, "echo", {"before": 1}) == {"before": 1}
        in_flight = asyncio.create_task(bridge.call(service, "slow", {"seconds": 8}, timeout=15))
        await asyncio.sleep(0.3)
        try:
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            # the call in flight on the dead connection fails with Unavailable, not a timeout
            with pytest.raises(Unavailable):
                await asyncio.wait_for(in_flight, 5)
            assert not bridge.connected
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await bridge.call(service, "echo", {"down": 1})
            assert time.monotonic() - started < 0.5
        finally:
            await asyncio.to_thread(rabbitmqctl, "start_app")
        deadline = time.monotonic() + 20
        while True:
            try:
                assert await bridge.call(service, "echo", {"after": 1}, timeout=1) == {"after": 1}
                break
            except (Unavailable, Exception):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        assert bridge.connected
        results = await asyncio.gather(*(bridge.call(service, "echo", {"i": i}) for i in range(50)))
        assert results == [{"i": i} for i in range(50)]
    finally:
        await bridge.stop()
        # keep the broker running no matter what happened above
        await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "start_app"], check=False, capture_output=True,
                                timeout=120)
