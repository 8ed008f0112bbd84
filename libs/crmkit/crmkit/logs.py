"""Structured JSON logs with the request id of the work being done."""
from __future__ import annotations

import logging
import threading

from pythonjsonlogger.json import JsonFormatter

_current = threading.local()  # green-thread local once eventlet has patched threading


def set_request(request_id: str = "", tenant_id: str = "", user_id: str = "") -> None:
    _current.request_id = request_id
    _current.tenant_id = tenant_id
    _current.user_id = user_id


class RequestFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(_current, "request_id", "")
        record.tenant_id = getattr(_current, "tenant_id", "")
        record.user_id = getattr(_current, "user_id", "")
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant_id)s %(user_id)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
    )


def configure(service: str, level: str = "INFO") -> None:
    """Send every log line to stderr as one JSON object carrying ``service``."""
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    old = logging.getLogRecordFactory()

    def factory(*args, **kwargs):  # type: ignore[no-untyped-def]
        record = old(*args, **kwargs)
        record.service = service
        return record

    logging.setLogRecordFactory(factory)
    for noisy in ("kombu", "amqp", "pymongo", "nameko.messaging"):
        logging.getLogger(noisy).setLevel("WARNING")
