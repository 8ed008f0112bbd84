"""An injectable clock: code asks ``clock.now()``; tests move time instead of sleeping.

A service reads the offset from the ``clock_offsets`` collection of its own database
(set through the ``_test_set_clock`` RPC, allowed only when ``CRM_TEST_HOOKS=1``), so
end-to-end tests can jump days ahead without waiting.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, offset: timedelta | None = None):
        self.offset = offset or timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set_now(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def test_hooks_enabled() -> bool:
    return os.environ.get("CRM_TEST_HOOKS") == "1"


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with a Z, the only datetime form that crosses a boundary."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
