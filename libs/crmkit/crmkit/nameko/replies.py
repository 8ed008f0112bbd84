"""Bounded RPC replies that can never end the service container.

Nameko 2.14.1 publishes a reply from the worker's greenthread (``RpcConsumer.handle_result``)
or from the queue consumer's (for a malformed request); any exception there is "an uncaught
error in a thread", and the container kills itself — the whole process. A reply the broker
refuses (RabbitMQ closes the channel with 406 above its 128 MB frame limit, or 403), a request
without ``reply_to`` or with an unknown content type, a result that does not serialise: each
of these ended the service for every caller.

:func:`install` replaces ``RpcConsumer.handle_result`` once per process (``crmkit.nameko.rpc``
calls it on import, so every service that uses the kit gets it, whichever ``@rpc`` decorator
an entrypoint uses):

* the reply is serialised once and measured; above ``MAX_MESSAGE_BYTES`` (default 8 MiB) the
  caller gets :class:`~crmkit.errors.TooLarge` ``reply.too_large`` instead of the result;
* a reply the broker refuses is answered with a small ``reply.failed`` error on a fresh
  publish (so the caller does not wait for its timeout), and when even that fails the failure
  is logged and counted (``crm_rpc_reply_failures_total``);
* the request is always acknowledged, and nothing raised here leaves the function.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

import kombu.serialization
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import UnserializableValueError, serialize
from nameko.rpc import RpcConsumer, get_rpc_exchange

from crmkit import config, metrics
from crmkit.errors import CrmError, TooLarge

log = logging.getLogger(__name__)

_installed = False


def _encode(payload: dict[str, Any], serializer: str) -> tuple[str, str, bytes]:
    content_type, encoding, body = kombu.serialization.dumps(payload, serializer)
    data = body if isinstance(body, bytes) else str(body).encode(encoding or "utf-8")
    return content_type, encoding, data


def build_reply(result: Any, exc_info: Any, serializer: str, limit: int) -> tuple[str, str, bytes, Any, Any]:
    """Serialise ``{"result", "error"}`` once; replace it by an error when it does not
    serialise or is larger than ``limit`` bytes. Returns (content type, encoding, body,
    result, exc_info) as they were really sent."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    try:
        content_type, encoding, body = _encode({"result": result, "error": error}, serializer)
    except Exception:
        exc_info = sys.exc_info()
        result, error = None, serialize(UnserializableValueError(result))
        content_type, encoding, body = _encode({"result": None, "error": error}, serializer)
    if len(body) > limit:
        exc = TooLarge("reply.too_large", f"the answer is larger than the {limit}-byte message limit",
                       {"bytes": len(body), "limit": limit})
        exc_info, result = (TooLarge, exc, None), None
        content_type, encoding, body = _encode({"result": None, "error": serialize(exc)}, serializer)
    return content_type, encoding, body, result, exc_info


def _publish(container_config: dict[str, Any], message: Any, content_type: str, encoding: str,
             body: bytes) -> None:
    publisher = Publisher(container_config[AMQP_URI_CONFIG_KEY], ssl=container_config.get(AMQP_SSL_CONFIG_KEY),
                          login_method=container_config.get(LOGIN_METHOD_CONFIG_KEY))
    publisher.publish(body, content_type=content_type, content_encoding=encoding,
                      exchange=get_rpc_exchange(container_config), routing_key=message.properties["reply_to"],
                      correlation_id=message.properties.get("correlation_id"))


def respond(container_config: dict[str, Any], service: str, message: Any, result: Any,
            exc_info: Any) -> tuple[Any, Any]:
    """Send the reply of one request; never raises."""
    props = getattr(message, "properties", {}) or {}
    if not props.get("reply_to"):
        log.warning("rpc request without reply_to: no answer sent")
        return result, exc_info
    try:
        serializer = kombu.serialization.registry.type_to_name[props.get("content_type") or "application/json"]
    except KeyError:
        serializer = "json"
    try:
        content_type, encoding, body, result, exc_info = build_reply(result, exc_info, serializer,
                                                                    config.max_message_bytes())
    except Exception:  # even the error did not serialise: nothing sensible to send
        log.exception("rpc reply could not be built")
        metrics.RPC_REPLY_FAILURES.labels(service, "unserialisable").inc()
        return None, sys.exc_info()
    if exc_info is not None and isinstance(exc_info[1], TooLarge) and exc_info[1].code == "reply.too_large":
        log.error("rpc reply refused: %s", exc_info[1].message, extra={"details": exc_info[1].details})
        metrics.RPC_REPLY_FAILURES.labels(service, "too_large").inc()
    try:
        _publish(container_config, message, content_type, encoding, body)
        return result, exc_info
    except Exception as exc:  # the broker refused it (406, 403, ...), or the connection is gone
        log.error("rpc reply refused by the broker: %r", exc)
        metrics.RPC_REPLY_FAILURES.labels(service, "refused").inc()
        failed = CrmError("reply.failed", "the answer could not be delivered", {"reason": type(exc).__name__})
    try:  # tell the caller at once instead of letting it wait for its timeout
        content_type, encoding, body = _encode({"result": None, "error": serialize(failed)}, serializer)
        _publish(container_config, message, content_type, encoding, body)
    except Exception as exc:
        log.error("rpc error reply failed too: %r", exc)
    return None, (CrmError, failed, None)


def _handle_result(self: RpcConsumer, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
    try:
        result, exc_info = respond(self.container.config, self.container.service_name, message, result,
                                   exc_info)
    except Exception:  # belt and braces: this runs in a thread whose death kills the container
        log.exception("rpc reply failed")
    try:
        self.queue_consumer.ack_message(message)
    except Exception:
        log.exception("rpc request could not be acknowledged")
    return result, exc_info


def install() -> None:
    """Make every nameko RPC reply of this process bounded and harmless (idempotent)."""
    global _installed
    if _installed:
        return
    RpcConsumer.handle_result = _handle_result  # type: ignore[method-assign]
    _installed = True
