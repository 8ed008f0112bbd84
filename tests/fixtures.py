"""Session fixtures shared by every test (loaded by the root conftest.py): real infrastructure and the running stack."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import Stack, base_env, full_stack
from tests.support import infra as infra_mod
from tests.support.rpc import RpcClient

ROOT = Path(__file__).resolve().parents[1]
TEST_CONTEXT_KEY = "test-context-key-" + uuid.uuid4().hex
TEST_JWT_SECRET = "test-jwt-secret-" + uuid.uuid4().hex
TEST_OPERATOR_SECRET = "test-operator-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def infra() -> Iterator[infra_mod.Infra]:
    with infra_mod.provide() as inf:
        yield inf


@pytest.fixture(scope="session")
def stack_env(infra: infra_mod.Infra) -> dict[str, str]:
    return base_env(
        infra.amqp_uri, infra.mongo_uri,
        MONGO_DB_PREFIX=f"t{uuid.uuid4().hex[:6]}_",
        CRM_CONTEXT_KEY=TEST_CONTEXT_KEY,
        JWT_SECRET=TEST_JWT_SECRET,
        OPERATOR_SECRET=TEST_OPERATOR_SECRET,
        CRM_TEST_HOOKS="1",
        ARGON2_TIME_COST=os.environ.get("TEST_ARGON2_TIME_COST", "2"),
        ARGON2_MEMORY_KIB=os.environ.get("TEST_ARGON2_MEMORY_KIB", "19456"),
        ALLOW_PRIVATE_WEBHOOKS="1",
        ALLOW_PRIVATE_SMTP="1",  # the test SMTP servers listen on 127.0.0.1; guard-on tests run their own
        RPC_TIMEOUT="6",
        READY_TIMEOUT="3",
    )


@pytest.fixture(scope="session")
def stack(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The five services and the gateway, as real processes, ready."""
    log_dir = ROOT / ".local" / "test-logs" / uuid.uuid4().hex[:8]
    s = full_stack(stack_env, log_dir)
    s.start()
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        yield c


@pytest.fixture
def rpc(infra: infra_mod.Infra) -> Iterator[RpcClient]:
    c = RpcClient(infra.amqp_uri, TEST_CONTEXT_KEY)
    yield c
    c.close()
