"""The project uses its own RabbitMQ user, never guest (issue 12 §5): scripts/infra.sh makes it
with a generated password kept in .local/rabbitmq.json (0600), and every process of a test
session logs in as it."""
from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from devstack import broker
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local(infra):
    if not infra.local_broker:
        pytest.skip("needs the local broker of scripts/infra.sh")
    return infra


def test_the_credentials_are_private_and_not_guest(local):
    user, password = broker.credentials()
    assert user != "guest" and len(password) >= 32
    assert stat.S_IMODE(broker.CREDENTIALS.stat().st_mode) == 0o600
    assert local.amqp_uri.startswith(f"amqp://{user}:") and "guest" not in local.amqp_uri


def test_every_process_of_the_session_logs_in_as_the_project_user(local, kit_stack, rpc):
    wait_for(lambda: rpc.call("fproducer", "health", timeout=3)["status"] == "ok", 60, what="fproducer")
    wait_for(lambda: rpc.call("fconsumer", "health", timeout=3)["status"] == "ok", 60, what="fconsumer")
    out = subprocess.run(["rabbitmqctl", "-q", "list_connections", "user", "vhost"], check=True,
                         capture_output=True, text=True).stdout
    users = {line.split("\t")[0] for line in out.splitlines()
             if line.count("\t") == 1 and line.split("\t")[1] == local.vhost}
    assert users == {broker.credentials()[0]}, out


def test_infra_up_again_keeps_the_user_and_its_password(local):
    before = broker.CREDENTIALS.read_text()
    subprocess.run([str(ROOT / "scripts" / "infra.sh"), "up"], check=True, capture_output=True, timeout=300)
    assert broker.CREDENTIALS.read_text() == before
    user, password = broker.credentials()
    r = subprocess.run(["rabbitmqctl", "-q", "authenticate_user", user], input=password, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
