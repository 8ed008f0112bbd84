"""Readiness probe: ``python -m crmkit.probe <service>`` exits 0 when the service
answers its ``health`` RPC (broker and database reachable) within the timeout.

Uses kombu directly (no eventlet), speaking nameko's RPC protocol.
"""
from __future__ import annotations

import json
import sys
import uuid
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from crmkit import config


def check(service: str, timeout: float = 3.0) -> dict[str, Any]:
    reply_id = uuid.uuid4().hex
    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(config.amqp_uri(), connect_timeout=timeout) as conn:
        queue = Queue(f"rpc.probe-{reply_id}", exchange=exchange, routing_key=reply_id,
                      exclusive=True, auto_delete=True)
        got: dict[str, Any] = {}
        with conn.Consumer(queue, callbacks=[lambda body, msg: (got.update(json.loads(body) if isinstance(
                body, str | bytes) else body), msg.ack())], accept=["json"]):
            conn.Producer(serializer="json").publish(
                {"args": [], "kwargs": {}}, exchange=exchange, routing_key=f"{service}.health",
                reply_to=reply_id, correlation_id=reply_id, headers={"nameko.call_id_stack": [f"probe.{reply_id}"]},
                declare=[exchange], expiration=timeout)
            try:
                conn.drain_events(timeout=timeout)
            except TimeoutError:
                raise TimeoutError(f"{service} did not answer in {timeout}s") from None
    if got.get("error"):
        raise RuntimeError(got["error"])
    result = got.get("result") or {}
    if result.get("status") != "ok":
        raise RuntimeError(f"{service} is {result.get('status')}")
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m crmkit.probe <service>", file=sys.stderr)
        return 2
    try:
        print(json.dumps(check(argv[0])))
        return 0
    except Exception as exc:
        print(f"not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
