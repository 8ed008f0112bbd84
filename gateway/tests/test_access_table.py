"""The gateway's revocation set (gateway/access.py): what it refuses, what it lets through,
in which order changes may arrive, and that it forgets (issue 16). The end-to-end proofs —
real identity, real events, a gateway restart — are tests/e2e/test_gateway_auth.py."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmkit.access import AccessChange, AccessClaims
from crmkit.clock import iso
from crmkit.errors import Unauthenticated
from gateway.access import KEEP_MARGIN, AccessTable, LocalAuth

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = NOW.timestamp()


def change(av, tv=2, *, active=True, roles=("employee",), until=NOW + timedelta(minutes=15), user="u1"):
    return AccessChange(employee_id=user, tenant_id="t1", tv=tv, av=av, roles=tuple(roles), dept_ids=("d9",),
                        name="新名字", active=active, reason="updated", until=iso(until))


def claims(tv=2, av=1, user="u1", roles=("employee",)):
    return AccessClaims("t1", user, tuple(roles), ("d1",), "旧名字", tv, av, int(T) - 60, int(T) + 840)


def refused(table, c):
    with pytest.raises(Unauthenticated) as e:
        table.judge(c, T)
    assert e.value.code == "token.revoked"
    return e.value.details["reason"]


def test_no_entry_the_token_speaks():
    who = AccessTable().judge(claims(), T)
    assert (who.roles, who.dept_ids, who.name) == (("employee",), ("d1",), "旧名字")


def test_a_lower_token_version_is_revoked_whatever_the_access_version():
    t = AccessTable()
    t.apply(change(av=3, tv=3), T)  # a logout: tv 2 -> 3
    assert refused(t, claims(tv=2, av=2)) == "token_version"
    assert refused(t, claims(tv=2, av=9)) == "token_version"
    assert t.judge(claims(tv=3, av=3), T).user_id == "u1"  # the next login's token
    assert t.judge(claims(tv=2, user="u2"), T).user_id == "u2"  # nobody else is touched


def test_an_employee_who_may_hold_no_token_is_refused_until_a_newer_token_proves_otherwise():
    t = AccessTable()
    t.apply(change(av=4, tv=3, active=False), T)  # disabled
    assert refused(t, claims(tv=3, av=4)) == "not_active"
    assert refused(t, claims(tv=3, av=2)) == "not_active"
    # enabled again and signed in again (an event the gateway has not seen yet): the token is newer
    assert t.judge(claims(tv=3, av=5), T).user_id == "u1"


def test_a_newer_entry_speaks_for_roles_departments_and_name():
    t = AccessTable()
    t.apply(change(av=2, roles=("tenant_admin",)), T)
    who = t.judge(claims(av=1), T)
    assert (who.roles, who.dept_ids, who.name) == (("tenant_admin",), ("d9",), "新名字")
    assert t.judge(claims(av=3, roles=("support",)), T).roles == ("support",)  # a token issued later


def test_changes_merge_in_any_order_and_any_number_of_times():
    a, b, c = change(av=2, tv=2, roles=("a",)), change(av=3, tv=3, roles=("b",)), change(av=4, tv=3, roles=("c",))
    for order in ([a, b, c], [c, b, a], [b, c, a, c, a, b]):
        t = AccessTable()
        for ch in order:
            t.apply(ch, T)
        assert refused(t, claims(tv=2, av=1)) == "token_version"
        assert t.judge(claims(tv=3, av=1), T).roles == ("c",)
    # a snapshot older than an event already applied changes nothing, but a higher tv still counts
    t = AccessTable()
    t.apply(change(av=5, tv=3, roles=("new",)), T)
    t.apply(change(av=4, tv=4, roles=("old",)), T)
    assert t.judge(claims(tv=4, av=1), T).roles == ("new",) and refused(t, claims(tv=3, av=1)) == "token_version"


def test_entries_are_forgotten_after_the_token_lifetime_so_the_set_stays_bounded():
    t = AccessTable()
    for i in range(100):
        t.apply(change(av=1, tv=3, user=f"u{i}", until=NOW + timedelta(minutes=15)), T)
    t.apply(change(av=1, tv=3, user="stale", until=NOW - timedelta(seconds=KEEP_MARGIN + 1)), T)
    assert len(t) == 100  # an entry already past its horizon is not even kept
    later = T + 15 * 60 + KEEP_MARGIN + 1
    assert t.purge(later, force=True) == 100 and len(t) == 0
    # every token issued before those changes has expired by then; one judged in between is refused
    t.apply(change(av=1, tv=3), T)
    assert refused(t, claims(tv=2)) == "token_version"


def test_until_the_set_is_loaded_the_gateway_asks_identity():
    auth = LocalAuth("c" * 32)
    assert auth.who("anything at all") is None  # not synced: never accepted, never refused here
    auth.table.synced = True
    with pytest.raises(Unauthenticated) as e:
        auth.who("garbage")
    assert e.value.code == "token.invalid"
