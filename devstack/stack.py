"""Start the five services (each its own ``nameko run``) and the gateway as processes.

Used by ``make run`` (through the supervisor, devstack/supervise.py, which restarts a process
that dies) and by the end-to-end test fixture (tests/fixtures.py), so both run exactly the
same processes.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("identity", "customers", "pool", "visits", "notify")
CLASS_NAMES = {s: f"{s}.service:{s.capitalize()}Service" for s in SERVICES}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0

    def start(self) -> None:
        if self.popen and self.popen.poll() is None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.popen = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      cwd=str(ROOT), start_new_session=True)

    def stop(self, timeout: float = 10) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def kill(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    @property
    def running(self) -> bool:
        return bool(self.popen and self.popen.poll() is None)


@dataclass
class Stack:
    env: dict[str, str]
    gateway_port: int
    log_dir: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def add_service(self, name: str, class_path: str | None = None, config: Path | None = None,
                    extra_env: dict[str, str] | None = None) -> Proc:
        env = dict(self.env)
        port = free_port()
        env["METRICS_PORT"] = str(port)
        env.update(extra_env or {})
        cfg = config or ROOT / "services" / name / "config.yaml"
        cmd = [sys.executable, "-W", "ignore", "-m", "nameko", "run", "--config", str(cfg),
               class_path or CLASS_NAMES[name]]
        proc = Proc(name, cmd, env, self.log_dir / f"{name}.log", metrics_port=port)
        self.procs[name] = proc
        return proc

    def add_gateway(self) -> Proc:
        env = dict(self.env)
        env["GATEWAY_PORT"] = str(self.gateway_port)
        proc = Proc("gateway", [sys.executable, "-m", "gateway"], env, self.log_dir / "gateway.log")
        self.procs["gateway"] = proc
        return proc

    def start(self, *names: str) -> None:
        for n in names or list(self.procs):
            self.procs[n].start()

    def stop(self, *names: str) -> None:
        for n in names or list(self.procs):
            self.procs[n].stop()

    def wait_ready(self, timeout: float = 90) -> dict:
        deadline = time.time() + timeout
        last: dict = {}
        while time.time() < deadline:
            for p in self.procs.values():
                if p.popen and p.popen.poll() is not None:
                    tail = p.log_path.read_text(errors="replace")[-3000:] if p.log_path.exists() else ""
                    raise RuntimeError(f"{p.name} exited with {p.popen.returncode}:\n{tail}")
            try:
                r = httpx.get(f"{self.url}/readyz?verbose", timeout=5)
                last = r.json()
                if r.status_code == 200 and last.get("services_ready"):  # the gateway and all five
                    return last
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"stack not ready after {timeout}s: {last}")


def base_env(amqp_uri: str, mongo_uri: str, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    pythonpath = [str(ROOT / "libs" / "crmkit"), str(ROOT / "libs" / "contracts"), str(ROOT / "gateway"), str(ROOT)]
    pythonpath += [str(ROOT / "services" / s) for s in SERVICES]
    env.update({
        "AMQP_URI": amqp_uri,
        "MONGO_URI": mongo_uri,
        "EVENTLET_NO_GREENDNS": "yes",
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join(pythonpath + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        # test and bench stacks log in many times from 127.0.0.1: no attempt limits there
        # (their own tests: gateway/tests/test_rate_limits.py); `make run` sets the real ones
        "LOGIN_ATTEMPTS_PER_CLIENT": "0",
        "LOGIN_ATTEMPTS_PER_ACCOUNT": "0",
        # no SMS here: the inviting admin gets the invitation token too (production: invitee only)
        "INVITE_TOKEN_TO_INVITER": "1",
    })
    env.update(overrides)
    return env


def full_stack(env: dict[str, str], log_dir: Path, gateway_port: int | None = None,
               services: Sequence[str] = SERVICES) -> Stack:
    stack = Stack(env=env, gateway_port=gateway_port or free_port(), log_dir=log_dir)
    for s in services:
        stack.add_service(s)
    stack.add_gateway()
    return stack
