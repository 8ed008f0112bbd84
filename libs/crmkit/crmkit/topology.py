"""Who subscribes to what: the one list of event subscriptions of the product.

Every queue in this list is declared (by whichever service starts first, and by
``python -m crmkit.nameko.amqp declare``) before any event is published, so an
event is never dropped for want of a queue even when its subscriber has never run.
A test checks that every ``@subscribe`` in the services is listed here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Subscription:
    source: str        # publishing service (exchange "<source>.events")
    event_type: str    # routing key
    service: str       # subscribing service
    method: str        # handler method name

    @property
    def queue(self) -> str:
        # nameko 2.14.1's name for a SERVICE_POOL event handler queue
        return f"evt-{self.source}-{self.event_type}--{self.service}.{self.method}"

    @property
    def retry_queue(self) -> str:
        return f"{self.queue}.retry"


def parse(spec: str) -> Subscription:
    """``"source:event.type:service:method"`` (used for extra subscriptions in config)."""
    source, event_type, service, method = spec.split(":")
    return Subscription(source, event_type, service, method)


def _load() -> list[Subscription]:
    """Each subscribing service keeps its lines in ``crmkit/subscriptions/<service>.txt``:
    ``source:event.type:service:method`` per line, ``#`` comments allowed."""
    subs: list[Subscription] = []
    folder = Path(__file__).parent / "subscriptions"
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                subs.append(parse(line))
    return subs


SUBSCRIPTIONS: list[Subscription] = _load()
