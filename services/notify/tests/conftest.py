"""Service-level fixtures for notify: the real notify process and a stand-in identity
process on their own RabbitMQ vhost and database prefix (so they never meet the full
stack of the end-to-end tests), a real SMTP server (aiosmtpd) and a real HTTP receiver."""
from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pika
import pymongo
import pytest
from aiosmtpd.controller import Controller

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.envelope import make_event, sign_event
from devstack import broker
from devstack.stack import Stack, base_env, free_port
from tests.conftest import TEST_CONTEXT_KEY
from tests.support.rpc import RpcClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def wait_until(fn: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
    deadline = time.time() + timeout
    last: Any = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")


@dataclass
class NotifyEnv:
    amqp_uri: str
    mongo_uri: str
    prefix: str
    rpc: RpcClient
    stack: Stack

    @property
    def people(self) -> pymongo.collection.Collection:
        return pymongo.MongoClient(self.mongo_uri)[f"{self.prefix}fake_identity"]["employees"]

    @staticmethod
    def wait(fn: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
        return wait_until(fn, timeout, interval)

    def inbox(self, tenant: str, user: str, **kw: Any) -> list[dict]:
        return self.call("list_notifications", tenant, user, **kw)["items"]

    def add_employee(self, tenant: str, *, name: str = "", roles: tuple[str, ...] = ("employee",),
                     email: str | None = None, language: str = "zh-CN", status: str = "joined") -> str:
        eid = uuid.uuid4().hex
        self.people.insert_one({"_id": eid, "tenant_id": tenant, "name": name or f"emp-{eid[:4]}",
                                "email": email, "language": language, "roles": list(roles), "status": status})
        return eid

    def call(self, method: str, tenant: str, user: str, roles: tuple[str, ...] = ("employee",), **kw: Any) -> Any:
        return self.rpc.call("notify", method, ctx=CallContext(tenant_id=tenant, user_id=user, roles=roles), **kw)

    def admin(self, method: str, tenant: str, **kw: Any) -> Any:
        return self.call(method, tenant, "admin-" + tenant[:6], ("tenant_admin",), **kw)

    def publish(self, source: str, type_: str, tenant: str, data: dict, *, event_id: str | None = None,
                actor: str = "system", envelope: dict | None = None) -> dict:
        env = envelope or sign_event(make_event(type_, tenant, actor, data, occurred_at=datetime.now(UTC),
                                                event_id=event_id), TEST_CONTEXT_KEY)
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
        try:
            ch = conn.channel()
            ch.basic_publish(f"{source}.events", type_, json.dumps(env),
                             pika.BasicProperties(content_type="application/json", delivery_mode=2))
        finally:
            conn.close()
        return env


@dataclass
class TlsFiles:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 (the test SMTP servers' TLS); the notify
    process trusts it through ``SSL_CERT_FILE``, as it would a real CA's."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return TlsFiles(d / "cert.pem", d / "key.pem")


@contextlib.contextmanager
def running_notify(infra, tls_files: TlsFiles, **extra_env: str) -> Iterator[NotifyEnv]:
    """The real notify process and the stand-in identity, on a vhost and databases of their own."""
    amqp = infra.amqp_uri
    vhost = None
    if infra.local_broker:
        vhost = f"crm-notify-{uuid.uuid4().hex[:8]}"
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
        broker.grant(vhost)  # the project's own broker user, never guest
        amqp = broker.local_uri(vhost)
    prefix = f"n{uuid.uuid4().hex[:6]}_"
    env = base_env(amqp, infra.mongo_uri, MONGO_DB_PREFIX=prefix, CRM_CONTEXT_KEY=TEST_CONTEXT_KEY,
                   CRM_TEST_HOOKS="1", NOTIFY_RETRY_BASE_SECONDS="0.3", SSL_CERT_FILE=str(tls_files.cert),
                   **extra_env)
    env["PYTHONPATH"] = f"{HERE}:{env['PYTHONPATH']}"
    stack = Stack(env=env, gateway_port=0, log_dir=ROOT / ".local" / "test-logs" / f"notify-{prefix}")
    stack.add_service("notify")
    stack.add_service("identity", class_path="fake_identity:FakeIdentityService",
                      config=ROOT / "services" / "notify" / "config.yaml")
    stack.start()
    rpc = RpcClient(amqp, TEST_CONTEXT_KEY)
    try:
        deadline = time.time() + 60
        for svc in ("notify", "identity"):
            while True:
                for p in stack.procs.values():
                    if p.popen and p.popen.poll() is not None:
                        raise RuntimeError(f"{p.name} exited: {p.log_path.read_text()[-3000:]}")
                try:
                    rpc.call(svc, "health", timeout=2)
                    break
                except TimeoutError:
                    if time.time() > deadline:
                        raise
        yield NotifyEnv(amqp, infra.mongo_uri, prefix, rpc, stack)
    finally:
        rpc.close()
        stack.stop()
        if vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


@pytest.fixture(scope="session")
def notify_env(infra, tls_files: TlsFiles) -> Iterator[NotifyEnv]:
    """Private webhook targets and SMTP relays allowed: the test receivers listen on 127.0.0.1."""
    with running_notify(infra, tls_files, ALLOW_PRIVATE_WEBHOOKS="1", ALLOW_PRIVATE_SMTP="1") as n:
        yield n


@pytest.fixture(scope="module")
def guarded_notify_env(infra, tls_files: TlsFiles) -> Iterator[NotifyEnv]:
    """The production default: no private webhook targets, no private SMTP relay."""
    with running_notify(infra, tls_files) as n:
        yield n


@pytest.fixture
def tenant() -> str:
    return "t-" + uuid.uuid4().hex[:10]


# -- a real SMTP server --------------------------------------------------------------------------------

class _Collect:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from,
                              "content": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@dataclass
class Smtp:
    host: str
    port: int
    handler: _Collect
    tls: str = "none"

    def to(self, addr: str) -> list[dict[str, Any]]:
        return [m for m in self.handler.messages if addr in m["to"]]

    @staticmethod
    def text(message: dict[str, Any]) -> str:
        return decoded(message)

    def settings(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "from_addr": "crm@example.com", "tls": self.tls}


@pytest.fixture
def tls_smtp(tls_files: TlsFiles, request: pytest.FixtureRequest) -> Iterator[Smtp]:
    """A real SMTP server speaking TLS: ``"starttls"`` (refuses mail before STARTTLS) or
    ``"ssl"`` (implicit TLS), as the test's parameter says."""
    import ssl

    mode = request.param
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_files.cert, tls_files.key)
    handler = _Collect()
    port = free_port()
    if mode == "starttls":
        ctl = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
    else:
        ctl = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=ctx)
    ctl.start()
    try:
        yield Smtp("127.0.0.1", port, handler, tls=mode)
    finally:
        ctl.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[Smtp]:
    handler = _Collect()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield Smtp("127.0.0.1", port, handler)
    finally:
        ctl.stop()


def decoded(message: dict[str, Any]) -> str:
    import email
    from email import policy
    # parsed as bytes: a str-parsed 8bit body comes back with its non-ASCII text escaped
    msg = email.message_from_bytes(message["content"].encode("utf-8"), policy=policy.default)
    return f"{msg['Subject']}\n{msg.get_body().get_content()}"


# -- a real HTTP receiver ---------------------------------------------------------------------------------

@dataclass
class Receiver:
    server: ThreadingHTTPServer
    plans: dict[str, list[int]] = field(default_factory=dict)   # path -> statuses to answer, then 200
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    rec: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            plan = rec.plans.get(self.path, [])
            status = plan.pop(0) if plan else (rec.plans.get(self.path + "#always") or [200])[0]
            rec.requests.append({"path": self.path, "at": time.time(), "headers": dict(self.headers),
                                 "body": body, "status": status})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec = Receiver(server)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield rec
    finally:
        server.shutdown()


__all__ = ["NotifyEnv", "wait_until", "decoded", "iso"]
