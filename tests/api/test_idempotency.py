"""Idempotency-Key through the real stack.

Generated from the OpenAPI document: every operation that declares the Idempotency-Key
header gets a request built from its schema (schemathesis, derandomized), sent twice with one
key (same status and body, the second marked replayed), once more as another request with
that key (422), and as a concurrent pair with a fresh key (one ran, one replayed). Then the
effects on the routes the issue names, counted through the API."""
from __future__ import annotations

import io
import uuid

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck

from tests.api.conftest import new_customer, plan_body
from tests.support.concurrency import parallel
from tests.support.waiting import wait_for


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _replayed(response) -> str:
    """The Idempotent-Replayed header of a schemathesis response (headers: name -> [values])."""
    for name, value in response.headers.items():
        if name.lower() == "idempotent-replayed":
            return value[0] if isinstance(value, list) else value
    return ""


def _case(op):
    settings = hypothesis.settings(derandomize=True, database=None, suppress_health_check=list(HealthCheck),
                                   max_examples=20)
    case = hypothesis.find(op.as_strategy(), lambda c: True, settings=settings)
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "idempotency-key"}
    return case


def test_every_mutating_operation_of_the_document(stack, http, t):
    doc = http.get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(doc)
    ops = [r.ok() for r in schema.get_all_operations()]
    keyed = [op for op in ops if any(p.get("name") == "Idempotency-Key"
                                     for p in op.definition.raw.get("parameters", []))]
    keyed.sort(key=lambda op: op.path == "/api/v1/auth/logout")  # logout revokes the caller's tokens: last
    assert len(keyed) >= 50
    auth = t.headers("admin")
    problems = []
    for op in keyed:
        case = _case(op)
        label = f"{op.method.upper()} {op.path}"
        k = _key()
        first = case.call(base_url=stack.url, headers={**auth, **k}, timeout=60)
        again = case.call(base_url=stack.url, headers={**auth, **k}, timeout=60)
        if first.status_code >= 500:
            problems.append(f"{label}: {first.status_code}")
            continue
        if (again.status_code, again.content) != (first.status_code, first.content) or \
                _replayed(again) != "true":
            problems.append(f"{label}: not replayed ({first.status_code} then {again.status_code})")
        other = case.call(base_url=stack.url, headers={**auth, **k}, params={**(case.query or {}), "_other": "1"},
                          timeout=60)
        if other.status_code != 422 or other.json()["error"]["code"] != "idempotency.key_reused":
            problems.append(f"{label}: another request with the key gave {other.status_code}")
        if op.path != "/api/v1/auth/logout":
            k2 = _key()
            pair = parallel(2, lambda _i: case.call(base_url=stack.url, headers={**auth, **k2}, timeout=60))
            if any(isinstance(p, Exception) for p in pair):
                problems.append(f"{label}: {pair}")
                continue
            replayed = sorted(_replayed(p) for p in pair)
            if pair[0].status_code < 500 and (replayed != ["", "true"] or pair[0].content != pair[1].content):
                problems.append(f"{label}: concurrent pair {[p.status_code for p in pair]} replayed={replayed}")
    assert not problems, "\n".join(problems)


def _twice(http: httpx.Client, method: str, url: str, headers: dict, **kw) -> tuple[httpx.Response, httpx.Response]:
    k = _key()
    return (http.request(method, url, headers={**headers, **k}, **kw),
            http.request(method, url, headers={**headers, **k}, **kw))


def test_a_plan_sent_twice_is_one_visit(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    a, b = _twice(http, "POST", "/api/v1/visits", h, json=plan_body(c["id"]))
    assert a.status_code == 201, a.text
    assert b.json()["id"] == a.json()["id"] and b.headers["idempotent-replayed"] == "true"
    mine = http.get("/api/v1/visits", headers=h, params={"limit": 200}).json()["items"]
    assert [v["id"] for v in mine if v["customer_id"] == c["id"]] == [a.json()["id"]]
    k = _key()
    http.post("/api/v1/visits", headers={**h, **k}, json=plan_body(c["id"]))
    r = http.post("/api/v1/visits", headers={**h, **k}, json={**plan_body(c["id"]), "topic": "另一个"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"


def test_a_contact_note_sent_twice_is_one_note(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    url = f"/api/v1/customers/{c['id']}/contact-notes"
    a, b = _twice(http, "POST", url, h, json={"kind": "call", "content": "电话"})
    assert a.status_code == 201 and b.json() == a.json()
    assert http.get(url, headers=h).json()["total"] == 1


def test_pool_commands_sent_twice_have_one_effect(http, t):
    c = new_customer(http, t)
    cid = c["id"]
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=t.headers("employee")).status_code == 200,
             timeout=60, what="the pool knows the customer")
    a, b = _twice(http, "POST", f"/api/v1/customers/{cid}/release", t.headers("employee"), json={"reason": "无需求"})
    assert a.status_code == 200, a.text
    assert b.status_code == 200 and b.headers["idempotent-replayed"] == "true"
    a, b = _twice(http, "POST", f"/api/v1/pool/customers/{cid}/claim", t.headers("employee2"), json={})
    assert a.status_code == 200, a.text
    assert b.json() == a.json() and b.headers["idempotent-replayed"] == "true"
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=t.headers("admin")).json().get("owner_id")
             == t.ids["employee2"], timeout=60, what="the claim is seen")
    held = http.get("/api/v1/pool/capacity", headers=t.headers("employee2")).json()["held"]
    a, b = _twice(http, "POST", f"/api/v1/pool/customers/{cid}/assign", t.headers("admin"),
                  json={"owner_id": t.ids["all_customers"], "reason": "调整"})
    assert a.status_code == 200, a.text
    assert b.headers["idempotent-replayed"] == "true"
    assert http.get("/api/v1/pool/capacity", headers=t.headers("employee2")).json()["held"] == held - 1
    log = http.get(f"/api/v1/customers/{cid}/ownership", headers=t.headers("admin")).json()
    assert [e.get("path") for e in log].count("assign") == 1
    n = str(uuid.uuid4().int)
    body = {"name": f"申请{uuid.uuid4().hex[:8]}有限公司", "landline": f"0512-{n[:8]}", "address": "苏州"}
    a, b = _twice(http, "POST", "/api/v1/pool/claim-requests", t.headers("employee"), json=body)
    assert a.status_code == 200, a.text
    assert b.json()["id"] == a.json()["id"]
    mine = http.get("/api/v1/pool/claim-requests", headers=t.headers("employee")).json()["items"]
    assert [r["id"] for r in mine if (r.get("elements") or {}).get("name") == body["name"]] == [a.json()["id"]]


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (120, 160, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_check_in_photo_sent_twice_is_one_check_in(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    plan = http.post("/api/v1/visits", headers=h, json=plan_body(c["id"])).json()
    photo = _jpeg()
    form = {"lat": "31.3", "lng": "120.6", "accuracy": "10", "source": "gps"}
    k = _key()
    url = f"/api/v1/visits/{plan['id']}/check-in"
    a = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo, "image/jpeg")}, data=form)
    b = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo, "image/jpeg")}, data=form)
    assert a.status_code == 200, a.text
    assert b.content == a.content and b.headers["idempotent-replayed"] == "true"
    assert http.get(f"/api/v1/visits/{plan['id']}", headers=h).json()["status"] == "pending_check_out"
    r = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo + b"x", "image/jpeg")}, data=form)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"
