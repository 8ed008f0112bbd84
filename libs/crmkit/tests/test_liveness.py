"""The heartbeat rule behind /livez (pure; the real process is tested in tests/foundation)."""
from __future__ import annotations

import json

from crmkit.liveness import Heartbeat, wsgi_app


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_alive_only_while_the_last_beat_is_young_enough():
    clock = Clock()
    hb = Heartbeat(clock)
    assert hb.report(10)[0] == 503 and hb.report(10)[1]["reason"] == "no heartbeat yet"
    hb.beat()
    clock.t += 10
    assert hb.report(10) == (200, {"alive": True, "heartbeat_age_seconds": 10.0, "max_age_seconds": 10,
                                   "reason": "ok"})
    clock.t += 0.5
    assert hb.report(10)[0] == 503 and hb.report(10)[1]["reason"] == "heartbeat too old"
    hb.beat()
    assert hb.alive(10)
    hb.stop()
    assert hb.report(10)[1]["reason"] == "stopped" and not hb.alive(10)


def test_the_wsgi_app_answers_livez_and_hands_everything_else_to_metrics():
    hb = Heartbeat(Clock())
    hb.beat()
    seen = []

    def metrics_app(environ, start_response):
        start_response("200 OK", [])
        return [b"metrics"]

    app = wsgi_app(hb, metrics_app, limit=lambda: 5)
    body = b"".join(app({"PATH_INFO": "/livez"}, lambda status, headers: seen.append(status)))
    assert seen[-1].startswith("200") and json.loads(body)["alive"] is True
    assert b"".join(app({"PATH_INFO": "/metrics"}, lambda s, h: seen.append(s))) == b"metrics"
    hb.stop()
    app({"PATH_INFO": "/livez"}, lambda status, headers: seen.append(status))
    assert seen[-1].startswith("503")
