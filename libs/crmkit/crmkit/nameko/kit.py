"""The Kit dependency: what every service worker gets from the shared kit.

``kit = Kit("visits")`` on a service class gives each worker ``self.kit`` with the
verified call context, the service database, the outbox, the clock and event
helpers; the provider also keeps the metrics, the structured-log request id and the
worker-saturation gauges, declares the event topology at start and serves /metrics.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
from nameko.rpc import Rpc

from crmkit import config, db, liveness, logs, messages, metrics
from crmkit.clock import Clock, test_hooks_enabled
from crmkit.context import HEADER_KEY, CallContext, binding_for, system_context, verify
from crmkit.envelope import make_event, sign_event
from crmkit.errors import CrmError, Forbidden
from crmkit.inbox import Inbox
from crmkit.nameko.amqp import Publisher, all_subscriptions, declare
from crmkit.nameko.dependency import Dependency
from crmkit.outbox import Check, Outbox

log = logging.getLogger(__name__)


class Kit(Dependency["WorkerKit"]):
    """``secrets``: environment variables this service cannot run without (besides
    ``CRM_CONTEXT_KEY`` and ``AMQP_URI``, which every service needs); the process refuses to
    start, with one clear line and exit status 2, while one is missing or too short.

    ``check_emit``: every event this service emits is checked against its declaration in
    ``contracts`` (``crmkit.messages``); only a test's stand-in for another service, whose
    events are partial on purpose, turns it off (its consumers still check what they get).

    ``topics``: event types this service emits on another service's exchange, by type
    (``{"customer.owner_changed": "customers"}``): a fact about a customer travels where
    every consumer of customer facts listens, whichever service is its single producer."""

    def __init__(self, service: str, secrets: tuple[str, ...] = (), topics: dict[str, str] | None = None, *,
                 check_emit: bool = True):
        self.service = service
        self.secrets = tuple(secrets)
        self.topics = dict(topics or {})
        self.check_emit = check_emit
        self.busy = 0
        self._started_at: dict[int, float] = {}
        self.hold_until = 0.0
        #: test hooks only: seconds an event type waits before its handler runs
        self.handling_delays: dict[str, float] = {}

    # -- lifecycle (after eventlet has patched everything) -------------------------------
    def setup(self) -> None:
        cfg = self.container.config
        try:
            self.key = config.context_key()
            self.amqp_uri = config.amqp_uri()
            for name in self.secrets:
                config.secret(name)
            config.max_message_bytes()
            config.context_ttl()
        except config.MissingSetting as exc:
            config.fail_fast(self.service, exc)
        self.db = db.service_db(self.service)
        self.clock = Clock()
        # delivery bookkeeping runs on wall time: a test that moves the business clock
        # (and back) must not park events or leases in its future
        self.max_message_bytes = config.max_message_bytes()
        self.outbox = Outbox(self.db, _wall_now, self.max_message_bytes)
        self.inbox = Inbox(self.db, _wall_now)
        self.publisher = Publisher(self.amqp_uri, self.max_message_bytes)
        self.extra_subscriptions = list(cfg.get("EXTRA_SUBSCRIPTIONS") or [])
        self.capacity = int(cfg.get("max_workers", 10))
        self.heartbeat = liveness.Heartbeat()
        metrics.WORKER_CAPACITY.labels(self.service).set(self.capacity)
        metrics.UP.labels(self.service).set(1)

    def start(self) -> None:
        # nameko starts the entrypoints beside this: serve /metrics and /livez first, so a
        # service that answers RPCs is also one whose metrics can be read
        port = int(os.environ.get("METRICS_PORT", "0") or 0)
        if port:  # /metrics for Prometheus, /livez for the liveness probe (crmkit.liveness)
            liveness.serve(port, os.environ.get("METRICS_ADDR", "127.0.0.1"), self.heartbeat)
        self.outbox.ensure_indexes()
        self.inbox.ensure_indexes()
        self.load_clock()
        from kombu.connection import Connection
        with Connection(self.amqp_uri, connect_timeout=5) as conn:
            declare(conn, all_subscriptions(self.extra_subscriptions))
        # export every series from the start (zeros), so dashboards and alerts see them
        for sub in all_subscriptions(self.extra_subscriptions):
            if sub.service == self.service:
                for outcome in ("ok", "duplicate", "retry", "dead"):
                    metrics.EVENTS_HANDLED.labels(self.service, sub.event_type, outcome)
        for reason in metrics.REPLY_FAILURE_REASONS:
            metrics.RPC_REPLY_FAILURES.labels(self.service, reason)
        metrics.DEAD_LETTERS.labels(self.service).set(self.inbox.count_dead())
        metrics.OUTBOX_BACKLOG.labels(self.service).set(self.outbox.backlog())
        metrics.WORKER_BUSY.labels(self.service).set(0)
        self.heartbeat.beat()
        self.container.spawn_managed_thread(self._beat, identifier="crm-heartbeat")

    def _beat(self) -> None:
        """Refresh the heartbeat while the container lives; the container kills this thread
        when it stops or dies, and a stuck hub never runs it."""
        c = self.container
        while not (c._being_killed or c._died.ready()):
            self.heartbeat.beat()
            metrics.HEARTBEAT.labels(self.service).set(time.time())
            eventlet.sleep(liveness.BEAT_SECONDS)

    def exchange_for(self, event_type: str) -> str:
        """The exchange (a service name) an event of ``event_type`` is published on."""
        return self.topics.get(event_type, self.service)

    def stop(self) -> None:
        self.heartbeat.stop()
        self.publisher.close()

    def kill(self) -> None:
        self.heartbeat.stop()
        self.publisher.close()

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def load_clock(self) -> None:
        if test_hooks_enabled():
            row = self.db["clock"].find_one({"_id": "offset"})
            self.clock.offset = timedelta(seconds=float(row["seconds"])) if row else timedelta(0)

    # -- worker hooks -------------------------------------------------------------------
    def get_dependency(self, worker_ctx: Any) -> WorkerKit:
        wk = WorkerKit(self, worker_ctx)
        setattr(worker_ctx, WORKER_KIT_ATTR, wk)  # TimedRpc signs each outgoing call from it
        return wk

    def worker_setup(self, worker_ctx: Any) -> None:
        self.busy += 1
        metrics.WORKER_BUSY.labels(self.service).set(self.busy)
        self._started_at[id(worker_ctx)] = time.perf_counter()
        logs.set_request(str(worker_ctx.data.get("request_id") or worker_ctx.call_id))

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        if isinstance(worker_ctx.entrypoint, Rpc):
            method = worker_ctx.entrypoint.method_name
            started = self._started_at.get(id(worker_ctx), time.perf_counter())
            metrics.RPC_DURATION.labels(self.service, method).observe(time.perf_counter() - started)
            outcome = "ok" if exc_info is None else "error"
            metrics.RPC_REQUESTS.labels(self.service, method, outcome).inc()
            if exc_info is not None and not isinstance(exc_info[1], CrmError):
                log.error("rpc %s failed", method, exc_info=exc_info)

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.busy -= 1
        metrics.WORKER_BUSY.labels(self.service).set(self.busy)
        self._started_at.pop(id(worker_ctx), None)


WORKER_KIT_ATTR = "crm_worker_kit"


def _wall_now() -> datetime:
    return datetime.now(UTC)


class WorkerKit:
    """Per-worker view of the kit."""

    def __init__(self, provider: Kit, worker_ctx: Any):
        self._p = provider
        self._worker_ctx = worker_ctx
        self._ctx: CallContext | None = None
        self._origin: dict[str, Any] = {}  # the event this worker handles (crmkit.nameko.events)
        self.db = provider.db
        self.outbox = provider.outbox
        self.service = provider.service

    @property
    def ctx(self) -> CallContext:
        """The caller's verified context; raises Unauthenticated when missing, forged, expired
        or signed for another call (method, caller's call id or arguments differ)."""
        if self._ctx is None:
            wc = self._worker_ctx
            call = binding_for(wc.service_name, wc.entrypoint.method_name, wc.immediate_parent_call_id or "",
                               wc.args, wc.kwargs)
            self._ctx = verify(wc.data.get(HEADER_KEY), self._p.key, call=call)
            logs.set_request(self._ctx.request_id, self._ctx.tenant_id, self._ctx.user_id)
        return self._ctx

    def current_context(self) -> CallContext | None:
        """The context this worker acts in, or None (a public call, a timer before act_as)."""
        if self._ctx is None:
            try:
                return self.ctx
            except CrmError:
                return None
        return self._ctx

    def act_as(self, ctx: CallContext) -> None:
        """Run the rest of this worker (and the calls it makes) as ``ctx``."""
        self._ctx = ctx
        self._worker_ctx.data.pop(HEADER_KEY, None)  # nothing stale travels on
        logs.set_request(ctx.request_id, ctx.tenant_id, ctx.user_id)

    def act_as_system(self, tenant_id: str, request_id: str = "") -> CallContext:
        ctx = system_context(tenant_id, request_id or str(self._origin.get("request_id") or ""),
                             language=str(self._origin.get("language") or ""))
        self.act_as(ctx)
        return ctx

    def handling(self, envelope: dict[str, Any]) -> None:
        """This worker handles ``envelope``: what it emits carries on the envelope's request id
        and language (the request that caused it all)."""
        self._origin = envelope

    def require_test_hooks(self) -> None:
        if not test_hooks_enabled():
            raise Forbidden("test_hooks.disabled", "test hooks are disabled")

    def now(self) -> datetime:
        return self._p.now()

    def event(self, type: str, data: dict[str, Any], *, tenant_id: str | None = None,
              actor_id: str | None = None, event_id: str | None = None) -> dict[str, Any]:
        """A signed envelope for an event of this service, in the caller's context, at the
        version ``contracts`` declares; a payload that does not match its declaration is refused
        here (``crmkit.messages``), before anything is staged or written (``event_id``: a
        deterministic id, for an event that must be announced once however often its producer
        retries — consumers deduplicate by it)."""
        ctx = self._ctx
        tenant = tenant_id if tenant_id is not None else (ctx.tenant_id if ctx else "")
        actor = actor_id if actor_id is not None else (ctx.user_id if ctx else "system")
        origin = self._origin
        env = make_event(type, tenant, actor, data, occurred_at=self.now(), version=messages.version_of(type),
                         event_id=event_id,
                         request_id=(ctx.request_id if ctx else "") or str(origin.get("request_id") or ""),
                         language=(ctx.language if ctx else "") or str(origin.get("language") or ""))
        if self._p.check_emit:
            messages.check_emit(self.service, env)
        return sign_event(env, self._p.key)

    def change(self, events: list[dict[str, Any]], check: Check | None = None) -> Any:
        """``with kit.change([kit.event(...)], Check(coll, filter)): <write>`` (see outbox)."""
        return self.outbox.change(events, check)

    def emit(self, *events: dict[str, Any]) -> None:
        self.outbox.emit(list(events))

    def publish_now(self, *events: dict[str, Any]) -> None:
        """Publish events whose change is already in (their outbox rows are pending) at once,
        with publisher confirms, before the caller is answered — for consumers that must know
        before the next request (the gateway's revocation set). Best effort: a failure is
        logged and the outbox relay still sends every one of them (so consumers see them at
        least once, usually twice)."""
        p = self._p
        for env in events:
            try:
                p.publisher.publish_event(p.service, env)
            except Exception as exc:  # noqa: BLE001 - the outbox relay is the guarantee
                log.warning("immediate publish of %s failed (the outbox relay sends it): %r", env.get("type"), exc)

    # -- used by the base service ------------------------------------------------------
    @property
    def provider(self) -> Kit:
        return self._p


def run_relay(provider: Kit, relay: Callable[[], int]) -> int:
    if time.time() < provider.hold_until:
        return 0
    sent = relay()
    metrics.OUTBOX_BACKLOG.labels(provider.service).set(provider.outbox.backlog())
    return sent


def sleep(seconds: float) -> None:
    eventlet.sleep(seconds)
