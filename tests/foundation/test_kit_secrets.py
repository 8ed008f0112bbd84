"""A service process refuses to start without each secret it needs (issue 12 §5): one clear
line on stderr and exit status 2, before it touches the broker or the database."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOOD = {"CRM_CONTEXT_KEY": "k" * 32, "AMQP_URI": "amqp://crm:secret@127.0.0.1:1/"}


def run_service(env: dict[str, str], service: str = "kit_services:ProducerService",
                config: Path = HERE / "config.yaml") -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "EVENTLET_NO_GREENDNS": "yes", "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": ":".join([str(HERE), str(ROOT / "libs" / "crmkit"), str(ROOT / "libs" / "contracts")] +
                                   [str(ROOT / "services" / s) for s in ("identity", "notify")]),
            "MONGO_URI": "mongodb://127.0.0.1:1/"}
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "nameko", "run", "--config", str(config), service],
                          env={**base, **env}, capture_output=True, text=True, timeout=60, cwd=str(ROOT))


@pytest.mark.parametrize("missing", ["CRM_CONTEXT_KEY", "AMQP_URI"])
def test_a_service_without_a_secret_exits_with_a_clear_message(missing):
    r = run_service({k: v for k, v in GOOD.items() if k != missing})
    assert r.returncode == 2, r.stderr[-2000:]
    assert f"fproducer: configuration error: environment variable {missing} must be set" in r.stderr


def test_a_short_context_key_is_refused():
    r = run_service({**GOOD, "CRM_CONTEXT_KEY": "short-key"})
    assert r.returncode == 2, r.stderr[-2000:]
    assert "fproducer: configuration error: environment variable CRM_CONTEXT_KEY must be at least 32 bytes" \
        in r.stderr
