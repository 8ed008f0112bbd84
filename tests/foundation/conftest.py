from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack, free_port

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def kit_stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    env = dict(stack_env)
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    s = Stack(env=env, gateway_port=free_port(), log_dir=HERE.parents[1] / ".local" / "test-logs" /
              f"kit-{uuid.uuid4().hex[:6]}")
    s.add_service("fproducer", "kit_services:ProducerService", HERE / "config.yaml")
    s.add_service("fconsumer", "kit_services:ConsumerService", HERE / "config.yaml")
    s.start()
    try:
        yield s
    finally:
        s.stop()
