"""Prometheus metrics every service exports (names are part of the ops contract:
deploy/k8s dashboards and alerts use exactly these)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RPC_REQUESTS = Counter("crm_rpc_requests_total", "RPC calls handled", ["service", "method", "outcome"])
RPC_DURATION = Histogram(
    "crm_rpc_duration_seconds", "RPC handling time", ["service", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_HANDLED = Counter("crm_events_handled_total", "events handled", ["service", "event_type", "outcome"])
OUTBOX_BACKLOG = Gauge("crm_outbox_backlog", "events accepted but not yet published", ["service"])
DEAD_LETTERS = Gauge("crm_dead_letters", "events parked in the dead-letter list", ["service"])
WORKER_BUSY = Gauge("crm_worker_busy", "workers running now", ["service"])
WORKER_CAPACITY = Gauge("crm_worker_capacity", "max_workers of the service", ["service"])
UP = Gauge("crm_up", "1 while the service runs", ["service"])
#: why an RPC reply was not delivered as computed
REPLY_FAILURE_REASONS = ("too_large", "refused", "unserialisable")
RPC_REPLY_FAILURES = Counter("crm_rpc_reply_failures_total", "RPC replies not delivered as computed",
                             ["service", "reason"])
HEARTBEAT = Gauge("crm_heartbeat_timestamp_seconds", "last time the service's container timer ran", ["service"])
