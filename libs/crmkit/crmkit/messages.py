"""Typed messages in the kit: every event a service emits, every event it is delivered and every
call it makes on another service is checked against its declaration in ``contracts``.

- **emit** (``check_emit``, from ``WorkerKit.event`` and ``Outbox(validate=...)``): an undeclared
  event type, one another service produces, a wrong version or a payload that does not match is
  refused with a ``CrmError`` (500: a producer that breaks its own contract is a bug) whose code
  names it (``event.undeclared``, ``event.wrong_producer``, ``event.wrong_version``,
  ``event.invalid``) and whose details name the fields; it is raised before the outbox is
  written, so nothing is written.
- **delivery** (``delivery_refusal``, from ``crmkit.nameko.events.handle``): a payload the
  consumer cannot trust is parked as a dead letter (error ``event.invalid: ...``,
  ``event.unknown_version: ...``, ``event.undeclared: ...``) without running the handler and
  without retries: a crash loop is impossible, and a replay after an upgrade runs it.
- **rpc** (``check_call``/``check_answer``, from ``crmkit.nameko.rpc``): arguments are checked
  strictly before the call is sent (``rpc.invalid_request``), the answer leniently on receipt
  (``rpc.invalid_answer``). Calls not declared in ``contracts.RPCS`` pass unchecked (the static
  test ``tests/contracts`` keeps every cross-service call of the tree declared).

``contracts`` is imported on first use, so a process that never sends a message (a gateway,
a service refusing to start for a missing secret) does not need it on its path.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType
from typing import Any

from crmkit.errors import CrmError


@cache
def _contracts() -> ModuleType:
    import contracts

    return contracts


def _error(refusal: Any) -> CrmError:
    return CrmError(refusal.code, refusal.message, refusal.details)


def version_of(event_type: str) -> int:
    """The declared version of an event type (1 for an undeclared one, which emit refuses)."""
    spec = _contracts().EVENTS.get(event_type)
    return int(spec.version) if spec is not None else 1


def check_emit(producer: str, envelope: Mapping[str, Any]) -> None:
    c = _contracts()
    try:
        c.check_emit(c._registry.REGISTRY, producer, envelope)
    except c.Refused as refusal:
        raise _error(refusal) from None


def emit_validator(producer: str) -> Callable[[Mapping[str, Any]], None]:
    """For ``Outbox(validate=...)``: check every envelope staged as ``producer``'s."""
    def validate(envelope: Mapping[str, Any]) -> None:
        check_emit(producer, envelope)
    return validate


def delivery_refusal(envelope: Mapping[str, Any]) -> CrmError | None:
    """Why a delivered envelope must not reach its handler, or None."""
    c = _contracts()
    try:
        c.check_delivery(c._registry.REGISTRY, envelope)
    except c.Refused as refusal:
        return _error(refusal)
    return None


def check_call(service: str, method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """The call's spec (for ``check_answer``), None when undeclared; CrmError when the
    arguments do not match."""
    c = _contracts()
    try:
        return c.check_call(c._registry.REGISTRY, service, method, args, kwargs)
    except c.Refused as refusal:
        raise _error(refusal) from None


def check_answer(spec: Any, answer: Any) -> None:
    c = _contracts()
    try:
        c.check_answer(spec, answer)
    except c.Refused as refusal:
        raise _error(refusal) from None
