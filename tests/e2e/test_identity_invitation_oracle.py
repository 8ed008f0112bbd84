"""Accepting an invitation is not an existence oracle (issue 12 §4): an unknown invitation id
and a real one with a wrong token get the same status, code, message and details."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant, random_mobile

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def _answer(r):
    return r.status_code, r.json()["error"]


def test_unknown_id_and_wrong_token_answer_alike(http, tenant):
    t = tenant
    mobile = random_mobile()
    emp = http.post(f"{API}/employees", headers=t.headers(), json={
        "name": "受邀人", "mobile": mobile, "roles": ["employee"], "dept_ids": [t.depts["dept_a"]]}).json()
    inv = http.post(f"{API}/employees/{emp['id']}/invitation", headers=t.headers(), json={"mobile": mobile}).json()
    body = {"token": "a-guessed-token-" + uuid.uuid4().hex, "password": "Secret-123"}
    wrong_token = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json=body)
    unknown_id = http.post(f"{API}/invitations/{uuid.uuid4().hex}/accept", json=body)
    odd_id = http.post(f"{API}/invitations/{'x' * 300}/accept", json=body)
    assert _answer(wrong_token) == _answer(unknown_id) == _answer(odd_id)
    assert _answer(unknown_id) == (404, {"code": "invitation.not_found",
                                         "message": "no such invitation, or the token does not belong to it",
                                         "details": {}})
    # the real token still works: the wrong guesses changed nothing
    r = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json={"token": inv["token"],
                                                                             "password": "Secret-123"})
    assert r.status_code == 200, r.text
    # and once used, a wrong token still says nothing more
    again = http.post(f"{API}/invitations/{inv['invitation_id']}/accept", json=body)
    assert _answer(again) == _answer(unknown_id)
