"""Shared fixtures. Bridge tests talk to the real RabbitMQ at AMQP_URI (default: local broker)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pika
import pytest

from gateway.bridge import RpcBridge
from gateway.settings import Settings

MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/")
#: this session's own gateway database (Idempotency-Key claims are kept 24 h: a fixed key in a
#: test would otherwise replay an answer kept by an earlier run instead of reaching the bridge)
DB_PREFIX = f"gwt{uuid.uuid4().hex[:8]}_"
TESTS_DIR = Path(__file__).resolve().parent


def _project_broker_uri() -> str:
    """The local broker as the project's own user (scripts/infra.sh makes it; never guest)."""
    creds = TESTS_DIR.parents[1] / ".local" / "rabbitmq.json"
    try:
        data = json.loads(creds.read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"{creds} is missing: run scripts/infra.sh up (or set AMQP_URI)") from None
    return f"amqp://{quote(data['user'], safe='')}:{quote(data['password'], safe='')}@127.0.0.1:5672/"


AMQP_URI = os.environ.get("AMQP_URI") or _project_broker_uri()
CRMKIT_DIR = TESTS_DIR.parents[1] / "libs" / "crmkit"
NAMEKO = Path(sys.executable).with_name("nameko")


@pytest.fixture
def anyio_backend():
    return "asyncio"


#: the secrets Settings.from_env requires (each at least 32 bytes)
SECRETS_ENV = {"CRM_CONTEXT_KEY": "c" * 32, "OPERATOR_SECRET": "o" * 32,
               "AMQP_URI": "amqp://crm:secret@127.0.0.1:5672/"}


def make_settings(**overrides) -> Settings:
    values = {"context_key": "test-key", "amqp_uri": AMQP_URI, "rpc_timeout": 5.0, "ready_timeout": 1.0,
              "mongo_uri": MONGO_URI, "mongo_db_prefix": DB_PREFIX}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session", autouse=True)
def _drop_the_sessions_databases():
    yield
    from pymongo import MongoClient

    client = MongoClient(MONGO_URI, serverSelectionTimeoutMS=3000)
    with contextlib.suppress(Exception):  # cleaning up is best effort
        for name in client.list_database_names():
            if name.startswith(DB_PREFIX):
                client.drop_database(name)
    client.close()


TEST_TOKEN = "test-access-token"
AUTH_HEADERS = {"Authorization": f"Bearer {TEST_TOKEN}"}


class FakeBridge:
    """Records calls; answers from a callable. Not for readiness tests."""

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer or (lambda service, method, kwargs: {"service": service, "method": method,
                                                                  "kwargs": kwargs})
        self.connected = True

    async def call(self, service, method, kwargs=None, *, context=None, timeout=None):
        if (service, method) == ("identity", "authenticate"):  # the auth middleware's question
            if kwargs.get("token") != TEST_TOKEN:
                from crmkit.errors import Unauthenticated
                raise Unauthenticated("auth.invalid_token", "bad token")
            return {"tenant_id": "t1", "user_id": "u1", "roles": ["employee"], "dept_ids": [], "name": "Test"}
        self.calls.append({"service": service, "method": method, "kwargs": kwargs, "context": context,
                           "timeout": timeout})
        result = self.answer(service, method, kwargs)
        if isinstance(result, BaseException):
            raise result
        return result


class EchoProcess:
    def __init__(self, name: str):
        self.name = name
        env = dict(os.environ)
        env.update({
            "EVENTLET_NO_GREENDNS": "yes",
            "ECHO_SERVICE_NAME": name,
            "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), str(CRMKIT_DIR)]),
            "PYTHONWARNINGS": "ignore",
        })
        self.log = open(f"/tmp/{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(NAMEKO), "run", "--broker", AMQP_URI, "echo_service"],
            cwd=TESTS_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        async def probe() -> None:
            bridge = RpcBridge(AMQP_URI, 2)
            await bridge.start()
            try:
                deadline = time.monotonic() + timeout
                while True:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"echo service exited early, see /tmp/{self.name}.log")
                    try:
                        await bridge.call(self.name, "health", {}, timeout=1)
                        return
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.2)
            finally:
                await bridge.stop()

        # a thread of its own: the factory may be called from inside a running event loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        delete_queue(f"rpc-{self.name}")


def delete_queue(name: str) -> None:
    """Remove the durable queue a test service left behind."""
    try:
        conn = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
        try:
            conn.channel().queue_delete(name)
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - best-effort cleanup
        print(f"could not delete queue {name}: {exc!r}", file=sys.stderr)


@pytest.fixture(scope="session")
def echo_factory():
    started: list[EchoProcess] = []

    def start(prefix: str = "gwtest") -> EchoProcess:
        proc = EchoProcess(f"{prefix}_{uuid.uuid4().hex[:10]}")
        started.append(proc)
        proc.wait_ready()
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="session")
def echo(echo_factory) -> str:
    """Name of a running echo service (unique per test run)."""
    return echo_factory().name


@pytest.fixture
async def bridge():
    b = RpcBridge(AMQP_URI, 5)
    await b.start()
    assert b.connected, "cannot reach RabbitMQ at " + AMQP_URI
    yield b
    await b.stop()
