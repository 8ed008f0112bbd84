"""Retry schedule of outbound deliveries: exponential back-off with jitter."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 6

    def delay(self, attempt: int, rand: random.Random | None = None) -> float:
        """Delay before attempt ``attempt + 1`` after ``attempt`` failures (1-based): "equal
        jitter" — half the exponential step fixed, half random, so the back-off always grows
        from ``base/2`` and retries of many deliveries spread out."""
        step = min(self.cap_seconds, self.base_seconds * (2.0 ** max(0, attempt - 1)))
        r = rand.random() if rand else random.random()
        return step / 2 + r * step / 2

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def policy_from(settings: dict[str, Any] | None, default_base: float = 30.0) -> RetryPolicy:
    s = settings or {}
    base = _num(s.get("retry_base_seconds"), default_base, 0.01, 86400)
    cap = _num(s.get("retry_cap_seconds"), max(3600.0, base), base, 7 * 86400)
    attempts = int(_num(s.get("max_attempts"), 6, 1, 20))
    return RetryPolicy(base, cap, attempts)


def _num(value: object, default: float, lo: float, hi: float) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return min(hi, max(lo, v))
