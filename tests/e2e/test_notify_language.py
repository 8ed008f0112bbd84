"""Notification templates follow the recipient's language, else the Accept-Language of the
request that caused them, else zh-CN (issue 12 §6) — end to end: the admin's request, the
signed context, identity's employee.left event, notify's inbox."""
from __future__ import annotations

import time

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant

API = "/api/v1"
TITLES = {"en": "Departure handover", "zh-CN": "离职交接"}


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _handover_title(http, tenant, manager_language, accept_language):
    """A manager (with ``manager_language`` or none) whose report leaves; the admin's delete
    request carries ``accept_language`` (or none). Returns the title in the manager's inbox."""
    t = tenant
    dept = http.post(f"{API}/departments", headers=t.headers(),
                     json={"name": f"语言 {time.time_ns()}", "parent_id": t.depts["root"]}).json()["id"]
    manager = add_employee(http, t, "经理", ["employee"], [dept])
    if manager_language:
        r = http.patch(f"{API}/employees/{manager['id']}", headers=t.headers(), json={"language": manager_language})
        assert r.status_code == 200, r.text
    assert http.patch(f"{API}/departments/{dept}", headers=t.headers(),
                      json={"manager_id": manager["id"]}).status_code == 200
    leaver = add_employee(http, t, "离职者", ["employee"], [dept])
    headers = t.headers(**({"Accept-Language": accept_language} if accept_language else {}))
    r = http.delete(f"{API}/employees/{leaver['id']}", headers=headers)
    assert r.status_code == 200 and r.json()["handover_to"] == manager["id"], r.text
    me = {"Authorization": f"Bearer {manager['token']}"}
    deadline = time.time() + 30
    while time.time() < deadline:
        items = http.get(f"{API}/notifications", headers=me).json()["items"]
        found = [i for i in items if i["kind"] == "departure_handover"]
        if found:
            return found[0]["title"]
        time.sleep(0.3)
    raise AssertionError("no handover notification")


@pytest.mark.parametrize("manager_language, accept_language, want", [
    (None, "en-US,en;q=0.9", "en"),           # no choice of their own: the request's language
    (None, None, "zh-CN"),                    # neither: zh-CN
    (None, "zh-CN,zh;q=0.9,en;q=0.5", "zh-CN"),
    ("en", "zh-CN", "en"),                    # the recipient's own choice wins
    ("zh-CN", "en", "zh-CN"),
])
def test_the_handover_notice_speaks_the_right_language(http, tenant, manager_language, accept_language, want):
    assert _handover_title(http, tenant, manager_language, accept_language) == TITLES[want]
