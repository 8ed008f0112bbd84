"""``python -m gateway``: serve the gateway with uvicorn (GATEWAY_HOST, GATEWAY_PORT)."""
from __future__ import annotations

import logging
import sys

import uvicorn
from pythonjsonlogger.json import JsonFormatter

from gateway.app import create_app
from gateway.settings import ConfigError, Settings


class _DropColor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_DropColor())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)


def main() -> int:
    configure_logging()
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,  # the gateway writes its own structured access log
        log_config=None,
        lifespan="on",
        loop="uvloop",  # libuv event loop and the C HTTP parser: the gateway is CPU-bound
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
