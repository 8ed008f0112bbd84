"""Baseline: a bare pika RPC consumer (no framework) doing the same indexed read with
pymongo and replying in nameko's wire format."""
from __future__ import annotations

import json
import sys

import pika
import pymongo


def main(amqp_uri: str, mongo_uri: str, db_name: str, queue: str) -> None:
    coll = pymongo.MongoClient(mongo_uri)[db_name]["outbox"]
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    ch = conn.channel()
    ch.queue_declare(queue, auto_delete=True)
    ch.basic_qos(prefetch_count=10)

    def on_request(channel, method, props, body):
        json.loads(body)
        pending = coll.find_one({"status": "pending"}, {"_id": 1}) is not None
        reply = json.dumps({"result": {"status": "ok", "outbox_pending": pending}, "error": None})
        channel.basic_publish("", props.reply_to, reply,
                              pika.BasicProperties(correlation_id=props.correlation_id))
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(queue, on_request)
    print("ready", flush=True)
    ch.start_consuming()


if __name__ == "__main__":
    main(*sys.argv[1:5])
