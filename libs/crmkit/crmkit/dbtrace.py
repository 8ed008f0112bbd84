"""Count database round trips, RPCs and time named sections per entrypoint call .

A pymongo command listener counts every command a greenlet sends while it is inside
``span(name)``; ``section(name)`` times a part of it (image work, blob writes, a peer's
call); ``rpcs(proxy, name)`` counts the calls made through a service proxy. Outside a span
nothing is counted; inside, the cost is one dict update per command. Every service's
``_test_db_trace`` test hook (``crmkit.nameko.base``) reads the totals; the benchmarks print
round trips and RPCs per claim and per check-in from them.
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
    outer = (getattr(_local, "ops", None), getattr(_local, "sections", None), getattr(_local, "rpcs", None))
    ops: Counter[str] = Counter()
    rpcs: Counter[str] = Counter()
    _local.ops, _local.sections, _local.rpcs = ops, Counter(), rpcs
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        sections = _local.sections
        _local.ops, _local.sections, _local.rpcs = outer
        with _lock:
            st = _stats.setdefault(name, {"calls": 0, "ops": Counter(), "rpcs": Counter(), "seconds": 0.0,
                                          "sections": Counter()})
            st["calls"] += 1
            st["ops"].update(ops)
            st["rpcs"].update(rpcs)
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


class _Counted:
    """A service proxy whose calls are counted in the current span."""

    def __init__(self, proxy: Any, name: str):
        self._proxy, self._name = proxy, name

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._proxy, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            cur = getattr(_local, "rpcs", None)
            if cur is not None:
                cur[f"{self._name}.{method}"] += 1
            with section(f"rpc {self._name}.{method}"):
                return target(*args, **kwargs)
        return call


def rpcs(proxy: Any, name: str) -> Any:
    return _Counted(proxy, name)


def report(reset: bool = False) -> dict[str, Any]:
    with _lock:
        out = {name: {"calls": st["calls"], "ops": dict(st["ops"]), "rpcs": dict(st["rpcs"]),
                      "seconds": st["seconds"], "sections": dict(st["sections"]),
                      "ops_per_call": sum(st["ops"].values()) / max(1, st["calls"]),
                      "rpcs_per_call": sum(st["rpcs"].values()) / max(1, st["calls"])}
               for name, st in _stats.items()}
        if reset:
            _stats.clear()
    out["_process"] = {"cpu_seconds": time.process_time(), "wall": time.time()}
    return out
