"""`make run` is supervised (issue 12 §1): a service that dies is restarted with back-off and
the restart is logged with its exit code; `make stop` still stops everything.

Runs the real `python -m devstack.run start|stop` (the five services, the gateway, the demo
tenant) on a vhost, databases, port and state folder of its own."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from devstack import broker
from devstack.stack import free_port
from tests.support.infra import private_vhost
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def test_a_killed_service_comes_back_and_answers_and_stop_ends_everything(infra, tmp_path):
    if not infra.local_broker:
        pytest.skip("make run uses the local broker of scripts/infra.sh")
    port = free_port()
    with private_vhost("crm-run") as (vhost, _uri):
        env = {k: v for k, v in os.environ.items() if k not in ("AMQP_URI", "MONGO_URI")}
        env.update({"CRM_LOCAL_DIR": str(tmp_path), "AMQP_VHOST": vhost, "GATEWAY_PORT": str(port),
                    "MONGO_URI": infra.mongo_uri, "MONGO_DB_PREFIX": f"r{uuid.uuid4().hex[:6]}_",
                    "ARGON2_TIME_COST": "2", "ARGON2_MEMORY_KIB": "19456"})
        run = [sys.executable, "-m", "devstack.run"]
        state_file = tmp_path / "run" / "stack.json"
        started = subprocess.run(run + ["start"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=400)
        try:
            assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
            assert "ready:" in started.stdout and "Demo tenant logins" in started.stdout
            state = json.loads(state_file.read_text())
            assert oct(state_file.stat().st_mode & 0o777) == "0o600"
            url = f"http://127.0.0.1:{port}"
            # the stack logs in as the project's broker user
            out = subprocess.run(["rabbitmqctl", "-q", "list_connections", "user", "vhost"], check=True,
                                 capture_output=True, text=True).stdout
            assert {ln.split("\t")[0] for ln in out.splitlines() if ln.endswith(f"\t{vhost}")} == \
                {broker.credentials()[0]}

            old = state["pids"]["identity"]
            os.killpg(old, signal.SIGKILL)
            t0 = time.time()

            def restarted():
                pids = json.loads(state_file.read_text())["pids"]
                return pids["identity"] != old and _alive(pids["identity"]) and pids["identity"]

            new = wait_for(restarted, timeout=60, what="identity restarted by the supervisor")
            wait_for(lambda: httpx.get(f"{url}/healthz/identity", timeout=5).status_code == 200, timeout=90,
                     what="the restarted identity answers")
            r = httpx.post(f"{url}/api/v1/auth/login", json={"tenant_code": "demo", "mobile": "13900000001",
                                                             "password": "Demo-pass-2024"}, timeout=30)
            assert r.status_code == 200, r.text
            log = (tmp_path / "logs" / "supervisor.log").read_text()
            assert f"identity (pid {old}) exited with code -9; restarting in" in log
            assert f"restarted identity (pid {new}" in log
            assert time.time() - t0 < 90
        finally:
            stopped = subprocess.run(run + ["stop"], env=env, cwd=ROOT, capture_output=True, text=True,
                                     timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        assert not state_file.exists()
        pids = [state["supervisor"], *state["pids"].values(), new]
        wait_for(lambda: not any(_alive(p) for p in pids), timeout=30, what="every process stopped")


def test_the_back_off_doubles_to_a_cap():
    from devstack.supervise import BACKOFF_MAX, Supervisor

    s = Supervisor.__new__(Supervisor)
    assert [s.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert s.backoff(30) == BACKOFF_MAX
