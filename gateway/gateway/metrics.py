"""Prometheus metrics of the gateway (one module so every part shares one set)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

RPC_CALLS = Counter("crm_gateway_rpc_calls_total", "RPC calls the gateway made, by service and method",
                    ["service", "method"])
AUTHENTICATIONS = Counter(
    "crm_gateway_authentications_total",
    "Bearer tokens judged, by where: local (signature + revocation set) or identity (identity.authenticate)",
    ["path"],
)
ACCESS_SYNCED = Gauge("crm_gateway_access_synced",
                      "1 while the revocation set is loaded and its event consumer up (tokens checked locally)")
ACCESS_ENTRIES = Gauge("crm_gateway_access_entries", "Entries in the revocation set")
ACCESS_EVENTS = Counter("crm_gateway_access_events_total", "employee.access_changed events, by outcome",
                        ["outcome"])


def init_upstream(services: tuple[str, ...]) -> None:
    """Export the per-service upstream counters from the start (at zero)."""
    for s in services:
        UPSTREAM_TIMEOUTS.labels(s)
        UPSTREAM_UNAVAILABLE.labels(s)
    for path in ("local", "identity"):
        AUTHENTICATIONS.labels(path)
    for outcome in ("applied", "refused"):
        ACCESS_EVENTS.labels(outcome)
