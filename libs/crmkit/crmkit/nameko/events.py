"""``@subscribe(source, event_type)``: an idempotent event handler with an explicit
failure policy.

Nameko's own ``event_handler`` acks a message whose handler raised: the event is
gone. Ours: verify the envelope's signature, check its payload against its declaration in
``contracts`` (one that does not match is parked at once, never retried: ``crmkit.messages``),
run the handler once per event id
(crmkit.inbox), and on failure re-queue the event through the subscription's retry
queue after an exponential back-off with jitter; after ``max_attempts`` park it in
``dead_letters`` (visible through the ``dead_letters`` RPC and replayable).
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

import eventlet
from nameko.events import SERVICE_POOL, event_handler

from crmkit import logs, messages, metrics
from crmkit.envelope import verify_event
from crmkit.errors import CrmError
from crmkit.outbox import backoff
from crmkit.topology import Subscription

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 2.0

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def subscribe(source: str, event_type: str, *, max_attempts: int = 5,
              base_delay: float = 0.5) -> Callable[[_Handler], _Handler]:
    def deco(fn: _Handler) -> _Handler:
        def wrapper(self: Any, body: Any) -> None:
            handle(self.kit, fn.__name__, source, event_type, body,
                   lambda env: fn(self, env), max_attempts, base_delay)

        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        wrapper.crm_subscription = (source, event_type)  # type: ignore[attr-defined]
        # requeue_on_error: only when even the retry publish failed (broker gone)
        # the wrapper takes the same (self, event) as the handler it wraps
        return cast(_Handler, event_handler(source, event_type, handler_type=SERVICE_POOL,
                                            reliable_delivery=True, requeue_on_error=True)(wrapper))
    return deco


def handle(kit: Any, method: str, source: str, event_type: str, body: Any,
           run: Callable[[dict[str, Any]], Any], max_attempts: int, base_delay: float) -> None:
    provider = kit.provider
    service = provider.service
    sub = Subscription(source, event_type, service, method)
    handler = f"{service}.{method}"
    try:
        env = verify_event(body, provider.key)
    except CrmError as exc:
        log.error("event refused on %s: %s", sub.queue, exc.code)
        provider.inbox.park(handler, sub.queue, body if isinstance(body, dict) else {"raw": repr(body)},
                            exc.code, 0)
        metrics.EVENTS_HANDLED.labels(service, event_type, "dead").inc()
        return
    refusal = messages.delivery_refusal(env)
    if refusal is not None:  # not its declared shape: parked at once (a retry cannot change it)
        log.error("event %s refused on %s: %s", env.get("event_id"), sub.queue, refusal.message)
        provider.inbox.park(handler, sub.queue, env, f"{refusal.code}: {refusal.message}", 0)
        metrics.EVENTS_HANDLED.labels(service, event_type, "dead").inc()
        metrics.DEAD_LETTERS.labels(service).set(provider.inbox.count_dead())
        return
    event_id = env["event_id"]
    kit.handling(env)
    logs.set_request(env.get("request_id") or event_id, env.get("tenant_id", ""), env.get("actor_id", ""))
    state, _ = provider.inbox.claim(handler, event_id)
    if state == "done":
        metrics.EVENTS_HANDLED.labels(service, event_type, "duplicate").inc()
        return
    if state == "busy":  # another worker holds it right now: look again later
        _requeue(provider, sub, env, BUSY_RETRY_SECONDS)
        return
    delay = provider.handling_delays.get(event_type)
    if delay:  # test hooks only (``_test_delay_handling``): a consumer that is behind
        eventlet.sleep(delay)
    try:
        run(env)
    except Exception as exc:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        attempts = provider.inbox.failed(handler, event_id, error)
        if attempts >= max_attempts:
            provider.inbox.park(handler, sub.queue, env, error, attempts)
            metrics.EVENTS_HANDLED.labels(service, event_type, "dead").inc()
            metrics.DEAD_LETTERS.labels(service).set(provider.inbox.count_dead())
            log.error("event %s dead-lettered after %d attempts on %s: %s", event_id, attempts, sub.queue, error)
            return
        delay = base_delay * (2 ** (attempts - 1)) + backoff(1, base=base_delay)
        _requeue(provider, sub, env, delay)
        metrics.EVENTS_HANDLED.labels(service, event_type, "retry").inc()
        log.warning("event %s failed (attempt %d) on %s, retry in %.2fs: %s",
                    event_id, attempts, sub.queue, delay, error)
        return
    provider.inbox.done(handler, event_id)
    metrics.EVENTS_HANDLED.labels(service, event_type, "ok").inc()


def _requeue(provider: Any, sub: Subscription, env: dict[str, Any], delay: float) -> None:
    # raises when the broker is gone: nameko then requeues the original delivery
    provider.publisher.publish(env, exchange="", routing_key=sub.retry_queue, expiration=max(delay, 0.001))


def replay(provider: Any, row: dict[str, Any]) -> None:
    provider.publisher.publish(row["envelope"], exchange="", routing_key=row["queue"])
