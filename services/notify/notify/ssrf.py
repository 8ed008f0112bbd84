"""SSRF guard for webhook URLs: http(s) only, and the host must not resolve to a
loopback, private, link-local, multicast, reserved or unspecified address unless
the operator allows private targets (``ALLOW_PRIVATE_WEBHOOKS=1``, which a tenant
setting may turn off again but never on)."""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from crmkit.errors import InvalidInput

Resolver = Callable[[str, int], list[str]]


def operator_allows_private() -> bool:
    return os.environ.get("ALLOW_PRIVATE_WEBHOOKS") == "1"


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def forbidden_address(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_multicast
            or addr.is_reserved or addr.is_unspecified or not addr.is_global)


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """Return the URL when notify may call it; else raise ``InvalidInput`` (400) with code
    ``webhook.url_invalid``, ``webhook.url_unresolvable`` or ``webhook.url_not_allowed``."""
    if not isinstance(url, str) or len(url) > 2000:
        raise InvalidInput("webhook.url_invalid", "the webhook URL must be an http(s) URL")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhook.url_invalid", "the webhook URL must be an http(s) URL with a host",
                           {"url": url})
    if parts.username or parts.password:
        raise InvalidInput("webhook.url_invalid", "the webhook URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("webhook.url_invalid", "the webhook URL has an invalid port") from None
    if allow_private:
        return url.strip()
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError):
        raise InvalidInput("webhook.url_unresolvable", "the webhook host does not resolve",
                           {"host": parts.hostname}) from None
    if not addresses:
        raise InvalidInput("webhook.url_unresolvable", "the webhook host does not resolve", {"host": parts.hostname})
    bad = [a for a in addresses if forbidden_address(a)]
    if bad:
        raise InvalidInput("webhook.url_not_allowed",
                           "the webhook URL points to a loopback, private or reserved address",
                           {"host": parts.hostname, "addresses": bad})
    return url.strip()
