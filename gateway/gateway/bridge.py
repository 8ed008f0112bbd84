"""An asyncio RPC client that speaks nameko 2.14.1's wire protocol over pika.

One long-lived AMQP connection and one exclusive, auto-delete reply queue per process.
Each call publishes ``{"args": [], "kwargs": {...}}`` to the durable topic exchange
``nameko-rpc`` with routing key ``<service>.<method>``, ``reply_to`` = the routing key
of the reply queue (bound to ``nameko-rpc``), a fresh ``correlation_id`` and the nameko
context headers; the reply (``{"result", "error"}``) resolves the call's future.

Failure behaviour (the gateway never hangs on a call):

* every call has a timeout (``default_timeout`` or per call) and a matching message
  ``expiration``, so a request nobody picks up in time is dropped by the broker →
  :class:`~crmkit.errors.UpstreamTimeout`;
* requests are published ``mandatory``: a request that no queue is bound for (the
  service never ran) comes back as ``basic.return`` → :class:`~crmkit.errors.Unavailable`
  at once;
* a service whose durable ``rpc-<service>`` queue outlives its last instance would
  only time out: the bridge probes that queue's consumer count (passive declare, at
  most once per ``probe_interval`` per service, in the background of calls and after
  every timeout) and, while the last probe saw no consumer, refuses calls at once with
  ``Unavailable`` without publishing them;
* while the broker is unreachable calls fail fast with ``Unavailable``; calls in flight
  on a connection that dies fail with ``Unavailable``; a background task reconnects
  with exponential back-off and declares a new reply queue;
* a reply consumer the broker cancels (its queue deleted) counts as a dead connection:
  the bridge is not ``connected`` and reconnects with a new reply queue.

Remote errors are rebuilt with :func:`crmkit.errors.from_remote`. The module never
imports eventlet or kombu.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.asyncio_connection import AsyncioConnection

from crmkit.context import CallBinding, ContextSigner, call_body, digest
from crmkit.errors import CrmError, Unavailable, UpstreamTimeout, from_remote
from gateway.metrics import RPC_CALLS, UPSTREAM_TIMEOUTS, UPSTREAM_UNAVAILABLE

log = logging.getLogger("gateway.bridge")

RPC_EXCHANGE = "nameko-rpc"
REPLY_QUEUE_TEMPLATE = "rpc.reply-gateway-{}"
CONTEXT_HEADER = "nameko.crm_context"
CALL_ID_STACK_HEADER = "nameko.call_id_stack"
CALLER_NAME = "gateway"
RPC_QUEUE_TEMPLATE = "rpc-{}"  # nameko's RPC queue per service


class _SetupFailed(Exception):
    pass


def resolve(fut: asyncio.Future[Any], value: Any = None) -> None:
    """Settle ``fut`` with ``value`` unless it is settled already (pika's callbacks may come twice)."""
    if not fut.done():
        fut.set_result(value)


def reject(fut: asyncio.Future[Any], exc: BaseException) -> None:
    """Fail ``fut`` with ``exc`` unless it is settled already."""
    if not fut.done():
        fut.set_exception(exc)


class RpcBridge:
    """Multiplexes concurrent nameko RPC calls over one AMQP connection."""

    def __init__(
        self,
        amqp_uri: str,
        default_timeout: float = 10.0,
        *,
        connect_timeout: float = 5.0,
        min_backoff: float = 0.25,
        max_backoff: float = 5.0,
        probe_interval: float = 1.0,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.default_timeout = default_timeout
        self.connect_timeout = connect_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._pending: dict[str, tuple[asyncio.Future[Any], str]] = {}
        self._conn: AsyncioConnection | None = None
        self._channel: Any = None
        self._reply_key: str | None = None
        self._reply_tag: str | None = None  # consumer tag of the reply consumer
        self._ready = False
        self._stopping = False
        self._runner: asyncio.Task[Any] | None = None
        self._closed_fut: asyncio.Future[Any] | None = None
        self._step_fut: asyncio.Future[Any] | None = None
        self._ready_event: asyncio.Event | None = None
        self._first_attempt: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        # consumer probes: service -> (consumers seen, monotonic time of the probe)
        self.probe_interval = probe_interval
        self._consumers: dict[str, tuple[int, float]] = {}
        self._probing: set[str] = set()
        self._probe_channel: Any = None
        self._probe_tasks: set[asyncio.Task[Any]] = set()
        self._probe_lock = asyncio.Lock()
        self._probe_answer: asyncio.Future[Any] | None = None
        self._answered: dict[str, float] = {}  # service -> loop time of its last reply

    # ------------------------------------------------------------------ lifecycle
    @property
    def connected(self) -> bool:
        """True while the connection, channel and reply consumer are up (what ``/readyz`` reports)."""
        ch = self._channel
        return bool(self._ready and ch is not None and ch.is_open)

    async def start(self, wait: float | None = None) -> None:
        """Start connecting in the background; wait for the first attempt's outcome.

        Never raises because the broker is down: the bridge keeps retrying and calls
        fail fast with ``Unavailable`` until it is up.
        """
        if self._runner is not None:
            return
        self._stopping = False
        self._ready_event = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._wake = asyncio.Event()
        self._runner = asyncio.create_task(self._run(), name="rpc-bridge")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), wait if wait is not None else self.connect_timeout + 2)

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the connection to be ready."""
        if self.connected:
            return True
        if self._ready_event is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready_event.wait(), timeout)
        return self.connected

    async def stop(self) -> None:
        """Fail calls in flight, close the connection and stop reconnecting."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        self._ready = False
        self._fail_pending("gateway shutting down")
        conn, closed = self._conn, self._closed_fut
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()
            if closed is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(closed), 5)
        for task in list(self._probe_tasks):
            task.cancel()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None
        self._channel = None
        self._conn = None

    # ------------------------------------------------------------------ calls
    async def call(
        self,
        service: str,
        method: str,
        kwargs: dict[str, Any] | None = None,
        *,
        context: ContextSigner | str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call ``service.method(**kwargs)`` and return its result.

        ``context`` is the caller's :class:`ContextSigner` (signed here for this one call:
        service, method, call id and arguments) or an already signed string.

        Raises the service's :class:`CrmError` (rebuilt from the reply),
        ``UpstreamTimeout`` after ``timeout`` seconds, or ``Unavailable`` when the
        broker is down or no queue is bound for the service.
        """
        timeout = self.default_timeout if timeout is None else float(timeout)
        RPC_CALLS.labels(service, method).inc()
        try:
            return await self._call(service, method, kwargs or {}, context, timeout)
        except UpstreamTimeout:
            UPSTREAM_TIMEOUTS.labels(service).inc()
            raise
        except Unavailable:
            UPSTREAM_UNAVAILABLE.labels(service).inc()
            raise

    async def _call(self, service: str, method: str, kwargs: dict[str, Any], context: ContextSigner | str | None,
                    timeout: float) -> Any:
        channel = self._channel
        if not self.connected or channel is None or self._reply_key is None:
            raise Unavailable("service_unavailable", "message broker unavailable", {"service": service})
        seen = self._consumers.get(service)
        fresh = seen is not None and asyncio.get_running_loop().time() - seen[1] < 2 * self.probe_interval
        self._probe_soon(service)
        if fresh and seen is not None and seen[0] == 0:
            raise Unavailable("service_unavailable", f"service {service} has no running instance",
                              {"service": service})
        body = call_body((), kwargs)
        correlation_id = uuid.uuid4().hex
        call_id = f"{CALLER_NAME}.{method}.{uuid.uuid4()}"
        headers: dict[str, Any] = {CALL_ID_STACK_HEADER: [call_id]}
        if isinstance(context, ContextSigner):
            headers[CONTEXT_HEADER] = context.for_call(CallBinding(service, method, call_id, digest(body)), timeout)
        elif context:
            headers[CONTEXT_HEADER] = context
        props = pika.BasicProperties(
            content_type="application/json",
            content_encoding="utf-8",
            reply_to=self._reply_key,
            correlation_id=correlation_id,
            headers=headers,
            expiration=str(max(1, int(timeout * 1000))),
            delivery_mode=1,  # transient: a request outliving its expiration is worthless
        )
        fut = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = (fut, service)
        try:
            try:
                channel.basic_publish(RPC_EXCHANGE, f"{service}.{method}", body, props, mandatory=True)
            except Exception as exc:  # noqa: BLE001 - any pika failure here means the channel is gone
                log.warning("rpc publish failed", extra={"service": service, "method": method, "error": repr(exc)})
                raise Unavailable("service_unavailable", "message broker unavailable", {"service": service}) from None
            try:
                payload = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                self._probe_soon(service, force=True)
                raise UpstreamTimeout(
                    "upstream_timeout", f"{service}.{method} did not answer within {timeout:g}s", {"service": service}
                ) from None
        finally:
            self._pending.pop(correlation_id, None)
        if not isinstance(payload, dict):
            raise CrmError("internal", "malformed reply", {"service": service})
        error = payload.get("error")
        if error:
            if not isinstance(error, dict):
                raise CrmError("internal", "malformed error reply", {"service": service})
            raise from_remote(
                str(error.get("exc_type") or ""),
                str(error.get("exc_path") or ""),
                error.get("exc_args") or [],
                str(error.get("value") or ""),
            )
        return payload.get("result")

    # ------------------------------------------------------------------ consumer probes
    def _probe_soon(self, service: str, force: bool = False) -> None:
        """Start a background probe of ``service``'s queue unless one ran lately."""
        if service in self._probing or not self.connected:
            return
        seen = self._consumers.get(service)
        now = asyncio.get_running_loop().time()
        if seen is not None and not force and now - seen[1] < self.probe_interval:
            return
        self._probing.add(service)
        task = asyncio.get_running_loop().create_task(self._probe(service))
        self._probe_tasks.add(task)
        task.add_done_callback(self._probe_tasks.discard)

    async def _probe(self, service: str) -> None:
        started = asyncio.get_running_loop().time()
        try:
            count = await self._consumer_count(RPC_QUEUE_TEMPLATE.format(service))
        except Exception as exc:  # noqa: BLE001 - a failed probe only leaves the cache as it was
            log.debug("consumer probe of %s failed: %r", service, exc)
            self._consumers.pop(service, None)
        else:
            loop_time = asyncio.get_running_loop().time()
            if count is None:  # no queue at all: mandatory publishing already answers 503 at once
                self._consumers.pop(service, None)
            elif count == 0 and self._answered.get(service, -1.0) >= started:
                pass  # an answer arrived while the probe was out: an instance is back
            else:
                self._consumers[service] = (count, loop_time)
        finally:
            self._probing.discard(service)

    async def _consumer_count(self, queue: str) -> int | None:
        """Consumers on ``queue`` (passive declare on a channel of its own, since a
        missing queue closes the channel), or None when the queue does not exist.
        Probes run one at a time."""
        async with self._probe_lock:
            conn = self._conn
            if conn is None or conn.is_closed or conn.is_closing:
                raise Unavailable("service_unavailable", "message broker unavailable")
            loop = asyncio.get_running_loop()
            channel = self._probe_channel
            if channel is None or not channel.is_open:
                opened = loop.create_future()
                conn.channel(on_open_callback=lambda ch: resolve(opened, ch))
                channel = await asyncio.wait_for(opened, self.connect_timeout)
                channel.add_on_close_callback(self._on_probe_channel_closed)
                self._probe_channel = channel
            self._probe_answer = answer = loop.create_future()
            try:
                channel.queue_declare(queue, passive=True, callback=lambda frame: resolve(answer, frame))
                frame = await asyncio.wait_for(answer, self.connect_timeout)
            finally:
                self._probe_answer = None
            return None if frame is None else int(frame.method.consumer_count)

    def _on_probe_channel_closed(self, channel: Any, exc: BaseException) -> None:
        if self._probe_channel is channel:
            self._probe_channel = None
        answer = self._probe_answer
        if answer is not None:
            if getattr(exc, "reply_code", None) == 404:  # NOT_FOUND: no such queue
                resolve(answer, None)
            else:
                reject(answer, _SetupFailed(repr(exc)))

    # ------------------------------------------------------------------ pika callbacks
    def _on_reply(self, _channel: Any, _method: Any, props: Any, body: bytes) -> None:
        entry = self._pending.pop(props.correlation_id or "", None)
        if entry is None:
            log.debug("reply for unknown correlation id %s", props.correlation_id)
            return
        fut, service = entry
        now = asyncio.get_running_loop().time()
        self._answered[service] = now
        seen = self._consumers.get(service)
        if seen is not None and seen[0] == 0:  # an answer proves an instance consumes again
            self._consumers[service] = (1, now)
        try:
            payload = json.loads(body)
        except ValueError:
            reject(fut, CrmError("internal", "malformed reply", {"service": service}))
            return
        resolve(fut, payload)

    def _on_return(self, _channel: Any, _method: Any, props: Any, _body: bytes) -> None:
        entry = self._pending.pop(props.correlation_id or "", None)
        if entry is None:
            return
        fut, service = entry
        reject(fut, Unavailable("service_unavailable", f"service {service} is not running", {"service": service}))

    def _on_connection_closed(self, conn: Any, exc: BaseException) -> None:
        if conn is not self._conn:
            return
        if not self._stopping:
            log.warning("amqp connection closed: %r", exc)
        self._mark_down(f"connection closed: {exc!r}")
        if self._closed_fut is not None:
            resolve(self._closed_fut)

    def _on_channel_closed(self, channel: Any, exc: BaseException) -> None:
        if channel is not self._channel:
            return
        if not self._stopping:
            log.warning("amqp channel closed: %r", exc)
        self._mark_down(f"channel closed: {exc!r}")
        conn = self._conn
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()

    def _on_consumer_cancelled(self, frame: Any) -> None:
        """The broker cancelled a consumer of the channel: if it is the reply consumer, no
        answer can arrive any more — down, and reconnect with a new reply queue."""
        if self._reply_tag is None or getattr(frame.method, "consumer_tag", None) != self._reply_tag:
            return
        log.warning("reply consumer cancelled by the broker")
        self._mark_down("reply consumer cancelled")
        conn = self._conn
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()

    def _mark_down(self, reason: str) -> None:
        self._ready = False
        if self._ready_event is not None:
            self._ready_event.clear()
        if self._step_fut is not None:
            reject(self._step_fut, _SetupFailed(reason))
        self._fail_pending(reason)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for fut, service in pending.values():
            reject(fut, Unavailable("service_unavailable", "message broker connection lost", {"service": service}))
        if pending:
            log.warning("failed %d calls in flight: %s", len(pending), reason)

    # ------------------------------------------------------------------ connection management
    async def _run(self) -> None:
        attempt = 0
        assert self._first_attempt is not None and self._wake is not None
        while not self._stopping:
            try:
                await self._open()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every connect failure is retried
                log.warning("amqp connect failed (attempt %d): %r", attempt + 1, exc)
                self._mark_down(f"connect failed: {exc!r}")
                self._abort()
            else:
                attempt = 0
                self._first_attempt.set()
                log.info("amqp connected, reply queue %s", REPLY_QUEUE_TEMPLATE.format(self._reply_key))
                assert self._closed_fut is not None
                await self._closed_fut
            self._first_attempt.set()
            if self._stopping:
                break
            delay = min(self.max_backoff, self.min_backoff * 2**attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _abort(self) -> None:
        conn = self._conn
        self._channel = None
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()

    async def _step(self, start: Callable[[Callable[..., None]], None]) -> Any:
        fut = asyncio.get_running_loop().create_future()
        self._step_fut = fut
        start(lambda *args: resolve(fut, args[0] if args else None))
        try:
            return await asyncio.wait_for(fut, self.connect_timeout)
        finally:
            self._step_fut = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        self._closed_fut = loop.create_future()
        self._channel = None
        self._reply_key = None
        self._reply_tag = None
        self._probe_channel = None
        self._consumers.clear()
        params = pika.URLParameters(self.amqp_uri)
        params.connection_attempts = 1
        params.retry_delay = 0
        params.socket_timeout = self.connect_timeout
        params.stack_timeout = self.connect_timeout
        params.client_properties = {"connection_name": "crm-gateway"}

        def on_open_error(_conn: Any, exc: BaseException) -> None:
            reject(opened, _SetupFailed(repr(exc)))

        opened = loop.create_future()
        self._step_fut = opened
        self._conn = AsyncioConnection(
            params,
            on_open_callback=lambda c: resolve(opened, c),
            on_open_error_callback=on_open_error,
            on_close_callback=self._on_connection_closed,
            custom_ioloop=loop,
        )
        try:
            await asyncio.wait_for(opened, self.connect_timeout + 1)
        finally:
            self._step_fut = None
        conn = self._conn
        channel = await self._step(lambda cb: conn.channel(on_open_callback=cb))
        channel.add_on_close_callback(self._on_channel_closed)
        self._channel = channel
        await self._step(
            lambda cb: channel.exchange_declare(RPC_EXCHANGE, exchange_type="topic", durable=True, callback=cb)
        )
        reply_key = str(uuid.uuid4())
        queue = REPLY_QUEUE_TEMPLATE.format(reply_key)
        await self._step(lambda cb: channel.queue_declare(queue, exclusive=True, auto_delete=True, callback=cb))
        await self._step(lambda cb: channel.queue_bind(queue, RPC_EXCHANGE, routing_key=reply_key, callback=cb))
        channel.add_on_return_callback(self._on_return)
        channel.add_on_cancel_callback(self._on_consumer_cancelled)
        self._reply_tag = f"gateway-reply-{reply_key}"
        await self._step(lambda cb: channel.basic_consume(queue, self._on_reply, auto_ack=True,
                                                          consumer_tag=self._reply_tag, callback=cb))
        if self._closed_fut.done():
            raise _SetupFailed("connection closed during setup")
        self._reply_key = reply_key
        self._ready = True
        assert self._ready_event is not None
        self._ready_event.set()
