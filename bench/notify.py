"""Benchmark for ``make bench``: events/s from publish to inbox write through the notify
service (signed envelope -> @subscribe dedupe -> identity lookup -> inbox insert), next to
a bare pika consumer doing the same insert (no framework, no dedupe, no lookup).

"""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime

import pika
import pymongo

from crmkit.envelope import make_event, sign_event

TOTAL = 500


def _publish_all(amqp_uri: str, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    ch = conn.channel()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    for b in bodies:
        ch.basic_publish(exchange, routing_key, b, props)
    conn.close()


def _wait_count(coll, flt: dict, n: int, timeout: float = 300) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if coll.count_documents(flt) >= n:
            return time.time()
        time.sleep(0.05)
    raise RuntimeError(f"only {coll.count_documents(flt)}/{n} written in {timeout}s")


def _bare_consumer(amqp_uri: str, queue: str, coll, stop: threading.Event) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=10)

    def on_message(channel, method, _props, body):
        env = json.loads(body)
        d = env["data"]
        coll.insert_one({"_id": env["event_id"], "tenant_id": env["tenant_id"], "recipient_id": d["owner_id"],
                         "kind": "reclaimed", "title": "t", "body": "b", "read": False,
                         "created_at": datetime.now(UTC)})
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(queue, on_message)
    while not stop.is_set():
        conn.process_data_events(time_limit=0.2)
    conn.close()


def run(stack, infra, env) -> None:
    key = env["CRM_CONTEXT_KEY"]
    tenant = "bench-" + uuid.uuid4().hex[:8]
    owner = uuid.uuid4().hex
    bodies = [json.dumps(sign_event(make_event("pool.reclaimed", tenant, "system",
                                               {"customer_id": f"c{i}", "owner_id": owner, "customer_name": f"C{i}"},
                                               occurred_at=datetime.now(UTC)), key)).encode() for i in range(TOTAL)]
    client = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    inbox = client[env["MONGO_DB_PREFIX"] + "notify"]["notifications"]
    start = time.time()
    _publish_all(infra.amqp_uri, "pool.events", "pool.reclaimed", bodies)
    end = _wait_count(inbox, {"tenant_id": tenant}, TOTAL)
    ours = TOTAL / (end - start)

    # the bare baseline: its own queue and collection, the same envelopes and one insert each
    queue = f"bench-notify-bare-{uuid.uuid4().hex[:6]}"
    coll = client[env["MONGO_DB_PREFIX"] + "bench_bare"]["notifications"]
    conn = pika.BlockingConnection(pika.URLParameters(infra.amqp_uri))
    conn.channel().queue_declare(queue, durable=True)
    conn.close()
    stop = threading.Event()
    t = threading.Thread(target=_bare_consumer, args=(infra.amqp_uri, queue, coll, stop), daemon=True)
    t.start()
    start = time.time()
    _publish_all(infra.amqp_uri, "", queue, bodies)
    end = _wait_count(coll, {"tenant_id": tenant}, TOTAL)
    base = TOTAL / (end - start)
    stop.set()
    t.join(5)
    print(f"notify: publish -> inbox write       {ours:8.1f} events/s ({TOTAL} events)")
    print(f"bare pika consumer + same insert     {base:8.1f} events/s ({TOTAL} events)")
    print(f"ratio notify/bare                    {ours / base:8.2f}")
