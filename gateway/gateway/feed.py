"""The gateway's revocation feed: identity's ``employee.access_changed`` events into the
gateway's :class:`~gateway.access.AccessTable` (issue 16; decision 0007).

One AMQP connection of its own (pika, asyncio) with one queue per gateway process —
server-named, exclusive, auto-delete — bound to the topic exchange ``identity.events``
(declared exactly as nameko declares it) with the routing key ``employee.access_changed``.
Every event's signature is verified with ``CRM_CONTEXT_KEY`` and its payload with
:class:`crmkit.access.AccessChange`; anything else is dropped with a warning.

Gaps: an exclusive queue exists only while its connection does, so events published while
the gateway was down or reconnecting are not in it. After every (re)connect, once the queue
is bound and consumed, the feed loads ``identity.revocations`` (every entry still to be
remembered, page by page, through the RPC bridge in a ``system`` context) into the table and
only then marks it :attr:`~gateway.access.AccessTable.synced`; until then (and whenever the
connection is down) requests ask ``identity.authenticate``. Events arriving during the load
are applied too: the table merges in any order. A load that fails (identity down) is retried
with back-off while the connection lives.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from typing import Any

import pika
from pika.adapters.asyncio_connection import AsyncioConnection

from crmkit.access import EVENT_TYPE, AccessChange
from crmkit.context import ContextSigner, system_context
from crmkit.envelope import verify_event
from crmkit.errors import CrmError
from gateway.access import LocalAuth
from gateway.bridge import reject, resolve
from gateway.metrics import ACCESS_ENTRIES, ACCESS_EVENTS, ACCESS_SYNCED

log = logging.getLogger("gateway.feed")

EXCHANGE = "identity.events"
PAGE = 500




class _Lost(Exception):
    pass


class AccessFeed:
    def __init__(self, amqp_uri: str, auth: LocalAuth, bridge: Any, context_key: str, *,
                 connect_timeout: float = 5.0, min_backoff: float = 0.25, max_backoff: float = 5.0,
                 load_timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.auth = auth
        self.bridge = bridge
        self.signer = ContextSigner(system_context(request_id="gateway-revocations"), context_key, 30)
        self.context_key = context_key
        self.connect_timeout = connect_timeout
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.load_timeout = load_timeout
        self._conn: AsyncioConnection | None = None
        self._closed: asyncio.Future[Any] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self.loads = 0  # completed loads (one per connection)
        self.connection_name = f"crm-gateway-access-feed-{uuid.uuid4().hex[:8]}"

    @property
    def table(self) -> Any:
        return self.auth.table

    async def start(self) -> None:
        if self._runner is None:
            self._stopping = False
            self._runner = asyncio.create_task(self._run(), name="access-feed")

    async def wait_synced(self, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.table.synced and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return bool(self.table.synced)

    async def stop(self) -> None:
        self._stopping = True
        self._set_synced(False)
        conn = self._conn
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None
        self._conn = None

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._open()
                await self._load()
                self._set_synced(True)
                attempt = 0
                log.info("revocation set loaded (%d entries); verifying tokens in the gateway", len(self.table))
                assert self._closed is not None
                await self._closed
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure ends in a reconnect
                if not self._stopping:
                    log.warning("revocation feed down (attempt %d): %r", attempt + 1, exc)
            finally:
                self._set_synced(False)
                self._abort()
            if self._stopping:
                break
            delay = min(self.max_backoff, self.min_backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            await asyncio.sleep(delay)

    def _set_synced(self, value: bool) -> None:
        self.table.synced = value
        ACCESS_SYNCED.set(1 if value else 0)
        ACCESS_ENTRIES.set(len(self.table))

    def _abort(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not (conn.is_closed or conn.is_closing):
            with contextlib.suppress(Exception):
                conn.close()

    async def _step(self, start: Any) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        start(lambda *args: resolve(fut, args[0] if args else None))
        closed = self._closed
        assert closed is not None
        done, _ = await asyncio.wait({fut, closed}, timeout=self.connect_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if fut not in done:
            fut.cancel()
            raise _Lost("connection lost or step timed out")
        return fut.result()

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        self._closed = closed = loop.create_future()
        opened = loop.create_future()
        params = pika.URLParameters(self.amqp_uri)
        params.connection_attempts = 1
        params.retry_delay = 0
        params.socket_timeout = self.connect_timeout
        params.stack_timeout = self.connect_timeout
        params.client_properties = {"connection_name": self.connection_name}

        def on_closed(_conn: Any, exc: BaseException) -> None:
            reject(opened, _Lost(repr(exc)))
            resolve(closed)
            if not self._stopping:
                log.warning("revocation feed connection closed: %r", exc)

        self._conn = AsyncioConnection(params, on_open_callback=lambda c: resolve(opened, c),
                                       on_open_error_callback=lambda _c, exc: reject(opened, _Lost(repr(exc))),
                                       on_close_callback=on_closed, custom_ioloop=loop)
        await asyncio.wait_for(opened, self.connect_timeout + 1)
        conn = self._conn
        channel = await self._step(lambda cb: conn.channel(on_open_callback=cb))
        channel.add_on_close_callback(lambda _ch, _exc: self._abort())
        channel.add_on_cancel_callback(lambda _frame: self._abort())  # our queue was deleted
        # exactly as nameko declares an event exchange (crmkit.nameko.amqp.event_exchange)
        await self._step(lambda cb: channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True,
                                                             auto_delete=False, callback=cb))
        frame = await self._step(lambda cb: channel.queue_declare("", exclusive=True, auto_delete=True,
                                                                  callback=cb))
        queue = frame.method.queue
        await self._step(lambda cb: channel.queue_bind(queue, EXCHANGE, routing_key=EVENT_TYPE, callback=cb))
        await self._step(lambda cb: channel.basic_consume(queue, self._on_event, auto_ack=True, callback=cb))

    async def _load(self) -> None:
        """Every entry identity still remembers, before the table is trusted; retried while
        the connection lives (identity may be down or starting)."""
        attempt = 0
        closed = self._closed
        assert closed is not None
        while True:
            if closed.done():
                raise _Lost("connection lost during the load")
            try:
                after: str | None = None
                while True:
                    answer = await self.bridge.call("identity", "revocations", {"after": after, "limit": PAGE},
                                                    context=self.signer, timeout=self.load_timeout)
                    for data in answer.get("entries") or []:
                        self.table.apply(AccessChange.from_data(data))
                    after = answer.get("next")
                    if not after:
                        break
                self.loads += 1
                return
            except CrmError as exc:
                delay = min(self.max_backoff, 0.5 * 2 ** attempt)
                attempt += 1
                log.warning("revocations not loaded yet (%s); requests ask identity meanwhile", exc.code)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(closed), delay)

    # ------------------------------------------------------------------ events
    def _on_event(self, _channel: Any, _method: Any, _props: Any, body: bytes) -> None:
        try:
            env = verify_event(json.loads(body), self.context_key)
            if env.get("type") != EVENT_TYPE:
                return
            self.table.apply(AccessChange.from_data(env.get("data")))
        except (ValueError, CrmError) as exc:
            ACCESS_EVENTS.labels("refused").inc()
            log.warning("access event refused: %r", exc)
            return
        ACCESS_EVENTS.labels("applied").inc()
        ACCESS_ENTRIES.set(len(self.table))
