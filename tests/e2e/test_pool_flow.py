"""Pools through the gateway with the real customers service: entry gets a reclaim
date, release with a reason, masked search, a claim race over HTTP, rules validation,
preview and the admin sweep."""
from __future__ import annotations

import concurrent.futures
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant
from tests.support.waiting import wait_for

C = "/api/v1/customers"
P = "/api/v1/pool"


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def new_customer(http, t, role="employee"):
    n = str(uuid.uuid4().int)
    body = {"name": f"公海{uuid.uuid4().hex[:8]}电子有限公司", "address": "苏州", "industry": "电子",
            "landlines": [f"0512-{n[:8]}"]}
    r = http.post(C, json=body, headers=t.headers(role))
    assert r.status_code == 201, r.text
    return r.json()


def pool_view(http, t, cid, **expect):
    def look():
        r = http.get(f"{P}/customers/{cid}", headers=t.headers("admin"))
        if r.status_code != 200:
            return None
        body = r.json()
        return body if all(body.get(k) == v for k, v in expect.items()) else None
    return wait_for(look, timeout=60, what=f"pool view of {cid} {expect}")


def test_entry_release_search_claim(http, t):
    c = new_customer(http, t)
    me = t.ids["employee"]
    v = pool_view(http, t, c["id"], owner_id=me)
    assert v["reclaim_on"] and v["reclaim_rule"] == "no_contact"
    r = http.post(f"{C}/{c['id']}/release", json={}, headers=t.headers("employee"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "pool.reason_required"
    r = http.post(f"{C}/{c['id']}/release", json={"reason": "没有需求"}, headers=t.headers("employee"))
    assert r.status_code == 200, r.text
    pool_view(http, t, c["id"], owner_id=None)
    r = http.get(f"{P}/customers", params={"keyword": c["name"][2:10]}, headers=t.headers("employee2"))
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    raw = c["landlines"][0]
    [masked] = item["phones"]["landlines"]  # the numbers come with the customer's events, masked here
    assert "*" in masked and masked != raw and item["name_key"]
    assert item["previous_owner_id"] == me
    # the previous owner is in cool-down; a colleague claims
    r = http.post(f"{P}/customers/{c['id']}/claim", headers=t.headers("employee"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "pool.cooldown", r.text
    r = http.post(f"{P}/customers/{c['id']}/claim", headers=t.headers("employee2"))
    assert r.status_code == 200, r.text
    assert r.json()["owner_id"] == t.ids["employee2"]
    assert r.json()["phones"]["landlines"] == [raw]  # claimed: the claimer sees the number
    r = http.post(f"{P}/customers/{c['id']}/claim", headers=t.headers("all_customers"))
    assert r.status_code == 409 and r.json()["error"]["details"]["winner_id"] == t.ids["employee2"]


def test_claim_race_over_http_exactly_one_wins(http, t):
    c = new_customer(http, t, role="admin")
    pool_view(http, t, c["id"], owner_id=t.admin_id)
    assert http.post(f"{C}/{c['id']}/release", json={"reason": "放公海"},
                     headers=t.headers("admin")).status_code == 200
    pool_view(http, t, c["id"], owner_id=None)
    people = [add_employee(http, t, f"抢{i}", ["employee"], [t.depts["dept_b"]]) for i in range(8)]

    def claim(p):
        return http.post(f"{P}/customers/{c['id']}/claim", headers={"Authorization": f"Bearer {p['token']}"})
    with concurrent.futures.ThreadPoolExecutor(len(people)) as ex:
        res = list(ex.map(claim, people))
    codes = sorted(r.status_code for r in res)
    assert codes == [200] + [409] * (len(people) - 1), [r.text for r in res]
    winner = next(r.json()["owner_id"] for r in res if r.status_code == 200)
    assert all(r.json()["error"]["details"]["winner_id"] == winner for r in res if r.status_code == 409)


def test_rules_validation_preview_and_sweep(http, t):
    r = http.put(f"{P}/rules", json={"capacity": 0, "bogus": 1}, headers=t.headers("admin"))
    assert r.status_code == 400
    assert set(r.json()["error"]["details"]["fields"]) == {"capacity", "bogus"}
    assert http.put(f"{P}/rules", json={"capacity": 5}, headers=t.headers("employee")).status_code == 403
    r = http.post(f"{P}/rules/preview", params={"days": 400}, json={}, headers=t.headers("admin"))
    assert r.status_code == 400
    r = http.post(f"{P}/rules/preview", params={"days": 31}, json={"reclaim": {"no_contact": {"days": 30}}},
                  headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["total"] >= 0
    r = http.post(f"{P}/reclaim/run", headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["reclaimed"] == 0  # nobody is overdue today
    assert http.post(f"{P}/reclaim/run", headers=t.headers("employee")).status_code == 403
    r = http.get(f"{P}/targets", headers=t.headers("employee"))
    assert r.status_code == 200 and r.json()["targets"]["effective_calls"] == 32
    r = http.post(f"{P}/claim-requests", json={"name": "x"}, headers=t.headers("employee"))
    assert r.status_code == 400 and "address" in r.json()["error"]["details"]["fields"]


def test_contract_protects_and_contact_note_moves_the_reclaim_day(http, t, rpc):
    today = date.today()
    body = {"name": f"签约{uuid.uuid4().hex[:8]}有限公司", "address": "苏州",
            "landlines": [f"0512-{str(uuid.uuid4().int)[:8]}"],
            "contract_start": (today - timedelta(days=30)).isoformat(),
            "contract_end": (today + timedelta(days=335)).isoformat()}
    r = http.post(C, json=body, headers=t.headers("employee"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    first = pool_view(http, t, cid, owner_id=t.ids["employee"])
    later = datetime.now(UTC) + timedelta(days=10)
    moved = (date.fromisoformat(first["reclaim_on"]) + timedelta(days=10)).isoformat()
    # the note is written 10 days on (the customers clock stays there until its event is out:
    # the outbox schedules by that clock)
    rpc.call("customers", "_test_set_clock", now=later.isoformat())
    try:
        r = http.post(f"{C}/{cid}/contact-notes", json={"kind": "call", "content": "聊了需求"},
                      headers=t.headers("employee"))
        assert r.status_code in (200, 201), r.text
        pool_view(http, t, cid, reclaim_on=moved, reclaim_rule="no_contact")
    finally:
        rpc.call("customers", "_test_set_clock", now=None)
    assert http.post(f"{C}/{cid}/release", json={"reason": "转给同事"},
                     headers=t.headers("employee")).status_code == 200
    pool_view(http, t, cid, owner_id=None)
    r = http.post(f"{P}/customers/{cid}/claim", headers=t.headers("employee2"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "pool.protected" and err["details"]["until"] and err["details"]["phase"] == "service"


def test_entry_past_private_pool_capacity_is_refused_with_the_numbers(http):
    t2 = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.put(f"{P}/rules", json={"capacity": 1}, headers=t2.headers("admin"))
    assert r.status_code == 200, r.text
    first = new_customer(http, t2)
    pool_view(http, t2, first["id"], owner_id=t2.ids["employee"])  # the pool has seen the entry
    name = f"满额{uuid.uuid4().hex[:8]}电子有限公司"
    phone = f"0512-{str(uuid.uuid4().int)[:8]}"
    r = http.post(C, json={"name": name, "address": "苏州", "landlines": [phone]},
                  headers=t2.headers("employee"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "pool.capacity_full" and err["details"]["held"] == 1 and err["details"]["capacity"] == 1
    r = http.post(f"{C}/duplicate-check", json={"name": name, "phones": [phone]}, headers=t2.headers("admin"))
    assert r.status_code == 200 and r.json()["duplicate"] is False, r.text  # nothing was written


def test_a_reclaim_warning_reaches_the_owner_with_the_customer_name_and_day(http):
    """The pool's ``pool.reclaim_warning`` (as declared in ``contracts``) fills notify's template:
    the owner's inbox names the customer and the day it returns to the public pool."""
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.put(f"{P}/rules", json={"reclaim": {"no_contact": {"enabled": True, "days": 2}}},
                 headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    c = new_customer(http, t)
    v = pool_view(http, t, c["id"], owner_id=t.ids["employee"], reclaim_rule="no_contact")
    r = http.post(f"{P}/reclaim/run", headers=t.headers("admin"))
    assert r.status_code == 200, r.text

    def warned():
        r = http.get("/api/v1/notifications", headers=t.headers("employee"))
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["kind"] == "reclaim_warning"] or None
    [item] = wait_for(warned, timeout=60, what="the reclaim warning in the owner's inbox")
    assert c["name"] in item["body"] and v["reclaim_on"] in item["body"], item
