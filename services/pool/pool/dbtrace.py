"""Count database round trips and time named sections per entrypoint call.

A pymongo command listener counts every command a greenlet sends while it is inside
``span(name)``; ``section(name)`` times a part of it (e.g. the customers RPC). The
benchmark reads the totals through the ``_test_db_trace`` test hook to print round
trips per claim and the share of the customers call. Outside a span nothing is counted;
inside, the cost is one dict update per command.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import monitoring

_local = threading.local()  # greenlet-local under eventlet's monkey patching
_lock = threading.Lock()
_stats: dict[str, dict[str, Any]] = {}
_installed = False


class _Listener(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        cur = getattr(_local, "ops", None)
        if cur is not None:
            key = f"{event.command_name}:{_collection(event)}"
            cur[key] += 1
            _local.last = key

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        _took(event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        _took(event.duration_micros)


def _took(micros: int) -> None:
    secs = getattr(_local, "sections", None)
    if secs is not None:
        secs["database"] += micros / 1e6
        secs["db " + getattr(_local, "last", "?")] += micros / 1e6


def _collection(event: monitoring.CommandStartedEvent) -> str:
    value = event.command.get(event.command_name)
    return value if isinstance(value, str) else "-"


def install() -> None:
    """Register the listener (before the service's MongoClient is created)."""
    global _installed
    if not _installed:
        monitoring.register(_Listener())
        _installed = True


@contextmanager
def span(name: str) -> Iterator[None]:
    outer, outer_sections = getattr(_local, "ops", None), getattr(_local, "sections", None)
    ops: Counter[str] = Counter()
    _local.ops, _local.sections = ops, Counter()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        sections = _local.sections
        _local.ops, _local.sections = outer, outer_sections
        with _lock:
            st = _stats.setdefault(name, {"calls": 0, "ops": Counter(), "seconds": 0.0, "sections": Counter()})
            st["calls"] += 1
            st["ops"].update(ops)
            st["seconds"] += elapsed
            st["sections"].update(sections)


@contextmanager
def section(name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        secs = getattr(_local, "sections", None)
        if secs is not None:
            secs[name] += time.perf_counter() - t0


def report(reset: bool = False) -> dict[str, Any]:
    with _lock:
        out = {name: {"calls": st["calls"], "ops": dict(st["ops"]), "seconds": st["seconds"],
                      "sections": dict(st["sections"]),
                      "ops_per_call": sum(st["ops"].values()) / max(1, st["calls"])}
               for name, st in _stats.items()}
        if reset:
            _stats.clear()
    out["_process"] = {"cpu_seconds": time.process_time(), "wall": time.time()}
    return out
