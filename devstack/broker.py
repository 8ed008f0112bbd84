"""The project's own RabbitMQ user on this machine (never guest).

``scripts/infra.sh up`` creates it — one user per checkout, with a generated password — and
keeps both in ``.local/rabbitmq.json`` (mode 0600). ``make run`` and the test infrastructure
read them here. Test sessions give the user rights on the vhost they create for themselves.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ROOT / ".local" / "rabbitmq.json"


class NoBrokerUser(RuntimeError):
    pass


def credentials() -> tuple[str, str]:
    try:
        data = json.loads(CREDENTIALS.read_text())
        return str(data["user"]), str(data["password"])
    except (OSError, ValueError, KeyError):
        raise NoBrokerUser(f"{CREDENTIALS} is missing or unreadable: run scripts/infra.sh up (it creates the "
                           "project's broker user)") from None


def local_uri(vhost: str = "/", port: int | None = None) -> str:
    user, password = credentials()
    port = port or int(os.environ.get("AMQP_PORT", "5672"))
    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/{quote(vhost, safe='')}"


def grant(vhost: str) -> None:
    """Give the project's user every right on ``vhost`` (local broker, rabbitmqctl)."""
    user, _ = credentials()
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], check=True,
                   capture_output=True)
