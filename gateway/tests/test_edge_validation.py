"""Declarative validation at the edge: inputs that reached a service and got a 500 are now a
400/415 with the field, and the service is never called (stand-in bridge)."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app

from conftest import AUTH_HEADERS, FakeBridge, make_settings


@pytest.fixture
def fake():
    return FakeBridge()


@pytest.fixture
def client(fake):
    with TestClient(create_app(make_settings(), bridge=fake), raise_server_exceptions=False,
                    headers=AUTH_HEADERS) as c:
        yield c


def _error(r):
    return r.json()["error"]


@pytest.mark.parametrize("url,field", [
    ("/api/v1/customers?page=99999999999999999999", "query.page"),
    ("/api/v1/visits/review-queue?offset=abc", "query.offset"),
    ("/api/v1/pool/reclaims?limit=abc", "query.limit"),
    ("/api/v1/visits/calendar?month=9999-12", "query.month"),
    ("/api/v1/visits/calendar?month=0000-01", "query.month"),
    ("/api/v1/visits/calendar?month=2026-13", "query.month"),
    ("/api/v1/customers/a%20b", "path.id"),
])
def test_bad_query_and_path_values_are_400_with_the_field(client, fake, url, field):
    r = client.get(url)
    assert r.status_code == 400, r.text
    err = _error(r)
    assert err["details"]["field"] == field and err["details"]["errors"][0]["field"] == field
    assert fake.calls == []


@pytest.mark.parametrize("method,url,body,field", [
    ("PUT", "/api/v1/contacts/tier", {"tier": {}}, "tier"),
    ("POST", "/api/v1/visits", {"customer_id": "c1", "planned_at": "9999-12-31T10:00:00+08:00", "topic": "t",
                                "policy_accepted": True}, "planned_at"),
    ("POST", "/api/v1/visits", {"customer_id": "c1", "planned_at": "2026-05-01T10:00:00+08:00", "topic": "t",
                                "policy_accepted": True, "location": "here"}, "location"),
    ("POST", "/api/v1/customers", {"name": "好公司", "address": "x", "location": {"lat": 91, "lng": 0}},
     "location.lat"),
    ("PATCH", "/api/v1/notify/settings", {"max_attempts": 10**30}, "max_attempts"),
])
def test_bad_bodies_are_400_with_the_dotted_field(client, fake, method, url, body, field):
    r = client.request(method, url, json=body)
    assert r.status_code == 400, r.text
    assert field in [e["field"] for e in _error(r)["details"]["errors"]]
    assert fake.calls == []


def test_models_keep_the_service_codes(client):
    r = client.post("/api/v1/customers", json={"name": "x", "address": "y", "kind": "alien"})
    assert _error(r)["code"] == "customer.invalid"
    r = client.put("/api/v1/pool/rules", json={"capacity": 0, "bogus": 1})
    assert _error(r)["code"] == "pool.rules_invalid" and set(_error(r)["details"]["fields"]) == {"capacity", "bogus"}
    r = client.post("/api/v1/employees", json={"name": "a", "mobile": 13800000000, "dept_ids": ["x"]})
    assert _error(r)["code"] == "validation.type"
    r = client.post("/api/v1/departments", json={})
    assert _error(r)["code"] == "validation.required"


@pytest.mark.parametrize("raw", [
    b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"name": "\\ud800", "address": "x"}',
    b'{"name": {"\\udfff": 1}}',
    b'{"name": NaN}',
])
def test_deep_json_and_lone_surrogates_are_400(client, fake, raw):
    r = client.post("/api/v1/customers", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert _error(r)["code"] in ("invalid_json", "customer.invalid")
    assert fake.calls == []


def test_json_routes_require_application_json(client, fake):
    r = client.post("/api/v1/departments", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415 and _error(r)["code"] == "unsupported_media_type"
    r = client.post("/api/v1/departments", content=b'{"name": "x"}',
                    headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text
    assert fake.calls[-1]["kwargs"] == {"data": {"name": "x"}}


def test_valid_input_reaches_the_service_unchanged(client, fake):
    r = client.get("/api/v1/customers?page=2&page_size=10&ignored=1")
    assert r.status_code == 200
    assert fake.calls[-1]["kwargs"] == {"page": "2", "page_size": "10"}  # the text the client sent
    point = {"time": "2026-04-10T15:00:01+00:00", "lat": "31.230400000000003", "lng": "121.4737", "accuracy": "15",
             "source": "gps", "mock_location": "false", "fix_age_s": "2"}  # the form's fields, sent as JSON
    assert client.post("/api/v1/visits/v1/check-in", json=point).status_code == 200
    assert fake.calls[-1]["kwargs"]["data"] == point
    assert client.post("/api/v1/visits/v1/check-in", json={**point, "lat": "91"}).json()["error"]["details"][
        "field"] == "lat"
    plan = {"customer_id": "c1", "planned_at": "2026-05-01T10:00:00Z", "topic": "t", "policy_accepted": True}
    assert client.post("/api/v1/visits", json={**plan, "location": None}).status_code == 201  # the customer's own
    limits = {"max_photo_bytes": 10**12, "min_photo_pixels": 40_000}  # the service says the operator's ceiling
    assert client.patch("/api/v1/visits/settings", json=limits).status_code == 200
    assert fake.calls[-1]["kwargs"] == {"changes": limits}
    r = client.delete("/api/v1/custom-fields/t1%7Ccustomer%7Csize")  # a field id is <tenant>|<entity>|<key>
    assert r.status_code == 200 and fake.calls[-1]["kwargs"] == {"field_id": "t1|customer|size"}
    r = client.post("/api/v1/visits/v1/review", json={"decision": "approve"})
    assert fake.calls[-1]["kwargs"] == {"visit_id": "v1", "decision": "approve", "reason": None}
