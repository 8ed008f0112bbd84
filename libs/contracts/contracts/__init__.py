"""Typed messages: every event payload and every service-to-service RPC that crosses a service
boundary, declared once (pydantic v2 models) with a version.

``EVENTS``: name -> :class:`~contracts.base.EventSpec` (``model``, ``version``, ``producer``);
``RPCS``: ``(service, method)`` -> :class:`~contracts.base.RpcSpec`. The kit validates every
event it emits (strict) and every one it delivers (lenient), and every call a service makes on
another (arguments strict, answer lenient) — see ``contracts.base`` for the policy, and
``python -m contracts.docs`` for the README tables generated from here.
"""
from __future__ import annotations

from contracts import customers, identity, notify, pool, visits
from contracts._registry import REGISTRY
from contracts.base import (
    Event,
    EventSpec,
    Payload,
    Refused,
    RpcSpec,
    check_answer,
    check_call,
    check_delivery,
    check_emit,
)

EVENTS = REGISTRY.events
RPCS = REGISTRY.rpcs
#: the module of each producing service, in README order
MODULES = {"identity": identity, "customers": customers, "pool": pool, "visits": visits, "notify": notify}

declare_event = REGISTRY.event
declare_rpc = REGISTRY.rpc


def emit_check(producer: str, envelope: dict[str, object]) -> None:
    check_emit(REGISTRY, producer, envelope)


def delivery_check(envelope: dict[str, object]) -> None:
    check_delivery(REGISTRY, envelope)


def call_check(service: str, method: str, args: tuple[object, ...], kwargs: dict[str, object]) -> RpcSpec | None:
    return check_call(REGISTRY, service, method, args, kwargs)


__all__ = ["EVENTS", "MODULES", "RPCS", "Event", "EventSpec", "Payload", "Refused", "RpcSpec", "call_check",
           "check_answer", "declare_event", "declare_rpc", "delivery_check", "emit_check"]
