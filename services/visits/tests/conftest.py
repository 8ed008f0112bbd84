"""Service-level fixtures: the real visits service (its own process, real broker and
database) next to stand-ins for customers and identity, in a RabbitMQ vhost of its own
so it never meets the full stack of the end-to-end tests."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import pytest

from crmkit.context import CallContext
from crmkit.envelope import make_event, sign_event
from devstack import broker
from devstack.stack import Proc, Stack, base_env
from tests.support.rpc import RpcClient

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
ROOT = HERE.parents[2]
KEY = "visits-test-key-" + uuid.uuid4().hex
OPERATOR_MAX_PIXELS = 50_000_000  # below the tenant default (60 Mpx): the operator's bound is in force


@dataclass
class VisitsEnv:
    amqp_uri: str
    mongo_uri: str
    prefix: str
    rpc: RpcClient
    stack: Stack

    def ctx(self, tenant: str, user: str, *roles: str, name: str = "") -> CallContext:
        return CallContext(tenant_id=tenant, user_id=user, roles=tuple(roles or ("employee",)),
                           request_id=uuid.uuid4().hex, name=name or f"Emp {user[:4]}")

    def call(self, method: str, ctx: CallContext, **kw: Any) -> Any:
        return self.rpc.call("visits", method, ctx=ctx, timeout=60, **kw)

    def seed_customer(self, tenant: str, customer: dict) -> None:
        self.rpc.call("customers", "_seed", tenant_id=tenant, customer=customer)

    def grant_records(self, tenant: str, *user_ids: str) -> None:
        self.rpc.call("identity", "_seed_menu", tenant_id=tenant, user_ids=list(user_ids))

    def seed_employee(self, tenant: str, employee: dict) -> None:
        self.rpc.call("identity", "_seed", tenant_id=tenant, employee=employee)

    def publish(self, source: str, type_: str, tenant: str, data: dict) -> dict:
        env = sign_event(make_event(type_, tenant, "test", data, occurred_at=datetime.now(UTC)), KEY)
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
        try:
            ch = conn.channel()
            ch.exchange_declare(f"{source}.events", exchange_type="topic", durable=True)
            ch.basic_publish(f"{source}.events", type_, json.dumps(env),
                             pika.BasicProperties(content_type="application/json", delivery_mode=2))
        finally:
            conn.close()
        return env

    def db(self):
        from pymongo import MongoClient
        return MongoClient(self.mongo_uri, tz_aware=True)[f"{self.prefix}visits"]


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def visits_env(infra) -> Iterator[VisitsEnv]:
    if not infra.local_broker:
        pytest.skip("service tests need the local broker (own vhost)")
    vhost = f"crm-visits-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    broker.grant(vhost)  # the project's own broker user, never guest
    amqp = broker.local_uri(vhost)
    prefix = f"v{uuid.uuid4().hex[:6]}_"
    env = base_env(amqp, infra.mongo_uri, MONGO_DB_PREFIX=prefix, CRM_CONTEXT_KEY=KEY, CRM_TEST_HOOKS="1",
                   VISITS_EXPIRY_INTERVAL="2", VISITS_PHOTO_MAX_PIXELS=str(OPERATOR_MAX_PIXELS))
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    log_dir = ROOT / ".local" / "test-logs" / f"visits-{uuid.uuid4().hex[:6]}"
    stack = Stack(env=env, gateway_port=0, log_dir=log_dir)
    stack.add_service("visits")
    cfg = str(ROOT / "services" / "visits" / "config.yaml")
    stack.procs["peers"] = Proc("peers", [sys.executable, "-W", "ignore", "-m", "nameko", "run", "--config", cfg,
                                          "fake_peers:FakeCustomers", "fake_peers:FakeIdentity"],
                                env, log_dir / "peers.log")
    stack.start()
    rpc = RpcClient(amqp, KEY)
    try:
        deadline = time.time() + 60
        while True:
            try:
                rpc.call("visits", "health", timeout=2)
                rpc.call("customers", "_seed", tenant_id="warmup", customer={"id": "x"}, timeout=2)
                break
            except TimeoutError:
                for p in stack.procs.values():
                    if not p.running:
                        raise RuntimeError(f"{p.name} died:\n{p.log_path.read_text()[-3000:]}") from None
                if time.time() > deadline:
                    raise
        yield VisitsEnv(amqp, infra.mongo_uri, prefix, rpc, stack)
    finally:
        rpc.close()
        stack.stop()
        from pymongo import MongoClient
        client = MongoClient(infra.mongo_uri)
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
        client.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
