"""argon2id password hashing, off the eventlet hub.

Cost follows OWASP's minimum for argon2id (m=19 MiB, t=2, p=1) unless the environment
asks for more (``ARGON2_TIME_COST``, ``ARGON2_MEMORY_KIB``, ``ARGON2_PARALLELISM``).
Hashing blocks for tens of milliseconds, so inside a service it runs in
``eventlet.tpool`` (a real OS thread): the hub keeps its broker heartbeats.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")

DEFAULT_TIME_COST = 2
DEFAULT_MEMORY_KIB = 19456
DEFAULT_PARALLELISM = 1


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    value = int(raw) if raw else default
    return max(value, minimum)


def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=_int_env("ARGON2_TIME_COST", DEFAULT_TIME_COST, 1),
        memory_cost=_int_env("ARGON2_MEMORY_KIB", DEFAULT_MEMORY_KIB, 8),
        parallelism=_int_env("ARGON2_PARALLELISM", DEFAULT_PARALLELISM, 1),
        hash_len=32, salt_len=16, type=Type.ID,
    )


def _offload(fn: Callable[..., T], *args: Any) -> T:
    try:
        from eventlet import patcher, tpool
    except ImportError:  # pragma: no cover - eventlet is always installed with nameko
        return fn(*args)
    if patcher.is_monkey_patched("thread"):
        return tpool.execute(fn, *args)  # type: ignore[no-any-return]
    return fn(*args)


class Passwords:
    def __init__(self, ph: PasswordHasher | None = None):
        self.ph = ph or hasher()

    def hash(self, password: str) -> str:
        return _offload(self.ph.hash, password)

    def verify(self, stored: str, password: str) -> bool:
        def run() -> bool:
            try:
                return bool(self.ph.verify(stored, password))
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
        return _offload(run)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.ph.check_needs_rehash(stored)
        except InvalidHashError:
            return True
