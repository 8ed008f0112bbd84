"""Sending deliveries: signed webhook POSTs (urllib, 5 s timeout, no redirects) and
e-mail over SMTP (plain, STARTTLS or implicit TLS). Blocking I/O is fine: the service
runs under eventlet's monkey patching. Each attempt is logged; failures are retried
with back-off and jitter and dead-lettered after the last try."""
from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import eventlet

from crmkit.errors import BusinessRule
from notify import retry, rules, signing, ssrf
from notify.store import Store

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 5.0
SMTP_TIMEOUT = 10.0
LOST_ATTEMPT_GRACE = timedelta(minutes=2)  # far longer than any attempt may take


class DeliveryFailed(Exception):
    """A failed attempt; ``permanent`` means retrying cannot help."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect could point anywhere (SSRF): treat it as a failure


_opener = urllib.request.build_opener(_NoRedirect)


def send_webhook(url: str, secret: str, payload: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT) -> int:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "crm-notify/1",
               "X-CRM-Delivery": str(payload.get("delivery_id", "")), "X-CRM-Kind": str(payload.get("kind", ""))}
    headers.update(signing.sign(body, secret))
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - guarded
    try:
        with _opener.open(req, timeout=timeout) as resp:  # noqa: S310
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"http {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(f"network: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"http {status}")
    return status


class _Guard:
    """Connects an SMTP client to the vetted address of its host (see ``ssrf.vetted_address``)."""

    def __init__(self, allow_private: bool, resolver: ssrf.Resolver):
        self.allow_private = allow_private
        self.resolver = resolver

    def connect(self, host: str, port: int, timeout: float, source: Any) -> socket.socket:
        address = ssrf.vetted_address(host, port, allow_private=self.allow_private, resolver=self.resolver)
        return socket.create_connection((address, port), timeout, source)


class GuardedSMTP(smtplib.SMTP):
    def __init__(self, host: str, port: int, *, guard: _Guard, timeout: float):
        self._guard = guard
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self._guard.connect(host, port, timeout, self.source_address)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, host: str, port: int, *, guard: _Guard, timeout: float, context: ssl.SSLContext):
        self._guard = guard
        self._server_name = host  # the configured name, for TLS (set before connect() runs)
        super().__init__(host, port, timeout=timeout, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = self._guard.connect(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._server_name)


def send_email(smtp: dict[str, Any], to_addr: str, subject: str, body: str, *,
               allow_private: bool | None = None, resolver: ssrf.Resolver = ssrf.resolve) -> None:
    msg = EmailMessage()
    msg["From"] = smtp["from_addr"]
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="crm-notify")
    msg.set_content(body, charset="utf-8")
    timeout = float(smtp.get("timeout") or SMTP_TIMEOUT)
    tls = smtp.get("tls", "none")
    guard = _Guard(ssrf.operator_allows_private_smtp() if allow_private is None else allow_private, resolver)
    try:
        if tls == "ssl":
            client: smtplib.SMTP = GuardedSMTPSSL(smtp["host"], smtp["port"], guard=guard, timeout=timeout,
                                                  context=ssl.create_default_context())
        else:
            client = GuardedSMTP(smtp["host"], smtp["port"], guard=guard, timeout=timeout)
        with client:
            if tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.get("username"):
                client.login(smtp["username"], smtp.get("password") or "")
            client.send_message(msg)
    except BusinessRule as exc:  # the relay is (now) a private address: retrying cannot help
        raise DeliveryFailed(f"{exc.code}: {exc.message}", permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"smtp recipient refused: {list(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"smtp: {exc}") from None


def webhook_payload(delivery: dict[str, Any]) -> dict[str, Any]:
    m = delivery.get("message") or {}
    return {"delivery_id": delivery["_id"], "event_id": delivery["event_id"], "kind": delivery["kind"],
            "tenant_id": delivery["tenant_id"], "recipients": m.get("recipients", []), "title": m.get("title"),
            "body": m.get("body"), "language": m.get("language"), "data": m.get("data") or {},
            "occurred_at": m.get("occurred_at")}


def attempt(store: Store, delivery: dict[str, Any], now_fn: Any, default_base: float) -> str | None:
    """Make the next attempt of ``delivery`` when this process wins it; returns the outcome."""
    now = now_fn()
    tenant = delivery["tenant_id"]
    if not store.claim_attempt(delivery, now):
        if not store.claim_lost_attempt(delivery, now, LOST_ATTEMPT_GRACE):
            return None
        return _fail(store, delivery, retry.policy_from(store.get_settings(tenant), default_base),
                     "attempt lost (sender stopped)", False, 0.0, now)
    settings = store.get_settings(tenant)
    policy = retry.policy_from(settings, default_base)
    started = time.perf_counter()
    error: str | None = None
    permanent = False
    detail = None
    try:
        if delivery["channel"] == "webhook":
            hook = store.get_webhook(tenant, delivery["target"].get("webhook_id", ""))
            if hook is None:
                raise DeliveryFailed("webhook.deleted", permanent=True)
            try:
                ssrf.check_url(hook["url"], allow_private=rules.allow_private(settings, ssrf.operator_allows_private()))
            except Exception as exc:
                raise DeliveryFailed(f"webhook.url_not_allowed: {getattr(exc, 'message', exc)}",
                                     permanent=True) from None
            detail = f"http {send_webhook(hook['url'], hook['secret'], webhook_payload(delivery))}"
        elif delivery["channel"] == "email":
            smtp = settings.get("smtp")
            if not smtp:
                raise DeliveryFailed("smtp.not_configured")
            m = delivery.get("message") or {}
            send_email(smtp, delivery["target"]["email"], m.get("title") or "", m.get("body") or "")
        else:
            raise DeliveryFailed(f"unknown channel {delivery['channel']}", permanent=True)
    except DeliveryFailed as exc:
        error, permanent = exc.reason, exc.permanent
    except Exception as exc:  # anything unexpected counts as a failed attempt
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    done_at = now_fn()
    if error is None:
        store.finish_attempt(delivery, outcome="ok", error=None, latency_ms=latency_ms, now=done_at, next_at=None,
                             dead=False, detail=detail)
        return "ok"
    return _fail(store, delivery, policy, error, permanent, latency_ms, done_at)


def _fail(store: Store, delivery: dict[str, Any], policy: retry.RetryPolicy, error: str, permanent: bool,
          latency_ms: float, done_at: datetime) -> str:
    attempts = delivery["attempts"] + 1
    dead = permanent or policy.exhausted(attempts)
    next_at = None if dead else done_at + timedelta(seconds=policy.delay(attempts))
    store.finish_attempt(delivery, outcome="failed", error=error, latency_ms=latency_ms, now=done_at,
                         next_at=next_at, dead=dead)
    if dead:
        log.warning("delivery %s dead-lettered after %d attempt(s): %s", delivery["_id"], attempts, error)
        return "dead"
    return "retry"


__all__ = ["attempt", "send_email", "send_webhook", "DeliveryFailed", "datetime"]


#: due deliveries taken per pass of the delivery timer, and how many are sent at once
DELIVERY_BATCH = 50
DELIVERY_CONCURRENCY = 10


def default_retry_base() -> float:
    """``NOTIFY_RETRY_BASE_SECONDS`` (default 30): the first back-off step of a failed delivery."""
    try:
        return float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "30"))
    except ValueError:
        return 30.0


def deliver_due(store: Store, now_fn: Callable[[], datetime]) -> int:
    """One pass of the delivery loop: attempt every due delivery (at most ``DELIVERY_BATCH``,
    ``DELIVERY_CONCURRENCY`` at a time); one attempt that crashes does not stop the others."""
    due = store.due_deliveries(now_fn(), DELIVERY_BATCH)
    if not due:
        return 0
    base = default_retry_base()

    def one(row: dict[str, Any]) -> None:
        try:
            attempt(store, row, now_fn, base)
        except Exception:
            log.exception("delivery %s: attempt crashed", row.get("_id"))

    pool = eventlet.GreenPool(DELIVERY_CONCURRENCY)
    for row in due:
        pool.spawn_n(one, row)
    pool.waitall()
    return len(due)
