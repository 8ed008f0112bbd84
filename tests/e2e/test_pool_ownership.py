"""Ownership has one home (the pool): entry and import take the owner's slots in the pool
before the customer is written, so capacity is exact for parallel entries and imports
exactly as for claims; a release right after an entry works at once. Real gateway, real
services, real concurrent callers."""
from __future__ import annotations

import concurrent.futures
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.e2e.test_customers_import import headers_of, row, upload, xlsx
from tests.e2e.test_pool_flow import pool_view
from tests.support.tenants import make_tenant

C = "/api/v1/customers"
P = "/api/v1/pool"


@pytest.fixture()
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def body(tag: str = "") -> dict[str, object]:
    n = str(uuid.uuid4().int)
    return {"name": f"容量{tag}{uuid.uuid4().hex[:8]}有限公司", "address": "苏州", "landlines": [f"0512-{n[:8]}"]}


def held(http, t, role="employee") -> int:
    r = http.get(f"{P}/capacity", headers=t.headers(role))
    assert r.status_code == 200, r.text
    return int(r.json()["held"])


def set_capacity(http, t, n: int) -> None:
    r = http.put(f"{P}/rules", json={"capacity": n}, headers=t.headers("admin"))
    assert r.status_code == 200, r.text


def test_parallel_entries_at_capacity_minus_one_exactly_one_wins(http, t, stack_env):
    capacity, parallel = 3, 6
    set_capacity(http, t, capacity)
    for _ in range(capacity - 1):
        assert http.post(C, json=body(), headers=t.headers("employee")).status_code == 201
    assert held(http, t) == capacity - 1
    base = str(http.base_url)

    def enter(i: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as c:  # one connection each: really parallel
            return c.post(C, json=body(str(i)), headers=t.headers("employee"))
    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        answers = list(ex.map(enter, range(parallel)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [422] * (parallel - 1), [r.text for r in answers]
    for r in answers:
        if r.status_code == 422:
            err = r.json()["error"]
            assert err["code"] == "pool.capacity_full", err
            assert int(err["details"]["capacity"]) == capacity
    assert held(http, t) == capacity
    mine = http.get(C, params={"owner_id": t.ids["employee"], "page_size": 50}, headers=t.headers("admin")).json()
    assert mine["total"] == capacity  # the refused entries wrote no customer


def test_parallel_imports_at_the_limit_never_exceed_the_capacity(http, t):
    capacity, imports, rows_each = 6, 3, 3
    set_capacity(http, t, capacity)
    header = headers_of(http, t)
    files = [xlsx(header, [row(f"导入{k}{uuid.uuid4().hex[:6]}号有限公司", f"0512-{str(uuid.uuid4().int)[:8]}")
                           for _ in range(rows_each)]) for k in range(imports)]
    base = str(http.base_url)

    def run(k: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=120) as c:
            return upload(c, t, "", files[k], timeout=120)
    with concurrent.futures.ThreadPoolExecutor(imports) as ex:
        answers = list(ex.map(run, range(imports)))
    created = 0
    for r in answers:
        assert r.status_code in (201, 422), r.text
        if r.status_code == 201:
            assert r.json()["created"] == rows_each
            created += rows_each
        else:
            err = r.json()["error"]
            assert err["code"] == "pool.capacity_full", err
            assert int(err["details"]["refused"]) >= 1 and int(err["details"]["adding"]) == rows_each
    assert 0 < created <= capacity
    assert held(http, t) == created
    mine = http.get(C, params={"owner_id": t.ids["employee"], "page_size": 50}, headers=t.headers("admin")).json()
    assert mine["total"] == created


def test_release_right_after_entry_answers_at_once(http, t):
    for _ in range(3):
        r = http.post(C, json=body(), headers=t.headers("employee"))
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        rel = http.post(f"{C}/{cid}/release", json={"reason": "录错了"}, headers=t.headers("employee"))
        assert rel.status_code == 200, rel.text
        assert rel.json()["pool"] == "public"
    assert held(http, t) == 0


def test_a_failed_customer_write_gives_the_slot_back(http, t, rpc):
    """The pool's entry comes first; when the customer write after it fails, the entry is
    cancelled: no slot stays taken, and the next entry fits."""
    set_capacity(http, t, 1)
    rpc.call("customers", "_test_fail_write", name="create", fail=True)
    try:
        r = http.post(C, json=body(), headers=t.headers("employee"))
        assert r.status_code == 500, r.text
    finally:
        rpc.call("customers", "_test_fail_write", name="create", fail=False)
    assert held(http, t) == 0
    assert http.post(C, json=body(), headers=t.headers("employee")).status_code == 201
    assert held(http, t) == 1


def test_a_contact_note_right_after_entry_moves_the_reclaim_date_off_the_no_contact_rule(http, t, rpc):
    """The note is logged the moment the entry answers (nobody waits for the pool to have seen
    the entry), ten days on by the customers clock. With the visit window at 35 days, a note on
    day 10 puts the contact clock at day 40, past the visit clock (day 35): the next reclaim date
    moves off ``no_contact`` to ``no_visit``. A customer entered beside it without a note keeps
    ``no_contact`` at day 30."""
    r = http.put(f"{P}/rules", json={"reclaim": {"no_visit": {"enabled": True, "days": 35}}},
                 headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    plain = http.post(C, json=body("plain"), headers=t.headers("employee"))
    noted = http.post(C, json=body("noted"), headers=t.headers("employee"))
    assert plain.status_code == 201 and noted.status_code == 201, (plain.text, noted.text)
    rpc.call("customers", "_test_set_clock", now=(datetime.now(UTC) + timedelta(days=10)).isoformat())
    try:
        r = http.post(f"{C}/{noted.json()['id']}/contact-notes", json={"kind": "call", "content": "刚录入就联系了"},
                      headers=t.headers("employee"))
        assert r.status_code in (200, 201), r.text
        base = pool_view(http, t, plain.json()["id"], reclaim_rule="no_contact")
        entered_plus_30 = date.fromisoformat(base["reclaim_on"])
        entered_plus_35 = (entered_plus_30 + timedelta(days=5)).isoformat()
        moved = pool_view(http, t, noted.json()["id"], reclaim_rule="no_visit")
        assert moved["reclaim_on"] == entered_plus_35, moved
    finally:
        rpc.call("customers", "_test_set_clock", now=None)


def test_an_entry_left_behind_by_a_dead_customers_process_gives_its_slot_back(http, rpc):
    """``pool.enter`` ran, then the customers process died before its write (here: the entry is
    made straight on the pool, and nothing else happens). The sweep of orphaned entries asks the
    real customers service, drops that entry and gives its slot back; a customer entered
    through the API beside it stays."""
    from crmkit.context import CallContext

    t = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.post(C, json=body("kept"), headers=t.headers("employee"))
    assert r.status_code == 201, r.text
    kept = r.json()["id"]
    me = t.ids["employee"]
    orphan = uuid.uuid4().hex
    as_customers = CallContext(tenant_id=t.tenant_id, user_id=me, roles=("employee",))
    rpc.call("pool", "enter", ctx=as_customers, customer_ids=[orphan], owner_id=me)
    assert held(http, t) == 2
    system = CallContext(tenant_id=t.tenant_id, user_id="system", roles=("system",))
    swept = rpc.call("pool", "_test_sweep_orphaned_entries", ctx=system, older_than_seconds=0)
    assert swept["dropped"] >= 1, swept
    assert held(http, t) == 1
    assert rpc.call("pool", "ownership_history", ctx=system, customer_id=orphan) == []
    assert pool_view(http, t, kept, owner_id=me)
    r = http.post(C, json=body("after"), headers=t.headers("employee"))
    assert r.status_code == 201 and held(http, t) == 2, r.text
