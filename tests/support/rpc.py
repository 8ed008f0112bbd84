"""A blocking client for nameko RPC, for tests: calls a service directly with a signed
context (or a forged one, to prove services refuse it)."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pika

from crmkit.context import CallBinding, CallContext, call_body, digest, sign
from crmkit.errors import CrmError, from_remote


class RpcClient:
    def __init__(self, amqp_uri: str, key: str):
        self.key = key
        self.conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.ch = self.conn.channel()
        self.ch.exchange_declare("nameko-rpc", exchange_type="topic", durable=True)
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        self.ch.queue_bind(self.queue, "nameko-rpc", routing_key=self.queue)

    def call(self, service: str, method: str, *, ctx: CallContext | None = None, raw_context: str | None = None,
             timeout: float = 15, call_id: str | None = None, **kwargs: Any) -> Any:
        cid = uuid.uuid4().hex
        call_id = call_id or f"test.{method}.{cid}"
        headers: dict[str, Any] = {"nameko.call_id_stack": [call_id]}
        body = call_body((), kwargs)
        if raw_context is not None:
            headers["nameko.crm_context"] = raw_context
        elif ctx is not None:  # signed for this one call, as the gateway does
            headers["nameko.crm_context"] = sign(ctx, self.key, ttl=max(30.0, timeout),
                                                 call=CallBinding(service, method, call_id, digest(body)))
        self.ch.basic_publish("nameko-rpc", f"{service}.{method}", body,
                              pika.BasicProperties(reply_to=self.queue, correlation_id=cid,
                                                   content_type="application/json", headers=headers))
        for _method, props, body in self.ch.consume(self.queue, inactivity_timeout=timeout):
            if body is None:
                self.ch.cancel()
                raise TimeoutError(f"{service}.{method} did not answer in {timeout}s")
            if props.correlation_id != cid:
                continue
            self.ch.cancel()
            reply = json.loads(body)
            if reply.get("error"):
                e = reply["error"]
                raise from_remote(e["exc_type"], e["exc_path"], e["exc_args"], e["value"])
            return reply["result"]
        raise TimeoutError(service)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass


__all__ = ["RpcClient", "CrmError"]
