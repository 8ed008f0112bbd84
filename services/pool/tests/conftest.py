"""Service-level fixtures: the pool service and a contract-exact customers stand-in,
as real processes on a real RabbitMQ vhost of their own and a real database."""
from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest

from crmkit.context import CallContext
from devstack import broker
from devstack.stack import Stack, base_env, free_port
from tests.support.rpc import RpcClient
from tests.support.waiting import wait_for

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KEY = "pool-test-key-" + uuid.uuid4().hex


class PoolHarness:
    def __init__(self, amqp_uri: str, stack: Stack):
        self.amqp_uri = amqp_uri
        self.stack = stack
        self._rpc = RpcClient(amqp_uri, KEY)

    def client(self) -> RpcClient:
        return RpcClient(self.amqp_uri, KEY)

    def call(self, service: str, method: str, ctx: CallContext | None = None, **kw):
        try:
            return self._rpc.call(service, method, ctx=ctx, **kw)
        except (pika.exceptions.AMQPError, OSError):
            # the shared broker was restarted (another suite's fault test): reconnect once
            self._rpc.close()
            self._rpc = wait_for(self.client, timeout=60, what="broker back")
            return self._rpc.call(service, method, ctx=ctx, **kw)

    def seed_employee(self, tenant: str, employee_id: str, **fields) -> None:
        """An employee identity knows (``status`` joined unless given; ``supervisor_id``,
        ``dept_admins``: the department admins over them)."""
        self.call("identity", "_seed", tenant_id=tenant, employee={"id": employee_id, **fields})

    def set_clock(self, when: str | None) -> None:
        for s in ("pool", "customers"):
            self._rpc.call(s, "_test_set_clock", now=when)


def ctx_of(tenant: str, user: str, *roles: str) -> CallContext:
    return CallContext(tenant_id=tenant, user_id=user, roles=tuple(roles or ("employee",)))


@pytest.fixture(scope="session")
def pool_env() -> Iterator[tuple[str, dict[str, str]]]:
    amqp = os.environ.get("AMQP_URI")
    vhost = None
    if not amqp:
        vhost = f"crm-pool-test-{uuid.uuid4().hex[:8]}"
        for attempt in range(10):  # the shared broker may be restarting (other suites' fault tests)
            try:
                subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
                broker.grant(vhost)  # the project's own broker user, never guest
                break
            except subprocess.CalledProcessError:
                if attempt == 9:
                    raise
                time.sleep(3)
        amqp = broker.local_uri(vhost)
    env = base_env(amqp, os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/"),
                   MONGO_DB_PREFIX=f"p{uuid.uuid4().hex[:6]}_", CRM_CONTEXT_KEY=KEY, CRM_TEST_HOOKS="1",
                   POOL_SWEEP_INTERVAL="3600")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
    try:
        yield amqp, env
    finally:
        if vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


@pytest.fixture(scope="session")
def pool(pool_env) -> Iterator[PoolHarness]:
    amqp, env = pool_env
    log_dir = ROOT / ".local" / "test-logs" / f"pool-{uuid.uuid4().hex[:8]}"
    stack = Stack(env=env, gateway_port=free_port(), log_dir=log_dir)
    stack.add_service("pool")
    stack.add_service("customers", class_path="fake_customers:FakeCustomersService",
                      config=ROOT / "services" / "pool" / "config.yaml")
    stack.add_service("identity", class_path="fake_identity:FakeIdentityService",
                      config=ROOT / "services" / "pool" / "config.yaml")
    stack.start()
    h = PoolHarness(amqp, stack)
    try:
        for s in ("pool", "customers", "identity"):
            wait_for(lambda s=s: h.call(s, "health")["status"] == "ok", timeout=60, what=f"{s} up")
        h.set_clock(None)
        yield h
    finally:
        h._rpc.close()
        stack.stop()
