"""The one event envelope every event body uses, signed so handlers can trust it.

``{"event_id", "type", "version", "occurred_at", "tenant_id", "actor_id",
"request_id", "language", "data", "sig"}``. ``language`` is the preferred language of the
request that caused the event (its Accept-Language, "" when none), carried on through the
events handlers emit in turn. Consumers read only the fields they need; a breaking change is
a new event type.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from crmkit.clock import iso
from crmkit.errors import InvalidInput, Unauthenticated

REQUIRED = ("event_id", "type", "version", "occurred_at", "tenant_id", "actor_id", "data")


def make_event(
    type: str,
    tenant_id: str,
    actor_id: str,
    data: dict[str, Any],
    *,
    occurred_at: datetime,
    version: int = 1,
    event_id: str | None = None,
    request_id: str = "",
    language: str = "",
) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "type": type,
        "version": version,
        "occurred_at": iso(occurred_at),
        "tenant_id": tenant_id,
        "actor_id": actor_id,
        "request_id": request_id,
        "language": language,
        "data": data,
    }


def source_of(event_type: str) -> str:
    """The nameko service that publishes an event type is named by the type's prefix
    only by convention; the publisher is given explicitly where it matters."""
    return event_type.split(".", 1)[0]


def _canonical(envelope: dict[str, Any]) -> bytes:
    body = {k: v for k, v in envelope.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_event(envelope: dict[str, Any], key: str) -> dict[str, Any]:
    signed = dict(envelope)
    signed["sig"] = hmac.new(key.encode(), _canonical(envelope), hashlib.sha256).hexdigest()
    return signed


def verify_event(envelope: Any, key: str) -> dict[str, Any]:
    if not isinstance(envelope, dict) or any(k not in envelope for k in REQUIRED):
        raise InvalidInput("event.malformed", "event envelope malformed")
    sig = envelope.get("sig")
    expected = hmac.new(key.encode(), _canonical(envelope), hashlib.sha256).hexdigest()
    if not isinstance(sig, str) or not hmac.compare_digest(sig, expected):
        raise Unauthenticated("event.bad_signature", "event signature invalid")
    return envelope
