"""AMQP topology and publishing for services: event exchanges, subscription queues
with their retry queues, and a confirmed publisher for the outbox relay."""
from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any

import kombu.serialization
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from crmkit import config
from crmkit.errors import TooLarge
from crmkit.topology import SUBSCRIPTIONS, Subscription, parse

log = logging.getLogger(__name__)


def event_exchange(service: str) -> Exchange:
    # exactly as nameko 2.14.1 declares it (standalone/events.py), or the declare fails
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False, delivery_mode=2)


def subscription_queues(sub: Subscription) -> tuple[Queue, Queue]:
    main = Queue(sub.queue, exchange=event_exchange(sub.source), routing_key=sub.event_type,
                 durable=True, auto_delete=False, exclusive=False)
    retry = Queue(sub.retry_queue, durable=True, auto_delete=False, queue_arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": sub.queue,
    })
    return main, retry


def all_subscriptions(extra: list[str] | None = None) -> list[Subscription]:
    subs = list(SUBSCRIPTIONS)
    for spec in extra or []:
        s = parse(spec)
        if s not in subs:
            subs.append(s)
    return subs


def declare(conn: Connection, subs: list[Subscription]) -> None:
    channel = conn.channel()
    try:
        for sub in subs:
            for q in subscription_queues(sub):
                q.maybe_bind(channel)
                q.declare()
    finally:
        channel.close()


class Publisher:
    """One confirmed channel per process, guarded by a (green) lock. A message larger than
    ``max_bytes`` is refused with ``TooLarge`` before it is sent (the broker would close the
    channel, 406)."""

    def __init__(self, amqp_uri: str, max_bytes: int | None = None):
        self.amqp_uri = amqp_uri
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._producer: Any = None

    def _ensure(self) -> Any:
        if self._conn is None or not self._conn.connected:
            self.close()
            self._conn = Connection(self.amqp_uri, transport_options={"confirm_publish": True},
                                    connect_timeout=3, heartbeat=0)
            self._conn.connect()
            self._producer = self._conn.Producer(serializer="json")
        return self._producer

    def publish(self, body: dict[str, Any], *, exchange: Exchange | str, routing_key: str,
                expiration: float | None = None, headers: dict[str, Any] | None = None) -> None:
        content_type, encoding, data = kombu.serialization.dumps(body, "json")
        size = len(data)
        if self.max_bytes is not None and size > self.max_bytes:
            raise TooLarge("message.too_large", f"message larger than the {self.max_bytes}-byte limit",
                           {"bytes": size, "limit": self.max_bytes, "routing_key": routing_key})
        with self._lock:
            try:
                producer = self._ensure()
                if isinstance(exchange, Exchange):
                    exchange.maybe_bind(producer.channel)
                    exchange.declare()
                producer.publish(data, exchange=exchange, routing_key=routing_key, delivery_mode=2,
                                 expiration=expiration, content_type=content_type, content_encoding=encoding,
                                 headers=headers or {}, retry=False)
            except Exception:
                self.close()
                raise

    def publish_event(self, service: str, envelope: dict[str, Any]) -> None:
        self.publish(envelope, exchange=event_exchange(service), routing_key=envelope["type"])

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # already gone
                pass
        self._conn = None
        self._producer = None


def main(argv: list[str]) -> int:
    if argv[:1] != ["declare"]:
        print("usage: python -m crmkit.nameko.amqp declare", file=sys.stderr)
        return 2
    with Connection(config.amqp_uri(), connect_timeout=5) as conn:
        declare(conn, all_subscriptions())
    print(json.dumps({"declared": len(SUBSCRIPTIONS)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
