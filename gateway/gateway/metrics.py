"""Prometheus metrics of the gateway (one module so every part shares one set)."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "crm_http_requests_total", "HTTP requests by route template, method and status", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request duration by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
UPSTREAM_TIMEOUTS = Counter("crm_upstream_timeouts_total", "RPC calls that timed out, by service", ["service"])
UPSTREAM_UNAVAILABLE = Counter(
    "crm_upstream_unavailable_total",
    "RPC calls that failed because the broker or the service was unavailable, by service",
    ["service"],
)


def init_upstream(services: tuple[str, ...]) -> None:
    """Export the per-service upstream counters from the start (at zero)."""
    for s in services:
        UPSTREAM_TIMEOUTS.labels(s)
        UPSTREAM_UNAVAILABLE.labels(s)
