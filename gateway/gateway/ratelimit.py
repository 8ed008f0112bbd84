"""Attempt limits for the unauthenticated endpoints that check a secret (login, invitation
acceptance, device-token refresh): a sliding window per key, answered with ``429`` and
``Retry-After``.

Identity already locks one account after repeated wrong passwords; this stops one client
from trying many accounts (credential stuffing) and from hammering one account faster than
the lock-out can count. The windows live in this gateway process: with N replicas a client
gets at most N times the limit, which is still a hard bound. Memory is bounded: at most
``max_keys`` keys are tracked, the least recently used dropped first.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import Request

from crmkit.errors import RateLimited


class SlidingWindow:
    """At most ``limit`` hits per key within any ``window`` seconds (limit 0 = no limit)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.max_keys, self.clock = int(limit), float(window), max_keys, clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count one attempt; None when allowed, else the seconds until one is allowed again
        (a refused attempt is not counted)."""
        if self.limit <= 0:
            return None
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.0, hits[0] + self.window - now)
        hits.append(now)
        return None


class AttemptLimits:
    """The gateway's limits: per client address and per account (tenant code + mobile)."""

    def __init__(self, per_client: int, per_account: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = SlidingWindow(per_client, window, clock=clock)
        self.account = SlidingWindow(per_account, window, clock=clock)

    def check(self, client: str, account: str | None = None) -> None:
        """Raise ``RateLimited`` (429) when either window is full."""
        wait = self.client.hit(f"client:{client}")
        scope = "client"
        if wait is None and account is not None:
            wait = self.account.hit(f"account:{account}")
            scope = "account"
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise RateLimited("auth.rate_limited", f"too many attempts; try again in {seconds} s",
                              {"retry_after": seconds, "scope": scope})


def client_address(request: Request, trusted_hops: int) -> str:
    """The caller's address: the socket peer, or with ``trusted_hops`` proxies in front the
    X-Forwarded-For entry the outermost of them appended (entries left of it are whatever
    the client sent and are not trusted)."""
    peer = request.client.host if request.client else "unknown"
    if trusted_hops <= 0:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    return hops[-trusted_hops] if len(hops) >= trusted_hops else (hops[0] if hops else peer)


def check_attempt(request: Request, account: str | None = None) -> None:
    """Count one secret-checking attempt of this request's client (and account)."""
    limits: AttemptLimits | None = getattr(request.app.state, "attempt_limits", None)
    if limits is None:
        return
    hops = getattr(getattr(request.app.state, "settings", None), "trusted_proxy_hops", 0)
    limits.check(client_address(request, hops), account)
