"""The demo tenant loader and the operator command (real services)."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

from devstack.demo import load_demo
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import random_mobile

API = "/api/v1"


def test_demo_tenant_loads_once_and_everyone_can_log_in(http, stack):
    first = load_demo(stack.url, TEST_OPERATOR_SECRET)
    again = load_demo(stack.url, TEST_OPERATOR_SECRET)  # idempotent
    assert first == again
    roles = set()
    for user in first["users"]:
        r = http.post(f"{API}/auth/login", json={"tenant_code": first["tenant_code"], "mobile": user["mobile"],
                                                 "password": first["password"]})
        assert r.status_code == 200, (user, r.text)
        roles.update(user["roles"])
    assert roles == {"tenant_admin", "dept_admin", "all_customers", "support", "employee"}
    token = http.post(f"{API}/auth/login", json={"tenant_code": "demo", "mobile": first["users"][0]["mobile"],
                                                 "password": first["password"]}).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    emps = http.get(f"{API}/employees", headers=h).json()["items"]
    assert len(emps) == len(first["users"])  # nobody twice
    assert any(len(e["dept_ids"]) == 2 for e in emps)
    depts = {d["id"]: d for d in http.get(f"{API}/departments", headers=h).json()["items"]}
    def level(dept_id):
        n = 0
        while depts[dept_id]["parent_id"]:
            dept_id, n = depts[dept_id]["parent_id"], n + 1
        return n
    assert all(d["manager_id"] for d in depts.values() if level(d["id"]) in (1, 2))
    depth = max(level(d) for d in depts)
    assert depth >= 3  # root → 销售部 → 华东大区 → 上海组
    # the sales people may open the PC records page (the grant is per department), support may not
    def records(mobile):
        t = http.post(f"{API}/auth/login", json={"tenant_code": "demo", "mobile": mobile,
                                                 "password": first["password"]}).json()["access_token"]
        return http.get(f"{API}/visits/records", headers={"Authorization": f"Bearer {t}"}).status_code
    by_key = {u["key"]: u["mobile"] for u in first["users"]}
    assert records(by_key["rep_shanghai"]) == 200
    assert records(by_key["support"]) == 403


def test_operator_command_creates_a_tenant(http, stack):
    code = f"cli{uuid.uuid4().hex[:8]}"
    mobile = random_mobile()
    cmd = [sys.executable, "-m", "identity.admin", "create-tenant", "--code", code, "--name", "命令行租户",
           "--admin-mobile", mobile, "--admin-name", "管理员", "--admin-password", "Cli-pass-123"]
    out = subprocess.run(cmd, env=stack.env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["tenant"]["code"] == code
    r = http.post(f"{API}/auth/login", json={"tenant_code": code, "mobile": mobile, "password": "Cli-pass-123"})
    assert r.status_code == 200, r.text
    again = subprocess.run(cmd, env=stack.env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "tenant.code_taken" in again.stderr
