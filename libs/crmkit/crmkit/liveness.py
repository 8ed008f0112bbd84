"""Liveness of a service process: a heartbeat its nameko container refreshes.

A process can be up while its service is not: the container thread may have exited (nameko
kills the container on an error in any of its threads), or the eventlet hub may be stuck in
work that never yields. A probe that only asks "does the process answer HTTP" says healthy
in both cases. So the base service runs a nameko ``@timer`` that calls :meth:`Heartbeat.beat`
every :data:`BEAT_SECONDS`; the metrics port answers ``GET /livez`` with 200 while the last
beat is younger than ``LIVENESS_MAX_AGE_SECONDS`` (default 20) and 503 otherwise, and not at
all while the hub is stuck (it is served by a green thread of the same hub), so the kubelet's
probe times out. ``/metrics`` is served on the same port as before.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

BEAT_SECONDS = 2.0
DEFAULT_MAX_AGE_SECONDS = 20.0


def max_age() -> float:
    raw = os.environ.get("LIVENESS_MAX_AGE_SECONDS", "").strip()
    return float(raw) if raw else DEFAULT_MAX_AGE_SECONDS


class Heartbeat:
    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self.last: float | None = None
        self.stopped = False

    def beat(self) -> None:
        self.last = self._now()

    def stop(self) -> None:
        """The container is stopping or dead: never alive again in this process."""
        self.stopped = True

    def age(self) -> float | None:
        return None if self.last is None else self._now() - self.last

    def alive(self, limit: float) -> bool:
        age = self.age()
        return not self.stopped and age is not None and age <= limit

    def report(self, limit: float) -> tuple[int, dict[str, Any]]:
        age = self.age()
        ok = self.alive(limit)
        reason = "ok" if ok else ("stopped" if self.stopped else ("no heartbeat yet" if age is None
                                                                  else "heartbeat too old"))
        return (200 if ok else 503), {"alive": ok, "heartbeat_age_seconds": None if age is None else round(age, 3),
                                      "max_age_seconds": limit, "reason": reason}


def wsgi_app(heartbeat: Heartbeat, metrics_app: Callable[..., Iterable[bytes]],
             limit: Callable[[], float] = max_age) -> Callable[..., Iterable[bytes]]:
    """``/livez`` from the heartbeat, everything else from prometheus_client's WSGI app."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/livez":
            status, body = heartbeat.report(limit())
            data = json.dumps(body).encode()
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        return metrics_app(environ, start_response)

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def serve(port: int, addr: str, heartbeat: Heartbeat) -> WSGIServer:
    """Serve ``/livez`` and ``/metrics`` on ``addr:port`` from a (green) daemon thread."""
    from prometheus_client import make_wsgi_app

    httpd = make_server(addr, port, wsgi_app(heartbeat, make_wsgi_app()), _Server, handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True, name="crm-metrics").start()
    return httpd
