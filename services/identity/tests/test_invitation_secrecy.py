"""The invitation token goes only to the invitee (through notify's event), never back to
the inviting admin — with the production default of ``INVITE_TOKEN_TO_INVITER``.

The session's stack hands the token to the inviter (``devstack.stack.base_env`` sets
``INVITE_TOKEN_TO_INVITER=1`` because this machine cannot text the invitee), so this test
starts identity and the gateway of its own, on a RabbitMQ vhost and databases of their own,
without that setting."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pymongo
import pytest

from crmkit.outbox import find_events
from devstack import broker
from devstack.stack import Stack, base_env, free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def prod_identity(infra):
    if not infra.local_broker:
        pytest.skip("needs a vhost of its own on the local RabbitMQ")
    vhost = f"crm-identity-test-{uuid.uuid4().hex[:8]}"
    ctl = ["rabbitmqctl", "-q"]
    subprocess.run(ctl + ["add_vhost", vhost], check=True, capture_output=True)
    broker.grant(vhost)
    prefix = f"i{uuid.uuid4().hex[:6]}_"
    secret = uuid.uuid4().hex
    env = base_env(broker.local_uri(vhost), infra.mongo_uri, MONGO_DB_PREFIX=prefix,
                   CRM_CONTEXT_KEY=uuid.uuid4().hex, JWT_SECRET=uuid.uuid4().hex, OPERATOR_SECRET=secret,
                   ARGON2_TIME_COST="2", ARGON2_MEMORY_KIB="19456")
    env.pop("INVITE_TOKEN_TO_INVITER")  # the production default
    stack = Stack(env=env, gateway_port=free_port(), log_dir=ROOT / ".local" / "test-logs" / f"identity-{prefix}")
    stack.add_service("identity")
    stack.add_gateway()
    stack.start()
    try:
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            wait_for(lambda: http.get("/healthz/identity").status_code == 200, timeout=60, what="identity up")
            yield http, secret, pymongo.MongoClient(infra.mongo_uri)[f"{prefix}identity"]
    finally:
        stack.stop()
        subprocess.run(ctl + ["delete_vhost", vhost], capture_output=True)
        pymongo.MongoClient(infra.mongo_uri).drop_database(f"{prefix}identity")


def test_the_inviter_does_not_get_the_token_but_the_invitee_can_join_with_it(prod_identity):
    http, secret, db = prod_identity
    code = f"t{uuid.uuid4().hex[:10]}"
    r = http.post("/api/v1/operator/tenants", headers={"X-Operator-Secret": secret}, json={
        "code": code, "name": "邀请保密", "admin_mobile": "13900000101", "admin_name": "主账号",
        "admin_password": "Admin-pass-123"})
    assert r.status_code == 201, r.text
    token = http.post("/api/v1/auth/login", json={"tenant_code": code, "mobile": "13900000101",
                                                  "password": "Admin-pass-123"}).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    dept = http.post("/api/v1/departments", headers=admin, json={"name": "销售部"}).json()["id"]
    emp = http.post("/api/v1/employees", headers=admin, json={
        "name": "新同事", "mobile": "13900000102", "roles": ["employee"], "dept_ids": [dept]}).json()
    r = http.post(f"/api/v1/employees/{emp['id']}/invitation", headers=admin, json={"mobile": "13900000102"})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert "token" not in inv and inv["sent_to"] == "invitee"
    assert inv["invitation_id"] and inv["employee_id"] == emp["id"]
    # the token travels only in the employee.invited event that notify delivers to the invitee
    events = [row["envelope"] for row in find_events(db, {"envelope.type": "employee.invited"})]
    sent = [e for e in events if e["data"]["invitation_id"] == inv["invitation_id"]]
    assert len(sent) == 1 and sent[0]["data"]["mobile"] == "13900000102"
    r = http.post(f"/api/v1/invitations/{inv['invitation_id']}/accept",
                  json={"token": sent[0]["data"]["invitation_token"], "password": "Joined-pass-123"})
    assert r.status_code == 200, r.text
    r = http.post("/api/v1/auth/login", json={"tenant_code": code, "mobile": "13900000102",
                                              "password": "Joined-pass-123"})
    assert r.status_code == 200, r.text
