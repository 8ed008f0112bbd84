"""Duplicate check (撞单) through the gateway: name keys, every number, the holder,
enforcement on entry and billing change, and 20 concurrent entries of one company."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant

C = "/api/v1/customers"


@pytest.fixture(scope="module")
def tenants(http):
    return make_tenant(http, TEST_OPERATOR_SECRET), make_tenant(http, TEST_OPERATOR_SECRET)


def trade() -> str:
    return "测" + uuid.uuid4().hex[:8]


def numbers() -> tuple[str, str, str]:
    n = str(uuid.uuid4().int)
    return f"0512-{n[:8]}", f"0512-{n[8:16]}", "139" + n[16:24]


def create(http, t, role="employee", **body):
    return http.post(C, json=body, headers=t.headers(role))


def test_duplicate_found_by_any_one_of_several_numbers(http, tenants):
    a, _ = tenants
    land, fax, mob = numbers()
    name = f"苏州{trade()}精密电子有限公司"
    r = create(http, a, name=name, address="苏州市 1 号", landlines=[land], faxes=[fax], mobiles=[mob])
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for raw in (land.replace("-", " "), f"+86 {fax[1:]}", f"0086-{mob}", f"({land[:4]}){land[5:]}-808"):
        res = http.post(f"{C}/duplicate-check", json={"phones": ["010-00000000", raw]}, headers=a.headers("employee2"))
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["duplicate"] is True, raw
        m = body["matches"][0]
        assert m["customer_id"] == cid and m["matched_on"][0]["on"] == "phone"
        assert m["holder"]["type"] == "owner" and m["holder"]["owner_id"] == a.ids["employee"]
        assert m["holder"]["supervisor_id"] == a.ids["dept_admin"]
    clean = http.post(f"{C}/duplicate-check", json={"phones": ["0512-99999999"], "name": f"别家{trade()}有限公司"},
                      headers=a.headers("employee2"))
    assert clean.json()["duplicate"] is False


def test_name_key_variants_are_one_company_and_entry_is_blocked(http, tenants):
    a, b = tenants
    t = trade()
    r = create(http, a, name=f"苏州{t}精密电子有限公司", address="x", landlines=[numbers()[0]])
    assert r.status_code == 201, r.text
    for variant in (f"苏州{t}精密电子中心有限公司", f"{t}精密电子（苏州）有限公司", f"{t}精密电子(苏州)有限公司",
                    f"江苏省 苏州市 {t.upper()}精密电子有限公司"):
        res = http.post(f"{C}/duplicate-check", json={"name": variant}, headers=a.headers("admin"))
        assert res.json()["duplicate"], variant
        assert res.json()["matches"][0]["matched_on"][0] == {"on": "name_key", "value": f"{t}精密电子".lower()}
        blocked = create(http, a, role="employee2", name=variant, address="y", landlines=[numbers()[0]])
        assert blocked.status_code == 409, blocked.text
        err = blocked.json()["error"]
        assert err["code"] == "customer.duplicate"
        assert err["details"]["matches"][0]["holder"]["owner_id"] == a.ids["employee"]
    # another tenant is another world
    assert create(http, b, name=f"苏州{t}精密电子有限公司", address="x", landlines=[numbers()[0]]).status_code == 201


def test_public_pool_holder(http, tenants):
    a, _ = tenants
    land = numbers()[0]
    cid = create(http, a, name=f"{trade()}有限公司", address="x", landlines=[land]).json()["id"]
    r = http.post(f"{C}/bind", json={"customer_ids": [cid], "owner_id": None}, headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    res = http.post(f"{C}/duplicate-check", json={"landlines": [land]}, headers=a.headers("employee2")).json()
    assert res["matches"][0]["holder"]["type"] == "public_pool"


def test_billing_change_reruns_the_check(http, tenants):
    a, _ = tenants
    first = create(http, a, name=f"{trade()}科技有限公司", address="x", landlines=[numbers()[0]]).json()
    second = create(http, a, name=f"{trade()}科技有限公司", address="x", landlines=[numbers()[0]]).json()
    r = http.patch(f"{C}/{second['id']}", json={"billing": {"title": first["name"], "phone": numbers()[0]}},
                   headers=a.headers("employee"))
    assert r.status_code == 409, r.text
    r = http.patch(f"{C}/{second['id']}", json={"billing": {"title": "", "phone": first["landlines"][0]}},
                   headers=a.headers("employee"))
    assert r.status_code == 409, r.text
    assert http.get(f"{C}/{second['id']}", headers=a.headers("employee")).json()["billing"] is None


def test_twenty_concurrent_entries_make_one_record(http, tenants, stack):
    a, _ = tenants
    t = trade()
    land = numbers()
    roles = ["employee", "employee2", "admin", "dept_admin", "all_customers"]

    def enter(i: int) -> int:
        with httpx.Client(base_url=stack.url, timeout=60) as c:
            r = c.post(C, json={"name": f"苏州{t}精密电子有限公司" if i % 2 else f"{t}精密电子（苏州）有限公司",
                                "address": "苏州", "landlines": [land[i % 3]]},
                       headers=a.headers(roles[i % len(roles)]))
            return r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(enter, range(20)))
    assert sorted(codes) == [201] + [409] * 19, codes
    found = http.get(C, params={"q": t.lower(), "page_size": 200}, headers=a.headers("admin")).json()
    assert found["total"] == 1


def test_idempotent_entry(http, tenants):
    a, _ = tenants
    body = {"name": f"{trade()}有限公司", "address": "x", "landlines": [numbers()[0]]}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    r1 = http.post(C, json=body, headers=a.headers("employee", **key))
    r2 = http.post(C, json=body, headers=a.headers("employee", **key))
    assert r1.status_code == 201 and r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"]


def test_holder_names_owner_and_supervisor_in_one_identity_call(http, tenants, rpc):
    """The answer names owner and supervisor; identity.holders (one call for every holder)
    agrees with supervisor_of + get_employees, including a manager of their own department
    (supervisor: the parent's manager), nobody above, unknown and other-tenant ids."""
    from crmkit.context import CallContext
    a, b = tenants
    land = numbers()[0]
    assert create(http, a, name=f"{trade()}有限公司", address="x", landlines=[land]).status_code == 201
    m = http.post(f"{C}/duplicate-check", json={"landlines": [land]}, headers=a.headers("employee2")).json()
    holder = m["matches"][0]["holder"]
    assert holder == {"type": "owner", "owner_id": a.ids["employee"], "owner_name": "员工 A",
                      "supervisor_id": a.ids["dept_admin"], "supervisor_name": "部门管理员 A"}
    ctx = CallContext(tenant_id=a.tenant_id, user_id="system", roles=("system",))
    ids = [a.ids[k] for k in ("employee", "dept_admin", "employee2", "admin", "support")]
    got = rpc.call("identity", "holders", ctx=ctx, ids=[*ids, "nope", b.ids["employee"]])
    assert set(got) == set(ids)
    names = {e["id"]: e["name"] for e in rpc.call("identity", "get_employees", ctx=ctx, ids=ids)}
    for i in ids:
        sup = rpc.call("identity", "supervisor_of", ctx=ctx, employee_id=i)["supervisor_id"]
        assert got[i] == {"name": names[i], "supervisor_id": sup, "supervisor_name": names.get(sup) if sup else None}
    # dept_admin manages dept_a: the supervisor is found one department up (root's manager)
    assert got[a.ids["dept_admin"]]["supervisor_id"] not in (None, a.ids["dept_admin"])
    assert rpc.call("identity", "get_employees", ctx=ctx, ids=[a.ids["employee"], b.ids["employee"]])[0]["id"] == \
        a.ids["employee"]
    assert len(rpc.call("identity", "get_employees", ctx=ctx, ids=[a.ids["employee"], b.ids["employee"]])) == 1
