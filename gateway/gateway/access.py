"""Who a request is, without asking identity (issue 16; decision 0007).

The gateway verifies the access token's signature and expiry itself
(:func:`crmkit.access.verify_access_token`, with the key derived from ``CRM_CONTEXT_KEY``)
and judges it against its **revocation set**: per ``(tenant, employee)`` the latest
``employee.access_changed`` it knows (:class:`AccessTable`), fed by identity's events
(:mod:`gateway.feed`) and loaded from ``identity.revocations`` at start and after every
reconnect of the event consumer. A token is refused with ``401 token.revoked`` when its
token version ``tv`` is below the entry's, or when the entry is at least as new as the token
(``av``) and says the employee may hold no token (left, deleted, disabled). Roles,
departments and name come from the token, or from the entry when the entry is newer (a
role change bites on the next request, as when identity answered every request).

Until the set is loaded (:attr:`AccessTable.synced`) — a gateway that just started, or whose
consumer reconnected and may have missed events — and for a token without an access version
(issued before versions existed), the request asks ``identity.authenticate`` as before: an
unchecked token is never accepted.

Entries are kept until their ``until`` (the change + the longest access-token lifetime, when
every token issued before the change has expired) plus :data:`KEEP_MARGIN` for clock skew,
so the set holds at most the employees changed within one token lifetime.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from crmkit.access import AccessChange, AccessClaims, access_key, verify_access_token
from crmkit.clock import parse_iso
from crmkit.errors import Unauthenticated

#: seconds an entry outlives its ``until`` (clocks of identity and the gateway may differ)
KEEP_MARGIN = 120.0
PURGE_EVERY = 30.0


@dataclass(frozen=True)
class Who:
    """The caller, as the call context carries them."""

    tenant_id: str
    user_id: str
    roles: tuple[str, ...]
    dept_ids: tuple[str, ...]
    name: str


@dataclass
class _Entry:
    tv: int
    av: int
    roles: tuple[str, ...]
    dept_ids: tuple[str, ...]
    name: str
    active: bool
    until: float  # epoch seconds; forgotten after until + KEEP_MARGIN


def _revoked(reason: str) -> Unauthenticated:
    return Unauthenticated("token.revoked", "token revoked", {"reason": reason})


class AccessTable:
    """``(tenant, employee) → latest access change``; merges in any order and any number of
    times (highest ``av`` for the state, highest ``tv`` for the revocation)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.synced = False  # loaded from identity since the event consumer last (re)connected
        self._next_purge = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def apply(self, change: AccessChange, now: float | None = None) -> None:
        now = time.time() if now is None else now
        try:
            until = parse_iso(change.until).timestamp()
        except ValueError:
            return
        self.purge(now)
        if until + KEEP_MARGIN <= now:
            return
        key = (change.tenant_id, change.employee_id)
        old = self._entries.get(key)
        if old is None or change.av > old.av:
            self._entries[key] = _Entry(max(change.tv, old.tv if old else 0), change.av, change.roles,
                                        change.dept_ids, change.name, change.active,
                                        max(until, old.until if old else 0.0))
        else:
            old.tv, old.until = max(old.tv, change.tv), max(old.until, until)

    def judge(self, claims: AccessClaims, now: float | None = None) -> Who:
        """The caller a verified token stands for, or ``401 token.revoked``."""
        now = time.time() if now is None else now
        token = Who(claims.tenant_id, claims.user_id, claims.roles, claims.dept_ids, claims.name)
        e = self._entries.get((claims.tenant_id, claims.user_id))
        if e is None or e.until + KEEP_MARGIN <= now:
            return token
        if claims.tv < e.tv:
            raise _revoked("token_version")
        if claims.av is not None and claims.av > e.av:
            return token  # issued after the change we know of: the token is the newer word
        if not e.active:
            raise _revoked("not_active")
        return Who(claims.tenant_id, claims.user_id, e.roles, e.dept_ids, e.name)

    def purge(self, now: float | None = None, force: bool = False) -> int:
        now = time.time() if now is None else now
        if not force and now < self._next_purge:
            return 0
        self._next_purge = now + PURGE_EVERY
        gone = [k for k, e in self._entries.items() if e.until + KEEP_MARGIN <= now]
        for k in gone:
            del self._entries[k]
        return len(gone)


class LocalAuth:
    """The gateway's own token check: signature, expiry, then the revocation set."""

    def __init__(self, context_key: str) -> None:
        self.key = access_key(context_key)
        self.table = AccessTable()

    @property
    def ready(self) -> bool:
        return self.table.synced

    def who(self, token: str, now: float | None = None) -> Who | None:
        """The caller, ``401`` for a forged, expired or revoked token, or None: ask identity
        (the set is not loaded, or the token predates access versions)."""
        if not self.table.synced:
            return None
        claims = verify_access_token(token, self.key, time.time() if now is None else now)
        if claims.av is None:
            return None
        return self.table.judge(claims, now)
