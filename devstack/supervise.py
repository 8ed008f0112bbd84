"""The supervisor of ``make run``: a small detached process that starts the stack's processes
and restarts any that dies, with back-off.

    python -m devstack.supervise --state .local/run/stack.json --logs .local/logs --port 8000

The stack's environment (secrets included) is this process's own environment, handed over by
``devstack.run``. Each child runs in its own process group; when one exits while the stack is
not stopping, the supervisor logs it with its exit code and starts it again after a back-off
(``BACKOFF_START`` doubling to ``BACKOFF_MAX``; a child that then stays up ``STABLE_AFTER``
seconds starts from the beginning again). The state file (mode 0600) always names the
supervisor and the current child pids. SIGTERM or SIGINT stop every child (SIGTERM, then
SIGKILL after a grace period) and then the supervisor.

Kubernetes needs none of this: the kubelet restarts containers (and the liveness probe,
``/livez`` on the metrics port, catches a service whose container is dead or whose hub is
stuck — see ``crmkit.liveness``).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.stack import SERVICES, Proc, Stack, full_stack

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0
POLL = 0.25
STOP_GRACE = 15.0


def log(message: str) -> None:
    print(json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "logger": "devstack.supervise",
                      "message": message}), flush=True)


@dataclass
class Child:
    proc: Proc
    started_at: float = 0.0
    failures: int = 0          # consecutive deaths without a stable run in between
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    stack: Stack
    state_path: Path
    children: dict[str, Child] = field(default_factory=dict)
    stopping: bool = False

    def start(self) -> None:
        for name, proc in self.stack.procs.items():
            self.children[name] = Child(proc)
            self._launch(self.children[name])
        self.write_state()

    def _launch(self, child: Child) -> None:
        child.proc.start()
        child.started_at = time.monotonic()
        child.restart_at = None

    def backoff(self, failures: int) -> float:
        return min(BACKOFF_MAX, BACKOFF_START * 2 ** max(0, failures - 1))

    def tick(self) -> None:
        now = time.monotonic()
        changed = False
        for name, child in self.children.items():
            popen = child.proc.popen
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._launch(child)
                    child.restarts += 1
                    log(f"restarted {name} (pid {child.proc.popen.pid if child.proc.popen else '?'}, "
                        f"restart {child.restarts})")
                    changed = True
                continue
            if popen is None or popen.poll() is None:
                if popen is not None and child.failures and now - child.started_at >= STABLE_AFTER:
                    child.failures = 0
                continue
            code = popen.returncode
            child.failures = child.failures + 1 if now - child.started_at < STABLE_AFTER else 1
            delay = self.backoff(child.failures)
            child.restart_at = now + delay
            log(f"{name} (pid {popen.pid}) exited with code {code}; restarting in {delay:.1f}s")
            self._note_in_child_log(child.proc, f"supervisor: exited with code {code}; restarting in {delay:.1f}s")
        if changed:
            self.write_state()

    def _note_in_child_log(self, proc: Proc, line: str) -> None:
        try:
            with open(proc.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"logger": "devstack.supervise", "message": line}) + "\n")
        except OSError:
            pass

    def write_state(self) -> None:
        state = {"supervisor": os.getpid(), "url": self.stack.url,
                 "pids": {n: c.proc.popen.pid for n, c in self.children.items() if c.proc.popen},
                 "restarts": {n: c.restarts for n, c in self.children.items()}}
        previous = {}
        if self.state_path.exists():
            try:
                previous = json.loads(self.state_path.read_text())
            except ValueError:
                previous = {}
        state = {**previous, **state}
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.chmod(0o600)
        tmp.replace(self.state_path)

    def stop(self) -> None:
        self.stopping = True
        for child in self.children.values():
            popen = child.proc.popen
            if popen is not None and popen.poll() is None:
                try:
                    os.killpg(popen.pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.monotonic() + STOP_GRACE
        for name, child in self.children.items():
            popen = child.proc.popen
            if popen is None:
                continue
            while popen.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if popen.poll() is None:
                try:
                    os.killpg(popen.pid, signal.SIGKILL)
                except OSError:
                    pass
                popen.wait(5)
            log(f"stopped {name}")

    def run(self) -> int:
        def on_signal(signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        log(f"supervising {', '.join(self.children)} (pid {os.getpid()})")
        while not self.stopping:
            self.tick()
            time.sleep(POLL)
        self.stop()
        log("supervisor stopped")
        return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m devstack.supervise")
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--logs", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--services", default=",".join(SERVICES),
                   help="comma-separated services to run (default: all five); the gateway always runs")
    args = p.parse_args(argv)
    names = [s for s in args.services.split(",") if s]
    unknown = [s for s in names if s not in SERVICES]
    if unknown:
        print(f"unknown services: {unknown}", file=sys.stderr)
        return 2
    stack = full_stack(dict(os.environ), args.logs, gateway_port=args.port, services=names)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    return Supervisor(stack, args.state).run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
