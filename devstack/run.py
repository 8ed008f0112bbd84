"""`make run` / `make stop`: the whole stack on this machine, detached.

start: services and gateway as background processes (logs in .local/logs/), wait
until /readyz says all five services are ready, load the demo tenant, print where to
point a browser or curl. stop: end those processes.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time

import httpx

from devstack.stack import ROOT, base_env, full_stack

LOCAL = ROOT / ".local"
STATE = LOCAL / "run" / "stack.json"
SECRETS = LOCAL / "dev-secrets.json"


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


def stop() -> None:
    if not STATE.exists():
        print("stack: nothing running")
        return
    state = json.loads(STATE.read_text())
    for name, pid in state.get("pids", {}).items():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
            print(f"stopped {name} ({pid})")
    deadline = time.time() + 15
    for pid in state.get("pids", {}).values():
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    STATE.unlink()


def start() -> int:
    if STATE.exists():
        state = json.loads(STATE.read_text())
        if all(_alive(p) for p in state.get("pids", {}).values()):
            print(f"stack already running: {state['url']}")
            _print_usage(state["url"], state.get("demo"))
            return 0
        stop()
    dev = _dev_secrets()
    env = base_env(
        os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/"),
        **{k: os.environ.get(k, v) for k, v in dev.items()},
        LOGIN_ATTEMPTS_PER_CLIENT=os.environ.get("LOGIN_ATTEMPTS_PER_CLIENT", "60"),
        LOGIN_ATTEMPTS_PER_ACCOUNT=os.environ.get("LOGIN_ATTEMPTS_PER_ACCOUNT", "10"),
    )
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    stack = full_stack(env, LOCAL / "logs", gateway_port=port)
    stack.start()
    pids = {name: p.popen.pid for name, p in stack.procs.items() if p.popen}
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({"url": stack.url, "pids": pids}))
    try:
        ready = stack.wait_ready(timeout=120)
    except RuntimeError as exc:
        print(f"stack did not become ready: {exc}\nlogs: {LOCAL / 'logs'}", file=sys.stderr)
        return 1
    print("ready:", json.dumps(ready["services"]))
    demo = None
    try:
        from devstack import demo as demo_mod

        demo = demo_mod.load_demo(stack.url, env["OPERATOR_SECRET"])
    except ImportError:
        pass
    except httpx.HTTPError as exc:
        print(f"demo tenant not loaded: {exc}", file=sys.stderr)
    STATE.write_text(json.dumps({"url": stack.url, "pids": pids, "demo": demo}))
    _print_usage(stack.url, demo)
    return 0


def _print_usage(url: str, demo: object) -> None:
    print(f"""
Gateway:   {url}
  docs:    {url}/docs            (OpenAPI: {url}/api/v1/openapi.json)
  ready:   curl {url}/readyz
  metrics: {url}/metrics
Logs:      {LOCAL / 'logs'}/<service>.log      Stop: make stop""")
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
