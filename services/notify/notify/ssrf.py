"""SSRF guard for webhook URLs and SMTP relays.

Webhooks: http(s) only, and the host must not resolve to a loopback, private, link-local,
multicast, reserved or unspecified address unless the operator allows private targets
(``ALLOW_PRIVATE_WEBHOOKS=1``, which a tenant setting may turn off again but never on).

SMTP: a tenant's relay host must resolve only to global addresses unless the operator allows a
private relay (``ALLOW_PRIVATE_SMTP=1``). Checked when the settings are saved (a clear 422) and
again when notify connects: :func:`vetted_address` resolves, checks every answer and returns the
one address notify then connects to, so a name that resolves elsewhere a moment later (DNS
rebinding) cannot pass — the TLS name stays the configured host."""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from crmkit.errors import BusinessRule, InvalidInput

Resolver = Callable[[str, int], list[str]]


def operator_allows_private() -> bool:
    return os.environ.get("ALLOW_PRIVATE_WEBHOOKS") == "1"


def operator_allows_private_smtp() -> bool:
    return os.environ.get("ALLOW_PRIVATE_SMTP") == "1"


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


def vetted_address(host: str, port: int, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """The address to connect to for an SMTP relay ``host``: every address the name resolves to
    must be global (unless ``allow_private``); else ``BusinessRule`` (422) with code
    ``smtp.host_unresolvable`` or ``smtp.host_not_allowed`` and ``details.field = "smtp.host"``."""
    if not isinstance(host, str) or not host.strip() or len(host) > 253:
        raise BusinessRule("smtp.host_unresolvable", "smtp.host does not resolve", {"field": "smtp.host"})
    name = host.strip().strip("[]")
    try:
        addresses = resolver(name, int(port))
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise BusinessRule("smtp.host_unresolvable", "smtp.host does not resolve",
                           {"field": "smtp.host", "host": name})
    if not allow_private:
        bad = [a for a in addresses if forbidden_address(a)]
        if bad:
            raise BusinessRule("smtp.host_not_allowed",
                               "smtp.host points to a loopback, private or reserved address; ask the operator "
                               "to allow a private relay (ALLOW_PRIVATE_SMTP=1)",
                               {"field": "smtp.host", "host": name, "addresses": bad})
    return addresses[0]
