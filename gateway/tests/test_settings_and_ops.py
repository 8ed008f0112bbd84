"""Settings from the environment, /readyz against the real broker, and no eventlet in the gateway."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.ops import SERVICES
from gateway.settings import ConfigError, Settings

from conftest import CRMKIT_DIR, SECRETS_ENV, make_settings

GATEWAY_DIR = Path(__file__).resolve().parents[1]


def test_context_key_is_required():
    with pytest.raises(ConfigError, match="CRM_CONTEXT_KEY"):
        Settings.from_env({})


@pytest.mark.parametrize("name", ["CRM_CONTEXT_KEY", "OPERATOR_SECRET", "AMQP_URI"])
def test_every_secret_is_required(name):
    env = {k: v for k, v in SECRETS_ENV.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**env, name: "  "})


@pytest.mark.parametrize("name", ["CRM_CONTEXT_KEY", "OPERATOR_SECRET"])
def test_keys_have_a_minimum_length(name):
    with pytest.raises(ConfigError, match=f"{name} is too short"):
        Settings.from_env({**SECRETS_ENV, name: "x" * 31})
    assert Settings.from_env({**SECRETS_ENV, name: "x" * 32})


def test_defaults_and_overrides():
    s = Settings.from_env(SECRETS_ENV)
    assert s.amqp_uri == SECRETS_ENV["AMQP_URI"] and s.port == 8000 and s.host == "127.0.0.1"
    assert s.operator_secret == SECRETS_ENV["OPERATOR_SECRET"] and s.context_ttl == 30
    assert s.rpc_timeout == 10 and s.ready_timeout == 2
    assert s.max_body_bytes == 1024 * 1024 and s.upload_max_bytes == 25 * 1024 * 1024
    s = Settings.from_env({**SECRETS_ENV, "GATEWAY_PORT": "9001", "RPC_TIMEOUT": "2.5",
                           "GATEWAY_HOST": "0.0.0.0", "AMQP_URI": "amqp://x/", "CONTEXT_TTL_SECONDS": "12"})
    assert (s.port, s.rpc_timeout, s.host, s.amqp_uri, s.context_ttl) == (9001, 2.5, "0.0.0.0", "amqp://x/", 12)
    with pytest.raises(ConfigError, match="GATEWAY_PORT"):
        Settings.from_env({**SECRETS_ENV, "GATEWAY_PORT": "eighty"})


def test_main_fails_fast_without_key():
    env = {"PYTHONPATH": f"{GATEWAY_DIR}:{CRMKIT_DIR}", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "gateway"], check=False, env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "CRM_CONTEXT_KEY" in r.stderr


@pytest.mark.parametrize("name", ["OPERATOR_SECRET", "AMQP_URI"])
def test_main_fails_fast_without_each_secret(name):
    env = {"PYTHONPATH": f"{GATEWAY_DIR}:{CRMKIT_DIR}", "PATH": "/usr/bin:/bin",
           **{k: v for k, v in SECRETS_ENV.items() if k != name}}
    r = subprocess.run([sys.executable, "-m", "gateway"], check=False, env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert f"gateway: configuration error: {name} is not set" in r.stderr


def test_gateway_never_imports_eventlet():
    code = (
        "import sys, asyncio\n"
        "import gateway.app, gateway.bridge, gateway.__main__\n"
        "from gateway.settings import Settings\n"
        "gateway.app.create_app(Settings(context_key='k'))\n"
        "assert 'eventlet' not in sys.modules and 'kombu' not in sys.modules, 'eventlet/kombu imported'\n"
    )
    env = {"PYTHONPATH": f"{GATEWAY_DIR}:{CRMKIT_DIR}", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def test_readyz_with_real_broker_and_no_services():
    """The five services do not run here: the gateway is still ready (it answers from the broker,
    the bridge and its own database); the verbose view names every service as not ready, with a
    reason, within READY_TIMEOUT."""
    app = create_app(make_settings(ready_timeout=1.0))  # real RpcBridge, started by the lifespan
    with TestClient(app) as client:
        assert app.state.bridge.connected
        r = client.get("/readyz")
        started = time.monotonic()
        v = client.get("/readyz?verbose")
        elapsed = time.monotonic() - started
        assert client.get("/healthz").status_code == 200
    assert r.status_code == 200
    assert r.json() == {"ready": True, "broker": True, "database": True}  # no service was asked
    assert v.status_code == 200
    body = v.json()
    assert body["ready"] is True and body["broker"] is True and body["services_ready"] is False
    assert set(body["services"]) == set(SERVICES)
    for name, state in body["services"].items():
        assert state["ready"] is False, name
        # no queue bound → unroutable → unavailable; a queue left without consumers → timeout
        assert state["error"] in {"service_unavailable", "upstream_timeout"}, (name, state)
    assert elapsed < 1.0 + 1.0  # probes run concurrently under READY_TIMEOUT
    assert not app.state.bridge.connected  # the lifespan closed the bridge it owns


def test_one_service_down_keeps_the_gateway_ready_and_verbose_names_it(echo, monkeypatch):
    """One service answers (echo), one is missing: /readyz is 200 and asks neither; the verbose
    view (``?verbose`` or ``?verbose=1``) says which one is missing, still with 200."""
    from gateway import ops
    monkeypatch.setattr(ops, "SERVICES", (echo, "absent_" + echo))
    app = create_app(make_settings(ready_timeout=1.0))
    with TestClient(app) as client:
        r = client.get("/readyz")
        verbose = [client.get("/readyz?verbose"), client.get("/readyz", params={"verbose": "1"})]
        quiet = client.get("/readyz", params={"verbose": "false"})
        bad = client.get("/readyz", params={"verbose": "perhaps"})
    assert r.status_code == 200 and r.json() == {"ready": True, "broker": True, "database": True}
    for v in verbose:
        assert v.status_code == 200
        body = v.json()
        assert body["ready"] is True and body["services_ready"] is False
        services = body["services"]
        assert services[echo]["ready"] is True and services[echo]["latency_ms"] >= 0
        assert services["absent_" + echo] == {"ready": False, "error": "service_unavailable"}
    assert quiet.status_code == 200 and "services" not in quiet.json()
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "query.verbose"
    monkeypatch.setattr(ops, "SERVICES", (echo,))
    with TestClient(create_app(make_settings(ready_timeout=1.0))) as client:
        v = client.get("/readyz?verbose")
    assert v.status_code == 200 and v.json()["services_ready"] is True and v.json()["database"] is True


def test_readyz_when_the_gateways_database_is_down(echo, monkeypatch):
    """The Idempotency-Key store is the gateway's own dependency: without it keyed requests are
    refused (503 idempotency.unavailable), so the gateway is not ready — within READY_TIMEOUT."""
    from gateway import ops
    monkeypatch.setattr(ops, "SERVICES", (echo,))
    app = create_app(make_settings(ready_timeout=1.0, mongo_uri="mongodb://127.0.0.1:1/"))
    with TestClient(app) as client:
        started = time.monotonic()
        r = client.get("/readyz")
        elapsed = time.monotonic() - started
        v = client.get("/readyz?verbose")
    assert r.status_code == 503
    body = r.json()
    assert body == {"ready": False, "broker": True, "database": False}  # only the database is missing
    assert elapsed < 1.0 + 1.0
    assert v.status_code == 503 and v.json()["services"][echo]["ready"] is True


def test_readyz_when_broker_unreachable():
    """A gateway whose broker is unreachable (a closed port) is not ready: 503, broker false."""
    app = create_app(make_settings(amqp_uri="amqp://crm:nothing@127.0.0.1:1/", ready_timeout=1.0))
    app.state.bridge.connect_timeout = 0.5
    with TestClient(app) as client:
        started = time.monotonic()
        r = client.get("/readyz")
        assert time.monotonic() - started < 0.5
        v = client.get("/readyz?verbose")
    assert r.status_code == 503
    assert r.json() == {"ready": False, "broker": False, "database": True}
    assert v.status_code == 503 and v.json()["services_ready"] is False
    assert all(s == {"ready": False, "error": "service_unavailable"} for s in v.json()["services"].values())


def test_readyz_when_the_bridges_reply_consumer_is_cancelled():
    """The broker cancels the bridge's reply consumer (its reply queue is deleted): no answer
    could arrive, so the gateway is not ready until the bridge has a new reply queue."""
    from gateway.bridge import REPLY_QUEUE_TEMPLATE

    app = create_app(make_settings(ready_timeout=1.0))
    bridge = app.state.bridge
    bridge.min_backoff = bridge.max_backoff = 2.0  # keep the window before the reconnect visible
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        old_key = bridge._reply_key
        assert client.portal is not None

        async def delete_reply_queue() -> None:
            bridge._channel.queue_delete(REPLY_QUEUE_TEMPLATE.format(old_key))

        client.portal.call(delete_reply_queue)
        deadline = time.monotonic() + 5
        r = client.get("/readyz")
        while r.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["broker"] is False
        deadline = time.monotonic() + 15
        while r.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["broker"] is True
        assert bridge._reply_key != old_key  # a new reply queue
