"""Where the tests' RabbitMQ and MongoDB-protocol server come from.

1. ``AMQP_URI`` / ``MONGO_URI`` from the environment when set;
2. otherwise testcontainers (RabbitMQ and MongoDB containers) when a Docker engine answers;
3. otherwise the local servers of ``scripts/infra.sh up`` (RabbitMQ + FerretDB on PostgreSQL;
   ``FERRET_PORT`` / ``FERRETDB_BACKEND`` choose its port and backend, as for the script).
With a local broker, each test session gets its own RabbitMQ vhost so that a running
``make run`` stack never consumes the tests' messages. The project never uses RabbitMQ's
``guest``: locally it logs in as its own user (``devstack.broker``, made by ``infra.sh``),
which is given rights on each vhost a test creates (:func:`private_vhost`); the RabbitMQ
container of testcontainers is started with a generated user.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack import broker

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Infra:
    amqp_uri: str
    mongo_uri: str
    local_broker: bool  # we may stop/start the broker (rabbitmqctl) in fault tests
    vhost: str = "/"


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def provide() -> Iterator[Infra]:
    amqp, mongo = os.environ.get("AMQP_URI"), os.environ.get("MONGO_URI")
    if amqp and mongo:
        yield Infra(amqp, mongo, local_broker=False)
        return
    if _docker_answers():
        from testcontainers.mongodb import MongoDbContainer
        from testcontainers.rabbitmq import RabbitMqContainer

        user, password = "crm-test", secrets.token_hex(16)
        with RabbitMqContainer("rabbitmq:3.13-alpine", username=user, password=password) as rabbit, \
                MongoDbContainer("mongo:7.0") as mongodb:
            rabbit_uri = (f"amqp://{user}:{password}@{rabbit.get_container_host_ip()}:"
                          f"{rabbit.get_exposed_port(5672)}/")
            yield Infra(amqp or rabbit_uri, mongo or mongodb.get_connection_url(), local_broker=False)
        return
    subprocess.run([str(ROOT / "scripts" / "infra.sh"), "up"], check=True)
    with private_vhost("crm-test") as (vhost, uri):
        local_mongo = f"mongodb://127.0.0.1:{os.environ.get('FERRET_PORT', '27017')}/"
        yield Infra(amqp or uri, mongo or local_mongo, local_broker=True, vhost=vhost)


@contextlib.contextmanager
def private_vhost(prefix: str) -> Iterator[tuple[str, str]]:
    """A RabbitMQ vhost of its own on the local broker, for the project's user:
    ``(vhost, amqp_uri)``; deleted afterwards."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    try:
        broker.grant(vhost)
        yield vhost, broker.local_uri(vhost)
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


def restart_broker() -> None:
    """Stop and start the local RabbitMQ application (connections are cut)."""
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)


def stop_broker() -> None:
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)


def start_broker() -> None:
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True)
