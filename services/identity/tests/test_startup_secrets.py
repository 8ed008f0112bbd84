"""identity refuses to start without the secrets it needs (JWT_SECRET signs tokens,
OPERATOR_SECRET guards tenant creation) or with a short one: one line, exit status 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOOD = {"CRM_CONTEXT_KEY": "k" * 32, "AMQP_URI": "amqp://crm:secret@127.0.0.1:1/", "JWT_SECRET": "j" * 32,
        "OPERATOR_SECRET": "o" * 32}


def run_identity(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "EVENTLET_NO_GREENDNS": "yes", "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": f"{ROOT / 'libs' / 'crmkit'}:{ROOT / 'services' / 'identity'}",
            "MONGO_URI": "mongodb://127.0.0.1:1/"}
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "nameko", "run", "--config",
                           str(ROOT / "services" / "identity" / "config.yaml"), "identity.service:IdentityService"],
                          env={**base, **env}, capture_output=True, text=True, timeout=60, cwd=str(ROOT))


@pytest.mark.parametrize("missing", ["JWT_SECRET", "OPERATOR_SECRET", "CRM_CONTEXT_KEY", "AMQP_URI"])
def test_identity_without_a_secret_exits_with_a_clear_message(missing):
    r = run_identity({k: v for k, v in GOOD.items() if k != missing})
    assert r.returncode == 2, r.stderr[-2000:]
    assert f"identity: configuration error: environment variable {missing} must be set" in r.stderr


@pytest.mark.parametrize("name", ["JWT_SECRET", "OPERATOR_SECRET"])
def test_identity_refuses_a_short_secret(name):
    r = run_identity({**GOOD, name: "x" * 31})
    assert r.returncode == 2, r.stderr[-2000:]
    assert f"identity: configuration error: environment variable {name} must be at least 32 bytes" in r.stderr
