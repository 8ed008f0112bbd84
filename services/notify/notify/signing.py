"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

Headers sent with every webhook POST::

    X-CRM-Timestamp: <unix seconds>
    X-CRM-Signature: sha256=<hex hmac>

A receiver calls :func:`verify` with the raw body, the headers and the endpoint's
secret; a request whose timestamp is outside ``tolerance`` seconds (a replay) or
whose body or signature was changed is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
DEFAULT_TOLERANCE = 300


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def signature(body: bytes | str, secret: str, timestamp: int) -> str:
    msg = str(int(timestamp)).encode() + b"." + _bytes(body)
    return "sha256=" + hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers to send with ``body``."""
    ts = int(time.time() if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(body, secret, ts)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def verify(body: bytes | str, headers: Mapping[str, str], secret: str, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """True when the signature matches the body and the timestamp is within ``tolerance``."""
    ts_text, sig = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
    if not ts_text or not sig:
        return False
    try:
        ts = int(ts_text)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(body, secret, ts), sig.strip())
