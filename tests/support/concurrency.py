"""Real concurrent callers for the tests that claim "exactly one winner, nothing lost"."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def parallel(n: int, fn: Callable[[int], Any], join_timeout: float = 120) -> list[Any]:
    """Run ``fn(i)`` for i in 0..n-1 in n threads released at once by a barrier; return
    each call's result, or the exception it raised, in order."""
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each call gave
            results[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(join_timeout)
    return results
