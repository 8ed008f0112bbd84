"""`make run` / `make stop`: the whole stack on this machine, detached and supervised.

start: a detached supervisor (``devstack.supervise``) starts the five services and the
gateway (logs in .local/logs/) and restarts any that dies, with back-off; this command waits
until /readyz?verbose says the gateway and all five services are ready, loads the demo tenant and prints where to
point a browser or curl. stop: end the supervisor, which ends its processes (and whatever
is left of them afterwards).

Secrets are made once per checkout (``.local/dev-secrets.json``, mode 0600); the broker user
is the project's own (``.local/rabbitmq.json``, made by ``scripts/infra.sh``), never guest.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack import broker
from devstack.stack import ROOT, base_env

# CRM_LOCAL_DIR moves state, logs and dev secrets elsewhere (tests run a second make-run stack);
# AMQP_VHOST picks the vhost of the project's broker user (default "/")
LOCAL = Path(os.environ.get("CRM_LOCAL_DIR") or ROOT / ".local")
STATE = LOCAL / "run" / "stack.json"
DEMO = LOCAL / "run" / "demo.json"
SECRETS = LOCAL / "dev-secrets.json"
SUPERVISOR_LOG = LOCAL / "logs" / "supervisor.log"


def _dev_secrets() -> dict[str, str]:
    """Random secrets made once per checkout for local runs (never used elsewhere)."""
    if SECRETS.exists():
        return json.loads(SECRETS.read_text())
    values = {k: secrets.token_urlsafe(32) for k in ("CRM_CONTEXT_KEY", "JWT_SECRET", "OPERATOR_SECRET")}
    SECRETS.parent.mkdir(parents=True, exist_ok=True)
    SECRETS.write_text(json.dumps(values))
    SECRETS.chmod(0o600)
    return values


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _state() -> dict:
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def stop() -> None:
    state = _state()
    if not state:
        print("stack: nothing running")
        return
    sup = int(state.get("supervisor") or 0)
    if sup and _alive(sup):
        os.kill(sup, signal.SIGTERM)  # it stops its children first
        deadline = time.time() + 30
        while _alive(sup) and time.time() < deadline:
            time.sleep(0.1)
        if _alive(sup):
            _killpg(sup, signal.SIGKILL)
        print(f"stopped supervisor ({sup})")
    for name, pid in state.get("pids", {}).items():  # anything the supervisor left behind
        if _alive(pid):
            _killpg(pid, signal.SIGTERM)
            time.sleep(1)
            if _alive(pid):
                _killpg(pid, signal.SIGKILL)
            print(f"stopped {name} ({pid})")
    STATE.unlink(missing_ok=True)
    DEMO.unlink(missing_ok=True)


def wait_ready(url: str, supervisor: int, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    last: dict = {}
    while time.time() < deadline:
        if not _alive(supervisor):
            raise RuntimeError("the supervisor exited")
        try:
            r = httpx.get(f"{url}/readyz?verbose", timeout=5)
            last = r.json()
            if r.status_code == 200 and last.get("services_ready"):  # the gateway and all five
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"stack not ready after {timeout}s: {last}")


def start() -> int:
    state = _state()
    if state and _alive(int(state.get("supervisor") or 0)):
        print(f"stack already running: {state['url']}")
        _print_usage(state["url"], json.loads(DEMO.read_text()) if DEMO.exists() else None)
        return 0
    if state:
        stop()
    dev = _dev_secrets()
    env = base_env(
        os.environ.get("AMQP_URI") or broker.local_uri(os.environ.get("AMQP_VHOST") or "/"),
        os.environ.get("MONGO_URI") or f"mongodb://127.0.0.1:{os.environ.get('FERRET_PORT', '27017')}/",
        **{k: os.environ.get(k, v) for k, v in dev.items()},
        LOGIN_ATTEMPTS_PER_CLIENT=os.environ.get("LOGIN_ATTEMPTS_PER_CLIENT", "60"),
        LOGIN_ATTEMPTS_PER_ACCOUNT=os.environ.get("LOGIN_ATTEMPTS_PER_ACCOUNT", "10"),
    )
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    url = f"http://127.0.0.1:{port}"
    env.setdefault("APP_URL", os.environ.get("APP_URL") or url)  # invitation links open this app
    SUPERVISOR_LOG.parent.mkdir(parents=True, exist_ok=True)
    STATE.parent.mkdir(parents=True, exist_ok=True)
    with open(SUPERVISOR_LOG, "ab") as out:
        sup = subprocess.Popen(
            [sys.executable, "-m", "devstack.supervise", "--state", str(STATE), "--logs", str(LOCAL / "logs"),
             "--port", str(port)],
            env=env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        ready = wait_ready(url, sup.pid)
    except RuntimeError as exc:
        print(f"stack did not become ready: {exc}\nlogs: {LOCAL / 'logs'}", file=sys.stderr)
        return 1
    print("ready:", json.dumps(ready["services"]))
    demo = None
    try:
        from devstack import demo as demo_mod

        demo = demo_mod.load_demo(url, env["OPERATOR_SECRET"])
        DEMO.write_text(json.dumps(demo, ensure_ascii=False))
    except ImportError:
        pass
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"demo tenant not loaded: {exc}", file=sys.stderr)
    _print_usage(url, demo)
    return 0


def _print_usage(url: str, demo: object) -> None:
    print(f"""
Open in a browser (tenant code demo, a login below):
  phone:   {url}/m/          (the mobile app for sales people; a desktop browser: device toolbar, 360x640)
  PC:      {url}/console/    (the console for admins, department admins and sales support)
Gateway:   {url}
  docs:    {url}/docs            (OpenAPI: {url}/api/v1/openapi.json)
  ready:   curl {url}/readyz          (with each service: curl '{url}/readyz?verbose')
  metrics: {url}/metrics
Logs:      {LOCAL / 'logs'}/<service>.log  (restarts: {SUPERVISOR_LOG})      Stop: make stop""")
    if demo:
        print("Demo tenant logins:\n" + json.dumps(demo, ensure_ascii=False, indent=2))


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "start"
    if cmd == "start":
        return start()
    if cmd == "stop":
        stop()
        return 0
    print("usage: python -m devstack.run start|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
